"""Tests of ntkbench.attacks: feasibility, strength on a trained model, DLR formula, gradient-masking
detection, bounds checking. Tiny models and generated data; the whole file runs in ~1 minute on
2 CPU cores."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from jax.tree_util import Partial

import ntkbench.attacks as A
from ntkbench.attacks import evaluate as E

C = 5


# ---------------------------------------------------------------------------- models and data
def mlp_init(key, d, h, c):
    k1, k2 = jax.random.split(key)
    return dict(
        W1=jax.random.normal(k1, (d, h)) * jnp.sqrt(2.0 / d),
        b1=jnp.zeros(h),
        W2=jax.random.normal(k2, (h, c)) / jnp.sqrt(h),
        b2=jnp.zeros(c),
    )


def mlp_apply(p, x):
    h = jax.nn.relu(x.reshape(x.shape[0], -1) @ p["W1"] + p["b1"])
    return h @ p["W2"] + p["b2"]


def templates(shape):
    return jax.random.uniform(jax.random.PRNGKey(123), (C,) + shape, minval=0.25, maxval=0.75)


def blobs(key, n, shape=(16, 2), noise=0.15):
    """C classes = C fixed random templates in [0.25, 0.75]^d plus Gaussian noise, clipped to [0, 1]."""
    ky, kn = jax.random.split(key)
    y = jax.random.randint(ky, (n,), 0, C)
    x = jnp.clip(templates(shape)[y] + noise * jax.random.normal(kn, (n,) + shape), 0.0, 1.0)
    return x, y


@pytest.fixture(scope="module")
def trained():
    """A 1-hidden-layer ReLU MLP trained on generated 1-D signals (B, 16, 2); ~100% clean."""
    xtr, ytr = blobs(jax.random.PRNGKey(0), 1000)
    xte, yte = blobs(jax.random.PRNGKey(1), 300)
    p = mlp_init(jax.random.PRNGKey(2), 32, 64, C)
    opt = optax.adam(1e-2)
    s = opt.init(p)

    @jax.jit
    def step(p, s):
        g = jax.grad(lambda p: optax.softmax_cross_entropy_with_integer_labels(mlp_apply(p, xtr), ytr).mean())(p)
        u, s = opt.update(g, s)
        return optax.apply_updates(p, u), s

    for _ in range(200):
        p, s = step(p, s)
    return Partial(mlp_apply, p), xte, yte


FAST = {
    "pgd": dict(steps=10, restarts=2),
    "apgd-ce": dict(n_iter=10, restarts=2),
    "apgd-dlr": dict(n_iter=10),
    "apgd-t": dict(n_iter=10, n_target_classes=3),
    "random-search": dict(n_queries=20),
}


def run_attack(name, fn, x, y, threat, key, **kw):
    return A.ATTACKS[name](fn, x, y, threat, key, **{**FAST.get(name, {}), **kw})


# ---------------------------------------------------------------------------- threat model
@pytest.mark.parametrize("norm", ["linf", "l2"])
def test_project_and_contains(norm):
    th = A.ThreatModel(norm, 0.3)
    key = jax.random.PRNGKey(0)
    x = jax.random.uniform(key, (8, 5, 3))
    far = x + 3.0 * jax.random.normal(jax.random.PRNGKey(1), x.shape)
    assert not np.asarray(th.contains(far, x)).any()
    proj = th.project(far, x)
    assert np.asarray(th.contains(proj, x, tol=1e-6)).all()
    assert np.all(np.asarray(th.distance(proj, x)) <= 0.3 * (1 + 1e-6))
    # Already feasible points are left alone.
    inside = th.random_in_ball(jax.random.PRNGKey(2), x)
    np.testing.assert_allclose(th.project(inside, x), inside, atol=1e-6)
    # One point pushed just outside the ball (1% beyond eps, inside the box) is caught, alone.
    x_mid = jnp.full((4, 10), 0.5)
    direction = jnp.zeros((4, 10)).at[2, 0].set(1.0)
    pushed = x_mid + 0.3 * 1.01 * direction
    np.testing.assert_array_equal(th.contains(pushed, x_mid), [True, True, False, True])
    # Box violations (within the ball) and NaNs are caught too; tiny float slack is not.
    wide = A.ThreatModel(norm, 0.6)
    np.testing.assert_array_equal(wide.contains(x_mid.at[1, 3].set(1.0 + 1e-3), x_mid), [True, False, True, True])
    np.testing.assert_array_equal(wide.contains(x_mid.at[1, 3].set(1.0 + 1e-7), x_mid), [True, True, True, True])
    assert not bool(th.contains(x_mid.at[0, 0].set(jnp.nan), x_mid)[0])


def test_threat_model_validation_and_unbounded_box():
    with pytest.raises(ValueError):
        A.ThreatModel("l1", 0.1)
    with pytest.raises(ValueError):
        A.ThreatModel("linf", 0.0)
    th = A.ThreatModel("linf", 0.5, lower=-jnp.inf, upper=jnp.inf)
    x = 10.0 * jax.random.normal(jax.random.PRNGKey(0), (4, 6))
    p = th.project(x + 2.0, x)
    np.testing.assert_allclose(p, x + 0.5, atol=1e-5)
    assert np.asarray(th.contains(p, x)).all()
    # Float slack scales with |x|: x = 1000 ± eps rounds by ~6e-5 in float32.
    big = jnp.full((2, 3), 1000.0)
    assert np.asarray(th.contains(th.project(big + 1.0, big), big)).all()
    assert not np.asarray(th.contains(big + 0.51, big)).any()


# ---------------------------------------------------------------------------- feasibility (property)
@pytest.mark.parametrize(
    "norm,eps,shape", [("linf", 0.1, (12, 2)), ("l2", 0.5, (6, 6, 1))], ids=["linf-signal", "l2-image"]
)
def test_every_attack_stays_in_ball_and_box(norm, eps, shape):
    """Random MLPs, random inputs with many coordinates exactly on the box faces, large weights
    (steep losses): every attack's output is inside the eps-ball ∩ [0, 1]."""
    th = A.ThreatModel(norm, eps)
    d = int(np.prod(shape))
    for seed in range(3):  # same shapes: compiled once, params are traced (Partial)
        k = jax.random.split(jax.random.PRNGKey(seed), 4)
        p = mlp_init(k[0], d, 16, C)
        p = jax.tree.map(lambda a: a * (1.0 + 4.0 * seed), p)
        fn = Partial(mlp_apply, p)
        x = jax.random.uniform(k[1], (7,) + shape, minval=-0.3, maxval=1.3).clip(0.0, 1.0)
        y = jax.random.randint(k[2], (7,), 0, C)
        for name in A.ATTACKS:
            xa = run_attack(name, fn, x, y, th, k[3])
            assert xa.shape == x.shape and xa.dtype == x.dtype
            inside = np.asarray(th.contains(xa, x, tol=1e-5))
            assert inside.all(), (name, seed, np.asarray(th.distance(xa, x)))
            assert float(xa.min()) >= 0.0 and float(xa.max()) <= 1.0, name


