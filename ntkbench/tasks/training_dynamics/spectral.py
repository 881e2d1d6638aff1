"""The measurements on recorded trajectories, pure numpy: eigenvalue bands, decay times, the
linearised GD prediction of a band's decay, first-crossing steps, residuals per mode of a known
target (Fourier modes, spherical-harmonic components).

Gradient descent on L = 1/(2n) Σ‖f − y‖² at learning rate η moves the training residual
r = f − y of a linear model with kernel Θ (n × n, eigenpairs (λ_i, v_i)) by
r_{t+1} = (I − ηΘ/n) r_t, so its component along v_i is (1 − ηλ_i/n)^t v_iᵀ r_0: it decays to 1/e
of its start after τ_i = −1 / ln(1 − ηλ_i/n) steps, which is n/(ηλ_i) (1 + O(ηλ_i/n)) and tends to
the gradient-flow time n/(ηλ_i) as η → 0. A band's τ is the step at which the norm of the residual
inside the band falls to 1/e of its start; the prediction applies the same rule to the band's
linearised residual started from the measured r_0, so a linear model gets measured = predicted.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike

E_FOLD = math.exp(-1.0)


def eig_desc(k: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Eigenvalues (descending) and eigenvectors (columns) of a symmetric Gram, in float64."""
    lam, v = np.linalg.eigh(np.asarray(k, np.float64))
    return lam[::-1].copy(), v[:, ::-1].copy()


def log_bands(n: int, count: int) -> list[tuple[int, int]]:
    """The top `count` log-spaced bands of eigen-indices: [0, 1), [1, 3), [3, 7), ..., [2^b − 1,
    2^(b+1) − 1) — 1, 2, 4, ... directions (the last one cut at n)."""
    bands = [(2**b - 1, min(2 ** (b + 1) - 1, n)) for b in range(count)]
    if bands[-1][0] >= n:
        raise ValueError(f"{count} log-spaced bands need more than {2 ** (count - 1) - 1} eigenvalues, got {n}")
    return bands


def band_eigenvalue(lam: np.ndarray, band: tuple[int, int]) -> float:
    """The geometric mean of the band's eigenvalues (clipped at a tiny positive number)."""
    part = np.clip(lam[band[0] : band[1]], 1e-30, None)
    return float(np.exp(np.log(part).mean()))


def band_norms(v: np.ndarray, residuals: np.ndarray, bands: Sequence[tuple[int, int]]) -> np.ndarray:
    """‖V_bᵀ r_t‖ per checkpoint and band: residuals (K, n, C) -> (K, B)."""
    proj = np.einsum("ni,knc->kic", v, np.asarray(residuals, np.float64))
    energy = (proj**2).sum(-1)  # (K, n)
    return np.stack([np.sqrt(energy[:, a:b].sum(1)) for a, b in bands], axis=1)


def crossing(steps: ArrayLike, values: ArrayLike, level: float, *, log_values: bool = True) -> float | None:
    """First step at which `values` falls to `level` or below; between the two checkpoints around
    the first crossing, linear in the step and in log(value) (exact for an exponential decay);
    None if it never does. `values[0]` at or below the level gives steps[0]."""
    steps, values = np.asarray(steps, np.float64), np.asarray(values, np.float64)
    below = np.nonzero(values <= level)[0]
    if below.size == 0:
        return None
    i = int(below[0])
    if i == 0:
        return float(steps[0])
    a, b, lv = values[i - 1], values[i], level
    if log_values:
        a, b, lv = math.log(max(a, 1e-300)), math.log(max(b, 1e-300)), math.log(max(lv, 1e-300))
    frac = 0.0 if a == b else (a - lv) / (a - b)
    return float(steps[i - 1] + frac * (steps[i] - steps[i - 1]))


def decay_time(steps: ArrayLike, norms: ArrayLike) -> float | None:
    """The step at which a residual norm falls to 1/e of its value at the first checkpoint."""
    norms = np.asarray(norms, np.float64)
    if not norms[0] > 0:
        return None
    return crossing(steps, norms, norms[0] * E_FOLD)


def gd_factor(lam: ArrayLike, lr: float, n: int) -> np.ndarray:
    """|1 − ηλ/n|: the per-step contraction of each eigen-component under linearised GD."""
    return np.abs(1.0 - lr * np.asarray(lam, np.float64) / n)


def predicted_decay_time(lam: ArrayLike, proj0: ArrayLike, lr: float, n: int, horizon: float = 1e12) -> float | None:
    """The step (real-valued) at which sqrt(Σ_i |1 − ηλ_i/n|^{2t} ‖v_iᵀ r_0‖²) falls to 1/e of its
    start, by bisection; `lam` (k,) and `proj0` (k, C) for the band's directions. None if it does
    not fall that far within `horizon` steps (eigenvalues ≤ 0 never decay)."""
    q = np.asarray(gd_factor(lam, lr, n), np.float64)
    w = (np.asarray(proj0, np.float64) ** 2).reshape(len(q), -1).sum(1)
    start = w.sum()
    if not start > 0:
        return None
    goal = start * E_FOLD**2

    def energy(t: float) -> float:
        return float((w * q ** (2 * t)).sum())

    if energy(horizon) > goal:
        return None
    lo, hi = 0.0, 1.0
    while energy(hi) > goal:
        lo, hi = hi, hi * 2
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if energy(mid) > goal else (lo, mid)
        if hi - lo <= 1e-9 * max(hi, 1.0):
            break
    return 0.5 * (lo + hi)


