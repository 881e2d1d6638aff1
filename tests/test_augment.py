"""DSA augmentation (ntkbench.tasks.distillation.augment): shapes, determinism, identities, per-example draws."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from ntkbench.tasks.distillation import augment as A


def _images(n=6, h=12, w=10, c=3, seed=0):
    return jax.random.normal(jax.random.key(seed), (n, h, w, c), jnp.float32)


def _signals(n=6, length=16, c=1, seed=0):
    return jax.random.normal(jax.random.key(seed), (n, length, c), jnp.float32)


@pytest.mark.parametrize("make,mode", [(_images, "single"), (_images, "multiple"), (_signals, "multiple")])
def test_shape_dtype_and_determinism(make, mode):
    x = make()
    f = jax.jit(lambda k, x: A.augment_batch(k, x, mode=mode))
    a, b = f(jax.random.key(1), x), f(jax.random.key(1), x)
    assert a.shape == x.shape and a.dtype == x.dtype
    np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    assert not np.allclose(np.asarray(a), np.asarray(f(jax.random.key(2), x)))
    assert np.all(np.isfinite(np.asarray(a)))
    if make is _signals:  # bfloat16 in, bfloat16 out
        assert f(jax.random.key(1), x.astype(jnp.bfloat16)).dtype == jnp.bfloat16


def test_default_strategies_and_refusals():
    assert A.default_strategy(_images()) == "color_crop_cutout_flip_scale_rotate"
    assert A.default_strategy(_signals()) == "color_crop_cutout_scale"
    with pytest.raises(ValueError, match="images only"):
        A.augment_batch(jax.random.key(0), _signals(), "flip")
    with pytest.raises(ValueError, match="unknown"):
        A.augment_batch(jax.random.key(0), _images(), "color_jitter")
    with pytest.raises(ValueError, match="dimensions"):
        A.augment_batch(jax.random.key(0), jnp.zeros((4, 5)))


def test_identity_parameters_reproduce_the_input():
    x = _images(n=1)[0]
    s = _signals(n=1)[0]
    close = lambda a, b: np.testing.assert_allclose(np.asarray(a), np.asarray(b), atol=1e-5)
    close(A.flip(x, False), x)
    close(A.affine(x, A.scale_theta(jnp.float32(1.0), jnp.float32(1.0))), x)
    close(A.affine(x, A.rotate_theta(jnp.float32(0.0))), x)
    close(A.brightness(x, 0.0), x)
    close(A.saturation(x, 1.0), x)
    close(A.contrast(x, 1.0), x)
    close(A.translate(x, [0, 0]), x)
    close(A.cutout(x, [0, 0], [0, 0]), x)
    close(A.resample_1d(s, 1.0), s)
    close(A.translate(s, [0]), s)
    # and the non-trivial ones do what they say
    close(A.flip(x, True), x[:, ::-1])
    close(A.translate(x, [1, 0])[1:], x[:-1])
    assert np.all(np.asarray(A.translate(x, [1, 0])[0]) == 0)
    close(A.affine(x, A.rotate_theta(jnp.float32(np.pi)))[..., :], x[::-1, ::-1])  # 180° on the pixel grid
    cut = np.asarray(A.cutout(x, [2, 3], [4, 5]))
    assert np.all(cut[2:6, 3:8] == 0) and np.allclose(cut[0], np.asarray(x[0]))


@pytest.mark.parametrize("name", ["color", "crop", "cutout", "flip", "scale", "rotate"])
def test_each_operation_varies_across_the_batch(name):
    x = jnp.broadcast_to(_images(n=1, c=3)[0], (16, 12, 10, 3))  # 16 copies of one image
    y = np.asarray(A.augment_batch(jax.random.key(3), x, name))
    distinct = {y[i].tobytes() for i in range(len(y))}
    assert len(distinct) > 1, name  # per-example parameters
    assert not np.allclose(y, np.asarray(x))


@pytest.mark.parametrize("name", ["color", "crop", "cutout", "scale"])
def test_each_1d_operation_varies_across_the_batch(name):
    x = jnp.broadcast_to(_signals(n=1)[0], (16, 16, 1))
    y = np.asarray(A.augment_batch(jax.random.key(3), x, name))
    assert len({y[i].tobytes() for i in range(len(y))}) > 1, name


def test_vmap_grad_and_single_mode_picks_one_operation():
    x = _images(n=4, h=8, w=8, c=2)
    keys = jax.random.split(jax.random.key(0), 3)
    out = jax.jit(jax.vmap(lambda k: A.augment_batch(k, x, "flip_rotate")))(keys)  # vmapped networks
    assert out.shape == (3, *x.shape)
    g = jax.jit(jax.grad(lambda x: (A.augment_batch(jax.random.key(0), x, "rotate") ** 2).sum()))(x)
    assert g.shape == x.shape and np.all(np.isfinite(np.asarray(g))) and np.any(np.asarray(g) != 0)
    # single mode = exactly one strategy operation per call, with the per-example keys
    one = jax.jit(A.augment_batch, static_argnums=2)
    for seed in range(3):
        k = jax.random.key(seed)
        y = np.asarray(one(k, x, "crop_flip_cutout"))
        singles = [np.asarray(one(k, x, op)) for op in ("crop", "flip", "cutout")]
        assert sum(np.allclose(y, s, atol=1e-5) for s in singles) >= 1
