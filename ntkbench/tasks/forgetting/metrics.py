"""Continual-learning metrics from the accuracy matrix, and the rank correlation of the NTK view."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from ntkbench.tasks.base import MetricSpec

METRICS = ("ACC", "BWT", "FWT", "forgetting", "LA")  # the scalar metrics, per seed and mean ± std
METRIC_SPECS = (
    MetricSpec("ACC", unit="%", headline=True, description="average accuracy over all tasks after the last one"),
    MetricSpec("BWT", unit="points", description="backward transfer (negative: forgetting)"),
    MetricSpec("FWT", unit="points", description="forward transfer over the untrained model"),
    MetricSpec(
        "forgetting",
        unit="points",
        higher_is_better=False,
        description="mean drop from the best earlier accuracy of each old task",
    ),
    MetricSpec("LA", unit="%", description="learning accuracy: each task right after training it"),
    MetricSpec("acc_matrix", unit="%", higher_is_better=None, description="R[i][j]: task j after training task i"),
    MetricSpec("acc_init", unit="%", higher_is_better=None, description="b[j]: task j before any training"),
)


def forgetting_metrics(R: np.ndarray, b: np.ndarray) -> dict[str, float | None]:
    """ACC, BWT, FWT, forgetting and LA from R (T×T) and b (T,), in percent.

    R[i, j] is the accuracy on task j after training task i, b[j] that of the untrained model.
    With 1-based task indices as in the protocol:

        ACC        = mean_{j=1..T}   R[T, j]
        BWT        = mean_{j<T}      (R[T, j] − R[j, j])                 (Lopez-Paz & Ranzato 2017)
        FWT        = mean_{j=2..T}   (R[j−1, j] − b[j])
        forgetting = mean_{j<T}      (max_{l<T} R[l, j] − R[T, j])       (Chaudhry et al. 2018)
        LA         = mean_{j=1..T}   R[j, j]

    (max_{l<T} runs over l = 1..T−1.) BWT, FWT and forgetting need T ≥ 2 and are None otherwise.
    """
    R = np.asarray(R, np.float64)
    b = np.asarray(b, np.float64)
    T = R.shape[0]
    if R.shape != (T, T) or b.shape != (T,):
        raise ValueError(f"forgetting_metrics: R must be T×T and b (T,), got {R.shape} and {b.shape}")
    last = R[T - 1]
    out: dict[str, float | None] = {"ACC": float(last.mean()), "LA": float(np.diagonal(R).mean())}
    if T < 2:
        out.update(BWT=None, FWT=None, forgetting=None)
        return out
    old = np.arange(T - 1)
    out["BWT"] = float(np.mean(last[old] - R[old, old]))
    out["FWT"] = float(np.mean(R[np.arange(T - 1), np.arange(1, T)] - b[1:]))
    out["forgetting"] = float(np.mean(R[: T - 1, : T - 1].max(axis=0) - last[old]))
    return out


def spearman(a: ArrayLike, b: ArrayLike) -> float | None:
    """Spearman rank correlation (scipy; ties get average ranks) over the finite pairs; None if
    undefined (fewer than 3 pairs or a constant input)."""
    x, y = np.asarray(a, np.float64), np.asarray(b, np.float64)
    ok = np.isfinite(x) & np.isfinite(y)
    x, y = x[ok], y[ok]
    if len(x) < 3 or np.all(x == x[0]) or np.all(y == y[0]):
        return None
    import scipy.stats  # here, not at the top: it costs every ntkbench process ~0.5 s of import

    return float(scipy.stats.spearmanr(x, y).statistic)
