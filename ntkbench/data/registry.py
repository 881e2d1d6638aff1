"""Dataset names -> loaders. Exact names (`mnist1d`) and families (`lza-<d>`) register the same way."""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Callable
from pathlib import Path

from ntkbench.data.base import Dataset
from ntkbench.registry import Registry, check_name, did_you_mean

Loader = Callable[[str, Path], Dataset]
Validator = Callable[[str], object]  # raises KeyError for a name that cannot exist; its return value is unused

DATASETS: Registry[str, tuple[Loader, str]] = Registry("dataset")  # exact names -> (loader, description)
_FAMILIES: list[tuple[re.Pattern, str, Loader, str, Validator | None]] = []
_CACHE: dict[tuple[str, str], Dataset] = {}
_GUARDS: list[str] = []  # who may not load data right now (innermost last)
_NUM_TRAIN: dict[str, int] = {}  # registered name (exact or family) -> training examples, where known


class DataAccessError(RuntimeError):
    """Code that must only see the data the harness hands it tried to load a dataset."""


@contextlib.contextmanager
def forbid_data_access(who: str, why: str = ""):
    """While active, `load_dataset` raises DataAccessError naming `who` (e.g. a method whose
    contract allows it only the data the harness passes in)."""
    _GUARDS.append(f"{who}{': ' + why if why else ''}")
    try:
        yield
    finally:
        _GUARDS.pop()


def default_data_dir() -> Path:
    return Path(os.environ.get("NTKBENCH_DATA_DIR") or Path.home() / ".cache" / "ntkbench")


def register_dataset(name: str, description: str = "", validate: Validator | None = None, num_train: int | None = None):
    """Register a loader `fn(name, data_dir) -> Dataset`. `name` may hold one `<param>` slot;
    `validate(name)` raises KeyError for a family member that cannot exist (checked before loading).
    `num_train`: the size of the training split where it is known without loading (a suite asking
    for more training examples is refused before anything runs); None: known only once loaded."""

    def deco(fn: Loader) -> Loader:
        check_name("dataset", re.sub(r"<\w+>", "x", name), getattr(fn, "__module__", "?"))
        if num_train is not None:
            _NUM_TRAIN[name] = num_train
        if "<" in name:
            pattern = re.compile(
                "^" + re.sub(r"<\w+>", r"(.+)", re.escape(name).replace(r"\<", "<").replace(r"\>", ">")) + "$"
            )
            _FAMILIES.append((pattern, name, fn, description, validate))
        else:
            DATASETS.add(name, (fn, description), same=lambda a, b: a[0] is b[0])
        return fn

    return deco


def train_size(name: str) -> int | None:
    """The number of training examples of dataset `name` where its registration says it, else None."""
    if name in _NUM_TRAIN:
        return _NUM_TRAIN[name]
    return next((_NUM_TRAIN.get(family) for pattern, family, *_ in _FAMILIES if pattern.match(name)), None)


def dataset_names() -> list[tuple[str, str]]:
    return sorted([(n, d) for n, (_, d) in DATASETS.items()] + [(n, d) for _, n, _, d, _ in _FAMILIES])


def check_dataset(name: str) -> Loader:
    """The loader for `name`; KeyError with a 'did you mean' hint when there is none."""
    if name in DATASETS:
        return DATASETS.get(name)[0]
    for pattern, _, fn, _, validate in _FAMILIES:
        if pattern.match(name):
            if validate:
                validate(name)
            return fn
    raise KeyError(f"unknown dataset {name!r}" + did_you_mean(name, [n for n, _ in dataset_names()]))


def is_known_dataset(name: str) -> bool:
    try:
        check_dataset(name)
        return True
    except KeyError:
        return False


def load_dataset(name: str, data_dir: str | Path | None = None) -> Dataset:
    """Load a dataset by name (cached per process). Refused inside `forbid_data_access`."""
    if _GUARDS:
        raise DataAccessError(f"{_GUARDS[-1]} — it tried to load dataset {name!r}, which is not allowed while it runs")
    data_dir = Path(data_dir) if data_dir else default_data_dir()
    key = (name, str(data_dir))
    if key not in _CACHE:
        ds = check_dataset(name)(name, data_dir)
        ds.meta.setdefault("fingerprint", ds.fingerprint())
        _CACHE[key] = ds
    return _CACHE[key]
