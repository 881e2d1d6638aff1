"""Method plugins: one decorator for built-in and third-party methods, plus the entry-point group.

A method is registered with `@ntkbench.method(name, task=..., version=...)` on a function (or a
class). Names are unique within a task (`ntk-krr` is both a forgetting learner and an adversarial
classifier); a run always names its task, so it finds the right one. Its parameters are the
keyword-only arguments of the function (of `__init__` for a class) and their defaults, each
checked against the type of its default (`ntkbench.typecheck`). Installed packages expose their
methods through the entry-point group `ntkbench.methods`; an entry point may name a module (its
decorators register the methods) or a decorated object. ntkbench's own methods are declared in the
same group (its pyproject.toml), so this module imports no method code by name. The origin of a
method is the distribution that ships its module.
"""

from __future__ import annotations

import contextlib
import dataclasses
import difflib
import hashlib
import importlib.metadata as md
import inspect
import re
import sys
import tomllib
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, Generic, TypeVar

from ntkbench.typecheck import param_errors

ENTRY_POINT_GROUP = "ntkbench.methods"
BUILTIN_DIST = "ntkbench"  # the distribution whose entry points are the built-in methods
SOURCE_PYPROJECT = Path(__file__).resolve().parent.parent / "pyproject.toml"  # of a source checkout
K = TypeVar("K")
T = TypeVar("T")


class PluginError(Exception):
    """A method plugin is missing, duplicated, or broke its contract."""


# A registered name becomes a folder of the results (<out>/<task>/<dataset>/<method>/): a plain,
# lower-case path part, so that no name can reach outside `--out` or collide by case.
NAME_PATTERN = re.compile(r"[a-z0-9][a-z0-9._-]*")


def check_name(kind: str, name: object, origin: str) -> None:
    """PluginError naming `origin` unless `name` is a plain path part (`NAME_PATTERN`)."""
    if not isinstance(name, str) or not NAME_PATTERN.fullmatch(name):
        raise PluginError(
            f"{kind} name {name!r} from {origin} is refused: a name may hold only a-z, 0-9, '.', '_' and '-', "
            "starting with a letter or digit (it names a folder of the results)"
        )


def did_you_mean(name: str, known: Iterable[str], *, list_known: bool = True) -> str:
    """'; did you mean 'x'?' for the closest known name, else the known names (or nothing)."""
    known = sorted(set(known))
    hint = difflib.get_close_matches(name, known, n=1)
    if hint:
        return f"; did you mean {hint[0]!r}?"
    return f"; known: {', '.join(known)}" if known and list_known else ""


class Registry(Generic[K, T]):
    """Names -> registered things. One class serves tasks, methods, datasets and published numbers.

    `kind` words the errors ("unknown task 'x'; did you mean 'y'?"); `error` is the exception an
    unknown name raises (a LookupError subclass or PluginError). `load` (optional) fills the
    registry lazily on first use: built-ins and installed entry points register themselves then.
    """

    def __init__(self, kind: str, *, error: type[Exception] = KeyError, load: Callable[[], None] | None = None):
        self.kind, self.error, self._load = kind, error, load
        self._items: dict[K, T] = {}
        self._loaded = load is None

    def _ensure_loaded(self) -> None:
        if not self._loaded:
            self._loaded = True  # set first: loading registers through `add`
            assert self._load is not None
            self._load()

    def add(self, key: K, item: T, *, same: Callable[[T, T], bool] | None = None, describe=str) -> None:
        """Register `item`; a different item under a taken key is an error naming both."""
        old = self._items.get(key)
        if old is not None and old is not item and not (same and same(old, item)):
            raise self.error(f"{self.kind} {key!r} is defined twice: by {describe(old)} and by {describe(item)}")
        self._items[key] = item

    def remove(self, key: K) -> None:
        self._items.pop(key, None)

    def get(self, key: K, *, name: str | None = None, pool: Iterable[str] | None = None, where: str = "") -> T:
        """The item under `key`, else `error` with a did-you-mean over `pool` (default: the keys)."""
        self._ensure_loaded()
        if key in self._items:
            return self._items[key]
        shown = name if name is not None else key
        pool = [str(k) for k in self._items] if pool is None else pool
        raise self.error(f"unknown {self.kind} {shown!r}{where}" + did_you_mean(str(shown), pool))

    def __contains__(self, key: object) -> bool:
        self._ensure_loaded()
        return key in self._items

    def __iter__(self) -> Iterator[K]:
        self._ensure_loaded()
        return iter(list(self._items))

    def __len__(self) -> int:
        self._ensure_loaded()
        return len(self._items)

    def items(self) -> list[tuple[K, T]]:
        self._ensure_loaded()
        return list(self._items.items())

    def values(self) -> list[T]:
        self._ensure_loaded()
        return list(self._items.values())

    @contextlib.contextmanager
    def temporary(self, key: K, item: T) -> Iterator[T]:
        """Register `item` for the duration of a `with` block (tests), restoring what was there."""
        self._ensure_loaded()
        old = self._items.get(key)
        self._items[key] = item
        try:
            yield item
        finally:
            if old is None:
                self._items.pop(key, None)
            else:
                self._items[key] = old


