"""Threat models: an Lp ball around the clean input, intersected with the valid input box.

`ThreatModel` is a JAX pytree whose leaves are `eps`, `lower` and `upper` and whose static part is
`norm`, so jitted attacks are compiled once per norm and input shape, not once per eps.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Literal

import jax
import jax.numpy as jnp

Norm = Literal["linf", "l2"]

_TINY = 1e-12


def _batch_axes(x) -> tuple[int, ...]:
    return tuple(range(1, x.ndim))


def _expand(v, x):
    """(B,) -> (B, 1, ..., 1) broadcastable against x."""
    return jnp.reshape(v, v.shape + (1,) * (x.ndim - v.ndim))


def linf_norm(d):
    """Per-point L∞ norm of a (B, ...) array."""
    return jnp.max(jnp.abs(d), axis=_batch_axes(d)) if d.ndim > 1 else jnp.abs(d)


def l2_norm(d):
    """Per-point L2 norm of a (B, ...) array."""
    return jnp.sqrt(jnp.sum(jnp.square(d), axis=_batch_axes(d))) if d.ndim > 1 else jnp.abs(d)


@jax.tree_util.register_pytree_node_class
@dataclasses.dataclass(frozen=True)
class ThreatModel:
    """Perturbations with ‖x_adv − x‖_norm ≤ eps and lower ≤ x_adv ≤ upper (element-wise).

    norm: "linf" or "l2" (norms over all non-batch axes of a (B, ...) input).
    eps: radius, > 0 and finite.
    lower, upper: the valid input range; ±inf for standardised inputs with no box.
    """

    norm: Norm
    eps: float
    lower: float = 0.0
    upper: float = 1.0

    def __post_init__(self):
        if self.norm not in ("linf", "l2"):
            raise ValueError(f"ThreatModel.norm must be 'linf' or 'l2', got {self.norm!r}")
        # Only validate concrete numbers (under jit the leaves are tracers).
        if isinstance(self.eps, (int, float)) and not (0.0 < float(self.eps) < math.inf):
            raise ValueError(f"ThreatModel.eps must be positive and finite, got {self.eps!r}")
        if (
            isinstance(self.lower, (int, float))
            and isinstance(self.upper, (int, float))
            and not float(self.lower) < float(self.upper)
        ):
            raise ValueError(f"ThreatModel needs lower < upper, got [{self.lower}, {self.upper}]")

    # -- pytree ---------------------------------------------------------------------------
    def tree_flatten(self):
        return (self.eps, self.lower, self.upper), self.norm

    @classmethod
    def tree_unflatten(cls, norm, leaves):
        obj = object.__new__(cls)
        for name, value in zip(("norm", "eps", "lower", "upper"), (norm, *leaves)):
            object.__setattr__(obj, name, value)
        return obj

    # -- geometry ---------------------------------------------------------------------------
    def distance(self, x_adv, x_clean):
        """Per-point ‖x_adv − x_clean‖ in this threat model's norm, shape (B,)."""
        d = x_adv - x_clean
        return linf_norm(d) if self.norm == "linf" else l2_norm(d)

    def clip_box(self, x):
        return jnp.clip(x, self.lower, self.upper)

    def project(self, x_adv, x_clean):
        """A point of the eps-ball around x_clean ∩ the box, close to x_adv.

        L∞: the exact Euclidean projection (per-coordinate clip to [x−eps, x+eps] ∩ [lower, upper]).
        L2: radial projection onto the ball, then clipping to the box. The result is always
        feasible (clipping toward a clean point inside the box can only shrink the perturbation)
        but, where the box is active, not the exact projection onto the intersection (the same
        choice as AutoAttack). x_clean must itself lie in the box.
        """
        if self.norm == "linf":
            x_adv = jnp.clip(x_adv, x_clean - self.eps, x_clean + self.eps)
        else:
            d = x_adv - x_clean
            n = l2_norm(d)
            factor = jnp.minimum(1.0, self.eps / jnp.maximum(n, _TINY))
            x_adv = x_clean + d * _expand(factor, d).astype(d.dtype)
        return self.clip_box(x_adv)

    def contains(self, x_adv, x_clean, tol: float = 1e-5):
        """Per-point bool (B,): inside the eps-ball and the box, up to float slack.

        Slack: the distance may exceed eps by tol·(eps + s) and a coordinate may leave the box
        by tol·s, s = max(1, max|x_clean|) per point (float32 rounding of x ± eps grows with
        |x|). NaN or inf coordinates are never contained.
        """
        d = self.distance(x_adv, x_clean)
        s = jnp.maximum(1.0, linf_norm(jnp.where(jnp.isfinite(x_clean), x_clean, 0.0)))
        in_ball = d <= self.eps + tol * (self.eps + s)
        axes = _batch_axes(x_adv)
        sx = _expand(s, x_adv)
        in_box = jnp.all((x_adv >= self.lower - tol * sx) & (x_adv <= self.upper + tol * sx), axis=axes)
        finite = jnp.all(jnp.isfinite(x_adv), axis=axes)
        return in_ball & in_box & finite

    # -- sampling and steps -------------------------------------------------------------------
    def random_in_ball(self, key, x_clean):
        """A uniform random point of the eps-ball around x_clean, then clipped to the box."""
        if self.norm == "linf":
            d = jax.random.uniform(key, x_clean.shape, x_clean.dtype, -1.0, 1.0) * self.eps
        else:
            k1, k2 = jax.random.split(key)
            g = jax.random.normal(k1, x_clean.shape, x_clean.dtype)
            dim = math.prod(x_clean.shape[1:])
            r = jax.random.uniform(k2, (x_clean.shape[0],), x_clean.dtype) ** (1.0 / dim)
            d = g / _expand(jnp.maximum(l2_norm(g), _TINY), g) * _expand(r * self.eps, g)
        return self.project(x_clean + d, x_clean)

    def steepest_direction(self, g):
        """The unit-norm ascent direction for gradient g: sign(g) for L∞, g/‖g‖₂ for L2.

        A zero gradient gives a zero direction (no step)."""
        if self.norm == "linf":
            return jnp.sign(g)
        # Rescale by the max-abs entry first so tiny (but nonzero) gradients do not underflow.
        g = g / _expand(jnp.maximum(linf_norm(g), jnp.finfo(g.dtype).tiny), g).astype(g.dtype)
        return g / _expand(jnp.maximum(l2_norm(g), _TINY), g).astype(g.dtype)