def test_attacks_deterministic_given_key(trained):
    fn, x, y = trained
    th = A.ThreatModel("linf", 0.1)
    a = A.pgd(fn, x[:20], y[:20], th, jax.random.PRNGKey(5), steps=5)
    b = A.pgd(fn, x[:20], y[:20], th, jax.random.PRNGKey(5), steps=5)
    np.testing.assert_array_equal(a, b)


# ---------------------------------------------------------------------------- strength
@pytest.mark.parametrize("norm,eps", [("linf", 0.1), ("l2", 0.5)])
def test_attacks_reduce_accuracy_and_worst_case(trained, norm, eps):
    fn, x, y = trained
    r = A.evaluate_attacks(
        fn,
        x,
        y,
        A.ThreatModel(norm, eps),
        jax.random.PRNGKey(3),
        attacks=("fgsm", "pgd", "apgd-ce", "apgd-t", "random-search"),
        batch_size=128,
    )  # 300 points: 3 batches, the last one padded
    acc, c = r.accs, r.correct
    assert acc["clean"] >= 95.0
    for name in ("fgsm", "pgd", "apgd-ce", "apgd-t"):
        assert acc[name] <= acc["clean"] - 30.0, (name, acc)
        assert acc["robust"] <= acc[name]
        assert not (c[name] & ~c["clean"]).any()
        assert c[name].shape == (300,) and c[name].dtype == bool
    expected = c["clean"] & c["fgsm"] & c["pgd"] & c["apgd-ce"] & c["apgd-t"] & c["random-search"]
    np.testing.assert_array_equal(c["robust"], expected)
    assert all(isinstance(v, float) for v in acc.values())
    assert r.zero_grad_frac == 0.0
    assert r.flags == [], r.flags  # a smooth, honestly attacked model raises no flag
    m = r.metrics()
    assert set(m) >= {
        "clean_acc",
        "robust_acc@fgsm",
        "robust_acc@pgd",
        "robust_acc@apgd-ce",
        "robust_acc@apgd-t",
        "robust_acc",
    }


