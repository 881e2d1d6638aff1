"""The task's metrics: test accuracy per n, n*(target) from a learning curve, and the exponent α."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike

from ntkbench.tasks.base import MetricSpec

METRICS = (
    MetricSpec("test_acc@n=<n>", unit="%", headline=True, description="test accuracy with n training examples"),
    MetricSpec(
        "n_star@<target>",
        unit="examples",
        higher_is_better=False,
        missing="> n_max",
        description="smallest n whose mean accuracy reaches the target (log-n interpolation); censored "
        "above the grid's largest n and at its smallest, never averaged",
        mean_of_seeds=False,  # n* of the mean curve; per_seed: n* of each seed's curve
    ),
    MetricSpec(
        "n_star@<target>@d=<d>",
        unit="examples",
        higher_is_better=False,
        missing="> n_max",
        description="n*(target) on lza-<d>, copied into the derived exponent result",
        mean_of_seeds=False,
    ),
    MetricSpec(
        "alpha@<target>",
        unit="",
        higher_is_better=False,
        headline=True,
        missing="not an estimate (n* censored)",
        description="exponent α of n* ∝ d^α over the lza-<d> grid (derived); none where an n* is "
        "censored (not reached, or at the grid's smallest n)",
        mean_of_seeds=False,  # the exponent of the mean n*; per_seed: of each seed's n*
    ),
)


def n_star(ns: ArrayLike, accs: ArrayLike, target: float) -> float | None:
    """Smallest n with acc ≥ target, interpolated in log n at the first crossing; None if never."""
    ns, accs = np.asarray(ns, float), np.asarray(accs, float)
    order = np.argsort(ns)
    ns, accs = ns[order], accs[order]
    hits = np.nonzero(accs >= target)[0]
    if hits.size == 0:
        return None
    i = int(hits[0])
    if i == 0:
        return float(ns[0])
    lo, hi = np.log(ns[i - 1]), np.log(ns[i])
    frac = (target - accs[i - 1]) / (accs[i] - accs[i - 1])
    return float(np.exp(lo + frac * (hi - lo)))


def fit_exponent(ds: Sequence[int], ys: Sequence[float | None]) -> float | None:
    """Slope of log y against log d (least squares); None with fewer than two points, exactly 0.0
    where every y is the same (a flat curve; np.polyfit would give a last-digit +-1e-16)."""
    pts = [(math.log(d), math.log(y)) for d, y in zip(ds, ys) if y is not None]
    if len(pts) < 2:
        return None
    if len({y for d, y in zip(ds, ys) if y is not None}) == 1:
        return 0.0
    x, y = np.array(pts).T
    return float(np.polyfit(x, y, 1)[0])


def target_label(target: float) -> str:
    return f"{target:g}"
