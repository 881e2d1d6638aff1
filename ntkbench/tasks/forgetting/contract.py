"""The learner contract of the `forgetting` task (what a method plugin implements).

A forgetting method is registered with `@nb.method(name, task="forgetting", version=...)` on a
factory `fn(info: StreamInfo, *, <params with defaults>) -> Learner`. The factory is called once
per run, eagerly (not traced), with what the protocol lets a learner know up front (input shape,
label space, number of tasks, setting, epochs and batch size); it gets no data and
`ntkbench.data.load_dataset` raises while it runs. It may build networks, e.g.
`graphdef, _ = nb.build(model_fn, jax.random.key(0))` for the structure that `init`, `learn` and
`predict` share (`nnx.merge(graphdef, params)(x)` runs it). The `Learner` is three pure functions
and an optional hook:

    init(key) -> state                                  a pytree of arrays
    learn(state, key, task: TaskData) -> state          train on ONE task's training data
    predict(state, x, task_id) -> logits (n, C)         task_id: int32, 0-based, or -1 when the
                                                        setting gives no task id at test time
    network(state) -> nnx.Module                        optional: the current network, for the
                                                        empirical-NTK view

`init`, `learn` and `predict` are always traced under `jax.jit` (and `jax.vmap` over the seeds
unless the method is registered `vmappable=False`): `key` is a typed PRNG key, and the state, the
`TaskData` fields and `task_id` are traced arrays, so no Python `if`/`for` on their values (use
`jnp.where`, `lax.cond`); shapes (`task.n`, `x.shape`) and `StreamInfo` fields are static Python
values. For `nb.train_params`, wrap the task as `nb.Split(task.x, task.y, info.num_classes)`.
The harness calls `learn` once per task, in order; a learner never receives a future task or any
test data, and while its code runs `ntkbench.data.load_dataset` raises. A learner that wants old
data (replay, joint training) keeps its own copy in its state; the state may change shape from
task to task (each new shape compiles once). `predict` must not change the state (the harness
discards anything but the logits). Under `task-il` the harness masks the logits to the task's
classes before the argmax; `TaskData.logit_mask` tells `learn` the same mask for the current task.

`network` is called outside jit on the first seed's state, before and after every task from the
second on; it returns the network `x -> logits (n, C)` as an NNX module (e.g.
`nnx.merge(graphdef, state["params"])`). Without it (`network=None`, the default) the run
succeeds and the result's `ntk` says the view is unavailable.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import jax


@dataclasses.dataclass(frozen=True)
class StreamInfo:
    """What a learner may know before the first task (no data)."""

    input_shape: tuple[int, ...]
    num_classes: int
    num_tasks: int
    setting: str  # "domain-il" | "task-il" | "class-il"
    epochs: int
    batch_size: int
    max_train_per_task: int  # the largest task's training-set size (for fixed-size buffers)
    task_id_at_test: bool  # True under task-il only


@jax.tree_util.register_dataclass
@dataclasses.dataclass(frozen=True)
class TaskData:
    """The current task's training data, and nothing else.

    x (n, *input_shape), y (n,) int32 global class ids, task_id () int32 (0-based),
    classes (C,) bool: the classes this task contains,
    logit_mask (C,) bool: the classes a prediction on this task may choose from (the task's
    classes under task-il, all classes otherwise).
    """

    x: jax.Array
    y: jax.Array
    task_id: jax.Array
    classes: jax.Array
    logit_mask: jax.Array

    @property
    def n(self) -> int:
        return self.x.shape[0]


@dataclasses.dataclass(frozen=True)
class Learner:
    init: Callable[[jax.Array], Any]
    learn: Callable[[Any, jax.Array, TaskData], Any]
    predict: Callable[[Any, jax.Array, jax.Array], jax.Array]
    network: Callable[[Any], Any] | None = None
