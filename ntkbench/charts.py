"""Charts as data: what a figure shows, with no drawing code and no ntkbench imports.

A task (or the leaderboard on its behalf) describes its figures with these frozen dataclasses;
a renderer (`ntkbench.leaderboard.plots.render`) turns each into inline SVG or HTML. Five kinds:

    Chart("acc vs n", "n", "acc (%)", series=(Series("mlp", ((250, 61.0, 0.5), (500, 70.2, None))),),
          log_x=True)                                             # kind="line"
    Chart("R", "evaluated on task j", "after training task i", kind="heatmap",
          heatmap=Heatmap(rows=("1", "2"), cols=("1", "2"), values=((90.0, 10.0), (40.0, None))))
    Chart("first synthetic example per class", "", "", kind="images",
          images=(Image("class 0", (28, 28, 1), b"..."),))    # uint8 pixels, row-major
    Chart("predicted vs measured drop", "predicted", "measured", series=(...), kind="scatter")  # points only
    Chart("kernel distance", "", "", kind="table", table=Table(("method", "distance"), (("sgd", "0.07"),)))

`caption` is a sentence under the chart (what a dashed line means, a fitted exponent, a correlation).

Everything is immutable and hashable (tuples, bytes), so charts can be compared, cached and
written out as data.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from typing import Literal, TypeGuard

__all__ = ["Chart", "Heatmap", "Image", "Series", "Table"]


@dataclass(frozen=True)
class Series:
    """One curve: points (x, y, error) sorted by x; error is a ± half-width (e.g. std) or None.
    `dashed` draws a reference curve (e.g. infinite width); series with the same `group` share
    a colour. `reduced`: the points come from runs at a reduced budget (not the task's full
    protocol), drawn lighter and dashed and named so in the legend; a series never mixes them with
    full-protocol runs."""

    label: str
    points: tuple[tuple[float, float, float | None], ...]
    dashed: bool = False
    group: int = 0
    reduced: bool = False

    @property
    def legend(self) -> str:
        return self.label + (REDUCED if self.reduced else "")


REDUCED = " (reduced)"  # after the name of a run, or a series of runs, at a reduced budget
REDUCED_NOTE = (  # under a chart that has such series
    " Lighter, dashed, “(reduced)” in the legend: runs at a reduced budget, not the task's full protocol"
    " (the tables list how each deviates); no line or point set joins them with full-protocol runs."
)


@dataclass(frozen=True)
class Heatmap:
    """values[i][j] for row label rows[i] and column label cols[j]; None marks a missing cell.
    Colours span [vmin, vmax]."""

    rows: tuple[str, ...]
    cols: tuple[str, ...]
    values: tuple[tuple[float | None, ...], ...]
    vmin: float = 0.0
    vmax: float = 100.0
    annotate: bool = True  # print each value in its cell


@dataclass(frozen=True)
class Image:
    """A small uint8 image (H, W[, 1 or 3]) or 1-D signal (length[, channels]), row-major bytes."""

    label: str
    shape: tuple[int, ...]
    pixels: bytes


@dataclass(frozen=True)
class Table:
    """A small table of text cells (the page escapes them): a view with too few points for a chart."""

    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


@dataclass(frozen=True)
class Chart:
    title: str
    xlabel: str
    ylabel: str
    series: tuple[Series, ...] = ()
    log_x: bool = False
    kind: Literal["line", "heatmap", "images", "scatter", "table"] = "line"
    heatmap: Heatmap | None = None
    images: tuple[Image, ...] = ()
    log_y: bool = False
    caption: str = ""
    table: Table | None = None


# ---- Helpers a task's `figures` hook uses to turn result records into series ----------------------
# Records come from files on disk: every value is checked, anything malformed is skipped. Every
# chart names its runs with `series_labels` and marks runs at a reduced budget (`is_reduced`:
# `Series(reduced=...)`, `run_name` in table rows and titles).

Point = tuple[float, float, "float | None"]


def is_number(x: object) -> TypeGuard[int | float]:
    return isinstance(x, int | float) and not isinstance(x, bool) and math.isfinite(x)


def as_dict(x: object) -> dict:
    return x if isinstance(x, dict) else {}


def compact(x: object) -> str:
    """Short, stable text for a JSON value (params in a label)."""
    if isinstance(x, str):
        return x
    try:
        return json.dumps(x, sort_keys=True, separators=(",", ":"), default=str)
    except (TypeError, ValueError):
        return str(x)


def is_reduced(rec: dict) -> bool:
    """Whether a run is at a reduced budget: its protocol as the leaderboard recomputed it from its
    config (`_protocol`), else as its result file states it (`protocol`); derived results have none."""
    protocol = rec.get("_protocol") if "_protocol" in rec else rec.get("protocol")
    return isinstance(protocol, dict) and protocol.get("full") is False


def run_name(label: str, rec: dict) -> str:
    """A run's label in a table row or caption, marked when the run is at a reduced budget."""
    return label + (REDUCED if is_reduced(rec) else "")


