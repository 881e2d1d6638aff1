"""The adversarial budget: the threat model, the attack suite's strength and the NTK view's size."""

from __future__ import annotations

import dataclasses
from typing import Literal

from ntkbench.tasks.base import NonNegativeFloat, NonNegativeInt, PositiveFloat, PositiveInt


@dataclasses.dataclass(frozen=True)
class Budget:
    norm: Literal["linf", "l2"] = "linf"
    eps: NonNegativeFloat | None = None  # None: the protocol's per-dataset eps
    box: Literal["auto", "unbounded", "data"] | tuple[float, float] = "auto"  # or [lo, hi]
    test_points: PositiveInt = 1000
    train_examples: PositiveInt | None = None  # None: the whole training split
    pgd_steps: PositiveInt = 50
    pgd_step_size: PositiveFloat | None = None  # None: 2.5 * eps / pgd_steps
    pgd_restarts: PositiveInt = 1
    apgd_iters: PositiveInt = 100
    apgd_restarts: PositiveInt = 1
    apgd_t_iters: PositiveInt = 100
    apgd_t_targets: NonNegativeInt = 9
    attack_batch: PositiveInt = 500  # points per compiled attack call (keys are folded per batch)
    eps_sweep: tuple[NonNegativeFloat, ...] = ()
    ntk_view: bool = True
    ntk_classes: tuple[NonNegativeInt, NonNegativeInt] = (0, 1)  # binary reduction of the eigen-feature view
    ntk_train_points: PositiveInt = 500
    ntk_test_points: PositiveInt = 200
    ntk_features: PositiveInt = 10
    ntk_attack_steps: PositiveInt = 20
    ntk_ridge: NonNegativeFloat = 1e-3
    ntk_probe: PositiveInt = 100
