"""Shared plumbing: wrapping logits functions for jit, per-point loss gradients."""

from __future__ import annotations

import functools
from collections.abc import Callable

import jax
import jax.numpy as jnp
from jax.tree_util import Partial

from ntkbench.attacks.threat import ThreatModel


def as_logits_fn(logits_fn: Callable) -> Partial:
    """Wrap a logits function as a `jax.tree_util.Partial` so it can be a jit argument.

    A plain callable is treated as static: its closed-over arrays (model parameters) become
    compile-time constants and a new callable object means a new compilation. To reuse one
    compilation across parameter values, pass `Partial(apply_fn, params)` (params are traced
    leaves) or use `nnx_logits_fn(model)`.
    """
    if isinstance(logits_fn, Partial):
        return logits_fn
    if not callable(logits_fn):
        raise TypeError(f"logits_fn must be callable, got {type(logits_fn).__name__}")
    return Partial(logits_fn)


@functools.lru_cache(maxsize=64)
def _nnx_apply(graphdef):
    from flax import nnx

    def apply(state, x):
        return nnx.merge(graphdef, state)(x)

    return apply


def nnx_logits_fn(model) -> Partial:
    """`logits_fn` for a Flax NNX module (called as model(x) -> (B, C)), with its state as traced
    pytree leaves: attacking the same architecture with new weights does not recompile."""
    from flax import nnx

    graphdef, state = nnx.split(model)
    try:
        apply = _nnx_apply(graphdef)
    except TypeError:  # unhashable graphdef: no cache, still correct
        apply = _nnx_apply.__wrapped__(graphdef)
    return Partial(apply, state)


def check_inputs(x, y, threat: ThreatModel):
    if not isinstance(threat, ThreatModel):
        raise TypeError(f"threat must be a ThreatModel, got {type(threat).__name__}")
    x = jnp.asarray(x)
    if not jnp.issubdtype(x.dtype, jnp.floating):
        x = x.astype(jnp.float32)
    y = jnp.asarray(y)
    if x.ndim < 2:
        raise ValueError(f"x must be batched, shape (B, ...), got {x.shape}")
    if y.shape != (x.shape[0],):
        raise ValueError(f"y must have shape ({x.shape[0]},), got {y.shape}")
    if not jnp.issubdtype(y.dtype, jnp.integer):
        raise ValueError(f"y must hold integer labels, got dtype {y.dtype}")
    return x, y.astype(jnp.int32)


def loss_logits_grad(logits_fn, loss_fn, x, y, *aux):
    """Per-point loss (B,), logits (B, C) and d(loss_i)/d(x_i) (B, ...), from one backward pass.

    Assumes the model treats batch elements independently (no batch statistics), so the
    gradient of the summed loss is the per-point gradient.
    """

    def total(xa):
        logits = logits_fn(xa)
        per_point = loss_fn(logits, y, *aux)
        return jnp.sum(per_point), (per_point, logits)

    (_, (per_point, logits)), g = jax.value_and_grad(total, has_aux=True)(x)
    return per_point, logits, g


def predict_wrong(logits, y):
    """True where the prediction is not y (non-finite logits count as wrong)."""
    finite = jnp.all(jnp.isfinite(logits), axis=-1)
    return (jnp.argmax(logits, axis=-1) != y) | ~finite


def select(mask, a, b):
    """Per-point where: mask (B,) picks rows of a, else rows of b."""
    return jnp.where(jnp.reshape(mask, mask.shape + (1,) * (a.ndim - 1)), a, b)