@dataclasses.dataclass(frozen=True)
class MethodSpec:
    name: str
    task: str
    fn: Callable[..., Any]
    version: str
    params: dict[str, Any]  # name -> default
    origin: str  # distribution that ships it ("ntkbench" for built-ins)
    module: str
    vmappable: bool = True  # pure in (key, data): the harness may vmap its seeds
    jittable: bool = True  # traceable under jit; False: the harness calls it eagerly, seed by seed
    description: str = ""
    extras: dict[str, Any] = dataclasses.field(default_factory=dict)  # task-specific hooks
    # sha256 of the method's module source (first 16 hex), recorded as `method_source` in results so
    # that `ntkbench validate` can tell a result made by other code; None where the source is unavailable
    source_hash: str | None = None

    @property
    def where(self) -> str:
        return f"{self.origin} ({self.module}.{getattr(self.fn, '__qualname__', self.fn)})"

    def resolve_params(self, overrides: dict[str, Any] | None, *, context: str = "") -> dict[str, Any]:
        """Defaults updated with `overrides`, each checked against the type of its default (or its
        annotation); an unknown or mistyped parameter is an error naming the plugin."""
        overrides = dict(overrides or {})
        where = f"{context}method {self.name!r} from {self.origin}"
        errors = param_errors(self.params, overrides, where=where, annotations=self.param_types)
        if errors:
            raise PluginError("; ".join(errors))
        return {**self.params, **overrides}

    @property
    def param_types(self) -> dict[str, Any]:
        """Evaluated annotations of the parameters (an annotation that cannot be evaluated here is
        left out: the type of its default decides)."""
        target = self.fn.__init__ if inspect.isclass(self.fn) else self.fn
        try:
            hints = inspect.get_annotations(target, eval_str=True)
        except Exception:
            return {}
        return {k: v for k, v in hints.items() if k in self.params}


_LOAD_ERRORS: list[str] = []


def load_plugins() -> None:
    """Import every installed `ntkbench.methods` entry point, ntkbench's own first (once).

    A plugin that fails to import is recorded, not raised: it fails the runs that need it.
    """
    METHODS._ensure_loaded()


def _origin_of(module: str) -> str:
    top = module.split(".")[0]
    if top == "ntkbench":
        return "ntkbench"
    dists = md.packages_distributions().get(top)
    return dists[0] if dists else top


def source_hash(module: str) -> str | None:
    """sha256 of `inspect.getsource` of the module (first 16 hex digits); None if unavailable."""
    try:
        source = inspect.getsource(sys.modules[module])
    except (KeyError, OSError, TypeError):
        return None
    return hashlib.sha256(source.encode()).hexdigest()[:16]


def _declared_params(fn: Callable) -> dict[str, Any]:
    target = fn.__init__ if inspect.isclass(fn) else fn
    params = {}
    for p in inspect.signature(target).parameters.values():
        if p.kind is p.KEYWORD_ONLY:
            if p.default is p.empty:
                raise PluginError(f"method parameter {p.name!r} of {fn.__qualname__} needs a default")
            params[p.name] = p.default
    return params


def method(
    name: str,
    *,
    task: str,
    version: str,
    vmappable: bool = True,
    jittable: bool = True,
    description: str = "",
    **extras: Any,
):
    """Register a method for `task`. Keyword-only arguments with defaults are its parameters.

    vmappable=False: seeds run in turn (each still one compiled program); jittable=False: the
    method runs eagerly (e.g. it builds kernel matrices block by block on the host).
    Task-specific hooks go in `extras` (e.g. `arch=` for the NTK view of a finite network).
    """

    def deco(fn):
        module = getattr(fn, "__module__", "?")
        spec = MethodSpec(
            name=name,
            task=task,
            fn=fn,
            version=str(version),
            params=_declared_params(fn),
            origin=_origin_of(module),
            module=module,
            vmappable=vmappable and jittable,
            jittable=jittable,
            description=description or (inspect.getdoc(fn) or "").split("\n")[0],
            extras=extras,
            source_hash=source_hash(module),
        )
        register(spec)
        return fn

    return deco


def _same_definition(a: MethodSpec, b: MethodSpec) -> bool:
    return a.module == b.module and getattr(a.fn, "__qualname__", None) == getattr(b.fn, "__qualname__", None)


# (task, name) -> why the name is refused: two installed packages define it.
_COLLISIONS: dict[tuple[str, str], str] = {}


