"""ntkbench.kernels.fit_kernel_regression: the dense path is the old computation bit for bit, the
matrix-free CG path agrees with it, predict compiles once, auto picks by memory, bad arguments
fail early. MNIST-1D (offline), the sample-complexity task's `mlp` NTK, n ≤ 1500.
"""

from __future__ import annotations

import contextlib

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import ntkbench.kernels as K
from ntkbench.engine.kernel_predictor import centred_one_hot, krr_on_subsets, krr_predictor
from ntkbench.kernels.iterative import make_matvec, nystrom, pad_blocks, pad_zeros
from ntkbench.kernels.solve import cg_bytes, cg_cache_bytes, dense_bytes, fit_kernel_regression
from ntkbench.models import mlp

COMPILE_EVENT = "/jax/core/compile/backend_compile_duration"


@contextlib.contextmanager
def count_compiles():
    """Number of XLA compilations while the block runs (a list of one int, read after)."""
    count = [0]

    def listener(event, duration, **kwargs):
        if event == COMPILE_EVENT:
            count[0] += 1

    jax.monitoring.register_event_duration_secs_listener(listener)
    try:
        yield count
    finally:
        jax.monitoring.unregister_event_duration_listener(listener)


@pytest.fixture(scope="module")
def problem():
    from ntkbench.data import load_dataset

    d = load_dataset("mnist1d")
    k = K.kernel_fn(mlp(d.num_classes, (100, 100)), d.input_shape, "ntk")  # the task's `mlp` arch
    n = 1500
    return k, d.x_train[:n], d.y_train[:n], d.x_test, d.y_test, d.num_classes


@pytest.fixture(scope="module")
def dense(problem):
    k, x, y, xt, yt, c = problem
    fit = fit_kernel_regression(k, x, centred_one_hot(y, c), ridge=1e-4, solver="dense")
    return fit, np.asarray(fit.predict(xt))


def test_dense_is_the_old_computation_bit_for_bit(problem, dense):
    """Same α and predictions as gram + krr_solve + gram(test, train) @ α (the committed results)."""
    k, x, y, xt, _, c = problem
    fit, pred = dense
    k_tt = jnp.asarray(K.gram(k, x), jnp.float32)
    alpha = K.krr_solve(k_tt, centred_one_hot(y, c), ridge=1e-4, diag_reg="relative")
    assert fit.info.solver == "dense" and fit.alpha.shape == (len(x), c)
    np.testing.assert_array_equal(np.asarray(fit.alpha), np.asarray(alpha))
    np.testing.assert_array_equal(pred, np.asarray(jnp.asarray(K.gram(k, xt, x)) @ alpha))
    assert fit.info.lam == pytest.approx(1e-4 * float(jnp.mean(jnp.diagonal(k_tt))))


def test_cg_matches_dense(problem, dense):
    """Nyström-preconditioned CG: relative prediction error < 1e-3 (about 1e-4 seen, the float32
    noise of the dense solve itself at ridge 1e-4), accuracy within one test point of 1000."""
    k, x, y, xt, yt, c = problem
    _, pred = dense
    fit = fit_kernel_regression(k, x, centred_one_hot(y, c), ridge=1e-4, solver="cg", centres=200, tol=1e-5)
    p = np.asarray(fit.predict(xt))
    err = np.linalg.norm(p - pred) / np.linalg.norm(pred)
    assert err < 1e-3, err
    acc_cg, acc_dense = (p.argmax(-1) == yt).mean(), (pred.argmax(-1) == yt).mean()
    assert abs(acc_cg - acc_dense) <= 1 / len(yt), (acc_cg, acc_dense)
    i = fit.info
    assert i.solver == "cg" and 1 < i.iterations < 200 and i.residual <= 1e-5
    assert len(i.history) == i.iterations and i.history[-1] == i.residual
    assert i.centres is not None and len(i.centres) == 200 and 0 < i.rank <= 200
    blk = 1024 * 1024 * k.bytes_per_pair
    assert i.block == (1024, 1024) and i.memory_bound == cg_bytes(len(x), c, 200, 1024, blk)
    assert cg_bytes(60000, c, 1000, 1024, blk) < dense_bytes(60000, blk) / 50  # ~0.8 GB vs 43 GB
    assert i.lam == pytest.approx(dense[0].info.lam, rel=1e-5)  # diag K blockwise, without the Gram


