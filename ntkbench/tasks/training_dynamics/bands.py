"""The spectral-bias scores per band summarised into the task's metrics (`band_decay` per seed
-> τ, predicted τ, their ratio and Spearman ρ), and the bands' eigenvalues and residual curves."""

from __future__ import annotations

from typing import Any

import numpy as np

from ntkbench.results import metric
from ntkbench.tasks.training_dynamics import spectral

# Metric names of the spectral-bias scores: (measured τ, predicted τ, ratio, median ratio, Spearman).
INFINITE_WIDTH_NAMES = ("tau", "ntk_tau", "tau_ratio", "tau_ratio_median", "spearman_speed")
EMPIRICAL_NAMES = ("entk_tau", "entk_pred_tau", "entk_tau_ratio", "entk_tau_ratio_median", "entk_spearman_speed")


def band_metrics(scores: list[dict], names: tuple[str, str, str, str, str]) -> dict[str, Any]:
    """Per-seed `spectral.band_decay` scores -> the task's metrics under `names`."""
    tau, pred, ratio, median, rho = names
    out: dict[str, Any] = {rho: metric([s["spearman"] for s in scores])}
    out[median] = metric([s["ratio_median"] for s in scores])
    for b in range(len(scores[0]["tau"])):
        out[f"{ratio}@band={b}"] = metric([s["ratio"][b] for s in scores])
        out[f"{tau}@band={b}"] = metric([s["tau"][b] for s in scores])
        out[f"{pred}@band={b}"] = metric([s["pred"][b] for s in scores])
    return out


def band_summary(bands: list[tuple[int, int]], lams: list[np.ndarray], lr: float) -> list[dict]:
    """Each band's indices and eigenvalue (geometric mean inside the band; averaged over the
    kernels given: one for the infinite-width NTK, one per seed for the empirical one)."""
    n = len(lams[0])
    rows = []
    for b, band in enumerate(bands):
        lam_b = float(np.mean([spectral.band_eigenvalue(lam, band) for lam in lams]))
        rows.append({"band": b, "indices": list(band), "eigenvalue": lam_b, "lr_lambda_over_n": lr * lam_b / n})
    return rows


def mean_band_residual(scores: list[dict]) -> list:
    """The seeds' mean residual norm per band along training, relative to its start: (B, K)."""
    return np.mean([s["relative_norms"] for s in scores], axis=0).T.tolist()
