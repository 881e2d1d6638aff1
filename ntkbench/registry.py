"""Method plugins: one decorator for built-in and third-party methods, plus the entry-point group.

A method is registered with `@ntkbench.method(name, task=..., version=...)` on a function (or a
class). Names are unique within a task (`ntk-krr` is both a forgetting learner and an adversarial
classifier); a run always names its task, so it finds the right one. Its parameters are the keyword-only arguments of the function (of `__init__` for a class)
and their defaults. Installed packages expose their methods through the entry-point group
`ntkbench.methods`; an entry point may name a module (its decorators register the methods) or a
decorated object. The origin of a method is the distribution that ships its module.
"""

from __future__ import annotations

import dataclasses
import difflib
import importlib.metadata as md
import inspect
from typing import Any, Callable

ENTRY_POINT_GROUP = "ntkbench.methods"


class PluginError(Exception):
    """A method plugin is missing, duplicated, or broke its contract."""


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

    @property
    def where(self) -> str:
        return f"{self.origin} ({self.module}.{getattr(self.fn, '__qualname__', self.fn)})"

    def resolve_params(self, overrides: dict[str, Any] | None, *, context: str = "") -> dict[str, Any]:
        """Defaults updated with `overrides`; an unknown parameter is an error naming the plugin."""
        overrides = dict(overrides or {})
        unknown = sorted(set(overrides) - set(self.params))
        if unknown:
            hint = difflib.get_close_matches(unknown[0], list(self.params), n=1)
            raise PluginError(
                f"{context}method {self.name!r} from {self.origin} has no parameter {unknown[0]!r}"
                + (f"; did you mean {hint[0]!r}?" if hint else f"; its parameters: {', '.join(self.params) or 'none'}")
            )
        return {**self.params, **overrides}


_METHODS: dict[tuple[str, str], MethodSpec] = {}  # (task, name) -> spec
_LOAD_ERRORS: list[str] = []
_LOADED = False


def _origin_of(module: str) -> str:
    top = module.split(".")[0]
    if top == "ntkbench":
        return "ntkbench"
    dists = md.packages_distributions().get(top)
    return dists[0] if dists else top


def _declared_params(fn: Callable) -> dict[str, Any]:
    target = fn.__init__ if inspect.isclass(fn) else fn
    params = {}
    for p in inspect.signature(target).parameters.values():
        if p.kind is p.KEYWORD_ONLY:
            if p.default is p.empty:
                raise PluginError(f"method parameter {p.name!r} of {fn.__qualname__} needs a default")
            params[p.name] = p.default
    return params


def method(name: str, *, task: str, version: str, vmappable: bool = True, jittable: bool = True,
           description: str = "", **extras: Any):
    """Register a method for `task`. Keyword-only arguments with defaults are its parameters.

    vmappable=False: seeds run in turn (each still one compiled program); jittable=False: the
    method runs eagerly (e.g. it builds kernel matrices block by block on the host).
    Task-specific hooks go in `extras` (e.g. `arch=` for the NTK view of a finite network).
    """

    def deco(fn):
        module = getattr(fn, "__module__", "?")
        spec = MethodSpec(
            name=name, task=task, fn=fn, version=str(version), params=_declared_params(fn),
            origin=_origin_of(module), module=module, vmappable=vmappable and jittable, jittable=jittable,
            description=description or (inspect.getdoc(fn) or "").split("\n")[0], extras=extras,
        )
        register(spec)
        return fn

    return deco


def register(spec: MethodSpec) -> None:
    old = _METHODS.get((spec.task, spec.name))
    if old is not None:
        same = old.module == spec.module and getattr(old.fn, "__qualname__", None) == getattr(spec.fn, "__qualname__", None)
        if not same:
            raise PluginError(f"method {spec.name!r} of task {spec.task!r} is defined twice: by {old.where} and by {spec.where}")
    _METHODS[(spec.task, spec.name)] = spec


def load_plugins() -> None:
    """Import the built-in methods and every installed `ntkbench.methods` entry point (once).

    A plugin that fails to import is recorded, not raised: it fails the runs that need it.
    """
    global _LOADED
    if _LOADED:
        return
    _LOADED = True
    import ntkbench.methods  # noqa: F401  (built-ins register on import)

    for ep in md.entry_points(group=ENTRY_POINT_GROUP):
        dist = ep.dist.name if ep.dist else "?"
        try:
            obj = ep.load()
        except PluginError:
            raise
        except Exception as e:  # a broken third-party package must not take the suite down
            _LOAD_ERRORS.append(f"entry point {ep.name!r} ({ep.value}) from {dist} failed to load: {type(e).__name__}: {e}")
            continue
        if not inspect.ismodule(obj) and not any(s.fn is obj for s in _METHODS.values()):
            _LOAD_ERRORS.append(f"entry point {ep.name!r} ({ep.value}) from {dist} is not a module or an @ntkbench.method object")


def get_method(name: str, task: str | None = None) -> MethodSpec:
    """The method `name` of `task` (task may be omitted where the name is unambiguous)."""
    load_plugins()
    found = [s for (t, n), s in _METHODS.items() if n == name and (task is None or t == task)]
    if len(found) == 1:
        return found[0]
    if found:
        raise PluginError(f"method name {name!r} is used by several tasks "
                          f"({', '.join(sorted(s.task for s in found))}); say which task")
    pool = [n for (t, n) in _METHODS if task is None or t == task]
    hint = difflib.get_close_matches(name, pool, n=1)
    elsewhere = sorted(t for (t, n) in _METHODS if n == name)
    msg = f"unknown method {name!r}" + (f" for task {task!r}" if task else "") + (
        f"; did you mean {hint[0]!r}?" if hint else "") + (
        f" (it is a method of {', '.join(elsewhere)})" if elsewhere else "")
    if _LOAD_ERRORS:
        msg += " (some plugins failed to load: " + "; ".join(_LOAD_ERRORS) + ")"
    raise PluginError(msg)


def all_methods() -> list[MethodSpec]:
    load_plugins()
    return sorted(_METHODS.values(), key=lambda s: (s.task, s.name))


def plugin_load_errors() -> list[str]:
    load_plugins()
    return list(_LOAD_ERRORS)
