"""The training-dynamics budget: the training set, the GD run, its checkpoints and the views' sizes."""

from __future__ import annotations

import dataclasses
from typing import Annotated

from annotated_types import Ge, Gt, Lt

from ntkbench.tasks.base import Percent, PositiveFloat, PositiveInt, Steps


@dataclasses.dataclass(frozen=True)
class Budget:
    n: PositiveInt = 256  # training examples (one class-balanced subset per run, shared by the seeds)
    test_points: PositiveInt = 1000  # test inputs in the probe (the first ones of the test split)
    steps: Steps = 2000  # full-batch gradient steps
    checkpoints: Annotated[int, Ge(2)] = 30  # log-spaced step counts (0 and `steps` included) recorded
    lr_scale: Annotated[float, Gt(0), Lt(2)] = 0.5  # η = lr_scale · n / λ_max(Θ): η λ_max / n = lr_scale
    lr: PositiveFloat | None = None  # an absolute η instead (needed by a method without an arch= hook)
    bands: Annotated[int, Ge(2)] = 7  # top log-spaced eigenvalue bands (1, 2, 4, ... directions) scored
    # test accuracies `steps_to@<t>` is reported for (MNIST-1D, n = 256: the MLP NTK's KRR limit is ~32 %)
    targets: tuple[Percent, ...] = (25.0, 30.0, 40.0)
    fit_threshold: Annotated[float, Gt(0), Lt(1)] = 0.1  # a Fourier mode is fitted at this relative residual
    gap_widths: tuple[PositiveInt, ...] = (64, 256, 1024)  # widths of the linearisation gap (() : none)
    gap_seeds: PositiveInt = 1  # seeds (the first ones) the linearisation gap is measured for
    gap_steps: PositiveInt | None = None  # GD steps of the linearisation gap (None: `steps`)
    flops: bool = True  # XLA's FLOPs of one full-batch step of the method's architecture
    # the spectral bias also against each seed's empirical NTK at init (`entk_*`: one n·C-row Jacobian per seed)
    empirical_ntk: bool = True
