"""DSA-style differentiable siamese augmentation (Zhao & Bilen, ICML 2021), pure JAX.

    augment_batch(key, x, strategy=None, mode="single") -> x_aug   (same shape and dtype)
    default_strategy(x_or_shape)                              -> the strategy for that input rank

x is a batch (N, H, W, C) of images or (N, L, C) of 1-D signals (channels last, as everywhere in
ntkbench). Every example draws its own random parameters (DSA's evaluation mode, `batchmode=False`);
everything is differentiable in x, jit- and vmap-safe (no Python control flow on traced values).

Operations, with DSA's `ParamDiffAug` constants (VICO-UoE/DatasetCondensation, utils.py):
- `color` = brightness x + (u − 0.5) · 1.0, then saturation (x − mean_channels) · 2u + mean_channels,
  then contrast (x − mean_all) · (u + 0.5) + mean_all (u ~ U(0, 1), a fresh u per example and op).
- `crop`: translation by an integer t ~ U{−s, …, s} per spatial axis, s = int(size · 0.125 + 0.5),
  zero-filled (DSA's pad-by-one-and-gather).
- `cutout`: a window of int(size · 0.5 + 0.5) per spatial axis set to zero, centred at an offset
  ~ U{0, …, size − 1 + (1 − window % 2)} and clipped at the borders.
- `flip`: horizontal (the W axis) with probability 0.5. Images only.
- `scale`: x-/y-scale factors sx, sy ~ U(1/1.2, 1.2) independently (DSA's ratio_scale 1.2; the
  range is ≈ 0.83–1.2), an affine grid with bilinear sampling and zero padding (PyTorch's
  `affine_grid`/`grid_sample` with align_corners=True). On 1-D signals: resampling along L about
  the centre by s ~ U(1/1.2, 1.2), linear interpolation, zero padding.
- `rotate`: angle ~ U(−15°, 15°), same affine sampler. Images only.

Strategies: images `"color_crop_cutout_flip_scale_rotate"` (DSA's default); 1-D signals
`"color_crop_cutout_scale"` — on a (N, L, C) signal `color` is an amplitude jitter (offset and gain
about the signal mean; saturation mixes channels and is the identity for C = 1); flip (time
reversal) and rotate have no 1-D meaning and are left out (asking for them on 1-D data is an error).

mode "single" (DSA's default `aug_mode='S'`, which the DC/DSA evaluation code uses): one operation
of the strategy per call (per minibatch), chosen uniformly at random with the call's key, `color`
counting as one; mode "multiple" (`'M'`): every operation in the strategy's order.

The parametric functions (`brightness`, `saturation`, `contrast`, `translate`, `cutout`, `flip`,
`affine`, `resample_1d`) act on ONE example with explicit parameters; they are what the random
parts call, and the identity parameters (0 offset, factor 1, no flip, theta = identity) reproduce
the input.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import jax
import jax.numpy as jnp

IMAGE_STRATEGY = "color_crop_cutout_flip_scale_rotate"
SIGNAL_STRATEGY = "color_crop_cutout_scale"
RATIO_CROP_PAD = 0.125
RATIO_CUTOUT = 0.5
PROB_FLIP = 0.5
RATIO_SCALE = 1.2
RATIO_ROTATE = 15.0  # degrees
BRIGHTNESS, SATURATION, CONTRAST = 1.0, 2.0, 0.5
MODES = ("single", "multiple")


# ---------------------------------------------------------------- parametric, one example (*spatial, C)


def brightness(x: jax.Array, b: jax.Array | float) -> jax.Array:
    return x + b


def saturation(x: jax.Array, s: jax.Array | float) -> jax.Array:
    m = x.mean(-1, keepdims=True)
    return (x - m) * s + m


def contrast(x: jax.Array, c: jax.Array | float) -> jax.Array:
    m = x.mean()
    return (x - m) * c + m


def translate(x: jax.Array, shifts: Sequence[jax.Array | int]) -> jax.Array:
    """out[i] = x[i − t] along every spatial axis (integer shifts `shifts`, one per axis), zeros outside."""
    spatial = x.shape[:-1]
    idx = jnp.meshgrid(*[jnp.arange(n) for n in spatial], indexing="ij")
    src = [i - t for i, t in zip(idx, shifts)]
    valid = jnp.ones(spatial, bool)
    for s, n in zip(src, spatial):
        valid &= (s >= 0) & (s < n)
    src = [jnp.clip(s, 0, n - 1) for s, n in zip(src, spatial)]
    return jnp.where(valid[..., None], x[tuple(src)], jnp.zeros((), x.dtype))


def cutout(x: jax.Array, starts: Sequence[jax.Array | int], sizes: Sequence[int]) -> jax.Array:
    """Zero the window [start, start + size) on every spatial axis (clipped at the borders)."""
    spatial = x.shape[:-1]
    idx = jnp.meshgrid(*[jnp.arange(n) for n in spatial], indexing="ij")
    inside = jnp.ones(spatial, bool)
    for i, a, w in zip(idx, starts, sizes):
        inside &= (i >= a) & (i < a + w)
    return jnp.where(inside[..., None], jnp.zeros((), x.dtype), x)


def flip(x: jax.Array, do: jax.Array | bool) -> jax.Array:
    """Horizontal flip (the W axis of an (H, W, C) image) where `do`."""
    return jnp.where(do, x[:, ::-1], x)


def _centre(n: int) -> float:
    return max((n - 1) / 2.0, 0.5)  # align_corners=True normalisation; guard n == 1


def affine(x: jax.Array, theta: jax.Array) -> jax.Array:
    """PyTorch `grid_sample(x, affine_grid(theta), bilinear, zeros, align_corners=True)` on one
    (H, W, C) image: output pixel at normalised (u, v) ∈ [−1, 1]² (u along W) reads the input at
    theta @ (u, v, 1)."""
    H, W = x.shape[0], x.shape[1]
    cy, cx = _centre(H), _centre(W)
    v, u = jnp.meshgrid((jnp.arange(H) - (H - 1) / 2.0) / cy, (jnp.arange(W) - (W - 1) / 2.0) / cx, indexing="ij")
    xs = theta[0, 0] * u + theta[0, 1] * v + theta[0, 2]
    ys = theta[1, 0] * u + theta[1, 1] * v + theta[1, 2]
    ix, iy = xs * cx + (W - 1) / 2.0, ys * cy + (H - 1) / 2.0
    x0, y0 = jnp.floor(ix), jnp.floor(iy)
    out = jnp.zeros(x.shape, jnp.result_type(x.dtype, jnp.float32))
    for dy in (0, 1):
        for dx in (0, 1):
            xi, yi = x0 + dx, y0 + dy
            w = (1.0 - jnp.abs(ix - xi)) * (1.0 - jnp.abs(iy - yi))
            ok = (xi >= 0) & (xi <= W - 1) & (yi >= 0) & (yi <= H - 1)
            val = x[jnp.clip(yi, 0, H - 1).astype(jnp.int32), jnp.clip(xi, 0, W - 1).astype(jnp.int32)]
            out = out + jnp.where(ok, w, 0.0)[..., None] * val
    return out.astype(x.dtype)


def scale_theta(sx: jax.Array, sy: jax.Array) -> jax.Array:
    z = jnp.zeros_like(sx)
    return jnp.array([[sx, z, z], [z, sy, z]])


def rotate_theta(angle: jax.Array) -> jax.Array:
    """DSA's rotation matrix for `angle` radians."""
    c, s, z = jnp.cos(angle), jnp.sin(angle), jnp.zeros_like(angle)
    return jnp.array([[c, s, z], [-s, c, z]])


