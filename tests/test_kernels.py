"""ntkbench.kernels against independent references.

References used here are written out in this file: the arc-cosine (ReLU) and arcsine (erf)
NNGP/NTK recursions, a parameter transfer from the Flax `Network` into the neural-tangents stax
network (same function => same architecture), finite-width empirical NTKs converging to the
infinite one, numpy/scipy solves for the regression functions.
"""

from __future__ import annotations

import math
import os
import subprocess
import sys
import textwrap

import jax
import numpy as np
import pytest
import scipy.linalg
from flax import nnx

import ntkbench.kernels as K
from ntkbench.models import Network, convnet, mlp


@pytest.fixture(scope="module")
def mnist1d():
    from ntkbench.data import load_dataset

    d = load_dataset("mnist1d")
    return d.x_train[:40], d.y_train[:40], d.x_test[:20], d.y_test[:20]


# ---------------------------------------------------------------------------------------------
# Shim


def test_shim_patches_and_is_idempotent():
    import jax.core
    import jax.extend.core
    import jax.interpreters.ad as ad

    nt = K.import_neural_tangents()
    assert nt.__version__ == "0.6.5"
    for name in ("Jaxpr", "JaxprEqn", "Literal", "Var", "Primitive"):
        assert getattr(jax.core, name) is getattr(jax.extend.core, name)
    import jax.util

    assert jax.util.safe_zip([1, 2], "ab") == [(1, "a"), (2, "b")]
    with pytest.raises(ValueError):
        jax.util.safe_map(lambda a, b: a, [1, 2], [1])
    assert hasattr(ad, "zeros_like_p")
    assert K.patch_jax() == []  # already patched: nothing left to do
    assert K.import_neural_tangents() is nt
    assert "neural_tangents.stax" in sys.modules
    with pytest.raises(AttributeError, match="TensorFlow"):
        nt.experimental.empirical_ntk_fn_tf  # noqa: B018


def test_no_tensorflow_and_lazy_import_in_fresh_process():
    code = textwrap.dedent("""
        import sys
        import numpy as np
        import ntkbench.kernels as K
        from flax import nnx
        from ntkbench.models import Network, mlp
        assert "neural_tangents" not in sys.modules, "neural-tangents imported eagerly"
        arch = mlp(3, (16,))
        x = np.random.RandomState(0).randn(4, 5, 1).astype("float32")
        k = K.gram(K.kernel_fn(arch, (5, 1)), x)
        e = K.empirical_ntk(Network(arch, (5, 1), rngs=nnx.Rngs(0)), x, implementation=2)
        assert k.shape == e.shape == (4, 4)
        assert "neural_tangents" in sys.modules
        bad = sorted(m for m in sys.modules if m.split(".")[0] in ("tensorflow", "tf_keras"))
        assert not bad, bad
        print("OK")
    """)
    env = dict(os.environ, JAX_PLATFORMS="cpu")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300)
    assert r.returncode == 0 and r.stdout.strip().endswith("OK"), r.stderr[-3000:]


# ---------------------------------------------------------------------------------------------
# Architecture: the stax network computes the same function as the Flax Network


def _transfer(net: Network, stax_params):
    """Copy the Flax Network's parameters into neural-tangents' stax parameter list."""
    ours = [(c.kernel[...], c.bias[...]) for c in net.convs]
    ours += [(d.kernel[...], d.bias[...]) for d in net.dense]
    ours.append((net.readout.kernel[...], net.readout.bias[...]))
    out, it = [], iter(ours)
    for p in stax_params:
        if p == ():
            out.append(p)
        else:
            w, b = next(it)
            assert p[0].shape == w.shape
            out.append((w, b.reshape(p[1].shape)))
    assert next(it, None) is None
    return out


ARCHS = [
    (mlp(5, (16, 8), b_std=0.3), (40, 1)),
    (mlp(5, (16,), activation="erf", parameterization="ntk", b_std=0.2, w_std=1.3), (6, 2)),
    (convnet(4, (6, 5), stride=2, pool="avg", b_std=0.1, dense=(7,)), (40, 1)),
    (
        convnet(
            4, (6, 5), kernel_size=5, stride=2, padding="SAME", parameterization="ntk", b_std=0.1, readout_w_std=0.7
        ),
        (41, 2),
    ),
    (convnet(4, (6,), kernel_size=4, stride=3, padding="VALID", activation="identity"), (23, 1)),
    (convnet(3, (5, 4), stride=1, pool="avg", parameterization="ntk", b_std=0.2), (9, 7, 2)),
    (convnet(3, (5, 4), kernel_size=4, stride=2, padding="SAME"), (8, 8, 1)),
    (convnet(2, (6,), kernel_size=1, readout="avg", b_std=0.1), (3, 3, 2)),
    (convnet(4, (6, 5), stride=2, readout="avg", dense=(7,), parameterization="ntk"), (20, 1)),
]


