"""The forgetting budget: which stream, how long each task trains, and the NTK probe's size."""

from __future__ import annotations

import dataclasses
from typing import Literal

from ntkbench.tasks.base import NonNegativeFloat, PositiveInt


@dataclasses.dataclass(frozen=True)
class Budget:
    stream: Literal["permuted", "rotated", "split"] = "permuted"
    num_tasks: PositiveInt | None = None  # None: 10 for permuted/rotated, 5 for split
    setting: Literal["task-il", "class-il", "domain-il"] | None = None  # split: task-il (default) or class-il
    theta: float = 10.0  # rotated: degrees between consecutive tasks
    epochs: PositiveInt = 1
    batch_size: PositiveInt = 10
    train_examples: PositiveInt | None = None  # class-balanced training subset before the stream
    test_examples: PositiveInt | None = None  # first test examples before the stream
    ntk_view: bool = True
    ntk_probe: PositiveInt = 30  # test points per old task in the probe
    ntk_train_points: PositiveInt = 200  # points of the new task in Θ(X_k, X_k)
    ntk_ridge: NonNegativeFloat = 1e-3
