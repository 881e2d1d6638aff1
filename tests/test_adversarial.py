"""The adversarial task: threat models, metrics and flags end to end, the method contract, the
reference methods and the NTK view, on tiny generated images (no download)."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from flax import nnx

import ntkbench as nb
from ntkbench.attacks import ThreatModel
from ntkbench.data.base import Dataset
from ntkbench.registry import MethodSpec, _declared_params, get_method
from ntkbench.tasks import get_task
from ntkbench.tasks.adversarial.task import EPS, attack_settings, resolve_threat
from ntkbench.tasks.base import ContractError, RunContext

TASK = get_task("adversarial")
METRICS = ["clean_acc", "robust_acc@fgsm", "robust_acc@pgd", "robust_acc@apgd-ce", "robust_acc@apgd-t", "robust_acc"]
# Small attacks, the same static settings in every test: the compiled attacks are shared.
BUDGET = {
    "eps": 0.15,
    "test_points": 60,
    "pgd_steps": 10,
    "apgd_iters": 10,
    "apgd_t_iters": 5,
    "apgd_t_targets": 2,
    "ntk_view": False,
}
SMALL_CNN = {"widths": [6], "dense": [16], "steps": 150}


def tiny_images(n_train=300, n_test=60, s=6, classes=4, seed=0):
    """Noisy class prototypes in [0, 1]: learnable in a few steps, not robust at eps 0.15."""
    rng = np.random.default_rng(seed)
    protos = rng.uniform(0.3, 0.7, size=(classes, s, s, 1))
    ytr, yte = rng.integers(0, classes, n_train), rng.integers(0, classes, n_test)
    f = lambda y: np.clip(protos[y] + 0.1 * rng.normal(size=(len(y), s, s, 1)), 0, 1).astype(np.float32)
    return Dataset("tiny", f(ytr), ytr.astype(np.int32), f(yte), yte.astype(np.int32), classes)


DS = tiny_images()


def spec_for(fn, name, vmappable=True):
    return MethodSpec(
        name=name,
        task="adversarial",
        fn=fn,
        version="1",
        params=_declared_params(fn),
        origin="tests",
        module=__name__,
        vmappable=vmappable,
    )


def run_task(spec, budget=None, seeds=2, params=None, ds=DS, vmap=None):
    ctx = RunContext(
        method=spec,
        dataset=ds,
        params=spec.resolve_params(params),
        budget=TASK.typed_budget(ds.name, {**BUDGET, **(budget or {})}),
        seeds=seeds,
        root_seed=0,
        vmap_seeds=spec.vmappable if vmap is None else vmap,
    )
    return TASK.run(ctx), ctx


def check_ordering(metrics, slack=0.0):
    """worst case <= APGD-T, APGD-CE <= PGD <= FGSM <= clean, per seed."""
    ps = {k: np.array(metrics[k]["per_seed"]) for k in METRICS}
    assert np.all(ps["robust_acc"] <= np.minimum(ps["robust_acc@apgd-t"], ps["robust_acc@apgd-ce"]))
    assert np.all(ps["robust_acc@fgsm"] <= ps["clean_acc"])
    return ps


# ---------------------------------------------------------------------------------------------
# threat models and budget


def ds_named(name, lo=0.0, hi=1.0):
    x = np.linspace(lo, hi, 8, dtype=np.float32).reshape(2, 4, 1)
    return Dataset(name, x, np.array([0, 1], np.int32), x, np.array([1, 0], np.int32), 2)


@pytest.mark.parametrize(
    "name,norm,eps",
    [
        ("mnist", "linf", 0.3),
        ("fashion_mnist", "linf", 0.1),
        ("cifar10", "linf", 8 / 255),
        ("mnist1d", "linf", 0.1),
        ("cifar10", "l2", 0.5),
    ],
)
def test_protocol_eps_per_dataset(name, norm, eps):
    threat, info = resolve_threat(ds_named(name), TASK.typed_budget(name, {"norm": norm}))
    assert threat.norm == norm and threat.eps == pytest.approx(eps) and info["eps"] == pytest.approx(eps)
    assert (threat.lower, threat.upper) == (0.0, 1.0) and info["box"] == "[0, 1]"


def test_box_resolution_and_errors():
    std = ds_named("mnist1d", -2.0, 3.0)
    threat, info = resolve_threat(std, TASK.typed_budget(std.name))
    assert math.isinf(threat.lower) and math.isinf(threat.upper)
    assert info["box"] == "unbounded" and info["lower"] is None and info["data_range"] == [-2.0, 3.0]
    threat, info = resolve_threat(std, TASK.typed_budget(std.name, {"box": "data"}))
    assert (threat.lower, threat.upper) == (-2.0, 3.0)
    threat, _ = resolve_threat(std, TASK.typed_budget(std.name, {"box": [-5, 5], "eps": 0.5}))
    assert (threat.lower, threat.upper, threat.eps) == (-5.0, 5.0, 0.5)
    with pytest.raises(ValueError, match="no l2 eps for dataset 'mnist1d'"):
        resolve_threat(std, TASK.typed_budget(std.name, {"norm": "l2"}))
    with pytest.raises(ValueError, match="'box'"):
        TASK.typed_budget(std.name, {"box": "weird"})
    with pytest.raises(ValueError, match="budget field 'pgd_stpes' is unknown; did you mean 'pgd_steps'"):
        TASK.resolve_budget({"pgd_stpes": 3})


def test_default_attack_protocol():
    b = TASK.resolve_budget({})
    assert b["test_points"] == 1000 and b["norm"] == "linf" and b["eps"] is None
    s = attack_settings(TASK.typed_budget("mnist"), 10)
    assert s["pgd"] == {"steps": 50, "restarts": 1, "random_start": True}  # step 2.5 eps / 50 (pgd's default)
    assert s["apgd-ce"]["n_iter"] == 100 and s["apgd-t"] == {"n_iter": 100, "n_target_classes": 9}
    assert attack_settings(TASK.typed_budget("mnist"), 4)["apgd-t"]["n_target_classes"] == 3
    assert set(EPS["linf"]) == {"mnist", "fashion_mnist", "cifar10", "mnist1d"}


# ---------------------------------------------------------------------------------------------
# end to end


def test_standard_end_to_end_metrics_flags_ntk_view():
    out, ctx = run_task(
        get_method("standard"),
        params=SMALL_CNN,
        budget={
            "ntk_view": True,
            "ntk_train_points": 40,
            "ntk_test_points": 20,
            "ntk_features": 3,
            "ntk_attack_steps": 3,
            "ntk_probe": 10,
            "eps_sweep": [0.05, 0.3],
        },
    )
    assert list(out.metrics) == METRICS[:-1] + ["robust_acc@eps=0.05", "robust_acc@eps=0.3", "robust_acc"]
    ps = check_ordering(out.metrics)
    assert np.all(ps["clean_acc"] >= 80)  # chance is 25
    assert np.all(ps["robust_acc"] < ps["clean_acc"])  # a standard network is not robust at eps 0.15
    assert np.all(np.array(out.metrics["robust_acc@eps=0.3"]["per_seed"]) <= ps["robust_acc"])
    assert isinstance(out.extra["flags"], list) and not out.extra["flags"], out.extra["flags"]
    assert out.extra["seeds_mode"] == "vmapped" and out.extra["test_points"] == 60
    assert out.extra["threat"]["box"] == "[0, 1]" and out.extra["threat"]["eps"] == 0.15
    view = out.ntk
    ef = view["eigen_features"]
    assert len(ef["features"]) == 3 and ef["train_points"] == 40 and ef["test_points"] == 20
    lam = [f["eigenvalue"] for f in ef["features"]]
    assert lam == sorted(lam, reverse=True)
    for f in ef["features"]:
        assert 0 <= f["robustness"] <= f["usefulness"] <= 100 and 0 <= f["label_energy"] <= 1
    kd = view["kernel_distance"]
    assert kd["available"] and len(kd["per_seed"]) == 2 and all(0 < d < 1 for d in kd["per_seed"])


class Thresholded(nnx.Module):
    """A network behind a hard threshold of its input: zero input gradient everywhere."""

    def __init__(self, net):
        self.net = net

    def __call__(self, x):
        return self.net((x > 0.5).astype(x.dtype))


def masked(key, train, threat, *, steps=150):
    arch = nb.models.mlp(train.num_classes, (32,))
    k1, k2 = jax.random.split(key)
    graphdef, params = nb.build(lambda r: Thresholded(nb.models.Network(arch, train.input_shape, rngs=r)), k1)
    loss = lambda p, x, y, k: optax.softmax_cross_entropy_with_integer_labels(nnx.merge(graphdef, p)(x), y).mean()
    params, _ = nb.train_params(k2, loss, params, train, optimizer=optax.adam(1e-2), steps=steps, batch_size=64)
    return nnx.merge(graphdef, params)


def test_gradient_masking_is_flagged_end_to_end():
    out, _ = run_task(spec_for(masked, "masked"))
    flags = out.extra["flags"]
    assert any(
        "possibly-unreliable: zero input gradient at 100.0% of points" in f and "[seed 0]" in f for f in flags
    ), flags
    assert any("[seed 1]" in f for f in flags)


def closure_method(key, train, threat, *, steps=150):
    """Returns what nb.fit_classifier returns: a closure, not a pytree."""
    model = lambda rngs: nb.models.Network(nb.models.mlp(train.num_classes, (32,)), train.input_shape, rngs=rngs)
    return nb.fit_classifier(key, model, train, optimizer=optax.adam(1e-2), steps=steps, batch_size=64)


@pytest.mark.slow
def test_closure_predictor_runs_seeds_in_turn():
    out, _ = run_task(spec_for(closure_method, "closure"), seeds=1)
    assert out.extra["seeds_mode"].startswith("in turn, eager")
    check_ordering(out.metrics)


def test_contract_errors():
    def not_callable(key, train, threat):
        return jnp.zeros(3)

    def wrong_shape(key, train, threat):
        w = jax.random.normal(key, (int(np.prod(train.input_shape)), 3))
        return jax.tree_util.Partial(lambda w, x: x.reshape(x.shape[0], -1) @ w, w)

    def nan_logits(key, train, threat):
        w = jnp.full((int(np.prod(train.input_shape)), train.num_classes), jnp.nan)
        return jax.tree_util.Partial(lambda w, x: x.reshape(x.shape[0], -1) @ w, w)

    with pytest.raises(ContractError, match="must return a predictor"):
        run_task(spec_for(not_callable, "nc"))
    with pytest.raises(ContractError, match=r"logits of shape \(60, 3\), expected \(60, 4\)"):
        run_task(spec_for(wrong_shape, "ws"))
    with pytest.raises(ContractError, match="non-finite"):
        run_task(spec_for(nan_logits, "nan"))


def test_threat_reaches_the_method_and_mnist1d_like_unbounded_box():
    seen = []

    def spy(key, train, threat, *, steps=50):
        seen.append(threat)
        return get_method("standard").fn(key, train, threat, **{**SMALL_CNN, "steps": steps})

    ds = DS.replace(name="mnist1d", x_train=(DS.x_train - 0.5) * 4, x_test=(DS.x_test - 0.5) * 4)
    out, _ = run_task(spec_for(spy, "spy"), budget={"eps": None}, seeds=1, ds=ds)
    assert seen and seen[0].eps == 0.1 and math.isinf(seen[0].upper)
    assert out.extra["threat"]["box"] == "unbounded"


# The published entries against their sources: tests/test_adversarial_sources.py.


# ---------------------------------------------------------------------------------------------
# reference methods


def _run_reference(name):
    params = (
        {"n_train": 150} if name == "ntk-krr" else {**SMALL_CNN, **({"attack_steps": 3} if name != "fgsm-at" else {})}
    )
    out, _ = run_task(get_method(name, "adversarial"), params=params, seeds=1)
    ps = check_ordering(out.metrics)
    assert ps["clean_acc"][0] >= 60, out.metrics  # chance is 25
    return ps


@pytest.mark.parametrize("name", ["pgd-at", "ntk-krr"])
def test_reference_methods_run(name):
    ps = _run_reference(name)
    if name == "ntk-krr":  # the attacks get through the kernel predictor
        assert ps["robust_acc"][0] < ps["clean_acc"][0]


@pytest.mark.slow
@pytest.mark.parametrize("name", ["fgsm-at", "trades"])
def test_reference_methods_run_slow(name):
    _run_reference(name)


def test_ntk_krr_predictor_is_differentiable():
    spec = get_method("ntk-krr", "adversarial")
    train = nb.Split(jnp.asarray(DS.x_train), jnp.asarray(DS.y_train), DS.num_classes)
    pred = spec.fn(jax.random.key(0), train, ThreatModel("linf", 0.1), n_train=150)
    x = jnp.asarray(DS.x_test)
    g = jax.grad(lambda z: pred(z)[:, 0].sum())(x)
    assert jnp.all(jnp.isfinite(g)) and float(jnp.abs(g).max()) > 0


@pytest.mark.slow
def test_pgd_at_is_more_robust_than_standard():
    b = {"eps": 0.05}  # the tiny prototypes are not robustly separable at 0.15
    std, _ = run_task(get_method("standard"), b, params={**SMALL_CNN, "steps": 400}, seeds=1)
    adv, _ = run_task(get_method("pgd-at"), b, params={**SMALL_CNN, "steps": 400, "attack_steps": 5}, seeds=1)
    assert adv.metrics["robust_acc"]["mean"] > std.metrics["robust_acc"]["mean"] + 10
