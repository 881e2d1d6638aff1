"""A result file against itself: each metric's summary against its own per_seed values, and the
file's place against its config hash. Used by `ntkbench validate` (no rerun needed).

The rules are those of the writers: `ntkbench.results.metric` (schema 3: a censored metric is
never averaged, a deterministic one has no spread; schema 2: mean of the present values, sample std
and a Student-t ci95 with at least two; schema 1: population std), applied
element-wise to a metric whose per-seed values are arrays (forgetting's accuracy matrix). A metric's
`MetricSpec` says where a task departs from them: `per_run` (one value per run), `seeds_field` (the
first min(budget[field], seeds) seeds only) and `mean_of_seeds=False` (a mean the task defines
otherwise, e.g. n* of the mean curve).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from ntkbench.results import SCHEMA, config_hash, config_of, metric
from ntkbench.tasks import get_task
from ntkbench.tasks.base import MetricSpec, Task

REL_TOL, ABS_TOL = 1e-9, 1e-12  # float sums in another order differ in the last digits, not more


def place_errors(record: dict, path: Path) -> list[str]:
    """The file must be `<task>/<dataset>/<method>/<config hash>.json`, as every writer names it (the
    runner skips a run whose file exists there, and shards merge by that name)."""
    try:
        chash = config_hash(config_of(record))
    except (TypeError, ValueError):
        return []  # validate_record reports config fields that are not plain JSON
    want = (str(record["task"]), str(record["dataset"]), str(record["method"]), f"{chash}.json")
    have = path.parts[-4:]
    if tuple(have) == want:
        return []
    return [
        f"{path}: misplaced: its config puts it at {'/'.join(want)} (task/dataset/method/config hash), "
        f"not at {'/'.join(have)}"
    ]


def metric_errors(record: dict, where: str) -> list[str]:
    """Every metric whose per_seed has the wrong length, or whose mean/std/ci95 do not follow from it."""
    try:
        task: Task | None = get_task(record["task"])
    except KeyError:
        task = None  # validate_record reports the unknown task; the writers' rules still apply
    errors = []
    for name, m in (record.get("metrics") or {}).items():
        if not isinstance(m, dict) or not isinstance(m.get("per_seed"), list):
            continue  # validate_record reports the malformed metric
        spec = task.metric_spec(name) if task else None
        at = f"{where}: field 'metrics.{name}"
        errors += _length_errors(m["per_seed"], record, spec, task, at)
        if record["schema"] == SCHEMA and all(_is_number(v) or v is None for v in m["per_seed"]):
            errors += _schema_3_errors(m, spec, at)
        else:
            errors += _summary_errors(m, record["schema"] == "ntkbench.result/1", spec, at)
    return errors


def _schema_3_errors(m: dict, spec: MetricSpec | None, at: str) -> list[str]:
    """Schema 3 (`ntkbench.results.metric`): a censored metric has no spread and, unless the task
    defines its mean, no mean; a deterministic one is one value; any other has a value per seed."""
    values = m["per_seed"]
    if m.get("deterministic"):
        if None in values or len(set(values)) > 1 or m.get("mean") != (values[0] if values else None):
            return [f"{at}' is marked deterministic but its per_seed values are {_short(values)} (one value each)"]
        return [f"{at}.{f}' must be null for a deterministic metric" for f in ("std", "ci95") if m.get(f) is not None]
    censored = m.get("censored")
    if censored is not None:
        errors = [f"{at}.{f}' must be null for a censored metric" for f in ("std", "ci95") if m.get(f) is not None]
        if (spec is None or spec.mean_of_seeds) and m.get("mean") is not None:
            errors.append(f"{at}.mean' is {_short(m['mean'])}: a censored metric is never averaged")
        if not isinstance(censored, dict) or censored.get("of") != len(values):
            errors.append(f"{at}.censored' must say {{side, bound, reached, of}} with of = {len(values)} seeds")
        elif not isinstance(censored.get("reached"), int) or censored["reached"] > len(values) - values.count(None):
            errors.append(f"{at}.censored.reached' is {censored.get('reached')!r}, more seeds than have a value")
        return errors
    if None in values:
        return [f"{at}' has a seed without a value but does not say it is censored"]
    return _summary_errors(m, False, spec, at)


def _length_errors(per_seed: list, record: dict, spec: MetricSpec | None, task: Task | None, at: str) -> list[str]:
    seeds = record["seeds"]
    if spec is not None and spec.per_run:
        if len(per_seed) != 1:
            return [f"{at}.per_seed' has {len(per_seed)} values; the metric is computed once per run (1 value)"]
        return []
    if spec is not None and spec.seeds_field and task is not None:
        cap = record["budget"].get(spec.seeds_field, task.budget_defaults.get(spec.seeds_field))
        if isinstance(cap, int) and not isinstance(cap, bool) and len(per_seed) != min(cap, seeds):
            return [
                f"{at}.per_seed' has {len(per_seed)} values; the metric is computed for min({spec.seeds_field}"
                f" = {cap}, seeds = {seeds}) = {min(cap, seeds)} seeds"
            ]
        return []
    if len(per_seed) != seeds:
        return [f"{at}.per_seed' has {len(per_seed)} values, but seeds is {seeds}"]
    return []


def _summary_errors(m: dict, schema_1: bool, spec: MetricSpec | None, at: str) -> list[str]:
    present = [v for v in m["per_seed"] if v is not None]
    if all(_is_number(v) for v in present):
        expected = metric(present)  # schema 2's mean, sample std and ci95
        if schema_1:
            expected["std"] = float(np.std(present)) if present else None
    else:
        try:
            values = np.asarray(present, dtype=float)
        except (TypeError, ValueError):
            return [f"{at}.per_seed' holds values that are neither numbers, null nor arrays of numbers of one shape"]
        mean = values.mean(0).tolist() if len(values) else None
        if schema_1:
            std = values.std(0).tolist() if len(values) else None
        else:
            std = values.std(0, ddof=1).tolist() if len(values) > 1 else None
        expected = {"mean": mean, "std": std, "ci95": None}
    fields = ["std"] + (["mean"] if spec is None or spec.mean_of_seeds else [])
    if not schema_1 and "ci95" in m and all(_is_number(v) for v in present):
        fields.append("ci95")
    return [
        f"{at}.{f}' is {_short(m.get(f))} but its per_seed values give {_short(expected[f])}"
        for f in fields
        if not _close(m.get(f), expected[f])
    ]


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _close(a: Any, b: Any) -> bool:
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_close(x, y) for x, y in zip(a, b))
    if _is_number(a) and _is_number(b):
        return math.isclose(a, b, rel_tol=REL_TOL, abs_tol=ABS_TOL)
    return a is None and b is None


def _short(v: Any) -> str:
    text = repr(v)
    return text if len(text) <= 60 else text[:57] + "..."
