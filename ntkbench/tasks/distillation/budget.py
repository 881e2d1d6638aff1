"""The distillation budget: images per class, preprocessing and the fixed evaluation recipe."""

from __future__ import annotations

import dataclasses
from typing import Literal

from ntkbench.tasks.base import NonNegativeFloat, PositiveFloat, PositiveInt

Evaluation = Literal["convnet", "mlp", "krr"]


@dataclasses.dataclass(frozen=True)
class Budget:
    ipc: PositiveInt = 10  # synthetic images per class
    preprocess: Literal["standardise", "zca", "none"] = "standardise"
    evaluations: tuple[Evaluation, ...] = ("convnet", "mlp", "krr")
    eval_networks: PositiveInt = 5  # networks trained from scratch on the synthetic set
    eval_epochs: PositiveInt = 300
    eval_batch_size: PositiveInt = 256
    eval_lr: PositiveFloat = 0.01
    eval_momentum: NonNegativeFloat = 0.9
    eval_weight_decay: NonNegativeFloat = 5e-4
    eval_width: PositiveInt = 128
    eval_depth: PositiveInt = 3
    augment: Literal["none", "dsa"] = "none"
    soft_label_loss: Literal["mse", "cross_entropy"] = "mse"
    kernel: Literal["fc", "conv"] = "fc"  # "fc": the MLP's kernel (cheap); "conv": the ConvNet's
    krr_ridge: NonNegativeFloat = 1e-5
    test_points: PositiveInt | None = None