@pytest.mark.parametrize(
    "arch,shape,conv_impl", [(a, s, i) for a, s in ARCHS for i in ("lax", "patches") if a.kind == "conv" or i == "lax"]
)
def test_stax_network_is_the_flax_network(arch, shape, conv_impl):
    net = Network(arch, shape, rngs=nnx.Rngs(3), conv_impl=conv_impl)
    init_fn, apply_fn, _ = K.stax_model(arch, shape)
    x = jax.random.normal(jax.random.key(1), (3,) + shape)
    xin = x.reshape(3, -1) if arch.kind == "mlp" else x
    _, params = init_fn(jax.random.key(0), xin.shape)
    apply, ps = K.pure_apply(net)
    ours = jax.jit(apply)(ps, x)
    theirs = jax.jit(apply_fn)(_transfer(net, params), xin)
    np.testing.assert_allclose(theirs, ours, rtol=1e-5, atol=1e-5)


def test_instance_norm_is_refused():
    arch = convnet(10, (8, 8), norm="instance", pool="avg")
    with pytest.raises(NotImplementedError, match="instance"):
        K.kernel_fn(arch, (40, 1))
    K.kernel_fn(arch.replace(norm=None), (40, 1))  # the suggested workaround builds


def test_kernel_checks_input_shape_and_kind():
    k = K.kernel_fn(mlp(10), (40, 1))
    with pytest.raises(ValueError):
        k(np.zeros((2, 39, 1), np.float32), np.zeros((2, 39, 1), np.float32))
    with pytest.raises(ValueError):
        K.kernel_fn(mlp(10), (40, 1), kind="cntk")


# ---------------------------------------------------------------------------------------------
# Closed-form MLP kernels, written out independently


def _relu_maps(s11, s12, s22):
    """E[φ(u)φ(v)], E[φ'(u)φ'(v)] for φ = relu, (u, v) ~ N(0, [[s11, s12], [s12, s22]]).
    Cho & Saul 2009 arc-cosine kernels of degree 1 and 0."""
    norm = np.sqrt(s11 * s22)
    c = np.clip(s12 / norm, -1.0, 1.0)
    th = np.arccos(c)
    return norm * (np.sin(th) + (np.pi - th) * c) / (2 * np.pi), (np.pi - th) / (2 * np.pi)


def _erf_maps(s11, s12, s22):
    """Same for φ = erf (Williams 1997)."""
    a, b = 1 + 2 * s11, 1 + 2 * s22
    return (2 / np.pi * np.arcsin(2 * s12 / np.sqrt(a * b)), 4 / np.pi / np.sqrt(a * b - 4 * s12**2))


def _closed_form_mlp(arch, x1, x2):
    """NNGP and NTK of an MLP, float64.

    Layer l: h_l = W_l φ(h_{l-1}) + b_l, Σ_l = w² E[φφ'] + b² (input: w² x·x'/d + b²).
    "ntk": Θ_l = Σ_l + w² E[φ̇φ̇'] Θ_{l-1}   (Jacot et al. 2018; Arora et al. 2019)
    "standard": the NTK w.r.t. the raw parameters W ~ N(0, w²/N), b ~ N(0, b²): the weight
       gradient of a layer with N inputs gives Σ_j φ_j φ'_j = N E[φφ'], the bias gradient 1:
       Θ_l = N_{l-1} E[φφ'] + 1 + w² E[φ̇φ̇'] Θ_{l-1}, Θ_1 = x·x' + 1 (it grows with the width).
    """
    x1 = x1.reshape(len(x1), -1).astype(np.float64)
    x2 = x2.reshape(len(x2), -1).astype(np.float64)
    d = x1.shape[1]
    maps = {"relu": _relu_maps, "erf": _erf_maps}[arch.activation]
    w, b = arch.w_std, arch.b_std
    s12 = w**2 * x1 @ x2.T / d + b**2
    s11 = (w**2 * np.sum(x1 * x1, 1) / d + b**2)[:, None]
    s22 = (w**2 * np.sum(x2 * x2, 1) / d + b**2)[None, :]
    ntk = s12.copy() if arch.parameterization == "ntk" else x1 @ x2.T + 1.0
    stds = [w] * (len(arch.widths) - 1) + [arch.readout_w_std]
    for n_in, wl in zip(arch.widths, stds):
        k12, kd12 = maps(s11, s12, s22)
        k11, _ = maps(s11, s11, s11)
        k22, _ = maps(s22, s22, s22)
        if arch.parameterization == "ntk":
            ntk = wl**2 * k12 + b**2 + wl**2 * kd12 * ntk
        else:
            ntk = n_in * k12 + 1.0 + wl**2 * kd12 * ntk
        s12, s11, s22 = wl**2 * k12 + b**2, wl**2 * k11 + b**2, wl**2 * k22 + b**2
    return s12, ntk


