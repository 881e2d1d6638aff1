"""Input preprocessing fitted on the training split only, applied to both splits.

    standardise(ds, eps=1e-8) -> Dataset     per-channel (x - mean_c) / std_c
    zca_whiten(ds, eps=0.1)   -> Dataset     ZCA whitening of the flattened inputs

Both return a new `Dataset` (the input is not modified) whose `meta` says what was done:
`meta["normalisation"]` gets the step appended as a string, `meta["preprocess"]` a list of
{"op": ..., parameters} entries (fitted statistics included for standardise; for ZCA the
transform's sha256, since the D × D matrix is too big to record), and `meta["fingerprint"]`
is the fingerprint of the new arrays. Statistics are computed in float64 from `x_train` only;
the outputs are float32.
"""

from __future__ import annotations

import hashlib

import numpy as np

from ntkbench.data.base import Dataset


def _with_step(ds: Dataset, x_train: np.ndarray, x_test: np.ndarray, step: dict, text: str) -> Dataset:
    meta = {k: v for k, v in ds.meta.items() if k != "fingerprint"}
    meta["normalisation"] = (meta["normalisation"] + "; then " if meta.get("normalisation") else "") + text
    meta["preprocess"] = list(meta.get("preprocess", [])) + [step]
    out = ds.replace(x_train=x_train, x_test=x_test, meta=meta)
    out.meta["fingerprint"] = out.fingerprint()
    return out


def standardise(ds: Dataset, eps: float = 1e-8) -> Dataset:
    """Per-channel standardisation with the training split's mean and std (last axis = channel)."""
    axes = tuple(range(ds.x_train.ndim - 1))
    xt = ds.x_train.astype(np.float64)
    mean = xt.mean(axis=axes)
    std = xt.std(axis=axes)
    del xt
    scale = 1.0 / np.maximum(std, eps)
    apply = lambda x: ((x - mean) * scale).astype(np.float32)  # noqa: E731
    step = {"op": "standardise", "fit_on": "train", "mean": mean.tolist(), "std": std.tolist(), "eps": eps}
    text = (
        "per-channel standardisation with train mean/std "
        + f"(mean {np.round(mean, 4).tolist()}, std {np.round(std, 4).tolist()})"
    )
    return _with_step(ds, apply(ds.x_train), apply(ds.x_test), step, text)


def zca_whiten(ds: Dataset, eps: float = 0.1) -> Dataset:
    """ZCA whitening fitted on the training split.

    With X the centred, flattened training inputs (N × D) and C = XᵀX / N = U diag(λ) Uᵀ,
    x ↦ U diag((λ + eps·mean(λ))^-1/2) Uᵀ (x - μ). `eps` is relative to the mean eigenvalue
    (the regularisation used for ZCA in the KIP / "finite vs infinite networks" experiments), so
    it does not depend on the input scale. Costs O(N·D² + D³): fine for D = 784 or 3072.
    """
    if eps < 0:
        raise ValueError(f"zca_whiten: eps must be >= 0, got {eps}")
    n = len(ds.x_train)
    d = int(np.prod(ds.input_shape))
    xt = ds.x_train.reshape(n, d).astype(np.float64)
    mu = xt.mean(axis=0)
    xt -= mu
    cov = xt.T @ xt / n
    del xt
    lam, u = np.linalg.eigh(cov)
    lam = np.clip(lam, 0.0, None)
    reg = eps * float(lam.mean())
    if reg + lam.max() <= 0:
        raise ValueError(f"zca_whiten: the training inputs of {ds.name!r} are constant")
    w = (u * (1.0 / np.sqrt(lam + reg))) @ u.T

    def apply(x: np.ndarray) -> np.ndarray:
        flat = x.reshape(len(x), d).astype(np.float64) - mu
        return (flat @ w).astype(np.float32).reshape(x.shape)

    digest = hashlib.sha256(np.ascontiguousarray(w).tobytes() + mu.tobytes()).hexdigest()
    step = {
        "op": "zca_whiten",
        "fit_on": "train",
        "eps": eps,
        "eps_relative_to": "mean eigenvalue",
        "regulariser": reg,
        "transform_sha256": digest,
    }
    text = f"ZCA whitening fitted on train (eps={eps} x mean eigenvalue)"
    return _with_step(ds, apply(ds.x_train), apply(ds.x_test), step, text)
