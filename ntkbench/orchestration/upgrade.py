"""`ntkbench upgrade`: older result files re-summarised by today's rules, measurements untouched.

Schema 3 changed how a metric is summarised, not what a run measures: a metric with a censored
seed (a target never reached, an n* at the grid's floor) is no longer averaged over the seeds that
got there, and a value computed once for every seed says so. Every such summary follows from the
file's per-seed values and the run's bounds (`Task.censoring`, `Task.own_mean`), so an older file is
upgraded in place without re-running it: per_seed, config and config hash stay as they are, the
summaries are recomputed by `ntkbench.results.metric`, and `provenance.upgraded` records from which
schema, by which code and when. A schema-1 file's population std becomes the sample std.
"""

from __future__ import annotations

import datetime
import json
from pathlib import Path
from typing import Any

import numpy as np

from ntkbench.provenance import git_commit
from ntkbench.registry import PluginError, get_method
from ntkbench.results import SCHEMA, metric, write_json_atomic
from ntkbench.tasks import get_task


def upgraded_metrics(record: dict) -> dict[str, Any]:
    """The record's metrics summarised by schema 3's rules from their per-seed values."""
    task = get_task(record["task"])
    try:
        extras = dict(get_method(record["method"], record["task"]).extras)
    except PluginError:
        extras = {}  # a method not installed here: nothing known of it beyond the file
    out: dict[str, Any] = {}
    for name, m in record["metrics"].items():
        values = m.get("per_seed")
        if not isinstance(values, list) or any(isinstance(v, list) for v in values):
            out[name] = _array_metric(m)  # per-seed arrays (forgetting's accuracy matrix)
            continue
        spec = task.metric_spec(name)
        bound, floor = task.censoring(record, name)
        if task.deterministic(record, name, extras) and len(values) > 1:
            out[name] = metric(values, deterministic=True)
        elif spec is not None and not spec.mean_of_seeds:
            out[name] = metric(values, mean=task.own_mean(record, name), bound=bound, floor=floor)
        else:
            out[name] = metric(values, bound=bound, floor=floor)
    return out


def _array_metric(m: dict) -> dict:
    values = np.asarray([v for v in m["per_seed"] if v is not None], dtype=float)
    std = values.std(0, ddof=1).tolist() if len(values) > 1 else None
    out = {**m, "mean": values.mean(0).tolist() if len(values) else None, "std": std}
    return out | ({"ci95": None} if "ci95" in m else {})  # the writer gives arrays no ci95


def upgrade_record(record: dict, *, now: str | None = None) -> dict:
    """A schema-3 copy of `record` (unchanged if it is schema 3 already)."""
    if record.get("schema") == SCHEMA:
        return record
    stamp = now or datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")
    provenance = dict(record["provenance"])
    provenance["upgraded"] = {"from": record["schema"], "by": git_commit(), "at": stamp}
    return {**record, "schema": SCHEMA, "metrics": upgraded_metrics(record), "provenance": provenance}


def upgrade_folder(folder: Path) -> list[tuple[Path, list[str]]]:
    """Upgrade every older result file under `folder` in place (atomic writes); returns each
    upgraded file with the metrics whose summary changed."""
    changed = []
    for path in sorted(folder.rglob("*.json")):
        if path.name.startswith("."):
            continue
        record = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(record, dict) or "metrics" not in record or record.get("schema") == SCHEMA:
            continue
        if record.get("derived"):
            continue  # a derived record is made again from its sources (`ntkbench.orchestration.runner.aggregate`)
        new = upgrade_record(record)
        diff = [k for k in new["metrics"] if _summary(new["metrics"][k]) != _summary(record["metrics"].get(k, {}))]
        write_json_atomic(path, new)
        changed.append((path, diff))
    return changed


def _summary(m: dict) -> tuple:
    return tuple(json.dumps(m.get(k), sort_keys=True) for k in ("mean", "std", "ci95", "censored", "deterministic"))