@pytest.mark.parametrize("norm,eps", [("linf", 0.1), ("l2", 0.5)])
def test_apgd_at_least_as_strong_as_pgd(trained, norm, eps):
    """Per point: the APGD attacks (CE and targeted DLR, AutoAttack's pair) miss almost nothing
    that PGD finds, and find at least as much that PGD misses."""
    fn, x, y = trained
    r = A.evaluate_attacks(
        fn, x, y, A.ThreatModel(norm, eps), jax.random.PRNGKey(7), attacks=("pgd", "apgd-ce", "apgd-t"), batch_size=128
    )
    c = r.correct
    apgd_robust = c["apgd-ce"] & c["apgd-t"]
    only_pgd = int((apgd_robust & ~c["pgd"]).sum())  # PGD fooled, APGD did not
    only_apgd = int((c["pgd"] & ~apgd_robust).sum())  # APGD fooled, PGD did not
    assert only_pgd <= 3, (only_pgd, only_apgd)  # <= 1% of 300
    assert only_apgd >= only_pgd
    assert r.accs["apgd-t"] <= r.accs["pgd"] and r.accs["apgd-ce"] <= r.accs["pgd"] + 1.0


# ---------------------------------------------------------------------------- losses and schedule
def test_dlr_matches_formula_on_hand_example():
    z = jnp.array(
        [
            [1.0, 3.0, 2.0, 0.5],  # y=0 misclassified: z_π1=3, z_π3=1
            [1.0, 3.0, 2.0, 0.5],
        ]
    )  # y=1 correct: max other = 2
    y = jnp.array([0, 1])
    # DLR = −(z_y − max_{j≠y} z_j) / (z_π1 − z_π3)
    np.testing.assert_allclose(A.dlr(z, y), [-(1 - 3) / (3 - 1), -(3 - 2) / (3 - 1)], rtol=1e-6)
    # Targeted: −(z_y − z_t) / (z_π1 − (z_π3 + z_π4)/2), here z_π3 = 1, z_π4 = 0.5
    t = jnp.array([2, 2])
    np.testing.assert_allclose(A.dlr_targeted(z, y, t), [-(1 - 2) / (3 - 0.75), -(3 - 2) / (3 - 0.75)], rtol=1e-6)
    # Invariant to shifting and positive scaling of the logits.
    np.testing.assert_allclose(A.dlr(7.0 * z - 4.0, y), A.dlr(z, y), rtol=1e-5)
    np.testing.assert_allclose(A.margin(z, y), [-2.0, 1.0])
    with pytest.raises(ValueError):
        A.dlr(z[:, :2], y)


def test_apgd_checkpoints_follow_the_paper():
    def paper(n):
        p = [0.0, 0.22]
        while p[-1] + max(p[-1] - p[-2] - 0.03, 0.06) <= 1.0:
            p.append(p[-1] + max(p[-1] - p[-2] - 0.03, 0.06))
        return [round(q * n) for q in p[1:]]

    assert A.checkpoints(100) == paper(100) == [22, 41, 57, 70, 80, 87, 93, 99]