def test_cg_small_blocks_cache_and_no_preconditioner(problem):
    """Ragged blocks (n = 400 in blocks of 64), the Gram-block cache (same iterates: the same block
    values) and plain CG (no Nyström: more iterations to the same answer)."""
    k, x, y, xt, _, c = problem
    x, Y = x[:400], centred_one_hot(y[:400], c)
    opts = dict(ridge=1e-3, solver="cg", block_bytes=64 * 64 * k.bytes_per_pair, tol=1e-5)
    ref = np.asarray(fit_kernel_regression(k, x, Y, ridge=1e-3, solver="dense").predict(xt[:200]))
    fits = {
        "nystrom": fit_kernel_regression(k, x, Y, centres=60, **opts),
        "cached": fit_kernel_regression(k, x, Y, centres=60, cache_bytes=10 * 64 * 64 * 4, **opts),
        "plain": fit_kernel_regression(k, x, Y, centres=0, **opts),
    }
    assert fits["nystrom"].info.block == (64, 64) and fits["cached"].info.cached_blocks == 10
    assert fits["cached"].info.history == fits["nystrom"].info.history
    assert fits["plain"].info.centres is None and fits["plain"].info.iterations > fits["nystrom"].info.iterations
    for name, fit in fits.items():
        p = np.asarray(fit.predict(xt[:200]))
        assert np.linalg.norm(p - ref) / np.linalg.norm(ref) < 1e-3, name


@pytest.mark.parametrize("cached", [0, 7, 21])
def test_matvec_is_the_gram_product(problem, cached):
    """The blocked symmetric matvec (upper blocks only, vectors laid out (C, nb, b)) is K v on the
    real rows and zero on the padding: none, some and all (6 · 7 / 2 = 21) blocks cached."""
    k, x, _, _, _, _ = problem
    n, b = 350, 64  # 6 blocks, the last ragged
    x = x[:n]
    v = np.random.default_rng(0).standard_normal((n, 3)).astype(np.float32)
    xb = pad_blocks(x, b)
    kv, fill = make_matvec(k, xb.shape[0], n, cached)
    out = np.asarray(kv(xb, fill(xb), pad_zeros(v, xb.shape[0] * b)))
    want = K.gram(k, x).astype(np.float64) @ v
    assert out.shape == (xb.shape[0] * b, 3) and not out[n:].any()
    assert np.linalg.norm(out[:n] - want) <= 1e-5 * np.linalg.norm(want)


def test_nystrom_is_the_column_sampled_approximation(problem):
    """U diag(eigs) Uᵀ = K_nm K_mm⁺ K_mn (float64 reference) and U has orthonormal columns."""
    k, x, _, _, _, _ = problem
    x = x[:300]
    ny = nystrom(k, x, 60, seed=1, max_bytes=1 << 30)
    g = K.gram(k, x).astype(np.float64)
    k_nm = g[:, ny.centres]
    want = k_nm @ np.linalg.pinv(k_nm[ny.centres], rcond=1e-6, hermitian=True) @ k_nm.T
    got = (ny.u.astype(np.float64) * ny.eigs) @ ny.u.T.astype(np.float64)
    assert np.linalg.norm(got - want) <= 1e-4 * np.linalg.norm(want)
    np.testing.assert_allclose(ny.u.T.astype(np.float64) @ ny.u, np.eye(ny.u.shape[1]), atol=1e-4)


def test_cg_cache_bytes_fills_the_budget_and_no_more():
    """The bounded-memory mode's cache: the most whole blocks within the budget (6 GiB at n = 60 000),
    every block when they all fit, none when the solver alone is over."""
    n, c, m, b = 60000, 10, 3000, 1024
    block, per_block = b * b * 32, b * b * 4
    budget = 6 << 30
    cached = cg_cache_bytes(n, c, m, b, block, budget) // per_block
    assert 0 < cached < 1770 and cg_bytes(n, c, m, b, block, cached) <= budget < cg_bytes(n, c, m, b, block, cached + 1)
    assert cg_cache_bytes(n, c, m, b, block, 1 << 50) == 59 * 60 // 2 * per_block
    assert cg_cache_bytes(n, c, m, b, block, 0) == 0


def test_predict_compiles_once_and_rows_do_not_depend_on_the_batch(dense, problem):
    fit, pred = dense
    xt = problem[3]
    fit.predict(xt[:3])  # first call: the kernel block, layout and product programs
    with count_compiles() as compiles:
        outs = {m: np.asarray(fit.predict(xt[:m])) for m in (1, 37, 1000)}
    assert compiles[0] == 0
    assert fit.block == (1024, 1024)  # 1000 test rows: one padded strip; 1500 train: two blocks
    for m, out in outs.items():
        assert out.shape == (m, problem[5])
        np.testing.assert_array_equal(out, pred[:m])


def test_auto_picks_dense_under_a_big_budget_and_cg_under_a_tiny_one(problem):
    k, x, y, _, _, c = problem
    x, Y = x[:300], centred_one_hot(y[:300], c)
    big = fit_kernel_regression(k, x, Y, ridge=1e-4, max_bytes=1 << 40)
    tiny = fit_kernel_regression(k, x, Y, ridge=1e-4, max_bytes=1 << 20, centres=50)
    assert big.info.solver == "dense" and big.info.iterations is None
    assert tiny.info.solver == "cg" and tiny.info.iterations > 0
    assert dense_bytes(300, 0) == 3 * 300 * 300 * 4  # the documented bound auto compares


