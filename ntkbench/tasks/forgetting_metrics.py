"""Continual-learning metrics from the accuracy matrix, and a Spearman rank correlation."""

from __future__ import annotations

import numpy as np


def forgetting_metrics(R, b) -> dict[str, float | None]:
    """ACC, BWT, FWT, forgetting and LA (PROTOCOLS.md §1) from R (T×T) and b (T,), in percent.

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


def rankdata(x) -> np.ndarray:
    """Ranks 1..n, ties get the mean of their ranks (as scipy.stats.rankdata's 'average')."""
    x = np.asarray(x, np.float64)
    order = np.argsort(x, kind="stable")
    ranks = np.empty(len(x))
    sx = x[order]
    i = 0
    while i < len(x):
        j = i
        while j + 1 < len(x) and sx[j + 1] == sx[i]:
            j += 1
        ranks[order[i: j + 1]] = (i + j) / 2 + 1
        i = j + 1
    return ranks


def spearman(a, b) -> float | None:
    """Spearman rank correlation (Pearson correlation of the average ranks); None if undefined
    (fewer than 3 pairs or a constant input)."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    ok = np.isfinite(a) & np.isfinite(b)
    a, b = a[ok], b[ok]
    if len(a) < 3:
        return None
    ra, rb = rankdata(a), rankdata(b)
    ra, rb = ra - ra.mean(), rb - rb.mean()
    den = np.sqrt((ra * ra).sum() * (rb * rb).sum())
    return None if den == 0 else float((ra * rb).sum() / den)
