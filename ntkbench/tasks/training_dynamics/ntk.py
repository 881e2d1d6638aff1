"""The NTK side: the infinite-width kernel of the method's architecture, the linearised GD
predictions the measurements are compared with, the linearisation gap and XLA's FLOPs per step."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax
from flax import nnx
from numpy.typing import ArrayLike

from ntkbench.engine.seeds import SeedPrograms, Timing
from ntkbench.engine.train import Split, build, linearize, train_params
from ntkbench.kernels import gram, kernel_fn
from ntkbench.models import Arch, Network
from ntkbench.tasks.training_dynamics.budget import Budget
from ntkbench.tasks.training_dynamics.contract import mse
from ntkbench.tasks.training_dynamics.spectral import eig_desc


def grams(arch: Arch, x: ArrayLike, x_test: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """Θ(X, X) (n, n) and Θ(X_test, X) (m, n) of the infinite-width NTK, float64 on the host."""
    k = kernel_fn(arch, np.asarray(x).shape[1:], "ntk")
    return np.asarray(gram(k, x), np.float64), np.asarray(gram(k, x_test, x), np.float64)


def learning_rate(budget: Budget, lam_max: float | None, n: int) -> float:
    """η: the budget's absolute `lr`, else lr_scale · n / λ_max(Θ)."""
    if budget.lr is not None:
        return budget.lr
    if lam_max is None or not lam_max > 0:
        raise ValueError("no kernel to set η from (the method declares no arch= hook): set budget field 'lr'")
    return budget.lr_scale * n / lam_max


def gd_factors(lam: np.ndarray, lr: float, n: int, ts: np.ndarray) -> np.ndarray:
    """(1 − ηλ/n)^t for integer steps ts (T,) and eigenvalues lam (n,) -> (T, n)."""
    return (1.0 - lr * lam / n)[None, :] ** np.asarray(ts, np.float64)[:, None]


def predicted_test_outputs(
    k_tt: np.ndarray,
    k_st: np.ndarray,
    y: ArrayLike,
    lr: float,
    ts: np.ndarray,
    f0_train: ArrayLike | None = None,
    f0_test: ArrayLike | None = None,
) -> np.ndarray:
    """Infinite-width outputs on the test points after t full-batch GD steps, (T, m, C):
    f_t = f_0(x) + Θ(x, X) V diag((1 − (1 − ηλ/n)^t) / λ) Vᵀ (Y − f_0(X)), with f_0 = 0 (the mean
    over initialisations; as η → 0 at fixed ηt this is the gradient flow of
    `ntkbench.kernels.gd_mse_predict`) unless a network's initial outputs are given (the
    linearised dynamics of the infinite-width NTK from that initial function). Directions with
    λ ≤ 0 get the limit ηt/n."""
    n = k_tt.shape[0]
    lam, v = eig_desc(k_tt)
    target = np.asarray(y, np.float64) - (0.0 if f0_train is None else np.asarray(f0_train, np.float64))
    proj = v.T @ target  # (n, C)
    pos = lam > 1e-12 * max(lam[0], 1e-300)
    g = np.where(pos, (1.0 - gd_factors(lam, lr, n, ts)) / np.where(pos, lam, 1.0), lr * np.asarray(ts)[:, None] / n)
    out = np.einsum("mi,ti,ic->tmc", k_st @ v, g, proj)
    return out if f0_test is None else out + np.asarray(f0_test, np.float64)[None]


def predicted_train_residuals(k_tt: np.ndarray, y: ArrayLike, lr: float, ts: np.ndarray) -> np.ndarray:
    """r_t = −V diag((1 − ηλ/n)^t) Vᵀ Y on the training points (f_0 = 0): (T, n, C)."""
    lam, v = eig_desc(k_tt)
    proj = v.T @ np.asarray(y, np.float64)
    return -np.einsum("ni,ti,ic->tnc", v, gd_factors(lam, lr, len(lam), ts), proj)


def widened(arch: Arch, width: int) -> Arch:
    """The architecture with every hidden width (channels, for a ConvNet) set to `width`."""
    return arch.replace(widths=(width,) * len(arch.widths))


def network_fns(
    arch: Arch, input_shape: tuple[int, ...]
) -> tuple[Callable[[nnx.Rngs], Network], Callable[[Any, jax.Array], jax.Array]]:
    """(model, apply): the constructor `build` takes and apply(params, x) of its graph."""
    model = lambda rngs: Network(arch, input_shape, rngs=rngs)
    graphdef, _ = build(model, jax.random.key(0))

    def apply(p: Any, x: jax.Array) -> jax.Array:
        return nnx.merge(graphdef, p)(x)

    return model, apply


def linearisation_gap(
    arch: Arch,
    x: ArrayLike,
    y: ArrayLike,
    probe: ArrayLike,
    lr: float,
    steps: int,
    keys: jax.Array,
    vmap: bool,
    timing: Timing,
) -> np.ndarray:
    """‖f_T − f_T^lin‖ / ‖f_T^lin‖ on the probe, per key: the network `arch` and its first-order
    Taylor expansion around the same initialisation, both trained by `steps` full-batch GD steps at
    η = lr on `mse`."""
    model, apply = network_fns(arch, tuple(np.asarray(x).shape[1:]))
    data = Split(jnp.asarray(x), jnp.asarray(y), int(np.asarray(y).shape[-1]))
    x_probe = jnp.asarray(probe)

    def one(key: jax.Array) -> jax.Array:
        _, params0 = build(model, key)
        f_lin = linearize(apply, params0)
        out: dict[str, jax.Array] = {}
        for name, fn in (("net", apply), ("lin", f_lin)):
            loss = lambda p, xb, yb, _k, fn=fn: mse(fn(p, xb), yb)
            params, _ = train_params(key, loss, params0, data, optimizer=optax.sgd(lr), steps=steps, batch_size=None)
            out[name] = fn(params, x_probe)
        return jnp.linalg.norm(out["net"] - out["lin"]) / jnp.linalg.norm(out["lin"])

    return np.asarray(SeedPrograms(vmap, timing)("gap", one, (keys,)), np.float64)


def flops_per_step(arch: Arch, x: ArrayLike, y: ArrayLike, lr: float) -> float | None:
    """XLA's FLOP count of one compiled full-batch GD step (forward, backward, SGD update) of `arch`
    on (x, y) with the `mse` loss; None where the backend reports none."""
    model, apply = network_fns(arch, tuple(np.asarray(x).shape[1:]))
    _, params = build(model, jax.random.key(0))

    def step(p: Any, xb: jax.Array, yb: jax.Array) -> Any:
        grads = jax.grad(lambda q: mse(apply(q, xb), yb))(p)
        return jax.tree.map(lambda a, g: a - lr * g, p, grads)

    cost = jax.jit(step).lower(params, jnp.asarray(x), jnp.asarray(y, jnp.float32)).compile().cost_analysis()
    if isinstance(cost, list | tuple):
        cost = cost[0] if cost else None
    flops = cost.get("flops") if isinstance(cost, dict) else None
    return float(flops) if flops is not None and math.isfinite(flops) and flops > 0 else None