def test_cg_warns_when_it_stops_short(problem):
    k, x, y, _, _, c = problem
    Y = centred_one_hot(y[:300], c)
    with pytest.warns(RuntimeWarning, match="max_iters"):
        fit = fit_kernel_regression(k, x[:300], Y, ridge=1e-4, solver="cg", centres=0, max_iters=2)
    assert fit.info.iterations == 2 and fit.info.residual > 1e-5


def test_one_dimensional_targets(problem):
    k, x, y, xt, _, _ = problem
    x, t = x[:200], np.where(y[:200] % 2 == 0, 1.0, -1.0)
    for solver in ("dense", "cg"):
        fit = fit_kernel_regression(k, x, t, ridge=1e-3, solver=solver, centres=50)
        assert fit.alpha.shape == (200,) and fit.predict(xt[:7]).shape == (7,)


def test_krr_predictor_goes_through_the_entry_point(problem):
    k, x, y, xt, _, c = problem
    arch, x, y = k.arch, x[:300], y[:300]
    pred, gram = krr_predictor(arch, "ntk", x, y, c, return_gram=True, max_bytes=1)  # Gram asked: dense
    assert isinstance(pred, K.KernelRegression) and pred.info.solver == "dense"
    np.testing.assert_array_equal(gram, K.gram(k, x))
    cg = krr_predictor(arch, "ntk", x, y, c, solver="cg", centres=50)
    assert cg.info.solver == "cg" and cg(xt[:5]).shape == (5, c)
    with pytest.raises(ValueError, match="keep_gram"):
        krr_predictor(arch, "ntk", x, y, c, return_gram=True, solver="cg")


@pytest.mark.parametrize("union_fits", [True, False])
def test_krr_on_subsets_is_krr_on_each_subset(problem, monkeypatch, union_fits):
    """Overlapping subsets of one pool (a learning curve's): the kernel on their union once, then
    per subset the same Gram and the same test predictions as fitting that subset alone; when the
    union's Gram does not fit, each subset is fitted on its own."""
    import ntkbench.kernels.solve as solve

    k, x, y, xt, _, c = problem
    rng = np.random.default_rng(0)
    subsets = [rng.permutation(600)[:m] for m in (50, 200, 400)]  # unsorted, overlapping
    if not union_fits:
        monkeypatch.setattr(solve, "available_bytes", lambda: 1)
    fits = list(krr_on_subsets(k.arch, "ntk", x, y, subsets, xt[:300], c))
    assert len(fits) == len(subsets)
    for idx, (scores, k_tt) in zip(subsets, fits):
        alone, g = krr_predictor(k.arch, "ntk", x[idx], y[idx], c, return_gram=True)
        # float32 entries from other block shapes: the arc-cosine of a dot product rounded
        # differently moves near-diagonal entries by ~1e-4 relative
        np.testing.assert_allclose(k_tt, g, rtol=5e-4)
        np.testing.assert_allclose(scores, np.asarray(alone(xt[:300])), atol=1e-3)  # targets of scale 1
        assert (scores.argmax(-1) == np.asarray(alone(xt[:300])).argmax(-1)).mean() > 0.99


BAD = {  # argument -> (bad value from the good (x, Y), the name the error must say)
    "y_train rows": (lambda x, Y: {"y_train": Y[:49]}, "y_train"),
    "y_train 3-D": (lambda x, Y: {"y_train": Y[:, :, None]}, "y_train"),
    "x_train shape": (lambda x, Y: {"x_train": x[:, :20]}, "x_train"),
    "solver": (lambda x, Y: {"solver": "lu"}, "solver"),
    "ridge 0": (lambda x, Y: {"ridge": 0.0}, "ridge"),
    "ridge < 0": (lambda x, Y: {"ridge": -1e-3}, "ridge"),
    "ridge None": (lambda x, Y: {"ridge": None}, "ridge"),
    "diag_reg": (lambda x, Y: {"diag_reg": "scaled"}, "diag_reg"),
    "tol": (lambda x, Y: {"tol": 0.0}, "tol"),
    "max_iters": (lambda x, Y: {"max_iters": 0}, "max_iters"),
    "centres": (lambda x, Y: {"centres": -1}, "centres"),
    "cache_bytes": (lambda x, Y: {"cache_bytes": -1}, "cache_bytes"),
    "keep_gram with cg": (lambda x, Y: {"keep_gram": True, "solver": "cg"}, "keep_gram"),
}


@pytest.mark.parametrize("case", list(BAD))
def test_bad_arguments_fail_before_any_compile(problem, case):
    k, x, y, _, _, c = problem
    change, match = BAD[case]
    x, Y = x[:50], centred_one_hot(y[:50], c)
    args = {"x_train": x, "y_train": Y, "ridge": 1e-4, **change(x, Y)}
    with count_compiles() as compiles, pytest.raises(ValueError, match=match):
        fit_kernel_regression(k, **args)
    assert compiles[0] == 0
