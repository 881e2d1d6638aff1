"""Infinite-width NNGP / NTK of an `ntkbench.models.Arch`, via neural-tangents' stax.

The stax network is built by walking the same `Arch` fields that `ntkbench.models.Network` walks,
layer for layer:

  mlp : flatten -> [Dense(w, w_std, b_std) -> act] for w in widths -> Dense(C, readout_w_std, b_std)
  conv: [Conv(w, k, stride, padding, w_std, b_std) -> act -> (AvgPool 2, stride 2, VALID)]
        for w in widths -> Flatten -> [Dense(w) -> act] for w in dense -> Dense(C, readout_w_std)

Parameterisation. "ntk": N(0, 1) parameters with w_std/sqrt(fan_in) (and b_std) applied in the
forward pass; the NTK is the usual width-independent limit. "standard": parameters
N(0, w_std²/fan_in) and N(0, b_std²) used as they are; neural-tangents then returns the NTK
*with respect to those parameters*, which depends on the layer widths (a layer whose input has
width N contributes N · E[φφ'] + 1, Sohl-Dickstein et al. 2020) — it is the (expected) NTK of the
finite standard-parameterised `Network` of exactly these widths, not a width-free limit. The NNGP
is the same under both parameterisations.

The network always has biases (`Network` always has a bias parameter, initialised to b_std · N(0,1)
or N(0, b_std²)), so b_std=0 is passed as 0.0, not None: under "standard" the bias gradient adds 1
to the NTK of every layer even when b_std = 0, exactly as in the finite network.

Not mapped: `norm="instance"`. Instance norm divides each channel by its own spatial standard
deviation; for one channel that statistic is a random variable that does not concentrate as the
width grows (the average is over spatial positions, not over the infinitely many channels), and
the learnable scale/bias add NTK terms. neural-tangents' LayerNorm over spatial axes treats the
variance as deterministic, so it would not be the kernel of the network. `kernel_fn` raises
NotImplementedError; use `arch.replace(norm=None)` for the kernel of the un-normalised network.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import jax
import jax.numpy as jnp
import numpy as np

from ntkbench.kernels._compat import import_neural_tangents
from ntkbench.kernels.closed_form import fc_relu

KINDS = ("ntk", "nngp")


def _check_arch(arch, input_shape) -> tuple[int, ...]:
    shape = tuple(int(s) for s in input_shape)
    if arch.parameterization not in ("standard", "ntk"):
        raise ValueError(f"unknown parameterization {arch.parameterization!r}")
    if arch.activation not in ("relu", "erf", "identity"):
        raise ValueError(f"unknown activation {arch.activation!r}")
    if arch.kind == "conv":
        if len(shape) not in (2, 3):
            raise ValueError(f"conv Arch needs (length, C) or (H, W, C) inputs, got {shape}")
        if arch.norm == "instance":
            raise NotImplementedError(
                "no exact infinite-width kernel for norm='instance': per-channel spatial "
                "statistics do not concentrate with width and its scale/bias add NTK terms "
                "(neural-tangents' LayerNorm over spatial axes would be a different model). "
                "Use arch.replace(norm=None) for the kernel of the un-normalised network."
            )
        if arch.norm is not None:
            raise ValueError(f"unknown norm {arch.norm!r}")
        if arch.pool not in (None, "avg"):
            raise ValueError(f"unknown pool {arch.pool!r}")
    return shape


def conv_spatial_shapes(arch, input_shape) -> list[tuple[int, ...]]:
    """Spatial shape after each conv block (conv, then pooling), the way `Network` computes it."""
    shape = tuple(input_shape)
    spatial = list(shape[:-1])
    out = []
    for _ in arch.widths:
        s = arch.stride
        spatial = [-(-n // s) if arch.padding == "SAME" else (n - arch.kernel_size) // s + 1 for n in spatial]
        if arch.pool == "avg":
            spatial = [n // 2 for n in spatial]
        out.append(tuple(spatial))
    return out


def stax_layers(arch, input_shape):
    """neural-tangents stax layers (a list, for `stax.serial`) of the network `arch` describes.

    For kind="mlp" the layers expect inputs already flattened to (batch, prod(input_shape)).
    """
    shape = _check_arch(arch, input_shape)
    stax = import_neural_tangents().stax
    par = arch.parameterization
    b_std = float(arch.b_std)
    act = {"relu": stax.Relu, "erf": lambda: stax.Erf(a=1.0, b=1.0, c=0.0), "identity": stax.Identity}[arch.activation]
    layers = []
    if arch.kind == "conv":
        ndim = len(shape) - 1
        for width in arch.widths:
            layers += [
                stax.Conv(
                    width,
                    (arch.kernel_size,) * ndim,
                    strides=(arch.stride,) * ndim,
                    padding=arch.padding,
                    W_std=arch.w_std,
                    b_std=b_std,
                    parameterization=par,
                ),
                act(),
            ]
            if arch.pool == "avg":
                layers.append(stax.AvgPool((2,) * ndim, strides=(2,) * ndim, padding="VALID"))
        layers.append(stax.GlobalAvgPool() if arch.readout == "avg" else stax.Flatten())
        hidden = arch.dense
    else:
        hidden = arch.widths
    for width in hidden:
        layers += [stax.Dense(width, W_std=arch.w_std, b_std=b_std, parameterization=par), act()]
    layers.append(stax.Dense(arch.num_classes, W_std=arch.readout_w_std, b_std=b_std, parameterization=par))
    return layers


def stax_model(arch, input_shape):
    """(init_fn, apply_fn, kernel_fn) of neural-tangents for `arch` (inputs as `stax_layers`)."""
    stax = import_neural_tangents().stax
    return stax.serial(*stax_layers(arch, input_shape))


def bytes_per_pair(arch, input_shape, itemsize: int = 4) -> int:
    """Upper estimate of the device memory one (x1, x2) pair costs inside a kernel evaluation.

    MLP: a few scalars per pair. Conv with a Flatten readout and no pooling: neural-tangents keeps
    only the spatial diagonal, P = prod(spatial) entries per pair and layer. With average pooling
    (or a global-average readout) it needs the full spatial covariance, P² entries per pair (at the
    widest layer, the first).
    The constants (8 floats per pair for an MLP, 4·P without pooling, 8·P² with pooling) cover
    nngp + ntk and the temporaries of the activation's kernel map; XLA's buffer assignment on CPU
    stays below them (about 5, 2·P and 4-6.5·P² floats; printed by
    benchmarks/kernel_throughput.py).
    """
    shape = tuple(input_shape)
    if arch.kind == "mlp":
        return 8 * itemsize
    sizes = [math.prod(shape[:-1])]
    s = list(shape[:-1])
    for _ in arch.widths:  # spatial size *before* pooling is what the conv/activation sees
        st = arch.stride
        s = [-(-n // st) if arch.padding == "SAME" else (n - arch.kernel_size) // st + 1 for n in s]
        sizes.append(math.prod(s))
        if arch.pool == "avg":
            s = [n // 2 for n in s]
    full_cov = arch.pool == "avg" or arch.readout == "avg"  # pooling needs cross-position covariance
    per = 8 * max(sizes) ** 2 if full_cov else 4 * max(sizes)
    return int(per * itemsize)


class KernelFn:
    """Callable `k(x1, x2) -> (n1, n2)` scalar kernel of an Arch (jitted; compiles per shape).

    neural-tangents' kernel is `k ⊗ I_C` over the C outputs; this is the scalar k.
    Attributes: arch, input_shape, kind, bytes_per_pair (see `bytes_per_pair`), closed_form (the
    same kernel in closed form for a ReLU MLP, `closed_form.fc_relu`, else None: what the CG
    solver evaluates its Gram blocks with).
    """

    def __init__(self, arch, input_shape, kind: str = "ntk"):
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
        self.arch = arch
        self.input_shape = _check_arch(arch, input_shape)
        self.kind = kind
        self.bytes_per_pair = bytes_per_pair(arch, self.input_shape)
        self.closed_form = fc_relu(arch, self.input_shape, kind)
        _, _, nt_kernel_fn = stax_model(arch, self.input_shape)
        flat = arch.kind == "mlp"

        def k(x1, x2):
            if flat:
                x1 = x1.reshape(x1.shape[0], -1)
                x2 = x2.reshape(x2.shape[0], -1)
            return nt_kernel_fn(x1, x2, kind)

        self._k = jax.jit(k)

    def _check(self, x):
        x = jnp.asarray(x)
        if tuple(x.shape[1:]) != self.input_shape:
            raise ValueError(f"kernel built for inputs {self.input_shape}, got batch {x.shape}")
        return x

    def __call__(self, x1, x2=None):
        x1 = self._check(x1)
        x2 = x1 if x2 is None else self._check(x2)
        return self._k(x1, x2)

    def __repr__(self):
        return f"KernelFn({self.kind}, {self.arch}, input_shape={self.input_shape})"


def kernel_fn(arch, input_shape: Sequence[int], kind: str = "ntk") -> KernelFn:
    """Infinite-width kernel of the `Network(arch, input_shape)` architecture.

    Returns a callable `k(x1, x2) -> (n1, n2)` (x: (n, *input_shape)), the scalar NTK or NNGP.
    Imports neural-tangents (through the shim) on first use.
    """
    return KernelFn(arch, input_shape, kind)


DEFAULT_MAX_BYTES = 1 << 30  # 1 GiB per block evaluation


def _block_sizes(n1, n2, per_pair, max_bytes, batch_size):
    if batch_size is not None:
        b = int(batch_size)
        return max(1, min(b, n1)), max(1, min(b, n2))
    pairs = max(1, max_bytes // max(per_pair, 1))
    # Square-ish blocks, capped at 1024 (beyond that an MLP kernel block is already fast).
    b = int(min(1024, max(1, math.isqrt(pairs))))
    b1 = min(n1, b)
    b2 = min(n2, max(1, min(1024, pairs // b1)))
    return b1, b2


def _pad_rows(x, b):
    """Pad to a multiple of b rows by repeating the last row (no recompiles for a ragged tail)."""
    n = x.shape[0]
    r = (-n) % b
    if r == 0:
        return x
    return jnp.concatenate([x, jnp.repeat(x[-1:], r, axis=0)], axis=0)


def gram(k: Callable, x1, x2=None, batch_size: int | None = None, max_bytes: int = DEFAULT_MAX_BYTES) -> np.ndarray:
    """Gram matrix k(x1, x2) (n1, n2) as a float numpy array, computed block by block.

    `k(a, b)` may also return (na, nb, C, C) (per-logit kernels); the result is then (n1, n2, C, C).

    Memory bound: each call of `k` sees at most b1 × b2 pairs, so device memory for the kernel
    evaluation is ≤ b1 · b2 · k.bytes_per_pair (+ the two input blocks); the result is
    accumulated on the host (n1 · n2 · 4 bytes). Block sizes: `batch_size` (both axes) if given,
    else the largest square-ish blocks (≤ 1024) with b1 · b2 · bytes_per_pair ≤ max_bytes
    (default 1 GiB). Callables without a `bytes_per_pair` attribute are assumed cheap (32 B/pair).
    Ragged tails are padded to the block size so every block reuses one compiled program.
    With x2 None the result is symmetric by construction: only blocks on or above the diagonal
    are computed and the rest mirrored.
    """
    sym = x2 is None
    x1 = jnp.asarray(x1)
    x2 = x1 if sym else jnp.asarray(x2)
    n1, n2 = x1.shape[0], x2.shape[0]
    per_pair = getattr(k, "bytes_per_pair", 32)
    b1, b2 = _block_sizes(n1, n2, per_pair, max_bytes, batch_size)
    if sym:
        b1 = b2 = min(b1, b2)
    x1p, x2p = _pad_rows(x1, b1), _pad_rows(x2, b2)
    out = None
    for i in range(0, n1, b1):
        for j in range(0, n2, b2):
            if sym and j + b2 <= i:
                continue
            blk = np.asarray(k(x1p[i : i + b1], x2p[j : j + b2]))
            if out is None:
                out = np.empty((n1, n2) + blk.shape[2:], dtype=blk.dtype)
            ni, nj = min(b1, n1 - i), min(b2, n2 - j)
            out[i : i + ni, j : j + nj] = blk[:ni, :nj]
            if sym and j != i:
                out[j : j + nj, i : i + ni] = _mirror(blk[:ni, :nj])
    if out is None:  # no block at all: x1 or x2 has no rows
        raise ValueError(f"gram: empty input ({n1} x {n2} rows)")
    if sym:
        out = 0.5 * (out + _mirror(out))  # diagonal blocks: remove float round-off asymmetry
    return out


def _mirror(blk):
    """K(x2, x1) from K(x1, x2): swap the example axes (and the logit axes of a per-logit
    kernel (n1, n2, C, C))."""
    blk = np.swapaxes(blk, 0, 1)
    return np.swapaxes(blk, 2, 3) if blk.ndim == 4 else blk