# ---------------------------------------------------------------------------- gradient masking
def test_gradient_masking_is_flagged():
    """A linear classifier on round(x): its input gradient is exactly zero everywhere, yet at
    eps = 0.22 one can push any coordinate across its rounding threshold. FGSM cannot move and
    the gradient attacks only keep their random start, while a gradient-free random search
    breaks most points: the evaluation must flag it. The same classifier without the rounding
    (smooth) is not flagged."""
    shape, n = (32,), 100
    bits = (jax.random.uniform(jax.random.PRNGKey(9), (C,) + shape) > 0.5).astype(jnp.float32)
    W = (2.0 * bits - 1.0).reshape(C, -1).T  # template matching
    y = jax.random.randint(jax.random.PRNGKey(10), (n,), 0, C)
    x = jnp.clip(0.3 + 0.4 * bits[y] + 0.01 * jax.random.normal(jax.random.PRNGKey(11), (n,) + shape), 0, 1)
    masked = lambda xa: jnp.round(xa).reshape(xa.shape[0], -1) @ W
    smooth = lambda xa: (2.0 * xa - 1.0).reshape(xa.shape[0], -1) @ W
    th = A.ThreatModel("linf", 0.22)
    attacks = ("fgsm", "pgd", "apgd-ce", "apgd-t", "random-search")
    kw = {"random-search": dict(n_queries=200)}

    r = A.evaluate_attacks(masked, x, y, th, jax.random.PRNGKey(0), attacks=attacks, attack_kwargs=kw)
    assert r.accs["clean"] == 100.0
    assert r.accs["fgsm"] == 100.0  # zero gradient: FGSM finds nothing
    assert r.zero_grad_frac == 1.0
    assert r.accs["random-search"] <= 10.0 and r.accs["apgd-t"] >= r.accs["random-search"] + 50.0
    assert any(f.startswith("possibly-unreliable: random-search beats") for f in r.flags), r.flags
    assert any("zero input gradient at 100.0% of points" in f for f in r.flags), r.flags
    # The honest worst case still counts the gradient-free attack's successes.
    assert r.accs["robust"] <= r.accs["random-search"]

    r_smooth = A.evaluate_attacks(smooth, x, y, th, jax.random.PRNGKey(0), attacks=attacks, attack_kwargs=kw)
    assert r_smooth.flags == [], r_smooth.flags
    assert r_smooth.accs["apgd-t"] <= r_smooth.accs["random-search"]


def test_reliability_flag_rules():
    f = A.reliability_flags({"fgsm": 40.0, "pgd": 55.0, "apgd-ce": 50.0, "apgd-t": 49.0})
    assert f == [
        "possibly-unreliable: fgsm beats pgd (40.00% < 55.00%)",
        "possibly-unreliable: fgsm beats apgd-ce (40.00% < 50.00%)",
        "possibly-unreliable: fgsm beats apgd-t (40.00% < 49.00%)",
    ]
    assert A.reliability_flags({"fgsm": 60.0, "pgd": 50.0, "apgd-ce": 49.0, "apgd-t": 48.0}) == []
    # apgd-ce <= apgd-t in strength; result-file metric names are accepted.
    f = A.reliability_flags({"clean_acc": 90.0, "robust_acc@apgd-ce": 40.0, "robust_acc@apgd-t": 45.0})
    assert f == ["possibly-unreliable: apgd-ce beats apgd-t (40.00% < 45.00%)"]
    # Differences within tol (percentage points) are noise.
    assert A.reliability_flags({"fgsm": 49.8, "pgd": 50.0}) == []
    assert A.reliability_flags({"fgsm": 49.8, "pgd": 50.0}, tol=0.0) != []
    # Robust accuracy rising with eps.
    f = A.reliability_flags({}, eps_curve={0.1: 60.0, 0.3: 20.0, 0.2: 35.0})
    assert f == []
    f = A.reliability_flags({}, eps_curve={0.1: 60.0, 0.2: 35.0, 0.3: 42.0})
    assert f == ["possibly-unreliable: robust accuracy rises with eps (35.00% at eps=0.2 -> 42.00% at eps=0.3)"]
    assert A.reliability_flags({"clean": 50.0, "pgd": 60.0}) == [
        "possibly-unreliable: pgd above clean accuracy (60.00% > 50.00%)"
    ]
    assert A.reliability_flags({}, zero_grad_frac=0.5)[0].startswith("possibly-unreliable: zero input gradient")


