"""Typed configuration, checked before anything compiles.

A typo or a string where a number belongs should fail when the suite is read, all at once and one
line per problem, not as a tracer error deep into a run. Types and ranges live where they are used
(budget dataclass fields, method keyword defaults) and pydantic checks them: no second type system.

Strictness: pydantic's lax mode converts too much ("5" -> 5, 3.0 -> 3, True -> 1); its strict
*Python* mode is too strict for TOML data (a list is not a tuple; a stdlib dataclass must already
be an instance). Its strict *JSON* mode is the TOML contract: arrays fill tuples and lists, an
integer fills a float and becomes one (60 -> 60.0, so `dataclasses.asdict` is JSON-stable), while
strings, booleans and floats (3.0 too) are refused for integers. So each value is written with
`json` and checked by `validate_json(..., strict=True)`; a value `json` cannot write (a TOML date,
a Python object) is refused. Messages describe the expected type from the JSON schema at the failing
place ("an integer > 0"): pydantic's own message names only the broken rule. No ntkbench, no JAX.
"""

from __future__ import annotations

import dataclasses
import difflib
import functools
import inspect
import json
import math
import operator
import re
from collections.abc import Mapping
from typing import Annotated, Any

import pydantic
from annotated_types import Ge

__all__ = ["ConfigError", "budget_errors", "make_budget", "param_errors", "positive_int_errors"]

_MISSING = object()


class ConfigError(ValueError):
    """Bad configuration values; .errors is a list of one-line messages, each naming where and the field."""

    def __init__(self, errors: list[str]):
        self.errors = list(errors)
        super().__init__("\n".join(self.errors))


def _adapter(tp: Any) -> tuple[pydantic.TypeAdapter, dict | None]:
    """A TypeAdapter and its JSON schema (None if it has none), cached per type when hashable."""
    try:
        return _cached_adapter(tp)
    except TypeError:  # unhashable annotation metadata
        return _cached_adapter.__wrapped__(tp)


@functools.lru_cache(maxsize=256)
def _cached_adapter(tp: Any) -> tuple[pydantic.TypeAdapter, dict | None]:
    adapter = pydantic.TypeAdapter(tp)
    try:
        schema = adapter.json_schema()
    except Exception:  # noqa: BLE001 - without a schema it still validates; messages fall back to pydantic's
        schema = None
    return adapter, schema


def _num(x: Any) -> str:
    return str(int(x)) if isinstance(x, float) and x.is_integer() else repr(x)


def _describe(s: dict, defs: dict) -> str:
    """'an integer > 0', 'a number >= 0 and <= 100', "one of 'adam', 'sgd'", ... from a JSON schema."""
    if "$ref" in s:
        return _describe(defs.get(s["$ref"].rsplit("/", 1)[-1], {}), defs)
    if "anyOf" in s:
        return " or ".join(_describe(m, defs) for m in s["anyOf"])
    if "enum" in s:
        return "one of " + ", ".join(repr(v) for v in s["enum"])
    if "const" in s:
        return repr(s["const"])
    base = {
        "integer": "an integer",
        "number": "a number",
        "boolean": "a boolean",
        "string": "a string",
        "null": "None",
        "array": "a list",
        "object": "a table",
    }.get(str(s.get("type")), "any value")
    bounds = [
        f"{op} {_num(s[k])}"
        for k, op in (("exclusiveMinimum", ">"), ("minimum", ">="), ("exclusiveMaximum", "<"), ("maximum", "<="))
        if k in s
    ]
    bounds += [f"{what} {s[k]} items" for k, what in (("minItems", "at least"), ("maxItems", "at most")) if k in s]
    text = base + (" " + " and ".join(bounds) if bounds else "")
    if s.get("type") == "array" and isinstance(s.get("items"), dict) and s["items"]:
        text += f" (items: {_describe(s['items'], defs)})"
    return text