def band_decay(
    checkpoints: Sequence[int],
    residuals: np.ndarray,
    lam: np.ndarray,
    v: np.ndarray,
    lr: float,
    bands: Sequence[tuple[int, int]],
) -> dict:
    """One seed's residual trajectory (K, n, C) scored against one kernel (eigenpairs lam (n,)
    descending, v (n, n)): per band the measured τ, the τ predicted by the linearised GD residual
    from the seed's own r_0, their ratio (None where either is missing), the median ratio, the
    Spearman correlation between the bands' eigenvalues and measured speeds 1/τ (an undecayed band
    has speed 0), and the band norms relative to their start (K, B). The same code path serves the
    infinite-width NTK (one kernel for every seed) and the empirical NTK (each seed its own)."""
    n = len(lam)
    norms = band_norms(v, residuals, bands)  # (K, B)
    proj0 = v.T @ np.asarray(residuals[0], np.float64)  # (n, C)
    tau = [decay_time(checkpoints, norms[:, b]) for b in range(len(bands))]
    pred = [predicted_decay_time(lam[a:z], proj0[a:z], lr, n) for a, z in bands]
    ratio = [t / p if t is not None and p else None for t, p in zip(tau, pred)]
    present = [q for q in ratio if q is not None]
    speeds = [1.0 / t if t else 0.0 for t in tau]
    return {
        "tau": tau,
        "pred": pred,
        "ratio": ratio,
        "ratio_median": float(np.median(present)) if present else None,
        "spearman": spearman([band_eigenvalue(lam, b) for b in bands], speeds),
        "relative_norms": norms / np.where(norms[:1] > 0, norms[:1], 1.0),
    }


def spearman(a: ArrayLike, b: ArrayLike) -> float | None:
    """Spearman's rank correlation (ties averaged); None where either side is constant."""
    from scipy.stats import spearmanr

    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    if len(a) < 2 or np.all(a == a[0]) or np.all(b == b[0]):
        return None
    return float(spearmanr(a, b).statistic)


def steps_to(steps: ArrayLike, values: ArrayLike, target: float) -> float | None:
    """First step at which `values` (e.g. test accuracy) reaches `target`: linear in log(1 + step)
    between the checkpoints around the first crossing; None if never."""
    steps, values = np.asarray(steps, np.float64), np.asarray(values, np.float64)
    hits = np.nonzero(values >= target)[0]
    if hits.size == 0:
        return None
    i = int(hits[0])
    if i == 0:
        return float(steps[0])
    lo, hi = math.log1p(steps[i - 1]), math.log1p(steps[i])
    frac = (target - values[i - 1]) / (values[i] - values[i - 1])
    return float(math.expm1(lo + frac * (hi - lo)))


def log_checkpoints(steps: int, count: int) -> tuple[int, ...]:
    """0, then up to count − 1 distinct log-spaced step counts from 1 to `steps` (both included)."""
    if count < 2:
        raise ValueError(f"checkpoints: need at least 2 (0 and the last step), got {count}")
    inner = np.unique(np.round(np.geomspace(1, steps, count - 1)).astype(int))
    return (0, *(int(s) for s in inner))


def mode_amplitudes(theta: ArrayLike, values: ArrayLike, modes: Sequence[int]) -> np.ndarray:
    """Amplitude sqrt(a_m² + b_m²) of each frequency m in `modes` of a function sampled at angles θ
    (N,): a_m + i b_m = (1/π) Σ_j w_j v(θ_j) e^{i m θ_j} with the trapezoid weights of the sorted
    angles round the circle (the exact DFT coefficient on a regular grid, m < N/2).
    values (..., N) -> (..., len(modes))."""
    theta = np.asarray(theta, np.float64)
    order = np.argsort(theta)
    t = theta[order]
    gaps = np.diff(np.concatenate([t, t[:1] + 2 * np.pi]))  # gap after each point, wrapping round
    w = np.empty_like(t)
    w[order] = 0.5 * (gaps + np.roll(gaps, 1))
    basis = np.exp(1j * np.outer(theta, np.asarray(modes, np.float64)))  # (N, M)
    coef = (np.asarray(values, np.float64) * w) @ basis / np.pi
    return np.abs(coef)


def component_coefficients(columns: ArrayLike, values: ArrayLike) -> np.ndarray:
    """|c| of the least-squares fit values ≈ columns @ c: columns (N, M) sampled components of a
    target, values (..., N) -> (..., M)."""
    a = np.asarray(columns, np.float64)
    v = np.asarray(values, np.float64)
    coef, *_ = np.linalg.lstsq(a, v.reshape(-1, a.shape[0]).T, rcond=None)  # (M, prod(...))
    return np.abs(coef.T).reshape(v.shape[:-1] + (a.shape[1],))


def fit_exponent(freqs: Sequence[float], times: Sequence[float | None]) -> float | None:
    """Slope of log(time) against log(frequency) over the modes that were fitted (≥ 2), else None."""
    pts = [(math.log(f), math.log(t)) for f, t in zip(freqs, times) if t is not None and t > 0]
    if len(pts) < 2:
        return None
    x, y = np.array(pts).T
    return float(np.polyfit(x, y, 1)[0])


def low_before_high(times: Sequence[float | None]) -> float | None:
    """1.0 if the fit times are non-decreasing with frequency (a mode never fitted counts as
    infinitely late), 0.0 if a higher mode was fitted strictly before a lower one; None if no mode
    was fitted at all."""
    if all(t is None for t in times):
        return None
    t = [math.inf if v is None else v for v in times]
    return float(all(a <= b for a, b in zip(t, t[1:])))
