"""A gradient-free sanity check: random search on the margin loss (queries only, no gradients).

It is weak against a smooth model; its role is to catch gradient masking. If it finds
adversarial examples that the gradient attacks miss, the gradients are lying (Athalye et al.
2018; Carlini et al. 2019, "On Evaluating Adversarial Robustness").

L∞: start at a random vertex of the eps-cube (δ ∈ {−eps, +eps}^d); each proposal redraws the
signs of a random fraction p of coordinates (p decays from p_init, as in Square Attack's
schedule, but with no square structure so it works for any input shape). L2: start on the
sphere of radius eps; each proposal adds Gaussian noise of norm s·eps and rescales back onto the
sphere (s decays). A proposal is accepted when it lowers the margin z_y − max_{j≠y} z_j; a point
is fooled once its margin is negative.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
from jax import lax

from ntkbench.attacks._common import as_logits_fn, check_inputs, select
from ntkbench.attacks.losses import margin
from ntkbench.attacks.threat import ThreatModel, _expand, l2_norm


def _schedule(i, n, p_init):
    # Halve the proposal size at 10%, 25%, 50% and 75% of the budget.
    frac = i / n
    halvings = (frac >= 0.1).astype(jnp.float32) + (frac >= 0.25) + (frac >= 0.5) + (frac >= 0.75)
    return p_init * 0.5**halvings


def _on_sphere(threat, d):
    return d / _expand(jnp.maximum(l2_norm(d), 1e-12), d) * threat.eps


def _propose(threat, key, x, delta, p):
    if threat.norm == "linf":
        k1, k2 = jax.random.split(key)
        mask = jax.random.bernoulli(k1, p, x.shape)
        signs = jnp.where(jax.random.bernoulli(k2, 0.5, x.shape), 1.0, -1.0).astype(x.dtype)
        delta = jnp.where(mask, threat.eps * signs, delta)
    else:
        g = jax.random.normal(key, x.shape, x.dtype)
        delta = _on_sphere(threat, delta + _on_sphere(threat, g) * p)
    return threat.project(x + delta, x)


@functools.partial(jax.jit, static_argnames=("n_queries",))
def _random_search(fn, x, y, threat, key, p_init, *, n_queries):
    k0, kloop = jax.random.split(key)
    if threat.norm == "linf":
        d0 = threat.eps * jnp.where(jax.random.bernoulli(k0, 0.5, x.shape), 1.0, -1.0).astype(x.dtype)
    else:
        d0 = _on_sphere(threat, jax.random.normal(k0, x.shape, x.dtype))
    xa = threat.project(x + d0, x)
    m = margin(fn(xa), y)

    def body(i, carry):
        xa, m = carry
        p = _schedule(i, n_queries, p_init)
        cand = _propose(threat, jax.random.fold_in(kloop, i), x, xa - x, p)
        mc = margin(fn(cand), y)
        accept = (mc < m) & (m >= 0)  # stop improving a point once it is fooled
        return select(accept, cand, xa), jnp.where(accept, mc, m)

    xa, _ = lax.fori_loop(0, n_queries - 1, body, (xa, m))
    return xa


def random_search(logits_fn, x, y, threat: ThreatModel, key, n_queries: int = 500, p_init: float | None = None):
    """Gradient-free random search (n_queries forward passes per point). Returns x_adv.

    p_init: initial fraction of coordinates redrawn (L∞, default 0.3) or relative noise norm (L2,
    default 1.0)."""
    if n_queries < 1:
        raise ValueError(f"random_search needs n_queries >= 1, got {n_queries}")
    x, y = check_inputs(x, y, threat)
    if p_init is None:
        p_init = 0.3 if threat.norm == "linf" else 1.0
    return _random_search(
        as_logits_fn(logits_fn), x, y, threat, key, jnp.asarray(p_init, jnp.float32), n_queries=int(n_queries)
    )