@pytest.mark.parametrize("parameterization", ["ntk", "standard"])
@pytest.mark.parametrize("activation,b_std", [("relu", 0.0), ("relu", 0.2), ("erf", 0.1)])
def test_mlp_kernels_match_closed_form(mnist1d, parameterization, activation, b_std):
    x, _, xt, _ = mnist1d
    x1, x2 = x[:12], xt[:7]
    arch = mlp(
        10, (100, 50, 30), activation=activation, b_std=b_std, parameterization=parameterization, readout_w_std=0.8
    )
    nngp_ref, ntk_ref = _closed_form_mlp(arch, x1, x2)
    nngp = np.asarray(K.kernel_fn(arch, (40, 1), "nngp")(x1, x2))
    ntk = np.asarray(K.kernel_fn(arch, (40, 1), "ntk")(x1, x2))
    np.testing.assert_allclose(nngp, nngp_ref, rtol=2e-5, atol=1e-6 * np.abs(nngp_ref).max())
    np.testing.assert_allclose(ntk, ntk_ref, rtol=2e-5, atol=1e-6 * np.abs(ntk_ref).max())


def test_nngp_is_parameterization_free_and_standard_ntk_grows_with_width(mnist1d):
    x = mnist1d[0][:6]
    a = mlp(10, (64, 64), b_std=0.1)
    n_ntk = K.kernel_fn(a.replace(parameterization="ntk"), (40, 1), "nngp")(x, x)
    n_std = K.kernel_fn(a, (40, 1), "nngp")(x, x)
    np.testing.assert_allclose(n_std, n_ntk, rtol=1e-6)
    t64 = np.asarray(K.kernel_fn(a, (40, 1))(x, x))
    t128 = np.asarray(K.kernel_fn(a.replace(widths=(128, 128)), (40, 1))(x, x))
    assert np.all(t128 > 1.5 * t64)


# ---------------------------------------------------------------------------------------------
# Empirical NTK of finite networks


def _rel(a, b):
    return float(np.linalg.norm(a - b) / np.linalg.norm(b))


def _convergence_errors(base, widths, x, seeds):
    """Relative Frobenius error of the empirical NTK (mean over `seeds` initialisations) of
    `base` with every hidden width set to w, against the infinite-width NTK."""
    k_inf = np.asarray(K.kernel_fn(base, x.shape[1:])(x, x))
    errs = []
    for w in widths:
        arch = base.replace(widths=(w,) * len(base.widths))
        ks = [K.empirical_ntk(Network(arch, x.shape[1:], rngs=nnx.Rngs(s)), x, implementation=2) for s in range(seeds)]
        errs.append(_rel(np.mean(ks, 0), k_inf))
    return errs


def _check_rate(errs, widths):
    # Fluctuations of the finite-width NTK shrink like width^(-1/2): x8 width -> x0.35 error.
    # Require the error to fall at every step and by at least half the predicted factor.
    for (e0, e1), (w0, w1) in zip(zip(errs, errs[1:]), zip(widths, widths[1:])):
        assert e1 < e0 * min(1.0, 2 * math.sqrt(w0 / w1)), (errs, widths)


