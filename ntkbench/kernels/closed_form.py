"""The infinite-width NNGP / NTK of a ReLU MLP in closed form, for the CG solver's kernel blocks.

neural-tangents evaluates the ReLU's arc-cosine map with `jnp.arctan2`, which XLA:CPU does not
vectorise: on a 1024 × 1024 block of Fashion-MNIST-sized inputs (d = 784) the two ReLU layers of
the `ntk-mlp` kernel cost ~22 ms against ~11 ms for the inputs' inner products
(benchmarks/RESULTS-kernel-scale.md). `fc_relu` is the same recursion, layer for layer, with
arctan2 written as a polynomial (Cephes' `atanf`: one range reduction, degree 9, relative error
~1e-7 in float32) that XLA fuses and vectorises: the block costs ~14 ms, and a 60 000-image CG
fit evaluates such blocks ~1800 times to fill its cache, or every iteration in bounded memory.

The recursion is neural-tangents' (stax.Dense, stax.Relu): inputs flattened, nngp = x1·x2 / d,
ntk = 0; Dense(W, b) under "ntk": nngp ← W²·nngp + b², ntk ← nngp + W²·ntk; under "standard"
(input width N): ntk ← N·nngp + W²·ntk + 1, then nngp ← W²·nngp + b²; Relu: with
s = sqrt(max(k11·k22 − nngp², 0)) and θ = arctan2(s, nngp), nngp ← s / 2π + (1/2 − θ/2π)·nngp,
ntk ← (1/2 − θ/2π)·ntk, and the diagonals k ← k / 2. It agrees with neural-tangents to float32
rounding (tests/test_kernel_closed_form.py: ≤ 2e-6 relative on every architecture the MLP
`Arch` describes, identical pairs included). Only the CG fit uses it: the dense solve and
every prediction keep neural-tangents' values, so committed results are unchanged.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import jax
import jax.numpy as jnp

TAN_PI_8 = math.sqrt(2.0) - 1.0


def _atan_unit(t):
    """arctan(t) for t in [0, 1] (Cephes atanf: reduce t > tan(π/8) by atan t = π/4 + atan((t−1)/(t+1)))."""
    big = t > TAN_PI_8
    u = jnp.where(big, (t - 1.0) / (t + 1.0), t)
    z = u * u
    p = (((8.05374449538e-2 * z - 1.38776856032e-1) * z + 1.99777106478e-1) * z - 3.33329491539e-1) * z * u + u
    return p + jnp.where(big, math.pi / 4, 0.0)


def _angle(s, c):
    """arctan2(s, c) for s ≥ 0 (so in [0, π]); π/2 where s = c = 0, as neural-tangents fills it."""
    hi, lo = jnp.maximum(s, jnp.abs(c)), jnp.minimum(s, jnp.abs(c))
    t = jnp.where(hi > 0, lo / jnp.where(hi > 0, hi, 1.0), 0.0)
    a = _atan_unit(t)
    a = jnp.where(s > jnp.abs(c), math.pi / 2 - a, a)
    a = jnp.where(c < 0, math.pi - a, a)
    return jnp.where(hi > 0, a, math.pi / 2)


def fc_relu(arch, input_shape, kind: str) -> Callable | None:
    """Jitted `k(x1, x2) -> (n1, n2)`, the scalar `kind` kernel of an MLP `Arch` with ReLU
    activations; None for any other architecture (the caller keeps neural-tangents')."""
    if arch.kind != "mlp" or arch.activation != "relu" or arch.parameterization not in ("ntk", "standard"):
        return None
    d = math.prod(input_shape)
    fans = (d, *arch.widths)  # each Dense layer's input width: the hidden layers', then the readout's
    layers = [(fan_in, arch.w_std) for fan_in in fans[:-1]]
    readout = (fans[-1], arch.readout_w_std)
    b2 = float(arch.b_std) ** 2
    standard = arch.parameterization == "standard"

    def dense(nngp, ntk, c1, c2, fan_in, w_std):
        w2 = w_std**2
        if standard:
            ntk = fan_in * nngp + w2 * ntk + 1.0
            nngp = w2 * nngp + b2
        else:
            nngp = w2 * nngp + b2
            ntk = nngp + w2 * ntk
        return nngp, ntk, w2 * c1 + b2, w2 * c2 + b2

    def relu(nngp, ntk, c1, c2):
        s = jnp.sqrt(jnp.maximum(c1[:, None] * c2[None, :] - nngp * nngp, 0.0))
        dot_sigma = 0.5 - _angle(s, nngp) / (2 * math.pi)
        return s / (2 * math.pi) + dot_sigma * nngp, ntk * dot_sigma, c1 / 2, c2 / 2

    def k(x1, x2):
        a, b = x1.reshape(x1.shape[0], -1), x2.reshape(x2.shape[0], -1)
        nngp = a @ b.T / d
        ntk = jnp.zeros_like(nngp)
        c1, c2 = jnp.sum(a * a, axis=1) / d, jnp.sum(b * b, axis=1) / d
        for fan_in, w_std in layers:
            nngp, ntk, c1, c2 = relu(*dense(nngp, ntk, c1, c2, fan_in, w_std))
        nngp, ntk, _, _ = dense(nngp, ntk, c1, c2, *readout)
        return ntk if kind == "ntk" else nngp

    return jax.jit(k)