def ok_records(records: list[dict]) -> list[dict]:
    """The finished, non-derived runs: what a per-run figure shows."""
    return [r for r in records if r.get("status") == "ok" and not r.get("derived")]


def words(v: object, n: int = 18) -> str:
    """A params/budget value in a label, in words: no JSON braces or quotes, long numeric lists as
    first…last, long text cut to `n` characters."""
    if v is None or v == []:
        s = "none"
    elif isinstance(v, bool):
        s = "true" if v else "false"
    elif isinstance(v, list) and len(v) > 3 and all(is_number(t) for t in v):
        s = f"{compact(v[0])}…{compact(v[-1])}"
    elif isinstance(v, list):
        s = ",".join(words(t, 1000) for t in v)
    elif isinstance(v, dict):
        s = ", ".join(f"{k} {words(t, 1000)}" for k, t in v.items())
    else:
        s = compact(v)
    s = re.sub(r'[{}"]', "", s)
    return s if len(s) <= n else s[: n - 1] + "…"


_MISSING = object()
Field = tuple[str, ...]  # ("params" | "budget", key, nested key, ...)


def _fields(rec: dict) -> dict[Field, object]:
    """The params then budget entries of a run, nested dicts (a threat model) flattened to paths."""

    def flat(d: object, path: Field) -> dict[Field, object]:
        out: dict[Field, object] = {}
        for k, v in as_dict(d).items():
            out.update(flat(v, (*path, str(k))) if isinstance(v, dict) and v else {(*path, str(k)): v})
        return out

    return {**flat(rec.get("params"), ("params",)), **flat(rec.get("budget"), ("budget",))}


def _telling_apart(runs: list[dict[Field, object]]) -> list[Field]:
    """The fields whose values differ between `runs`, few enough for a legend: params first, each
    added while it tells more runs apart, then other differing params (at most three in all) for
    context; budget fields only where the params do not tell the runs apart."""
    keys = sorted({k for r in runs for k in r}, key=lambda k: (k[0] != "params", k[1:]))
    differing = [k for k in keys if len({compact(r.get(k, _MISSING)) for r in runs}) > 1]

    def told_apart(fields: list[Field]) -> int:
        return len({tuple(compact(r.get(k, _MISSING)) for k in fields) for r in runs})

    target, chosen = told_apart(differing), list[Field]()
    for where in ("params", "budget"):
        candidates = [k for k in differing if k[0] == where]
        while told_apart(chosen) < target and candidates:
            best = max(candidates, key=lambda k: told_apart([*chosen, k]))  # the first of the best
            if told_apart([*chosen, best]) == told_apart(chosen):
                break
            chosen.append(best)
            candidates.remove(best)
    chosen += [k for k in differing if k[0] == "params" and k not in chosen][: max(0, 3 - len(chosen))]
    return sorted(chosen, key=differing.index)


