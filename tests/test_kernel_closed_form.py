"""The closed-form ReLU MLP kernel (what the CG solver evaluates) against neural-tangents."""

import itertools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from ntkbench import models
from ntkbench.kernels import fit_kernel_regression, kernel_fn
from ntkbench.kernels.closed_form import fc_relu

SHAPE = (7, 3)


def _inputs():
    x = np.random.default_rng(0).random((120,) + SHAPE, dtype=np.float32) - 0.3
    x[5] = x[0]  # a duplicate pair (θ = 0 off the diagonal)
    x[6] = -x[1]  # an antiparallel pair (θ = π)
    x[7] = 1e-3  # a short input
    return x


def _float64(arch, kind, x):
    """The same recursion in float64: the reference both float32 evaluations are measured against."""
    with jax.enable_x64(True):
        x64 = jnp.asarray(x, jnp.float64)
        return np.asarray(fc_relu(arch, SHAPE, kind)(x64, x64))


@pytest.mark.parametrize(
    "par,b_std,widths,kind",
    list(itertools.product(("standard", "ntk"), (0.0, 0.3), ((), (50,), (100, 100), (64, 32, 16)), ("ntk", "nngp"))),
)
def test_fc_relu_is_neural_tangents_kernel(par, b_std, widths, kind):
    arch = models.mlp(4, widths, parameterization=par, b_std=b_std)
    x = _inputs()
    nt = np.asarray(kernel_fn(arch, SHAPE, kind)(x, x))
    ours = np.asarray(fc_relu(arch, SHAPE, kind)(x, x))
    truth = _float64(arch, kind, x)
    scale = np.sqrt(np.outer(np.diag(truth), np.diag(truth)))  # entries relative to their pair's size
    err_nt, err_ours = np.abs(nt - truth) / scale, np.abs(ours - truth) / scale
    # Pairs at angle ~0 or ~π (the diagonal, the duplicate, the antiparallel pair) lose up to
    # ~4e-4 to float32 cancellation in k11·k22 − nngp² in either evaluation (which one loses
    # less on a given pair depends on summation order); elsewhere both are near float32 rounding.
    distinct = ~np.eye(len(x), dtype=bool)
    for i, j in ((0, 5), (1, 6)):
        distinct[i, j] = distinct[j, i] = False
    assert np.max(err_ours[distinct]) <= 2 * np.max(err_nt[distinct]) + 1e-6
    assert np.max(err_ours) <= 1.5 * np.max(err_nt) + 1e-6
    assert np.max(err_ours[distinct]) <= 2e-5  # and both are float32-accurate away from θ = 0


def test_only_relu_mlps_have_a_closed_form():
    assert kernel_fn(models.mlp(3, (16,)), SHAPE).closed_form is not None
    assert kernel_fn(models.mlp(3, (16,), activation="erf"), SHAPE).closed_form is None
    assert kernel_fn(models.convnet(3, (4,)), SHAPE).closed_form is None


def test_cg_with_the_closed_form_matches_the_dense_solve():
    """The CG fit (closed-form blocks) predicts what the dense fit (neural-tangents' Gram) does,
    to the 1e-3 that tests/test_kernel_solve.py holds CG to (measured: 4.3e-4; with
    neural-tangents' own blocks 2.6e-4: the float32 Cholesky and the diagonal's rounding)."""
    rng = np.random.default_rng(1)
    x = rng.random((600,) + SHAPE, dtype=np.float32)
    y = rng.standard_normal((600, 3)).astype(np.float32)
    k = kernel_fn(models.mlp(3, (32, 32)), SHAPE)
    dense = fit_kernel_regression(k, x, y, ridge=1e-3, solver="dense")
    cg = fit_kernel_regression(k, x, y, ridge=1e-3, solver="cg", tol=1e-6, centres=100)
    xt = rng.random((50,) + SHAPE, dtype=np.float32)
    p_dense, p_cg = np.asarray(dense.predict(xt)), np.asarray(cg.predict(xt))
    assert np.linalg.norm(p_cg - p_dense) / np.linalg.norm(p_dense) < 1e-3