def resample_1d(x: jax.Array, s: jax.Array | float) -> jax.Array:
    """One (L, C) signal resampled about its centre: out[j] = x(c + s·(j − c)), linear, zeros outside."""
    L = x.shape[0]
    c = (L - 1) / 2.0
    pos = c + s * (jnp.arange(L) - c)
    p0 = jnp.floor(pos)
    out = jnp.zeros(x.shape, jnp.result_type(x.dtype, jnp.float32))
    for d in (0, 1):
        pi = p0 + d
        w = jnp.where((pi >= 0) & (pi <= L - 1), 1.0 - jnp.abs(pos - pi), 0.0)
        out = out + w[:, None] * x[jnp.clip(pi, 0, L - 1).astype(jnp.int32)]
    return out.astype(x.dtype)


# ---------------------------------------------------------------- random, one example


def _u(key: jax.Array) -> jax.Array:
    return jax.random.uniform(key, ())


def _color(key: jax.Array, x: jax.Array) -> jax.Array:
    kb, ks, kc = jax.random.split(key, 3)
    x = brightness(x, ((_u(kb) - 0.5) * BRIGHTNESS).astype(x.dtype))
    x = saturation(x, (_u(ks) * SATURATION).astype(x.dtype))
    return contrast(x, (_u(kc) + CONTRAST).astype(x.dtype))


