"""The empirical NTK at initialisation: Θ̂(X, X) = J Jᵀ of the method's architecture at the
initial parameters of each seed, averaged over the output components (neural-tangents'
`trace_axes=(-1,)`: the trace over the output axis divided by C; with C = 1 it is J Jᵀ).

Which network: the one `nb.fit_classifier` (and the reference methods of
`ntkbench/methods/training_dynamics.py`) build from the key the method is handed,
`nb.build(model, jax.random.split(key)[0])`. For those methods it is exactly the method's own
initial network, so the eNTK prediction is the linearised dynamics of the very network that was
trained; a method that initialises otherwise gets the kernel of an independent draw of the same
architecture. The Jacobian is taken with respect to every variable `nb.build` returns, which is
what the reference methods' gradient descent updates.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from numpy.typing import ArrayLike

from ntkbench.engine.seeds import SeedPrograms, Timing
from ntkbench.engine.train import build
from ntkbench.models import Arch
from ntkbench.tasks.training_dynamics.ntk import network_fns


def empirical_gram(apply: Callable[[Any, jax.Array], jax.Array], params: Any, x: jax.Array) -> jax.Array:
    """Θ̂(x, x) = (1/C) Σ_c J_c J_cᵀ, (n, n), for `apply(params, x) -> (n, C)` at `params`.

    J is formed example by example (`jax.jacrev` of f(x_i) alone, vmapped over the examples): valid
    because `apply` treats examples independently (true of every `nb.models` network; instance norm
    is per-example), and it keeps each reverse pass to one example's activations. Differentiating
    the whole batch's output instead makes n·C full-batch reverse passes, n times the work, and
    under vmap the conv layers' transposes then materialise tens of GB at n = 256. J itself,
    (n, C, #params), is held at once: fine at this task's scale (n ≤ a few hundred, small nets)."""
    one_example = lambda xi: jax.jacrev(lambda p: apply(p, xi[None])[0])(params)
    jac = jax.vmap(one_example)(x)  # leaves (n, C, *leaf.shape)

    def leaf_gram(j: jax.Array) -> jax.Array:
        j = j.reshape(j.shape[0], j.shape[1], -1)  # (n, C, P_leaf)
        return jnp.einsum("ncp,mcp->nm", j, j)

    num_outputs = jax.tree.leaves(jac)[0].shape[1]
    return sum(leaf_gram(j) for j in jax.tree.leaves(jac)) / num_outputs


def init_key(method_key: jax.Array) -> jax.Array:
    """The initialisation key inside a method's key, split as `nb.fit_classifier` splits it."""
    return jax.random.split(method_key)[0]


def empirical_grams(arch: Arch, x: ArrayLike, method_keys: jax.Array, vmap: bool, timing: Timing) -> np.ndarray:
    """Θ̂(X, X) of the initial network of `arch` for every seed's method key: (S, n, n) float64 on
    the host (the Gram is formed in float32 inside one compiled program, vmapped over the seeds
    when `vmap`; eigendecompositions then run in float64)."""
    xs = jnp.asarray(x)
    model, apply = network_fns(arch, tuple(xs.shape[1:]))

    def one_seed(method_key: jax.Array, xb: jax.Array) -> jax.Array:
        _, params0 = build(model, init_key(method_key))
        return empirical_gram(apply, params0, xb)

    grams = SeedPrograms(vmap, timing)("entk", one_seed, (method_keys,), (xs,))
    grams = np.asarray(grams, np.float64)
    return 0.5 * (grams + np.swapaxes(grams, -1, -2))  # exact symmetry for eigh (float32 sums differ)