def test_eps_sweep_on_trained_model_is_monotone(trained):
    fn, x, y = trained
    curve = A.eps_sweep(
        fn,
        x[:100],
        y[:100],
        A.ThreatModel("linf", 0.1),
        jax.random.PRNGKey(0),
        [0.0125, 0.05, 0.1, 0.2],
        attacks=("pgd",),
        attack_kwargs={"pgd": dict(steps=20)},
    )
    vals = [curve[e] for e in sorted(curve)]
    assert vals == sorted(vals, reverse=True) and vals[-1] == 0.0, curve
    assert A.reliability_flags({}, eps_curve=curve) == []


# ---------------------------------------------------------------------------- bug detector
def test_point_outside_the_ball_raises(trained, monkeypatch):
    fn, x, y = trained
    th = A.ThreatModel("linf", 0.1)

    def leaky(fn, xb, yb, threat, key):  # a "bug": one point 1% beyond eps
        xa = threat.project(xb + threat.eps, xb)
        return xa.at[3].set(jnp.clip(xb[3] + 1.01 * threat.eps, xb[3] + 1.01 * threat.eps, None))

    monkeypatch.setitem(E.ATTACKS, "leaky", leaky)
    x_mid = jnp.full((8,) + x.shape[1:], 0.5)
    with pytest.raises(A.AttackBoundsError, match="leaky: 1 of 8 .* point 3"):
        A.evaluate_attacks(fn, x_mid, y[:8], th, jax.random.PRNGKey(0), attacks=("leaky",))
    with pytest.raises(ValueError, match="outside the box"):
        A.evaluate_attacks(fn, x_mid + 1.0, y[:8], th, jax.random.PRNGKey(0), attacks=("fgsm",))


# ---------------------------------------------------------------------------- API details
def test_nnx_model_and_api_errors():
    from flax import nnx

    from ntkbench import models

    net = models.Network(models.mlp(C, (16,)), (6, 6, 1), rngs=nnx.Rngs(0))
    x = jax.random.uniform(jax.random.PRNGKey(0), (9, 6, 6, 1))
    y = jnp.argmax(net(x), -1)
    th = A.ThreatModel("l2", 0.5)
    a = A.apgd(A.nnx_logits_fn(net), x, y, th, jax.random.PRNGKey(1), n_iter=5)
    b = A.apgd(lambda xa: net(xa), x, y, th, jax.random.PRNGKey(1), n_iter=5)
    np.testing.assert_allclose(a, b, atol=1e-5)
    assert np.asarray(th.contains(a, x)).all()
    r = A.evaluate_attacks(A.nnx_logits_fn(net), x, y, th, jax.random.PRNGKey(1), attacks=("fgsm",), batch_size=4)
    assert r.correct["fgsm"].shape == (9,) and r.accs["clean"] == 100.0
    two_class = lambda xa: xa.reshape(xa.shape[0], -1)[:, :2]
    with pytest.raises(ValueError, match="4 classes"):
        A.apgd_t(two_class, x, y % 2, th, jax.random.PRNGKey(0))
    with pytest.raises(ValueError, match="unknown attacks"):
        A.evaluate_attacks(two_class, x, y % 2, th, jax.random.PRNGKey(0), attacks=("cw",))


def test_an_eps_sweep_compiles_each_attack_once():
    """eps is a leaf of the ThreatModel pytree, not a static argument: every strength of a sweep
    runs the same compiled PGD and APGD programs."""
    import sys

    gradient, apgd = (sys.modules[f"ntkbench.attacks.{m}"] for m in ("gradient", "apgd"))  # the modules
    k = jax.random.split(jax.random.PRNGKey(3), 3)
    fn = Partial(mlp_apply, mlp_init(k[0], 24, 16, C))
    x = jax.random.uniform(k[1], (7, 12, 2))
    y = jax.random.randint(k[2], (7,), 0, C)
    before = gradient._pgd._cache_size(), apgd._apgd._cache_size()
    for eps in (0.01, 0.05, 0.1, 0.3):
        th = A.ThreatModel("linf", eps)
        assert np.asarray(th.contains(A.pgd(fn, x, y, th, k[0], steps=3), x, tol=1e-5)).all()
        assert np.asarray(th.contains(A.apgd(fn, x, y, th, k[0], n_iter=3), x, tol=1e-5)).all()
    assert (gradient._pgd._cache_size(), apgd._apgd._cache_size()) == (before[0] + 1, before[1] + 1)