def test_empirical_ntk_approaches_infinite_width_mlp(mnist1d):
    x = mnist1d[0][:6]
    widths = [32, 256, 2048]
    errs = _convergence_errors(mlp(10, (1, 1), parameterization="ntk", b_std=0.1), widths, x, 2)
    _check_rate(errs, widths)
    assert errs[-1] < 0.05, errs


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["mlp", "conv"])
def test_empirical_ntk_approaches_infinite_width_large(mnist1d, kind):
    x = mnist1d[0][:6]
    if kind == "mlp":
        base, widths = mlp(10, (1, 1), parameterization="ntk", b_std=0.1), [64, 512, 4096]
    else:
        base = convnet(10, (1, 1), stride=2, pool="avg", parameterization="ntk", b_std=0.1)
        widths = [16, 128, 1024]
    errs = _convergence_errors(base, widths, x, 3)
    _check_rate(errs, widths)
    # Measured: mlp 0.21 / 0.031 / 0.012; conv 0.39 / 0.12 / 0.057 (and 0.028 at width 2048:
    # no floor, the conv fluctuations just have a larger constant).
    assert errs[-1] < (0.05 if kind == "mlp" else 0.1), errs


def test_empirical_ntk_standard_parameterization_matches_nt_standard(mnist1d):
    """Under "standard", nt's NTK is w.r.t. the raw parameters at these exact widths; for one
    hidden layer it is exactly the expectation of the finite network's NTK over the init
    (first-layer pre-activations are exactly Gaussian), so the mean over seeds converges to it."""
    x = mnist1d[0][:6]
    arch = mlp(10, (256,), b_std=0.1)
    k_inf = np.asarray(K.kernel_fn(arch, (40, 1))(x, x))
    ks = [K.empirical_ntk(Network(arch, (40, 1), rngs=nnx.Rngs(s)), x, implementation=1) for s in range(32)]
    errs = [_rel(np.mean(ks[:m], 0), k_inf) for m in (1, 4, 32)]
    _check_rate(errs, [1, 4, 32])  # the error of a mean of m draws shrinks like m^(-1/2)
    assert errs[-1] < 0.05, errs


def test_empirical_ntk_implementations_and_per_logit(mnist1d):
    x = mnist1d[0][:7]
    arch = convnet(4, (5, 6), stride=2, pool="avg", dense=(9,), b_std=0.2)
    net = Network(arch, (40, 1), rngs=nnx.Rngs(0))
    k0 = K.empirical_ntk(net, x, implementation=0)
    k1 = K.empirical_ntk(net, x, implementation=1)
    k2 = K.empirical_ntk(net, x, implementation=2)
    np.testing.assert_allclose(k1, k0, rtol=2e-4, atol=1e-4 * np.abs(k0).max())
    np.testing.assert_allclose(k2, k0, rtol=2e-4, atol=1e-4 * np.abs(k0).max())
    full = K.empirical_ntk(net, x, implementation=1, per_logit=True, batch_size=4)
    assert full.shape == (7, 7, 4, 4)
    np.testing.assert_allclose(full, np.transpose(full, (1, 0, 3, 2)), rtol=1e-6)
    np.testing.assert_allclose(np.einsum("ijaa->ij", full) / 4, k0, rtol=2e-4, atol=1e-4 * np.abs(k0).max())
    # Definition check on one pair: Σ_p ∂f_a(x)/∂θ_p ∂f_b(x')/∂θ_p by hand.
    apply, params = K.pure_apply(net)
    jac = jax.jit(jax.jacrev(lambda p, xi: apply(p, xi[None])[0]))
    j = [jac(params, x[i]) for i in (0, 4)]
    ref = sum(
        np.asarray(u).reshape(4, -1) @ np.asarray(v).reshape(4, -1).T
        for u, v in zip(jax.tree.leaves(j[0]), jax.tree.leaves(j[1]))
    )
    np.testing.assert_allclose(full[0, 4], ref, rtol=2e-4, atol=1e-4 * np.abs(ref).max())
    with pytest.raises(NotImplementedError, match="implementation 3"):
        K.empirical_ntk(net, x, implementation=3)


# ---------------------------------------------------------------------------------------------
# Gram matrices

GRAM_ARCHS = [
    (mlp(10, (100, 100)), (40, 1)),
    (convnet(10, (8, 8), stride=2, pool="avg", b_std=0.1), (40, 1)),
    (convnet(10, (8,), kernel_size=3, stride=1, parameterization="ntk"), (8, 8, 1)),
]


