"""Dataset names -> loaders. Exact names (`mnist1d`) and families (`lza-<d>`) register the same way."""

from __future__ import annotations

import difflib
import os
import re
from pathlib import Path
from typing import Callable

from ntkbench.data.base import Dataset

Loader = Callable[[str, Path], Dataset]

_EXACT: dict[str, tuple[Loader, str]] = {}
_FAMILIES: list[tuple[re.Pattern, str, Loader, str]] = []
_CACHE: dict[tuple[str, str], Dataset] = {}


def default_data_dir() -> Path:
    return Path(os.environ.get("NTKBENCH_DATA_DIR") or Path.home() / ".cache" / "ntkbench")


def register_dataset(name: str, description: str = ""):
    """Register a loader `fn(name, data_dir) -> Dataset`. `name` may hold one `<param>` slot."""

    def deco(fn: Loader) -> Loader:
        if "<" in name:
            pattern = re.compile("^" + re.sub(r"<\w+>", r"(.+)", re.escape(name).replace(r"\<", "<").replace(r"\>", ">")) + "$")
            _FAMILIES.append((pattern, name, fn, description))
        else:
            _EXACT[name] = (fn, description)
        return fn

    return deco


def dataset_names() -> list[tuple[str, str]]:
    return sorted([(n, d) for n, (_, d) in _EXACT.items()] + [(n, d) for _, n, _, d in _FAMILIES])


def check_dataset(name: str) -> Loader:
    """The loader for `name`; KeyError with a 'did you mean' hint when there is none."""
    if name in _EXACT:
        return _EXACT[name][0]
    for pattern, _, fn, _ in _FAMILIES:
        if pattern.match(name):
            return fn
    known = [n for n, _ in dataset_names()]
    hint = difflib.get_close_matches(name, known, n=1)
    raise KeyError(f"unknown dataset {name!r}" + (f"; did you mean {hint[0]!r}?" if hint else f"; known: {', '.join(known)}"))


def is_known_dataset(name: str) -> bool:
    try:
        check_dataset(name)
        return True
    except KeyError:
        return False


def load_dataset(name: str, data_dir: str | Path | None = None) -> Dataset:
    """Load a dataset by name (cached per process)."""
    data_dir = Path(data_dir) if data_dir else default_data_dir()
    key = (name, str(data_dir))
    if key not in _CACHE:
        ds = check_dataset(name)(name, data_dir)
        ds.meta.setdefault("fingerprint", ds.fingerprint())
        _CACHE[key] = ds
    return _CACHE[key]
