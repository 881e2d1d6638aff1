"""Kernel regression and the gradient-flow dynamics of the linearised network (pure JAX).

Targets `y_train` are (n,) or (n, C) (one-hot or ±1); predictions have the matching trailing shape.
All functions are differentiable (KIP-style methods can take gradients through them). They compute
in the dtype of the inputs: float32 unless `jax_enable_x64` is on; with float32 Gram matrices keep
the (relative) ridge well above ~1e-6 · cond-dependent noise, or enable x64.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp

DIAG_REGS = ("relative", "absolute")


def _ridge(k_train_train, ridge, diag_reg):
    if diag_reg == "relative":
        return ridge * jnp.mean(jnp.diagonal(k_train_train))
    if diag_reg == "absolute":
        return jnp.asarray(ridge, k_train_train.dtype)
    raise ValueError(f"diag_reg must be one of {DIAG_REGS}, got {diag_reg!r}")


def krr_solve(k_train_train, y_train, *, ridge, diag_reg="relative"):
    """Dual coefficients of kernel ridge regression: α = (K(train, train) + λ I)⁻¹ y_train.

    The one KRR solve of ntkbench (every task and method calls it). λ = ridge · mean(diag K) for
    diag_reg="relative", λ = ridge for "absolute". Cholesky factorisation, in the dtype of
    `k_train_train` (y_train is cast to it; float64 needs `jax_enable_x64`, e.g. the
    `jax.enable_x64(True)` context); pure JAX and differentiable, not jitted itself (it runs eagerly
    or inside the caller's trace). NaN if K + λI is not numerically positive definite.
    """
    k_tt = jnp.asarray(k_train_train)
    lam = _ridge(k_tt, ridge, diag_reg)
    a = k_tt + lam * jnp.eye(k_tt.shape[0], dtype=k_tt.dtype)
    c = jax.scipy.linalg.cho_factor(a, lower=True)
    return jax.scipy.linalg.cho_solve(c, jnp.asarray(y_train, k_tt.dtype))


@functools.partial(jax.jit, static_argnames=("diag_reg",))
def krr_fit_predict(k_train_train, y_train, k_test_train, ridge=1e-6, diag_reg="relative"):
    """Kernel ridge regression: K(test, train) (K(train, train) + λ I)⁻¹ y_train.

    λ = ridge · mean(diag K(train, train)) for diag_reg="relative" (scale-free: the same ridge
    means the same thing for an NTK of any depth or parameterisation), λ = ridge for "absolute".
    Solved with a Cholesky factorisation (NaN if K + λI is not numerically positive definite —
    increase the ridge).
    """
    alpha = krr_solve(k_train_train, y_train, ridge=ridge, diag_reg=diag_reg)
    return jnp.asarray(k_test_train) @ alpha


@functools.partial(jax.jit, static_argnames=("diag_reg",))
def gd_mse_predict(k_train_train, y_train, k_test_train, t, lr=1.0, ridge=0.0, diag_reg="relative"):
    """Mean test prediction of the linearised network after gradient flow for time t.

    Loss L = 1/(2n) Σ_i ‖f(x_i) − y_i‖² (mean over the n training points), f_0 = 0 (the mean
    of the infinite-width prior), flow dθ/dt = −lr ∇L, so on the training set
    df/dt = −(lr/n) Θ (f − y). With K̃ = K(train, train) + λI (λ as in `krr_fit_predict`;
    the ridge acts like weight decay towards the initialisation):

        f_t(x) = K(x, X) K̃⁻¹ (I − exp(−lr t K̃ / n)) y

    evaluated through the eigendecomposition K̃ = V diag(μ) Vᵀ. t may be a scalar or an array of
    times (result shape t.shape + y-shape). t = inf gives kernel ridge regression; directions
    with μ ≤ 0 (numerical round-off of a singular K with ridge 0) get the factor lr·t/n for
    finite t and 0 at t = inf (pseudo-inverse).
    """
    k_tt = jnp.asarray(k_train_train)
    n = k_tt.shape[0]
    lam = _ridge(k_tt, ridge, diag_reg)
    mu, v = jnp.linalg.eigh(k_tt + lam * jnp.eye(n, dtype=k_tt.dtype))
    y = jnp.asarray(y_train, k_tt.dtype)
    t = jnp.asarray(t, k_tt.dtype)
    scale = lr / n
    pos = mu > 0
    mu_safe = jnp.where(pos, mu, 1.0)
    tt = t[..., None]  # (..., 1) against μ (n,)
    finite = jnp.isfinite(tt)
    # (1 − e^{−a μ}) / μ, stable for small a μ; its limit a as μ → 0⁺.
    a = scale * jnp.where(finite, tt, 0.0)
    g_pos = jnp.where(finite, -jnp.expm1(-a * mu_safe) / mu_safe, 1.0 / mu_safe)
    g_zero = jnp.where(finite, a, 0.0)
    g = jnp.where(pos, g_pos, g_zero)  # (..., n)
    proj = v.T @ y  # (n,) or (n, C)
    if y.ndim == 1:
        coef = g * proj  # (..., n)
        alpha = coef @ v.T  # (..., n)
        return alpha @ jnp.asarray(k_test_train).T
    coef = g[..., :, None] * proj  # (..., n, C)
    alpha = jnp.einsum("ij,...jc->...ic", v, coef)
    return jnp.einsum("mi,...ic->...mc", jnp.asarray(k_test_train), alpha)
