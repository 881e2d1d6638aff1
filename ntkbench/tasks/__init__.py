"""The tasks, by name: the five built-in packages and any installed `ntkbench.tasks` entry point.

Each task is a package, `ntkbench/tasks/<name>/`, that owns its whole surface: its protocol (the
package docstring), a typed `Budget`, its method contract types, metric specs, NTK view,
leaderboard figures and published numbers. The harness reaches them only through `Task`'s hooks
(`ntkbench/tasks/base.py`), so a third-party package ships a task exactly as it ships a method:

    [project.entry-points."ntkbench.tasks"]
    my_task = "my_package.task:TASK"      # a Task instance (or a Task subclass, or a module with TASK)
"""

from __future__ import annotations

import importlib
import importlib.metadata as md
import inspect

from ntkbench.registry import Registry, check_name
from ntkbench.tasks.base import ContractError, MetricSpec, RunContext, Task, TaskOutput

ENTRY_POINT_GROUP = "ntkbench.tasks"
BUILTIN = ("sample_complexity", "forgetting", "distillation", "adversarial", "training_dynamics")


def _load_tasks() -> None:
    for name in BUILTIN:
        register_task(importlib.import_module(f"ntkbench.tasks.{name}").TASK)
    for ep in md.entry_points(group=ENTRY_POINT_GROUP):
        dist = ep.dist.name if ep.dist else "?"
        obj = ep.load()  # a task that cannot load is an error: every run of it would fail
        if inspect.ismodule(obj):
            obj = getattr(obj, "TASK", None)
        if inspect.isclass(obj) and issubclass(obj, Task):
            obj = obj()
        if not isinstance(obj, Task):
            raise TypeError(
                f"entry point {ep.name!r} ({ep.value}) from {dist} in group {ENTRY_POINT_GROUP!r} "
                "is not a Task (an instance, a subclass, or a module defining TASK)"
            )
        register_task(obj)


TASKS: Registry[str, Task] = Registry("task", error=KeyError, load=_load_tasks)


def register_task(task: Task) -> Task:
    if not task.name:
        raise TypeError(f"{type(task).__qualname__} sets no `name`")
    check_name("task", task.name, f"{type(task).__module__}.{type(task).__qualname__}")
    TASKS.add(
        task.name,
        task,
        same=lambda a, b: type(a) is type(b),
        describe=lambda t: f"{type(t).__module__}.{type(t).__qualname__}",
    )
    return task


def get_task(name: str) -> Task:
    return TASKS.get(name)


def all_tasks() -> list[Task]:
    return TASKS.values()


def task_versions() -> dict[str, int]:
    return {name: t.version for name, t in TASKS.items()}


__all__ = [
    "ContractError",
    "MetricSpec",
    "RunContext",
    "Task",
    "TaskOutput",
    "TASKS",
    "BUILTIN",
    "get_task",
    "all_tasks",
    "register_task",
    "task_versions",
]