@pytest.mark.parametrize("kind", ["ntk", "nngp"])
@pytest.mark.parametrize("arch,shape", GRAM_ARCHS)
def test_gram_symmetric_psd_and_blocking(arch, shape, kind, mnist1d):
    if shape == (40, 1):
        x = mnist1d[0][:30]
    else:
        x = np.asarray(jax.random.normal(jax.random.key(0), (30,) + shape))
    k = K.kernel_fn(arch, shape, kind)
    g = K.gram(k, x, batch_size=7)  # ragged: 30 = 4·7 + 2
    np.testing.assert_array_equal(g, g.T)
    ev = np.linalg.eigvalsh(g.astype(np.float64))
    assert ev.min() >= -1e-5 * ev.max(), (ev.min(), ev.max())
    # Blocked = unblocked, checked in float64: the ReLU kernel's arccos near c = 1 (the diagonal)
    # turns round-off ε (which differs with the block shape) into ~sqrt(ε): ~1e-4 relative in
    # float32, ~1e-8 in float64. A blocking mistake would be an O(1) error.
    with jax.enable_x64(True):
        x64 = np.asarray(x, np.float64)
        full = np.asarray(k(x64, x64))
        assert full.dtype == np.float64
        tol = dict(rtol=1e-7, atol=1e-9 * np.abs(full).max())
        np.testing.assert_allclose(K.gram(k, x64, batch_size=7), full, **tol)
        np.testing.assert_allclose(K.gram(k, x64[:11], x64[11:], batch_size=4), full[:11, 11:], **tol)
        # the memory-budget path picks blocks with b1·b2·bytes_per_pair ≤ max_bytes
        np.testing.assert_allclose(K.gram(k, x64, max_bytes=9 * k.bytes_per_pair), full, **tol)


def test_block_sizes_respect_memory_bound():
    from ntkbench.kernels.infinite import _block_sizes

    for per_pair, budget in [(32, 1 << 30), (4 * 10**6, 1 << 30), (1000, 10**6)]:
        b1, b2 = _block_sizes(5000, 3000, per_pair, budget, None)
        assert 1 <= b1 <= 5000 and 1 <= b2 <= 3000 and b1 * b2 * per_pair <= budget


# ---------------------------------------------------------------------------------------------
# Regression


@pytest.fixture(scope="module")
def kernel_problem(mnist1d):
    x, y, xt, yt = mnist1d
    k = K.kernel_fn(mlp(10, (100, 100)), (40, 1))
    ktt = K.gram(k, x)
    kst = K.gram(k, xt, x)
    return ktt, np.eye(10, dtype=np.float32)[y], kst


@pytest.mark.parametrize("diag_reg", ["relative", "absolute"])
def test_krr_matches_numpy_solve(kernel_problem, diag_reg):
    ktt, y, kst = kernel_problem
    ridge = 1e-3 if diag_reg == "relative" else 1e-3 * float(np.mean(np.diag(ktt)))
    pred = np.asarray(K.krr_fit_predict(ktt, y, kst, ridge=ridge, diag_reg=diag_reg))
    k64 = ktt.astype(np.float64)
    lam = 1e-3 * np.mean(np.diag(k64))
    ref = kst.astype(np.float64) @ np.linalg.solve(k64 + lam * np.eye(len(k64)), y)
    np.testing.assert_allclose(pred, ref, rtol=1e-3, atol=1e-3 * np.abs(ref).max())
    # 1-D ±1 targets
    s = 2.0 * y[:, 3] - 1.0
    p1 = np.asarray(K.krr_fit_predict(ktt, s, kst, ridge=ridge, diag_reg=diag_reg))
    np.testing.assert_allclose(p1, 2 * ref[:, 3] - ref.sum(1), rtol=1e-3, atol=1e-3 * np.abs(ref).max())


def test_krr_solve_dtype_and_gradient(kernel_problem):
    """krr_solve: the dual coefficients krr_fit_predict uses; float64 under x64; differentiable."""
    ktt, y, kst = kernel_problem
    alpha = K.krr_solve(ktt, y, ridge=1e-3)
    assert alpha.dtype == np.float32
    np.testing.assert_array_equal(np.asarray(kst @ alpha), np.asarray(K.krr_fit_predict(ktt, y, kst, ridge=1e-3)))
    k64 = ktt.astype(np.float64)
    lam = 1e-3 * float(np.mean(np.diag(k64)))
    with jax.enable_x64(True):
        a64 = K.krr_solve(k64, y, ridge=lam, diag_reg="absolute")
        assert a64.dtype == np.float64
        np.testing.assert_allclose(
            np.asarray(a64),
            np.linalg.solve(k64 + lam * np.eye(len(k64)), y),
            rtol=1e-9,
            atol=1e-9 * np.abs(np.asarray(a64)).max(),
        )
    g = jax.grad(lambda r: K.krr_solve(ktt, y, ridge=r).sum())(1e-3)
    assert np.isfinite(g) and g != 0
    with pytest.raises(ValueError, match="diag_reg"):
        K.krr_solve(ktt, y, ridge=1e-3, diag_reg="bogus")