def _crop(key: jax.Array, x: jax.Array) -> jax.Array:
    spatial = x.shape[:-1]
    keys = jax.random.split(key, len(spatial))
    shifts = [
        jax.random.randint(k, (), -int(n * RATIO_CROP_PAD + 0.5), int(n * RATIO_CROP_PAD + 0.5) + 1)
        for k, n in zip(keys, spatial)
    ]
    return translate(x, shifts)


def _cutout(key: jax.Array, x: jax.Array) -> jax.Array:
    spatial = x.shape[:-1]
    keys = jax.random.split(key, len(spatial))
    sizes = [int(n * RATIO_CUTOUT + 0.5) for n in spatial]
    starts = [jax.random.randint(k, (), 0, n + (1 - w % 2)) - w // 2 for k, n, w in zip(keys, spatial, sizes)]
    return cutout(x, starts, sizes)


def _flip(key: jax.Array, x: jax.Array) -> jax.Array:
    return flip(x, _u(key) < PROB_FLIP)


def _scale_factor(key: jax.Array) -> jax.Array:
    return _u(key) * (RATIO_SCALE - 1.0 / RATIO_SCALE) + 1.0 / RATIO_SCALE


def _scale(key: jax.Array, x: jax.Array) -> jax.Array:
    if x.ndim == 2:
        return resample_1d(x, _scale_factor(key))
    kx, ky = jax.random.split(key)
    return affine(x, scale_theta(_scale_factor(kx), _scale_factor(ky)))


def _rotate(key: jax.Array, x: jax.Array) -> jax.Array:
    angle = (_u(key) - 0.5) * 2 * RATIO_ROTATE / 180.0 * math.pi
    return affine(x, rotate_theta(angle))


OPS = {"color": _color, "crop": _crop, "cutout": _cutout, "flip": _flip, "scale": _scale, "rotate": _rotate}
IMAGE_ONLY = ("flip", "rotate")


def default_strategy(x_or_shape: jax.Array | tuple[int | None, ...] | list[int | None]) -> str:
    """DSA's image strategy for (N, H, W, C) batches, the 1-D subset for (N, L, C) ones."""
    ndim = len(x_or_shape) if isinstance(x_or_shape, (tuple, list)) else x_or_shape.ndim
    if ndim == 4:
        return IMAGE_STRATEGY
    if ndim == 3:
        return SIGNAL_STRATEGY
    raise ValueError(f"augment: expected a batch (N, H, W, C) or (N, L, C), got {ndim} dimensions")


def parse_strategy(strategy: str, ndim: int) -> tuple[str, ...]:
    ops = tuple(p for p in strategy.split("_") if p)
    unknown = [p for p in ops if p not in OPS]
    if unknown or not ops:
        raise ValueError(f"augment: unknown DSA operations {unknown} in {strategy!r}; choose from {sorted(OPS)}")
    if ndim == 3 and any(p in IMAGE_ONLY for p in ops):
        raise ValueError(f"augment: {[p for p in ops if p in IMAGE_ONLY]} apply to images only, not (N, L, C) signals")
    return ops


def augment_batch(key: jax.Array, x: jax.Array, strategy: str | None = None, mode: str = "single") -> jax.Array:
    """x (N, H, W, C) or (N, L, C) augmented with per-example random DSA parameters (see module doc)."""
    strategy = strategy or default_strategy(x)
    default_strategy(x)  # rank check
    ops = parse_strategy(strategy, x.ndim)
    if mode not in MODES:
        raise ValueError(f"augment: mode must be one of {MODES}, got {mode!r}")
    k_choice, k_ex = jax.random.split(key)
    ex_keys = jax.random.split(k_ex, x.shape[0])

    def apply(name: str, xx: jax.Array, salt: int = 0) -> jax.Array:
        keys = jax.vmap(lambda k: jax.random.fold_in(k, salt))(ex_keys) if salt else ex_keys
        return jax.vmap(OPS[name])(keys, xx)

    if mode == "multiple":
        for i, p in enumerate(ops):
            x = apply(p, x, salt=i)  # a fresh draw per operation
        return x
    if len(ops) == 1:
        return apply(ops[0], x)
    branches = [lambda xx, p=p: apply(p, xx) for p in ops]
    return jax.lax.switch(jax.random.randint(k_choice, (), 0, len(ops)), branches, x)