def _sub(s: dict | None, step: Any, defs: dict) -> dict | None:
    """The schema one step (a key or a list index) below `s`, or None if it cannot be followed."""
    if s is None:
        return None
    if "$ref" in s:
        return _sub(defs.get(s["$ref"].rsplit("/", 1)[-1]), step, defs)
    for m in s.get("anyOf", ()):
        if (found := _sub(m, step, defs)) is not None:
            return found
    if isinstance(step, int):
        prefix = s.get("prefixItems")
        return (
            prefix[step]
            if prefix and step < len(prefix)
            else s.get("items")
            if isinstance(s.get("items"), dict)
            else None
        )
    props, extra = s.get("properties", {}), s.get("additionalProperties")
    return props.get(step, extra if isinstance(extra, dict) else None)


def _got(value: Any) -> str:
    return f"got {value!r} ({type(value).__name__})"


def _non_finite(value: Any, path: str) -> list[tuple[str, float]]:
    """(path, value) of every nan or ±inf float in `value` (lists and tables walked)."""
    if isinstance(value, float):
        return [] if math.isfinite(value) else [(path, value)]
    if isinstance(value, (list, tuple)):
        return [hit for i, v in enumerate(value) for hit in _non_finite(v, f"{path}[{i}]")]
    if isinstance(value, Mapping):
        return [hit for k, v in value.items() for hit in _non_finite(v, f"{path}.{k}" if path else str(k))]
    return []


def _check(tp: Any, value: Any, *, where: str, label: str, root: str = "") -> tuple[Any, list[str]]:
    """Validate `value` against `tp` in strict JSON mode; (result or None, one message per bad location).

    The path is rebuilt by walking pydantic's error location through the original value: keys and
    list indices are rendered ('n[0]', 'opt.lr'), union-member tags are skipped, and all errors at
    one path (several union members) become one message describing the whole expected type.
    """
    if bad := [
        f"{where}: {label} '{path}': expected a finite number, {_got(x)}" for path, x in _non_finite(value, root)
    ]:
        return None, bad  # JSON has no nan/inf: stored as null, two configs would share one hash
    try:
        text = json.dumps(value, allow_nan=False)
    except (TypeError, ValueError, RecursionError):
        return None, [f"{where}: {label} '{root}': expected a TOML/JSON value, {_got(value)}"]
    adapter, schema = _adapter(tp)
    try:
        return adapter.validate_json(text, strict=True), []
    except pydantic.ValidationError as exc:
        errors = exc.errors(include_url=False)
    defs = (schema or {}).get("$defs", {})
    by_path: dict[str, tuple[Any, dict | None, Any]] = {}
    for err in errors:
        path, cur, sub = root, value, schema
        for i, step in enumerate(err["loc"]):
            if isinstance(step, int) and isinstance(cur, (list, tuple)) and 0 <= step < len(cur):
                path, cur = f"{path}[{step}]", cur[step]
            elif (
                isinstance(step, str)
                and isinstance(cur, Mapping)
                and (step in cur or (err["type"] == "missing" and i == len(err["loc"]) - 1))
            ):
                path, cur = f"{path}.{step}" if path else step, cur.get(step, _MISSING)
            else:
                continue  # a union member's tag, not a place in the value
            sub = _sub(sub, step, defs)
        by_path.setdefault(path, (cur, sub, err))
    out = []
    for path, (cur, sub, err) in by_path.items():
        if any(q.startswith((path + "[", path + ".")) for q in by_path if path):
            continue  # a union member that failed at once, while another got further: report the deeper one
        name = f"{label} '{path}'" if path else label.split()[0]
        if err["type"] == "missing" or cur is _MISSING:
            out.append(f"{where}: {name}: required (it has no default) but not given")
            continue
        if sub is not None and err["type"] not in ("value_error", "assertion_error"):  # not __post_init__'s
            msg = "expected " + _describe(sub, defs)
        else:
            msg = re.sub(r"^Input should be ", "expected ", err["msg"].removeprefix("Value error, "))
        out.append(" ".join(f"{where}: {name}: {msg}{', ' + _got(cur) if path else ''}".split()))
    return None, out


def _unknown(name: str, known: list[str]) -> str:
    close = difflib.get_close_matches(name, known, n=1)
    return f"; did you mean '{close[0]}'?" if close else ""


