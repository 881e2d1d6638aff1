"""Claims: statements about what the NTK explains, tested on the result files.

A task lists its claims (`Task.claims`, each task package's `claims.py`) the way it lists its
published numbers. A claim names the results it reads (task, dataset, methods, metric), the
statistic computed over their seeds and the sign of that statistic which supports the statement.
`ntkbench.orchestration.claims` evaluates them from the result files each time (a verdict is
never stored): supported when the 95 % interval excludes 0 on the claimed side, contradicted when
it excludes 0 on the other side, inconclusive otherwise, or with fewer than `min_seeds` seeds a
side, missing results, or censored values (a target never reached, an n* at the grid's floor).

Statistics (`kind`):
- "difference": mean(a) − mean(b) of one metric of two methods on the same dataset and budget;
  paired by seed when both ran the same seeds (seed s drew the same subsets), else Welch's t.
- "trend": per seed, Spearman's ρ between x and `metric.format(x=x)` over `xs`; the mean ρ over
  seeds with a one-sample t interval. A target never reached ranks after every reached one (a
  rank, never averaged).
- "mean": the mean over seeds of one per-seed metric, one-sample t interval.
- "pairs": Spearman's ρ between two fields (`x`, `y`) of the rows of the result's NTK view
  (`ntk.<rows>`, e.g. forgetting's task pairs), Fisher interval over the rows; the rows come from
  one network or kernel, so `min_seeds` counts the seeds the view ran on.
"""

from __future__ import annotations

import dataclasses
from typing import Literal

Kind = Literal["difference", "trend", "mean", "pairs"]


@dataclasses.dataclass(frozen=True)
class Claim:
    name: str
    statement: str
    task: str
    dataset: str
    kind: Kind
    metric: str  # for "trend" a template with {x}; for "pairs" the description of x vs y
    a: str  # the method (for "difference": the statistic is a − b)
    direction: Literal["greater", "less"]  # the statistic's sign that supports the statement
    b: str = ""
    xs: tuple[float, ...] = ()  # "trend": the x values
    x: str = ""  # "pairs": the predicted field
    y: str = ""  # "pairs": the measured field
    rows: str = "pairs"  # "pairs": the dotted path of the rows inside the result's `ntk`
    # Budget fields that do not change the compared metric (e.g. whether the NTK view ran): two
    # results that differ only in these are still the same protocol.
    ignore: tuple[str, ...] = ()
    min_seeds: int = 3

    @property
    def methods(self) -> tuple[str, ...]:
        return (self.a, self.b) if self.b else (self.a,)
