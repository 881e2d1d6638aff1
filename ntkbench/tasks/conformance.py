"""Did a run follow its task's protocol, or which fields deviate? Computed, never typed.

A result is *full-protocol* when
  - every budget field equals the protocol's value (the task's `Budget` default, as the task
    resolves it for the dataset), except the fields that pick a point of the protocol's grid or
    one of its stated variants (`Task.grid_fields`: distillation's `ipc`, adversarial's `eps`, ...);
  - a reference method (origin "ntkbench") runs with its parameters at their defaults — a third
    party's parameters are part of its method and are not checked;
  - it has at least the protocol's number of seeds (`Task.protocol_seeds`).

Otherwise it is *reduced*, and `deviations` says how, one short phrase per field
("eval_epochs 50 of 300", "test_points 2000 of all", "seeds 1 of 3", "steps 2000 of 10000").
The runner writes `protocol = {"full": ..., "deviations": [...]}` into every result; `ntkbench
validate` recomputes it; the leaderboard ranks full-protocol rows and shows reduced ones apart.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

from ntkbench.registry import PluginError, get_method
from ntkbench.tasks import TASKS

if TYPE_CHECKING:
    from ntkbench.tasks.base import Task


def describe(value: Any) -> str:
    """A budget or parameter value in a deviation phrase (None: the whole split, "all")."""
    if value is None:
        return "all"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return f"{value:g}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(describe(v) for v in value) + "]"
    return str(value)


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if isinstance(a, (int, float)) and isinstance(b, (int, float)) and not (isinstance(a, bool) or isinstance(b, bool)):
        return float(a) == float(b)
    return a == b


def budget_deviations(task: Task, dataset: str, budget: dict[str, Any]) -> list[str]:
    """The budget fields outside the task's grid fields whose value is not the protocol's.
    Raises ValueError where `budget` does not fit the task's `Budget`."""
    given = task.typed_budget(dataset, {**task.budget_defaults, **budget})
    # the protocol at the run's grid point (a split stream has its own number of tasks)
    point = {f.name: getattr(given, f.name) for f in dataclasses.fields(given) if f.name in task.grid_fields}
    protocol = task.effective_budget(dataset, dataclasses.replace(task.Budget(), **point))
    return [
        f"{f.name} {describe(getattr(given, f.name))} of {describe(getattr(protocol, f.name))}"
        for f in dataclasses.fields(protocol)
        if f.name not in task.grid_fields and not _same(getattr(given, f.name), getattr(protocol, f.name))
    ] + task.grid_deviations(dataset, given)


def params_deviations(method: str, task: str, origin: str | None, params: dict[str, Any]) -> list[str]:
    """A reference method's parameters that differ from its defaults (none checked for others,
    or where the method is not installed here)."""
    if origin != "ntkbench":
        return []
    try:
        defaults = get_method(method, task).params
    except (PluginError, LookupError):
        return []
    # In sorted order, not the record's: a result file read back has its keys sorted, while the
    # runner's dict has them in the order the suite (or a published entry) gave them.
    return [
        f"{k} {describe(params[k])} of {describe(defaults[k])}"
        for k in sorted(params)
        if k in defaults and not _same(params[k], defaults[k])
    ]


def conformance(record: dict) -> dict | None:
    """{"full": bool, "deviations": [str]} for a result record (its config fields are enough),
    or None where its task is not installed here."""
    task_name = record.get("task")
    if not isinstance(task_name, str) or task_name not in TASKS:
        return None
    task = TASKS.get(task_name)
    budget = record["budget"] if isinstance(record.get("budget"), dict) else {}
    params = record["params"] if isinstance(record.get("params"), dict) else {}
    try:
        deviations = budget_deviations(task, str(record.get("dataset")), budget)
    except ValueError as e:  # an edited file, or a task whose budget changed: not the protocol
        deviations = [str(e)]
    deviations += params_deviations(str(record.get("method")), task_name, record.get("method_origin"), params)
    seeds = record.get("seeds")
    if isinstance(seeds, int) and seeds < task.protocol_seeds:
        deviations.append(f"seeds {seeds} of {task.protocol_seeds}")
    return {"full": not deviations, "deviations": deviations}


def deviation_line(protocol: dict | None) -> str:
    """One short line for tables: "full protocol", or the deviations joined."""
    if not protocol:
        return ""
    return "full protocol" if protocol.get("full") else "reduced: " + ", ".join(protocol.get("deviations", []))


def protocol_errors(record: dict, where: str) -> list[str]:
    """A stored `protocol` that its config does not give (an edited file, or a task whose
    protocol changed without a version bump)."""
    stored = record.get("protocol")
    if stored is None or record.get("derived"):
        return []
    computed = conformance(record)
    if computed is None or stored == computed:
        return []
    return [
        f"{where}: field 'protocol' says {deviation_line(stored) or stored!r}, "
        f"but its task, budget, params and seeds give {deviation_line(computed)!r}"
    ]