def _budget(
    budget_cls: type, values: Mapping[str, Any], where: str, label: str = "budget field"
) -> tuple[Any, list[str]]:
    """Unknown names are ours to report (pydantic ignores them; so it does inside a nested dataclass)."""
    if not (isinstance(budget_cls, type) and dataclasses.is_dataclass(budget_cls)):
        raise TypeError(f"{budget_cls!r} is not a dataclass")
    known = [f.name for f in dataclasses.fields(budget_cls) if f.init]
    errors = [
        f"{where}: {label} '{k}' is unknown{_unknown(k, known)} (fields: {', '.join(known)})"
        for k in values
        if k not in known
    ]
    given = {k: v for k, v in values.items() if k in known}
    for k, v in list(given.items()):  # name a value json cannot write by its field, then leave it out
        if bad := _check(Any, v, where=where, label=label, root=k)[1]:
            errors += bad
            del given[k]
    result, more = _check(budget_cls, given, where=where, label=label)
    more = [m for m in more if not any(m.startswith(f"{where}: {label} '{k}'") for k in values if k not in given)]
    return result, errors + more


def budget_errors(budget_cls: type, values: Mapping[str, Any], *, where: str) -> list[str]:
    """Every problem with `values` as the fields of `budget_cls` (a frozen stdlib dataclass); [] if fine."""
    return _budget(budget_cls, values, where)[1]


def make_budget(budget_cls: type, values: Mapping[str, Any], *, where: str, label: str = "budget field") -> Any:
    """An instance of `budget_cls` from `values` (missing fields take their defaults), or ConfigError
    listing ALL problems. Arrays become tuples (hashable) and ints for float fields floats (60 -> 60.0).
    Any frozen dataclass of typed fields works (`label` names its fields in messages)."""
    result, errors = _budget(budget_cls, values, where, label)
    if errors:
        raise ConfigError(errors)
    return result


def _infer(default: Any) -> Any:
    """The type a keyword default stands for: bool/int/float/str as is (bool before int, since
    True is an int), a sequence of its elements' type (int and float mixed -> float, empty -> Any),
    dict -> dict[str, Any], None or anything else -> Any (still required to be TOML/JSON-like)."""
    if isinstance(default, (bool, int, float, str)):
        return type(default) if type(default) in (bool, int, float, str) else Any
    if isinstance(default, (list, tuple)):
        kinds = list(dict.fromkeys(_infer(x) for x in default))
        if set(kinds) == {int, float}:
            kinds = [float]
        elem = (
            Any if not kinds or Any in kinds else kinds[0] if len(kinds) == 1 else functools.reduce(operator.or_, kinds)
        )
        return tuple[elem, ...]  # type: ignore[valid-type]
    if isinstance(default, dict):
        return dict[str, Any]
    return Any


def param_errors(
    defaults: Mapping[str, Any], values: Mapping[str, Any], *, where: str, annotations: Mapping[str, Any] | None = None
) -> list[str]:
    """Every problem with `values` as a method's keyword parameters; [] if fine. A parameter's type is
    its annotation if given (a string one cannot be resolved here: pass them evaluated), else `_infer`."""
    errors, annotations = [], annotations or {}
    for name, value in values.items():
        if name not in defaults:
            errors.append(
                f"{where}: method has no parameter '{name}'{_unknown(name, list(defaults))}"
                f" (parameters: {', '.join(defaults) or 'none'})"
            )
            continue
        tp = annotations.get(name, inspect.Parameter.empty)
        if tp is inspect.Parameter.empty or isinstance(tp, str):
            tp = _infer(defaults[name])
        try:
            _adapter(tp)
        except pydantic.PydanticSchemaGenerationError:  # e.g. an annotation naming a non-config class
            tp = _infer(defaults[name])
        errors += _check(tp, value, where=where, label="method parameter", root=name)[1]
    return errors


def positive_int_errors(value: Any, *, where: str, field: str) -> list[str]:
    """Problems with `value` as a count such as `seeds`: an integer >= 1 (not a bool, not a float)."""
    return _check(Annotated[int, Ge(1)], value, where=where, label="field", root=field)[1]
