"""The tasks, by name. Each module states its protocol in its docstring and owns its metrics."""

from __future__ import annotations

import difflib

from ntkbench.tasks.base import ContractError, RunContext, Task, TaskOutput
from ntkbench.tasks.sample_complexity import TASK as _sample_complexity
from ntkbench.tasks.forgetting import TASK as _forgetting
from ntkbench.tasks.distillation import TASK as _distillation
from ntkbench.tasks.adversarial import TASK as _adversarial

TASKS: dict[str, Task] = {t.name: t for t in (_sample_complexity, _forgetting, _distillation, _adversarial)}


def get_task(name: str) -> Task:
    if name in TASKS:
        return TASKS[name]
    hint = difflib.get_close_matches(name, list(TASKS), n=1)
    raise KeyError(f"unknown task {name!r}" + (f"; did you mean {hint[0]!r}?" if hint else f"; tasks: {', '.join(TASKS)}"))


def task_versions() -> dict[str, int]:
    return {name: t.version for name, t in TASKS.items()}


__all__ = ["ContractError", "RunContext", "Task", "TaskOutput", "TASKS", "get_task", "task_versions"]
