"""The sample-complexity budget: the grid of training-set sizes, targets and the NTK view's size."""

from __future__ import annotations

import dataclasses
from typing import Annotated

from annotated_types import MinLen

from ntkbench.tasks.base import Percent, PositiveInt


@dataclasses.dataclass(frozen=True)
class Budget:
    n: Annotated[tuple[PositiveInt, ...], MinLen(1)] = (100, 200, 500, 1000, 2000, 4000)  # training-set sizes
    targets: tuple[Percent, ...] = (60.0, 80.0, 90.0)  # test accuracies n* is reported for
    test_points: PositiveInt | None = None  # None: the whole test split
    ntk_view: bool = True  # infinite-width prediction of the method's architecture beside each n
    ntk_seeds: PositiveInt = 1  # seeds (the first ones) the NTK view is computed for
    ntk_max_n: PositiveInt = 4000  # largest n of the NTK view (conv kernels cost O(n²) on the host)
    ntk_top_k: PositiveInt = 10  # label energy in the top-k eigendirections of the training Gram
