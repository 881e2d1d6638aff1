"""training_dynamics: trajectories recorded inside the trainer's scan, the spectral-bias
measurement on a case with a known answer, the task end to end, and its budget errors."""

import math
import re

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from flax import nnx

import ntkbench as nb
from ntkbench.data import load_dataset
from ntkbench.data.synthetic import fourier_angle, fourier_components, zonal_components
from ntkbench.orchestration.consistency import metric_errors
from ntkbench.orchestration.executors import InProcess
from ntkbench.orchestration.runner import execute
from ntkbench.orchestration.suites import SuiteError, expand_suite
from ntkbench.orchestration.validate import validate_result_file
from ntkbench.registry import METHODS, MethodSpec
from ntkbench.results import read_result
from ntkbench.tasks import get_task
from ntkbench.tasks.training_dynamics import spectral
from ntkbench.tasks.training_dynamics.task import check_budget

TASK = get_task("training_dynamics")


def _toy(n=24, d=5, c=3, seed=0):
    kx, ky = jax.random.split(jax.random.key(seed))
    return jax.random.normal(kx, (n, d)), jax.random.normal(ky, (n, c))


def test_recording_inside_the_scan_equals_stepping_outside():
    x, y = _toy()
    arch = nb.models.mlp(3, (32,), parameterization="ntk")
    model = lambda rngs: nb.models.Network(arch, (5,), rngs=rngs)
    data, steps = nb.Split(x, y, 3), (0, 1, 4, 9, 15)
    fit = lambda s, **kw: nb.fit_classifier(
        jax.random.key(0), model, data, optimizer=optax.sgd(0.3), steps=s, batch_size=None, loss=nb.mse, **kw
    )
    predictor, recorded = fit(15, record=nb.Record(x, steps))
    assert recorded.shape == (5, 24, 3)
    graphdef, params0 = nb.build(model, jax.random.split(jax.random.key(0))[0])
    outside = [nnx.merge(graphdef, params0)(x)] + [fit(s)(x) for s in steps[1:]]  # s full-batch steps, run apart
    for j, out in enumerate(outside):
        np.testing.assert_allclose(recorded[j], out, rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(recorded[-1], predictor(x))


def test_recording_changes_nothing_else_and_works_vmapped():
    """Minibatch SGD: the same parameters and losses with and without `record=`, seeds vmapped."""
    x, y = _toy(n=40)
    arch = nb.models.mlp(3, (16,))
    graphdef, _ = nb.build(lambda r: nb.models.Network(arch, (5,), rngs=r), jax.random.key(0))
    apply = lambda p, xb: nnx.merge(graphdef, p)(xb)

    def train(key, record):
        _, params = nb.build(lambda r: nb.models.Network(arch, (5,), rngs=r), key)
        loss = lambda p, xb, yb, _k: nb.mse(apply(p, xb), yb)
        return nb.train_params(
            key, loss, params, nb.Split(x, y, 3), optimizer=optax.sgd(0.1), steps=12, batch_size=8, record=record
        )

    keys = jax.random.split(jax.random.key(1), 2)
    p_plain, l_plain = jax.jit(jax.vmap(lambda k: train(k, None)))(keys)
    p_rec, l_rec, rec = jax.jit(jax.vmap(lambda k: train(k, nb.Record(x[:7], (0, 5, 12), apply))))(keys)
    np.testing.assert_array_equal(l_plain, l_rec)
    jax.tree.map(np.testing.assert_array_equal, p_plain, p_rec)
    assert rec.shape == (2, 3, 7, 3)
    np.testing.assert_allclose(rec[:, -1], jax.vmap(apply, in_axes=(0, None))(p_rec, x[:7]), rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="strictly increasing"):
        train(keys[0], nb.Record(x, (3, 3), apply))
    with pytest.raises(ValueError, match=r"in \[0, 12\]"):
        train(keys[0], nb.Record(x, (0, 13), apply))


def test_linearize_is_the_first_order_taylor_expansion():
    apply = lambda p, x: jnp.sin(p["w"] * x) + p["b"]
    p0 = {"w": jnp.float32(0.7), "b": jnp.float32(0.1)}
    f_lin = nb.linearize(apply, p0)
    x = jnp.linspace(-1, 1, 5)
    p = {"w": jnp.float32(0.75), "b": jnp.float32(0.3)}
    expected = apply(p0, x) + jnp.cos(0.7 * x) * x * 0.05 + 0.2
    np.testing.assert_allclose(f_lin(p, x), expected, rtol=1e-5)


def test_empirical_gram_equals_the_explicit_jacobian_product():
    """Θ̂ = (1/C) Σ_c J_c J_cᵀ against J from `jax.jacfwd` on the flattened parameters; and the
    per-seed programme builds the network from the method key split as `fit_classifier` splits it."""
    from jax.flatten_util import ravel_pytree

    from ntkbench.engine.seeds import Timing
    from ntkbench.tasks.training_dynamics.entk import empirical_gram, empirical_grams

    x, _ = _toy(n=6, d=4, c=1)
    arch = nb.models.mlp(3, (8, 8))
    model = lambda rngs: nb.models.Network(arch, (4,), rngs=rngs)
    method_keys = jax.random.split(jax.random.key(2), 2)
    graphdef, params0 = nb.build(model, jax.random.split(method_keys[1])[0])
    flat0, unravel = ravel_pytree(params0)
    outputs = lambda flat: nnx.merge(graphdef, unravel(flat))(x)  # (n, C)
    jac = np.asarray(jax.jacfwd(outputs)(flat0), np.float64)  # (n, C, P)
    explicit = np.mean([jac[:, c] @ jac[:, c].T for c in range(3)], axis=0)
    apply = lambda p, xb: nnx.merge(graphdef, p)(xb)
    np.testing.assert_allclose(empirical_gram(apply, params0, x), explicit, rtol=1e-4, atol=1e-5)
    for vmap in (True, False):
        grams = empirical_grams(arch, x, method_keys, vmap, Timing())
        assert grams.shape == (2, 6, 6) and np.array_equal(grams[1], grams[1].T)
        np.testing.assert_allclose(grams[1], explicit, rtol=1e-4, atol=1e-5)
    assert not np.allclose(grams[0], grams[1], rtol=1e-2)  # each seed its own initialisation


def test_empirical_ntk_of_a_wide_mlp_approaches_the_infinite_width_kernel():
    """NTK parameterisation, one hidden layer: ‖Θ̂ − Θ‖ / ‖Θ‖ shrinks like 1/√width (measured over
    4 draws: 0.25 at width 64, 0.03 at 4096; top eigenvalue within ~1 % at 4096)."""
    from ntkbench.engine.seeds import Timing
    from ntkbench.tasks.training_dynamics.entk import empirical_grams
    from ntkbench.tasks.training_dynamics.ntk import grams

    x, _ = _toy(n=16, d=8, c=1)
    keys = jax.random.split(jax.random.key(1), 4)
    theta = grams(nb.models.mlp(1, (64,), parameterization="ntk"), x, x[:1])[0]  # the limit is width-free
    lam_max = np.linalg.eigvalsh(theta)[-1]
    gap, top = {}, {}
    for width in (64, 4096):
        empirical = empirical_grams(nb.models.mlp(1, (width,), parameterization="ntk"), x, keys, True, Timing())
        gap[width] = np.mean([np.linalg.norm(g - theta) / np.linalg.norm(theta) for g in empirical])
        top[width] = np.mean([abs(np.linalg.eigvalsh(g)[-1] - lam_max) / lam_max for g in empirical])
    assert gap[4096] < 0.06 and gap[4096] < gap[64] / 4
    assert top[4096] < 0.03


def test_decay_times_of_a_linear_model_are_the_predicted_ones():
    """Full-batch GD on a linear model f = Φw: its NTK is ΦΦᵀ exactly, so every eigen-component of
    the residual decays as (1 − ηλ/n)^t: measured τ = −1/ln(1 − ηλ/n) (≈ n/(ηλ)) band by band."""
    n, p, c = 32, 20, 2
    phi, y = _toy(n=n, d=p, c=c, seed=3)
    lam, v = spectral.eig_desc(np.asarray(phi @ phi.T))
    lr = 0.05 * n / lam[0]  # ηλ/n ≤ 0.05: the discrete and continuous times within 3 %
    checkpoints = spectral.log_checkpoints(4000, 60)
    w0 = 0.1 * jax.random.normal(jax.random.key(5), (p, c))
    apply = lambda w, xb: xb @ w
    loss = lambda w, xb, yb, _k: nb.mse(apply(w, xb), yb)
    _, _, out = nb.train_params(
        jax.random.key(0),
        loss,
        w0,
        nb.Split(phi, y, c),
        optimizer=optax.sgd(lr),
        steps=4000,
        batch_size=None,
        record=nb.Record(phi, checkpoints, apply),
    )
    r = np.asarray(out, np.float64) - np.asarray(y)[None]
    bands = spectral.log_bands(n, 4)  # 1, 2, 4, 8 directions: all inside the rank p = 20
    norms = spectral.band_norms(v, r, bands)
    proj0 = v.T @ r[0]
    for b, (lo, hi) in enumerate(bands):
        measured = spectral.decay_time(checkpoints, norms[:, b])
        predicted = spectral.predicted_decay_time(lam[lo:hi], proj0[lo:hi], lr, n)
        assert measured == pytest.approx(predicted, rel=2e-2 if hi - lo > 1 else 1e-3), b
    tau0 = -1.0 / math.log(1 - lr * lam[0] / n)
    assert spectral.predicted_decay_time(lam[:1], proj0[:1], lr, n) == pytest.approx(tau0, rel=1e-6)
    assert tau0 == pytest.approx(n / (lr * lam[0]), rel=0.03)
    speeds = [1 / spectral.decay_time(checkpoints, norms[:, b]) for b in range(4)]
    assert spectral.spearman([spectral.band_eigenvalue(lam, b) for b in bands], speeds) == 1.0


def test_predictions_follow_gradient_flow_and_end_at_kernel_regression():
    from ntkbench.kernels import gd_mse_predict
    from ntkbench.tasks.training_dynamics.ntk import predicted_test_outputs

    rng = np.random.default_rng(0)
    feats, feats_test, y = rng.normal(size=(20, 30)), rng.normal(size=(6, 30)), rng.normal(size=(20, 2))
    k_tt, k_st = feats @ feats.T / 30, feats_test @ feats.T / 30
    lr = 1e-3 * 20 / np.linalg.eigvalsh(k_tt)[-1]  # ηλ/n ≤ 1e-3: GD steps ≈ gradient flow
    ts = np.array([0, 300, 30000])
    ours = predicted_test_outputs(k_tt, k_st, y, lr, ts)
    flow = np.asarray(
        gd_mse_predict(jnp.asarray(k_tt), jnp.asarray(y), jnp.asarray(k_st), jnp.asarray(ts, float), lr=lr)
    )
    np.testing.assert_allclose(ours, flow, rtol=2e-3, atol=1e-4)
    krr = k_st @ np.linalg.solve(k_tt, y)
    np.testing.assert_allclose(
        predicted_test_outputs(k_tt, k_st, y, 0.5 * 20 / np.linalg.eigvalsh(k_tt)[-1], [10**6])[0],
        krr,
        rtol=1e-6,
        atol=1e-8,
    )
    f0_train, f0_test = rng.normal(size=(20, 2)), rng.normal(size=(6, 2))
    from_init = predicted_test_outputs(k_tt, k_st, y, lr, ts, f0_train, f0_test)
    np.testing.assert_allclose(from_init[0], f0_test)
    np.testing.assert_allclose(
        from_init - ours, f0_test - predicted_test_outputs(k_tt, k_st, f0_train, lr, ts), atol=1e-12
    )


def test_measurement_helpers():
    steps = [0, 1, 2, 4, 8]
    assert spectral.decay_time(steps, np.exp(-np.array(steps) / 3.0)) == pytest.approx(3.0)
    assert spectral.decay_time(steps, [1.0, 0.9, 0.8, 0.7, 0.6]) is None
    assert spectral.steps_to(steps, [10, 20, 30, 40, 50], 35) == pytest.approx(math.expm1(0.5 * math.log(15)))
    assert spectral.steps_to(steps, [10, 20, 30, 40, 50], 60) is None
    assert spectral.log_checkpoints(1000, 5) == (0, 1, 10, 100, 1000)
    assert spectral.log_bands(100, 3) == [(0, 1), (1, 3), (3, 7)]
    assert spectral.low_before_high([1.0, 5.0, None]) == 1.0 and spectral.low_before_high([5.0, 1.0]) == 0.0
    assert spectral.fit_exponent([1, 2, 4], [3.0, 12.0, 48.0]) == pytest.approx(2.0)
    theta = 2 * np.pi * (np.arange(16) + 0.5) / 16
    amps = spectral.mode_amplitudes(theta, 0.3 * np.cos(2 * theta + 1) + 0.1 * np.sin(5 * theta), [1, 2, 5])
    np.testing.assert_allclose(amps, [0.0, 0.3, 0.1], atol=1e-12)


def test_fourier1d_is_a_known_target_on_regular_grids():
    ds = load_dataset("fourier1d")
    assert ds.x_train.shape == (4096, 40, 1) and ds.x_test.shape == (1024, 40, 1) and ds.num_classes == 2
    theta = fourier_angle(ds.x_train[:8])
    np.testing.assert_allclose(np.sort(theta), 2 * np.pi * (np.arange(8) * 512 + 0.5) / 4096, atol=1e-5)
    parts = fourier_components(ds.x_test, ds.meta)
    assert parts.shape == (1024, 4) and ((parts.sum(1) > 0) == ds.y_test).all()
    assert not set(np.round(fourier_angle(ds.x_test), 6)) & set(np.round(fourier_angle(ds.x_train), 6))


def test_sphere3_is_a_known_target_of_spherical_harmonics():
    """Zonal harmonics of degrees 1, 2, 4, 8 on uniform points of the sphere: each of mean square
    a², mutually orthogonal (Monte Carlo over the 4096 training points), summing to the target
    whose sign is the label; least squares on the columns recovers each degree's share."""
    ds = load_dataset("sphere3")
    assert ds.x_train.shape == (4096, 3) and ds.x_test.shape == (1024, 3) and ds.num_classes == 2
    np.testing.assert_allclose((ds.x_train**2).sum(1), 3.0, rtol=1e-5)
    parts = zonal_components(ds.x_train, ds.meta)
    gram = parts.T @ parts / len(parts) / ds.meta["amplitude"] ** 2  # ≈ I
    np.testing.assert_allclose(np.diag(gram), 1.0, atol=0.1)
    assert np.abs(gram - np.diag(np.diag(gram))).max() < 0.1
    assert ((zonal_components(ds.x_test, ds.meta).sum(1) > 0) == ds.y_test).all()
    mix = parts @ np.array([1.0, 0.5, -0.25, 0.0])
    np.testing.assert_allclose(spectral.component_coefficients(parts, mix[None]), [[1.0, 0.5, 0.25, 0.0]], atol=1e-9)


def test_sphere3_degrees_are_fitted_low_before_high(tmp_path):
    """The controlled dataset in three dimensions: the wide NTK-parameterised MLP fits the
    spherical-harmonic degrees in order, as its infinite-width NTK predicts (eigenvalues falling
    with the degree)."""
    budget = {
        "n": 256,
        "test_points": 64,
        "steps": 1500,
        "checkpoints": 16,
        "bands": 3,
        "gap_widths": [],
        "flops": False,
    }
    budget |= {"empirical_ntk": False}
    (rec,), (path,) = _run(tmp_path, "sphere3", "mlp-ntk", budget, params={"mlp-ntk": {"width": 128}})
    assert rec["status"] == "ok", rec["error"]
    assert validate_result_file(path) == []
    m = rec["metrics"]
    assert m["low_before_high"]["mean"] == 1.0
    assert m["steps_to_fit@k=1"]["mean"] < m["steps_to_fit@k=2"]["mean"] < m["steps_to_fit@k=4"]["mean"]
    assert m["ntk_steps_to_fit@k=1"]["mean"] < m["ntk_steps_to_fit@k=2"]["mean"] < m["ntk_steps_to_fit@k=4"]["mean"]


@pytest.fixture
def linear_method():
    """A linear model in NTK parameterisation (no hidden layer): the task's kernel is its exact NTK."""
    arch_fn = lambda num_outputs: nb.models.mlp(num_outputs, (), parameterization="ntk")

    def linear(key, data):
        model = lambda rngs: nb.models.Network(arch_fn(data.num_outputs), data.input_shape, rngs=rngs)
        return nb.fit_classifier(
            key,
            model,
            data.split(),
            optimizer=optax.sgd(data.lr),
            steps=data.steps,
            batch_size=None,
            loss=nb.mse,
            record=data.record(),
        )[1]

    spec = MethodSpec("linear", "training_dynamics", linear, "1", {}, "tests", __name__, extras={"arch": arch_fn})
    with METHODS.temporary(("training_dynamics", "linear"), spec):
        yield spec


def _run(tmp_path, datasets, methods, budget, params=None, seeds=2):
    runs = expand_suite(
        {
            "seeds": seeds,
            "runs": [
                {
                    "task": "training_dynamics",
                    "datasets": datasets,
                    "methods": methods,
                    "budget": budget,
                    "params": params or {},
                }
            ],
        },
        where="t",
    )
    outcomes = execute(runs, tmp_path, InProcess())
    return [read_result(o.path) for o in outcomes], [o.path for o in outcomes]


def test_linear_model_through_the_harness_matches_its_kernel_exactly(tmp_path, linear_method):
    budget = {
        "n": 32,
        "test_points": 50,
        "steps": 300,
        "checkpoints": 40,
        "bands": 3,
        "targets": [20.0],
        "gap_widths": [],
        "lr_scale": 0.2,
    }
    (rec,), _ = _run(tmp_path, "mnist1d", "linear", budget)
    assert rec["status"] == "ok", rec["error"]
    m = rec["metrics"]
    assert m["tau_ratio@band=0"]["mean"] == pytest.approx(1.0, abs=2e-3)
    assert m["tau_ratio_median"]["mean"] == pytest.approx(1.0, abs=0.03)
    assert m["spearman_speed"]["mean"] == 1.0
    assert rec["lr"] == pytest.approx(0.2 * 32 / rec["ntk"]["top_eigenvalues"][0])
    # no hidden layer: J Jᵀ is x·x'/d + β² on every output, so the empirical NTK (trace over the 10
    # outputs ÷ 10) is the infinite-width one for every seed, and so are its scores
    for top in rec["ntk"]["empirical"]["top_eigenvalues"]:
        np.testing.assert_allclose(top, rec["ntk"]["top_eigenvalues"], rtol=1e-4)
    assert m["entk_tau_ratio@band=0"]["mean"] == pytest.approx(1.0, abs=2e-3)
    assert m["entk_spearman_speed"]["mean"] == 1.0


def test_linearised_network_matches_its_empirical_ntk_prediction(tmp_path):
    """`linearised-mlp` (C = 1 on fourier1d) is GD on the first-order expansion of the network the
    task rebuilds from the seed's key: its residual decays exactly as the eNTK predicts, band by band."""
    budget = {
        "n": 32,
        "test_points": 16,
        "steps": 400,
        "checkpoints": 60,
        "bands": 4,
        "gap_widths": [],
        "flops": False,
    }
    (rec,), _ = _run(tmp_path, "fourier1d", "linearised-mlp", budget, params={"linearised-mlp": {"width": 32}})
    assert rec["status"] == "ok", rec["error"]
    m = rec["metrics"]
    assert m["entk_tau_ratio@band=0"]["per_seed"] == pytest.approx([1.0, 1.0], abs=2e-3)
    assert m["entk_tau_ratio_median"]["per_seed"] == pytest.approx([1.0, 1.0], abs=1e-2)
    assert m["entk_spearman_speed"]["mean"] == 1.0
    # the infinite-width kernel at width 32 is a worse account of the same run
    assert abs(m["tau_ratio_median"]["mean"] - 1.0) > abs(m["entk_tau_ratio_median"]["mean"] - 1.0)


def test_task_end_to_end_writes_metrics_and_figures(tmp_path):
    budget = {
        "n": 32,
        "test_points": 32,
        "steps": 200,
        "checkpoints": 12,
        "bands": 3,
        "gap_widths": [8, 32],
        "gap_steps": 20,
        "fit_threshold": 0.3,
    }
    records, paths = _run(tmp_path, "fourier1d", "mlp-ntk", budget, params={"mlp-ntk": {"width": 64}})
    for rec, path in zip(records, paths):
        assert rec["status"] == "ok", rec["error"]
        assert validate_result_file(path) == []
        m = rec["metrics"]
        for name in (
            "spearman_speed",
            "tau_ratio_median",
            "tau@band=2",
            "ntk_tau@band=2",
            "entk_spearman_speed",
            "entk_tau_ratio_median",
            "entk_tau_ratio@band=2",
            "entk_tau@band=2",
            "entk_pred_tau@band=2",
            "steps_to_fit@k=1",
            "ntk_steps_to_fit@k=8",
            "low_before_high",
            "frequency_exponent",
            "flops_per_step",
            "linearisation_gap@width=8",
            "linearisation_gap@width=32",
        ):
            assert name in m, name
            assert TASK.metric_spec(name) is not None, name
        assert m["steps_to_fit@k=1"]["mean"] < m["steps_to_fit@k=4"]["mean"]  # low frequencies first
        assert m["flops_per_step"]["mean"] > 0
        assert len(rec["checkpoints"]) == 12 and len(rec["curves"]["band_residual"]) == 3
    kinds = {c.kind for c in TASK.figures(records)}
    assert {"scatter", "line", "table"} <= kinds


def test_classification_view_reports_steps_to_target(tmp_path):
    budget = {
        "n": 40,
        "test_points": 100,
        "steps": 60,
        "checkpoints": 8,
        "bands": 3,
        "targets": [11.0, 99.0],
        "gap_widths": [],
        "lr_scale": 1.0,
        "empirical_ntk": False,
    }
    (rec,), _ = _run(tmp_path, "mnist1d", "mlp-gd", budget, params={"mlp-gd": {"width": 16}}, seeds=1)
    assert rec["status"] == "ok", rec["error"]
    assert not [k for k in rec["metrics"] if k.startswith("entk_")] and "empirical" not in rec["ntk"]
    assert "spearman_speed" in rec["metrics"]
    m, curve = rec["metrics"], rec["curves"]["test_acc"]
    assert len(curve) == len(rec["checkpoints"]) == 8 and m["test_acc@final"]["mean"] == pytest.approx(curve[-1])
    for target in (11, 99):
        reached = m[f"steps_to@{target}"]["mean"]
        assert (reached is None) == (max(curve) < target)
        if reached is not None:
            assert m[f"flops_to@{target}"]["mean"] == pytest.approx(reached * m["flops_per_step"]["mean"])
    assert m["steps_to@99"]["mean"] is None and m["ntk_steps_to@99"]["mean"] is None
    # censored at the run's 60 steps, with how many seeds got there: never a number
    assert m["steps_to@99"]["censored"] == {"side": "above", "bound": 60, "reached": 0, "of": 1}
    assert m["ntk_steps_to@99"]["censored"]["bound"] == 60 and m["flops_to@99"]["censored"]["reached"] == 0
    assert metric_errors(rec, "run") == []
    assert len(rec["curves"]["ntk_test_acc"]["steps"]) == len(rec["curves"]["ntk_test_acc"]["acc"]) > 10


def test_linearised_method_starts_where_the_network_starts_and_stays_close_when_wide():
    from ntkbench.methods.training_dynamics import linearised_mlp, mlp_ntk

    x, y = _toy(n=16, d=6, c=2)
    data = nb.DynamicsData(x, y, x, (0, 5, 20), 0.5)
    net = mlp_ntk(jax.random.key(0), data, width=1024, depth=1)
    lin = linearised_mlp(jax.random.key(0), data, width=1024, depth=1)
    np.testing.assert_allclose(net[0], lin[0], rtol=1e-6)
    assert float(jnp.linalg.norm(net[-1] - lin[-1]) / jnp.linalg.norm(lin[-1])) < 0.05
    assert float(jnp.linalg.norm(lin[-1] - y)) < float(jnp.linalg.norm(lin[0] - y))  # it trains


@pytest.mark.parametrize(
    "budget, field",
    [
        ({"lr_scale": 2.5}, "lr_scale"),
        ({"n": 0}, "n"),
        ({"checkpoints": 1}, "checkpoints"),
        ({"fit_threshold": "0.1"}, "fit_threshold"),
        ({"gap_widths": [0]}, "gap_widths[0]"),
    ],
)
def test_bad_budget_values_name_the_field(budget, field):
    with pytest.raises(ValueError, match=re.escape(f"budget field '{field}'")):
        TASK.resolve_budget(budget)


@pytest.mark.parametrize("budget, field", [({"test_points": 2000}, "test_points"), ({"n": 16, "bands": 6}, "bands")])
def test_budget_values_impossible_for_the_dataset_fail_the_run_naming_the_field(tmp_path, budget, field):
    (rec,), _ = _run(tmp_path, "mnist1d", "mlp-gd", budget, seeds=1)
    assert rec["status"] == "failed" and f"budget field '{field}'" in rec["error"]


def test_more_training_examples_than_the_dataset_has_are_refused_naming_the_field(tmp_path):
    # mnist1d's size is known before it loads: the suite is refused when it is read
    with pytest.raises(SuiteError, match="budget field 'n': 5000 exceeds the 4000 training examples of 'mnist1d'"):
        _run(tmp_path, "mnist1d", "mlp-gd", {"n": 5000}, seeds=1)
    # a dataset known only once loaded: the task refuses it before anything compiles
    with pytest.raises(ValueError, match="budget field 'n': 5000 exceeds the 4000 training examples"):
        check_budget(TASK.typed_budget("mnist1d", {"n": 5000}), 4000, 1000)


def test_wrong_output_shape_is_a_contract_error(tmp_path):
    def bad(key, data):
        return jnp.zeros((len(data.checkpoints), 3, data.num_outputs))

    spec = MethodSpec("bad", "training_dynamics", bad, "1", {}, "tests", __name__)
    with METHODS.temporary(("training_dynamics", "bad"), spec):
        (rec,), _ = _run(
            tmp_path,
            "mnist1d",
            "bad",
            {"n": 20, "test_points": 10, "steps": 5, "checkpoints": 4, "bands": 2, "lr": 0.1},
            seeds=1,
        )
    assert rec["status"] == "failed" and "expected (4, 30, 10)" in rec["error"]


def test_a_method_without_an_arch_hook_gets_no_kernel_scores(tmp_path):
    def zeros(key, data):  # no arch= hook: no kernel, no predictions, empirical or not
        return jnp.zeros((len(data.checkpoints), data.probe.shape[0], data.num_outputs)) + data.y.mean()

    spec = MethodSpec("zeros", "training_dynamics", zeros, "1", {}, "tests", __name__)
    with METHODS.temporary(("training_dynamics", "zeros"), spec):
        (rec,), _ = _run(
            tmp_path,
            "mnist1d",
            "zeros",
            {"n": 20, "test_points": 10, "steps": 5, "checkpoints": 4, "bands": 2, "lr": 0.1},
            seeds=1,
        )
    assert rec["status"] == "ok", rec["error"]
    assert not [k for k in rec["metrics"] if "tau" in k or "spearman" in k] and "empirical" not in rec["ntk"]