def register(spec: MethodSpec) -> None:
    """Register a method. A name already taken by another package's method is a collision: this
    registration is skipped with a warning naming both packages, and the name is refused (only a
    suite naming it fails). A duplicate within one package (ntkbench's own included) is an error."""
    check_name("method", spec.name, spec.origin)
    key = (spec.task, spec.name)
    old = METHODS._items.get(key)
    if old is not None and old is not spec and not _same_definition(old, spec) and old.origin != spec.origin:
        msg = (
            f"method {spec.name!r} of task {spec.task!r} is defined by two packages: {old.where} and "
            f"{spec.where}; the one from {spec.origin} was skipped and the name cannot be used until one of them "
            f"is renamed or one package is uninstalled (pip uninstall {spec.origin}, or pip uninstall {old.origin})"
        )
        _COLLISIONS[key] = msg  # `ntkbench list`, `run` and `validate` print it as a warning
        return
    METHODS.add(key, spec, same=_same_definition, describe=lambda s: s.where)


def _dist_name(ep: md.EntryPoint) -> str:
    return ep.dist.name if ep.dist else "?"


def _declared_in_checkout() -> list[md.EntryPoint]:
    """The built-ins' entry points as the pyproject.toml beside the package declares them: ntkbench
    run from a source checkout without being installed (PYTHONPATH=., as benchmarks/device_check.sh
    runs it on a GPU image) has no metadata, so no installed entry points."""
    try:
        project = tomllib.loads(SOURCE_PYPROJECT.read_text(encoding="utf-8"))["project"]
    except (OSError, KeyError, tomllib.TOMLDecodeError):
        return []
    if project.get("name") != BUILTIN_DIST:
        return []
    declared = project.get("entry-points", {}).get(ENTRY_POINT_GROUP, {})
    return [md.EntryPoint(name, value, ENTRY_POINT_GROUP) for name, value in declared.items()]


def _entry_points() -> list[tuple[str, md.EntryPoint]]:
    """(distribution, entry point) of every method plugin, ntkbench's own first: loaded first, the
    built-ins keep their names when another package takes one (that package's method is the one
    skipped), whatever the order of the installed packages."""
    found = [(_dist_name(ep), ep) for ep in md.entry_points(group=ENTRY_POINT_GROUP)]
    builtin = [(d, ep) for d, ep in found if d == BUILTIN_DIST] or [
        (BUILTIN_DIST, ep) for ep in _declared_in_checkout()
    ]
    return builtin + [(d, ep) for d, ep in found if d != BUILTIN_DIST]


def _load_methods() -> None:
    # The built-in methods are entry points like any other: the registry imports no method by name.
    eps = _entry_points()
    if not any(dist == BUILTIN_DIST for dist, _ in eps):
        _LOAD_ERRORS.append(
            f"no built-in methods: neither the installed {BUILTIN_DIST} metadata nor {SOURCE_PYPROJECT} declares "
            f"{ENTRY_POINT_GROUP!r} entry points; reinstall it: pip install -e ."
        )
    for dist, ep in eps:
        try:
            obj = ep.load()
        except PluginError:
            raise
        except Exception as e:  # a broken third-party package must not take the suite down
            if dist == BUILTIN_DIST:
                raise  # ntkbench's own code is broken: every command should say so at once
            _LOAD_ERRORS.append(
                f"entry point {ep.name!r} ({ep.value}) from {dist} failed to load: {type(e).__name__}: {e}"
            )
            continue
        if not inspect.ismodule(obj) and not any(s.fn is obj for s in METHODS._items.values()):
            _LOAD_ERRORS.append(
                f"entry point {ep.name!r} ({ep.value}) from {dist} is not a module or an @ntkbench.method object"
            )


METHODS: Registry[tuple[str, str], MethodSpec] = Registry("method", error=PluginError, load=_load_methods)


def get_method(name: str, task: str | None = None) -> MethodSpec:
    """The method `name` of `task` (task may be omitted where the name is unambiguous)."""
    found = [s for (t, n), s in METHODS.items() if n == name and (task is None or t == task)]
    collided = [msg for (t, n), msg in _COLLISIONS.items() if n == name and (task is None or t == task)]
    if collided:
        raise PluginError("; ".join(collided))
    if len(found) == 1:
        return found[0]
    if found:
        raise PluginError(
            f"method name {name!r} is used by several tasks "
            f"({', '.join(sorted(s.task for s in found))}); say which task"
        )
    pool = [n for (t, n) in METHODS if task is None or t == task]
    elsewhere = sorted(t for (t, n) in METHODS if n == name)
    msg = (
        f"unknown method {name!r}"
        + (f" for task {task!r}" if task else "")
        + did_you_mean(name, pool, list_known=False)
        + (f" (it is a method of {', '.join(elsewhere)})" if elsewhere else "")
    )
    if _LOAD_ERRORS:
        msg += " (some plugins failed to load: " + "; ".join(_LOAD_ERRORS) + ")"
    raise PluginError(msg)


def all_methods() -> list[MethodSpec]:
    return sorted(METHODS.values(), key=lambda s: (s.task, s.name))


def plugin_load_errors() -> list[str]:
    """Plugins that failed to load, and method names two packages define (each refused)."""
    load_plugins()
    return list(_LOAD_ERRORS) + list(_COLLISIONS.values())
