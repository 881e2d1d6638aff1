"""Empirical (finite-width) NTK of a Flax NNX `ntkbench.models.Network` (or any nnx module).

Θ(x, x')_{ab} = Σ_p ∂f_a(x)/∂θ_p ∂f_b(x')/∂θ_p over all `nnx.Param` leaves θ (weights, biases,
instance-norm scale/bias); every other state (e.g. batch statistics) is held fixed. The scalar
kernel is the trace over logits divided by the number of logits, Σ_a Θ_aa / C (the same
normalisation as neural-tangents' `trace_axes=(-1,)`), which for an infinitely wide network is
the scalar infinite-width NTK.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx

from ntkbench.kernels._compat import import_neural_tangents
from ntkbench.kernels.infinite import gram

IMPLEMENTATIONS = {
    0: "ntkbench's own: per-example Jacobians (jacrev) contracted leaf by leaf",
    1: "neural-tangents: Jacobian contraction",
    2: "neural-tangents: NTK-vector products",
}


def pure_apply(model):
    """(apply(params, x), params) for an nnx module: a pure function of the `nnx.Param` state."""
    graphdef, params, rest = nnx.split(model, nnx.Param, ...)  # type: ignore[misc]  # flax's return type is variadic

    def apply(p, x):
        return nnx.merge(graphdef, p, rest)(x)

    return apply, params


def _own_ntk_fn(apply, per_logit: bool):
    def jac(p, x):
        # per-example Jacobian: leaves (n, C, *leaf_shape) -> (n, C, leaf_size)
        j = jax.vmap(jax.jacrev(lambda q, xi: apply(q, xi[None])[0]), in_axes=(None, 0))(p, x)
        return [l.reshape(l.shape[0], l.shape[1], -1) for l in jax.tree.leaves(j)]

    def fn(x1, x2, p):
        j1, j2 = jac(p, x1), jac(p, x2)
        if per_logit:
            return sum(jnp.einsum("iap,jbp->ijab", a, b) for a, b in zip(j1, j2))
        c = j1[0].shape[1]
        return sum(jnp.einsum("iap,jap->ij", a, b) for a, b in zip(j1, j2)) / c

    return fn


def _check_implementation(implementation):
    if implementation == 3:
        raise NotImplementedError(
            "empirical NTK implementation 3 (structured derivatives) does not work with "
            "neural-tangents 0.6.5 on this JAX (it relies on removed jax internals); use 1 or 2"
        )
    if implementation not in IMPLEMENTATIONS:
        raise ValueError(
            f"implementation must be one of {sorted(IMPLEMENTATIONS)} ({IMPLEMENTATIONS}), got {implementation!r}"
        )


@functools.lru_cache(maxsize=64)
def _jitted_ntk(graphdef, implementation: int, per_logit: bool):
    """One compiled NTK program per (model structure, implementation, per_logit): models of the
    same architecture (e.g. at init and after training, or one per seed) share it."""
    nt = None if implementation == 0 else import_neural_tangents()

    def f(x1, x2, params, rest):
        def apply(p, x):
            return nnx.merge(graphdef, p, rest)(x)

        if nt is None:  # implementation 0: ntkbench's own
            return _own_ntk_fn(apply, per_logit)(x1, x2, params)
        fn = nt.empirical_ntk_fn(
            apply, trace_axes=() if per_logit else (-1,), vmap_axes=0, implementation=implementation
        )
        return fn(x1, x2, params)

    return jax.jit(f)


def empirical_ntk_fn(model, implementation: int = 2, per_logit: bool = False):
    """Jitted `k(x1, x2)` -> empirical NTK block of `model` at its current parameters.

    Scalar (n1, n2) kernel, or (n1, n2, C, C) with per_logit=True. The parameters are read when
    this is called (a snapshot); the compiled program is shared by all models of the same
    structure.
    """
    _check_implementation(implementation)
    graphdef, params, rest = nnx.split(model, nnx.Param, ...)  # type: ignore[misc]  # flax's return type is variadic
    jitted = _jitted_ntk(graphdef, implementation, bool(per_logit))

    def k(x1, x2):
        return jitted(jnp.asarray(x1), jnp.asarray(x2), params, rest)

    return k


def empirical_ntk(
    model, x1, x2=None, implementation: int = 2, per_logit: bool = False, batch_size: int | None = 64
) -> np.ndarray:
    """Empirical NTK Θ(x1, x2) of an nnx `model` at its current parameters, as a numpy array.

    Returns the scalar kernel (n1, n2) = trace over logits / C, or the full (n1, n2, C, C)
    kernel with per_logit=True. implementation: 1 or 2 (neural-tangents), or 0 (ntkbench's own
    Jacobian contraction, no neural-tangents); 3 is refused (broken on current JAX).
    Computed in blocks of `batch_size` examples per side (via `gram`; x2=None computes only the
    upper triangle): memory grows with batch_size × #params × C for implementation 0/1.
    """
    k = empirical_ntk_fn(model, implementation, per_logit)
    x1 = jnp.asarray(x1)
    n = max(x1.shape[0], 0 if x2 is None else len(x2))
    return gram(k, x1, x2, batch_size=min(batch_size or n, n))