def test_gd_mse_matches_matrix_exponential_and_tends_to_krr(kernel_problem):
    ktt, y, kst = kernel_problem
    n = len(ktt)
    k64 = ktt.astype(np.float64)
    lam = 1e-3 * np.mean(np.diag(k64))
    kr = k64 + lam * np.eye(n)
    lr = 0.5
    ts = np.array([0.0, 1.0, 30.0, 1000.0])
    pred = np.asarray(K.gd_mse_predict(ktt, y, kst, ts, lr=lr, ridge=1e-3))
    assert pred.shape == (4,) + (len(kst), 10)
    scale = np.abs(kst @ np.linalg.solve(kr, y)).max()
    for t, p in zip(ts, pred):
        ref = kst @ np.linalg.solve(kr, (np.eye(n) - scipy.linalg.expm(-lr * t * kr / n)) @ y)
        np.testing.assert_allclose(p, ref, rtol=1e-3, atol=2e-3 * scale)
    np.testing.assert_array_equal(pred[0], 0.0)
    krr = np.asarray(K.krr_fit_predict(ktt, y, kst, ridge=1e-3))
    for t in (1e9, np.inf):
        p = np.asarray(K.gd_mse_predict(ktt, y, kst, t, lr=lr, ridge=1e-3))
        np.testing.assert_allclose(p, krr, rtol=1e-3, atol=2e-3 * scale)
    # a training point's own prediction moves towards its label; ridge=0, long time -> interpolation
    p_train = np.asarray(K.gd_mse_predict(ktt, y, ktt, 1e7, lr=1.0))
    assert np.abs(p_train - y).max() < 0.05


# ---------------------------------------------------------------------------------------------
# Spectral summaries


def test_label_energy_share_alignment_distance(kernel_problem):
    ktt, y, _ = kernel_problem
    n = len(ktt)
    shares = np.asarray(K.label_energy_share(ktt, y, [1, 5, 10, n]))
    assert np.all(np.diff(shares) >= -1e-6) and abs(shares[-1] - 1) < 1e-5
    # reference with numpy
    w, v = np.linalg.eigh(ktt.astype(np.float64))
    vk = v[:, np.argsort(w)[::-1][:5]]
    np.testing.assert_allclose(shares[1], np.sum((vk.T @ y) ** 2) / np.sum(y**2), rtol=1e-4)
    # the label kernel YYᵀ holds all label energy in its top-C directions and aligns perfectly
    yy = y @ y.T + 1e-3 * np.eye(n, dtype=np.float32)
    c = int(np.linalg.matrix_rank(y))
    assert float(K.label_energy_share(yy, y, c)) > 1 - 1e-5
    assert abs(float(K.kernel_target_alignment(y @ y.T, y)) - 1) < 1e-6
    a = float(K.kernel_target_alignment(ktt, y))
    ref = np.sum(ktt * (y @ y.T)) / (np.linalg.norm(ktt) * np.linalg.norm(y @ y.T))
    assert abs(a - ref) < 1e-5 and 0 < a < 1
    ac = float(K.kernel_target_alignment(ktt, y, center=True))
    h = np.eye(n) - 1.0 / n
    kc, yc = h @ ktt @ h, h @ y
    refc = np.sum(kc * (yc @ yc.T)) / (np.linalg.norm(kc) * np.linalg.norm(yc @ yc.T))
    assert abs(ac - refc) < 1e-4
    assert abs(float(K.kernel_distance(ktt, 3.0 * ktt))) < 1e-6
    d = float(K.kernel_distance(ktt, np.eye(n, dtype=np.float32)))
    ref = 1 - np.trace(ktt) / (np.linalg.norm(ktt) * math.sqrt(n))
    assert abs(d - ref) < 1e-5