def series_labels(records: list[dict]) -> list[str]:
    """The name of each run on one chart or table: its method, plus, where the chart has other runs
    of the same method, the params (budget where the params do not tell them apart) in which they
    differ, in words: "kip", "mlp (width 100)", "dm (iterations 200, width 128)". Never a hash or
    JSON; runs that differ in nothing shown are numbered ("m #2")."""
    methods = [str(r.get("method")) for r in records]
    out = list(methods)
    for method in dict.fromkeys(methods):
        idx = [i for i, m in enumerate(methods) if m == method]
        if len(idx) == 1:
            continue
        runs = [_fields(records[i]) for i in idx]
        shown = _telling_apart(runs)
        leaves = [k[-1] for k in shown]
        names = [k[-1] if leaves.count(k[-1]) == 1 else ".".join(k[1:]) for k in shown]
        for i, run in zip(idx, runs):
            parts = [f"{name} {words(run[k])}" for name, k in zip(names, shown) if k in run]
            out[i] = f"{method} ({', '.join(parts)})" if parts else method
    alike = list(out)  # runs still alike (or alike once values are shortened) are numbered
    for i, label in enumerate(alike):
        twins = [j for j, other in enumerate(alike) if other == label]
        if len(twins) > 1:
            out[i] = f"{label} #{twins.index(i) + 1}"
    return out


def common(records: list[dict], where: str) -> dict:
    """The `where` ("params" or "budget") entries every record has with the same value."""
    dicts = [as_dict(r.get(where)) for r in records]
    if not dicts:
        return {}
    return {k: v for k, v in dicts[0].items() if all(k in d and compact(d[k]) == compact(v) for d in dicts[1:])}


def point(x: object, m: object) -> Point | None:
    """(x, mean, std) from a metric ({mean, std} or a number); None unless both are numbers."""
    mean, std = (m.get("mean"), m.get("std")) if isinstance(m, dict) else (m, None)
    if not (is_number(x) and is_number(mean)):
        return None
    return (float(x), float(mean), float(std) if is_number(std) else None)  # type: ignore[arg-type]


def curve(metrics: object, pattern: re.Pattern) -> list[Point]:
    """Points (x, mean, std) of the metrics whose name matches `pattern` (group 1 is x)."""
    pts = [point(float(mt.group(1)), v) for k, v in as_dict(metrics).items() if (mt := pattern.match(str(k)))]
    return sorted(p for p in pts if p)


def find(d: object, key: str) -> object:
    """First value under `key` in nested dicts (budget/params may nest a threat model)."""
    if isinstance(d, dict):
        if key in d:
            return d[key]
        for v in d.values():
            if (found := find(v, key)) is not None:
                return found
    return None


def x_of(rec: dict, keys: tuple[str, ...]) -> float | None:
    """The first numeric budget or params value named in `keys` (the x of a one-point-per-run plot)."""
    for k in keys:
        for where in ("budget", "params"):
            v = find(rec.get(where), k)
            if is_number(v):
                return float(v)  # type: ignore[arg-type]
    return None


def grouped(records: list[dict], keys: tuple[str, ...], metric: str) -> list[Series]:
    """One series per method (and params other than the x variable), x taken from budget/params.
    Runs of different task versions, and full-protocol and reduced-budget runs, are never joined
    into one series."""
    kinds: dict[tuple[str, str, str], dict] = {}  # method, params, version -> a run standing for them
    groups: dict[tuple[tuple[str, str, str], bool], list[Point]] = {}
    for rec in records:
        x = x_of(rec, keys)
        p = point(x, as_dict(rec.get("metrics")).get(metric)) if x is not None else None
        if p:
            params = {k: v for k, v in as_dict(rec.get("params")).items() if k not in keys}
            version = rec.get("task_version")
            kind = (str(rec.get("method")), compact(params), compact(version))
            kinds.setdefault(kind, {"method": kind[0], "params": params, "budget": {"task_version": version}})
            groups.setdefault((kind, is_reduced(rec)), []).append(p)
    # named by method and params (the task version where only it differs); the legend marks reduced ones
    names = dict(zip(kinds, series_labels(list(kinds.values()))))
    return [
        Series(names[kind], tuple(sorted(pts)), group=list(kinds).index(kind), reduced=reduced)
        for (kind, reduced), pts in groups.items()
    ]
