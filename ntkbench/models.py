"""Flax NNX networks built from one architecture description.

`Arch` is the single description of an MLP or ConvNet. `Network(arch, input_shape, rngs=...)`
builds the finite Flax model from it and `ntkbench.kernels` builds the infinite-width
neural-tangents model from the same object, so the two cannot drift apart.

Inputs are channels-last: (batch, length, channels) for 1-D signals, (batch, H, W, C) for images.

Convolutions have two implementations with the same parameters: `lax` (XLA convolution) and
`patches` (strided slices + one matmul). XLA:CPU runs small convolutions badly; on CPU the patch
form is ~3x faster for the MNIST-1D CNN, on a GPU both are fast. `conv_impl="auto"` picks per
backend.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from typing import Any, Literal

import jax
import jax.numpy as jnp
from flax import nnx

Parameterization = Literal["standard", "ntk"]


@dataclasses.dataclass(frozen=True)
class Arch:
    """Architecture shared by the finite network and its infinite-width kernel.

    kind: "mlp" (flatten, then dense layers of `widths`) or "conv" (conv layers with `widths`
      channels, then flatten (or, with readout="avg", average over positions) and `dense` hidden
      layers).
    Weights are N(0, w_std² / fan_in) and biases N(0, b_std²) ("standard"), or N(0, 1) with the
    scale applied in the forward pass ("ntk"); both give the same function at init.
    """

    kind: Literal["mlp", "conv"]
    widths: tuple[int, ...]
    num_classes: int
    kernel_size: int = 3
    stride: int = 1
    padding: Literal["SAME", "VALID"] = "SAME"
    pool: Literal[None, "avg"] = None  # 2x2 (or 2) average pooling, stride 2, after each conv
    norm: Literal[None, "instance"] = None  # per-example, per-channel over spatial axes
    readout: Literal["flatten", "avg"] = "flatten"  # conv stack -> vector: flatten or global average
    dense: tuple[int, ...] = ()  # hidden dense layers after the conv stack
    activation: Literal["relu", "erf", "identity"] = "relu"
    w_std: float = math.sqrt(2.0)
    b_std: float = 0.0
    readout_w_std: float = 1.0
    parameterization: Parameterization = "standard"

    def __post_init__(self):
        if self.kind not in ("mlp", "conv"):
            raise ValueError(f"Arch.kind must be 'mlp' or 'conv', got {self.kind!r}")
        object.__setattr__(self, "widths", tuple(int(w) for w in self.widths))
        object.__setattr__(self, "dense", tuple(int(w) for w in self.dense))

    def replace(self, **changes) -> Arch:
        return dataclasses.replace(self, **changes)


def mlp(num_classes: int, widths: Sequence[int] = (100, 100), **kw) -> Arch:
    return Arch(kind="mlp", widths=tuple(widths), num_classes=num_classes, **kw)


def convnet(num_classes: int, widths: Sequence[int] = (25, 25, 25), **kw) -> Arch:
    return Arch(kind="conv", widths=tuple(widths), num_classes=num_classes, **kw)


def _activation(name: str):
    return {"relu": jax.nn.relu, "erf": jax.scipy.special.erf, "identity": lambda x: x}[name]


def default_conv_impl() -> str:
    return "patches" if jax.default_backend() == "cpu" else "lax"


class Dense(nnx.Module):
    def __init__(self, fan_in, fan_out, *, w_std, b_std, parameterization, rngs: nnx.Rngs):
        self.scale = w_std / math.sqrt(fan_in) if parameterization == "ntk" else 1.0
        self.b_scale = b_std if parameterization == "ntk" else 1.0
        w_init = 1.0 if parameterization == "ntk" else w_std / math.sqrt(fan_in)
        b_init = 1.0 if parameterization == "ntk" else b_std
        self.kernel = nnx.Param(w_init * jax.random.normal(rngs.params(), (fan_in, fan_out)))
        self.bias = nnx.Param(b_init * jax.random.normal(rngs.params(), (fan_out,)))

    def __call__(self, x):
        return _affine(x @ self.kernel[...], self.scale, self.bias[...], self.b_scale)


def _affine(y, scale, bias, b_scale):
    # Skips the multiplications by 1.0 of the standard parameterisation (a hot loop on CPU).
    y = y if scale == 1.0 else scale * y
    return y + (bias if b_scale == 1.0 else b_scale * bias)


def _same_pads(size: int, k: int, s: int) -> tuple[int, int]:
    out = -(-size // s)
    total = max((out - 1) * s + k - size, 0)
    return total // 2, total - total // 2


def extract_patches(x, k: int, s: int, padding: str):
    """(B, *spatial, C) -> (B, *out_spatial, k**ndim * C), the same windows lax.conv sees."""
    spatial = x.shape[1:-1]
    if padding == "SAME":
        pads = [(0, 0)] + [_same_pads(n, k, s) for n in spatial] + [(0, 0)]
        x = jnp.pad(x, pads)
    sizes = x.shape[1:-1]
    outs = [(n - k) // s + 1 for n in sizes]
    if len(spatial) == 1:
        cols = [x[:, i : i + s * (outs[0] - 1) + 1 : s, :] for i in range(k)]
    else:
        cols = [
            x[:, i : i + s * (outs[0] - 1) + 1 : s, j : j + s * (outs[1] - 1) + 1 : s, :]
            for i in range(k)
            for j in range(k)
        ]
    return jnp.concatenate(cols, axis=-1)


class Conv(nnx.Module):
    """Convolution with kernel (k, ..., C_in, C_out); `impl` chooses lax.conv or patches+matmul."""

    def __init__(
        self, ndim, c_in, c_out, *, k, stride, padding, w_std, b_std, parameterization, impl: str, rngs: nnx.Rngs
    ):
        fan_in = c_in * k**ndim
        self.ndim, self.k, self.stride, self.padding, self.impl = ndim, k, stride, padding, impl
        self.scale = w_std / math.sqrt(fan_in) if parameterization == "ntk" else 1.0
        self.b_scale = b_std if parameterization == "ntk" else 1.0
        w_init = 1.0 if parameterization == "ntk" else w_std / math.sqrt(fan_in)
        b_init = 1.0 if parameterization == "ntk" else b_std
        shape = (k,) * ndim + (c_in, c_out)
        self.kernel = nnx.Param(w_init * jax.random.normal(rngs.params(), shape))
        self.bias = nnx.Param(b_init * jax.random.normal(rngs.params(), (c_out,)))

    def __call__(self, x):
        w = self.kernel[...]
        if self.impl == "patches":
            patches = extract_patches(x, self.k, self.stride, self.padding)
            # Patch features are ordered (window offsets..., c_in), matching w's row-major layout.
            y = patches @ w.reshape(-1, w.shape[-1])
        else:
            spec = ("NWC", "WIO", "NWC") if self.ndim == 1 else ("NHWC", "HWIO", "NHWC")
            y = jax.lax.conv_general_dilated(x, w, (self.stride,) * self.ndim, self.padding, dimension_numbers=spec)
        return _affine(y, self.scale, self.bias[...], self.b_scale)


def avg_pool(x):
    """2 (or 2x2) average pooling with stride 2; odd trailing rows/columns are dropped."""
    if x.ndim == 3:
        n = x.shape[1] // 2 * 2
        return x[:, :n].reshape(x.shape[0], n // 2, 2, x.shape[2]).mean(2)
    h, w = x.shape[1] // 2 * 2, x.shape[2] // 2 * 2
    x = x[:, :h, :w]
    return x.reshape(x.shape[0], h // 2, 2, w // 2, 2, x.shape[3]).mean((2, 4))


class InstanceNorm(nnx.Module):
    def __init__(self, channels, *, rngs: nnx.Rngs, eps: float = 1e-5):
        self.eps = eps
        self.scale = nnx.Param(jnp.ones((channels,)))
        self.bias = nnx.Param(jnp.zeros((channels,)))

    def __call__(self, x):
        axes = tuple(range(1, x.ndim - 1))
        mean = x.mean(axes, keepdims=True)
        var = x.var(axes, keepdims=True)
        return (x - mean) * jax.lax.rsqrt(var + self.eps) * self.scale[...] + self.bias[...]


class Network(nnx.Module):
    """The finite network described by `arch` for inputs of shape `input_shape` (no batch axis)."""

    def __init__(self, arch: Arch, input_shape: Sequence[int], *, rngs: nnx.Rngs, conv_impl: str = "auto"):
        self.arch = arch
        self.act = _activation(arch.activation)
        common: dict[str, Any] = dict(b_std=arch.b_std, parameterization=arch.parameterization, rngs=rngs)
        shape = tuple(input_shape)
        convs, norms = [], []
        if arch.kind == "conv":
            if len(shape) not in (2, 3):
                raise ValueError(f"conv Arch needs (length, C) or (H, W, C) inputs, got {shape}")
            impl = default_conv_impl() if conv_impl == "auto" else conv_impl
            ndim = len(shape) - 1
            spatial, c = list(shape[:-1]), shape[-1]
            for width in arch.widths:
                convs.append(
                    Conv(
                        ndim,
                        c,
                        width,
                        k=arch.kernel_size,
                        stride=arch.stride,
                        padding=arch.padding,
                        w_std=arch.w_std,
                        impl=impl,
                        **common,
                    )
                )
                if arch.norm == "instance":
                    norms.append(InstanceNorm(width, rngs=rngs))
                s = arch.stride
                spatial = [-(-n // s) if arch.padding == "SAME" else (n - arch.kernel_size) // s + 1 for n in spatial]
                if arch.pool == "avg":
                    spatial = [n // 2 for n in spatial]
                c = width
            fan_in = c if arch.readout == "avg" else math.prod(spatial) * c
            hidden = arch.dense
        else:
            fan_in = math.prod(shape)
            hidden = arch.widths
        self.convs = nnx.List(convs)
        self.norms = nnx.List(norms)
        dense = []
        for width in hidden:
            dense.append(Dense(fan_in, width, w_std=arch.w_std, **common))
            fan_in = width
        self.dense = nnx.List(dense)
        self.readout = Dense(fan_in, arch.num_classes, w_std=arch.readout_w_std, **common)

    def features(self, x):
        """Everything but the readout: the penultimate representation."""
        for i, conv in enumerate(self.convs):
            x = conv(x)
            if self.norms:
                x = self.norms[i](x)
            x = self.act(x)
            if self.arch.pool == "avg":
                x = avg_pool(x)
        if self.convs and self.arch.readout == "avg":
            x = x.mean(axis=tuple(range(1, x.ndim - 1)))
        x = x.reshape(x.shape[0], -1)
        for layer in self.dense:
            x = self.act(layer(x))
        return x

    def __call__(self, x):
        return self.readout(self.features(x))
