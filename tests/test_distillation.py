"""The distillation task: contract enforcement, evaluation records, reference methods (tiny data)."""

import json
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import ntkbench as nb
from ntkbench.data.base import Dataset
from ntkbench.data.registry import register_dataset
from ntkbench.orchestration.one_run import RunSpec, execute_one
from ntkbench.orchestration.suites import load_suite
from ntkbench.registry import get_method
from ntkbench.results import to_jsonable
from ntkbench.tasks import get_task
from ntkbench.tasks.base import ContractError
from ntkbench.tasks.distillation.evaluation import NetworkEval, augmentation, eval_archs
from ntkbench.tasks.distillation.preview import decode_preview, encode_preview
from ntkbench.tasks.distillation.published import PUBLISHED
from ntkbench.tasks.distillation.task import check_shapes, random_real_subset
from ntkbench.tasks.forgetting.published import PUBLISHED as FORGETTING_PUBLISHED

TASK = get_task("distillation")
C, D = 10, 12
TINY_BUDGET = {"ipc": 2, "eval_networks": 2, "eval_epochs": 3, "eval_width": 8, "eval_depth": 1, "preprocess": "none"}


def tiny_dataset(n_per_class=20, n_test=100, seed=0):
    rng = np.random.default_rng(seed)
    means = rng.normal(size=(C, D, 1)) * 2
    ytr = np.repeat(np.arange(C), n_per_class)
    yte = rng.integers(0, C, n_test)
    xtr = (means[ytr] + rng.normal(size=(len(ytr), D, 1))).astype(np.float32)
    xte = (means[yte] + rng.normal(size=(n_test, D, 1))).astype(np.float32)
    return Dataset("tiny-distill", xtr, ytr.astype(np.int32), xte, yte.astype(np.int32), C)


@register_dataset("tiny-distill", "10-class Gaussian blobs, length 12 (tests only)")
def _load_tiny(name, data_dir):
    return tiny_dataset()


# Misbehaving methods, registered like any plugin.
@nb.method("distill-test-extra", task="distillation", version="1")
def one_too_many(key, train: nb.Split, ipc: int):
    n = ipc * train.num_classes + 1
    return train.x[:n], train.y[:n]


@nb.method("distill-test-nan", task="distillation", version="1")
def nan_images(key, train: nb.Split, ipc: int):
    x, y = get_method("random").fn(key, train, ipc)
    return x.at[0].set(jnp.nan), y


@nb.method("distill-test-soft", task="distillation", version="1")
def soft_labels(key, train: nb.Split, ipc: int):
    x, y = get_method("random").fn(key, train, ipc)
    return x, jax.nn.one_hot(y, train.num_classes) * 0.9 + 0.01


@nb.method("distill-test-unbalanced", task="distillation", version="1")
def unbalanced(key, train: nb.Split, ipc: int):
    x, y = get_method("random").fn(key, train, ipc)
    return x, jnp.zeros_like(y)


def run_record(method, budget, seeds=2, params=None):
    spec = get_method(method)
    run = RunSpec(
        task="distillation",
        task_version=TASK.version,
        dataset="tiny-distill",
        method=method,
        method_version=spec.version,
        method_origin=spec.origin,
        params=spec.resolve_params(params),
        budget=TASK.resolve_budget(budget),
        seeds=seeds,
        root_seed=0,
    )
    return execute_one(run, None, None, log=lambda m: None)


def test_wrong_count_fails_the_run_naming_the_method():
    rec = run_record("distill-test-extra", {**TINY_BUDGET, "ipc": 10})
    assert rec["status"] == "failed"
    assert "method 'distill-test-extra'" in rec["error"]
    assert "returned 101 examples, expected ipc 10 × 10 classes = 100" in rec["error"]
    assert rec["metrics"] == {}


def test_nan_output_fails_the_run():
    rec = run_record("distill-test-nan", TINY_BUDGET)
    assert rec["status"] == "failed"
    assert "method 'distill-test-nan'" in rec["error"] and "NaN" in rec["error"]


def test_unbalanced_hard_labels_fail():
    rec = run_record("distill-test-unbalanced", TINY_BUDGET)
    assert rec["status"] == "failed" and "expected ipc 2 of each class" in rec["error"]


def test_shape_checks():
    who = "method 'm'"
    x = jnp.zeros((20, D, 1))
    assert check_shapes(who, (x, jnp.zeros(20, jnp.int32)), 2, C, (D, 1)) is False
    assert check_shapes(who, (x, jnp.zeros((20, C))), 2, C, (D, 1)) is True
    with pytest.raises(ContractError, match="examples of shape"):
        check_shapes(who, (jnp.zeros((20, D)), jnp.zeros(20, jnp.int32)), 2, C, (D, 1))
    with pytest.raises(ContractError, match="labels of shape"):
        check_shapes(who, (x, jnp.zeros((20, 3))), 2, C, (D, 1))
    with pytest.raises(ContractError, match=r"must return \(x_syn, y_syn\)"):
        check_shapes(who, x, 2, C, (D, 1))


def test_ok_run_records_metrics_preview_and_timings():
    rec = run_record("random", TINY_BUDGET)
    assert rec["status"] == "ok", rec["error"]
    names = {"test_acc@convnet", "test_acc@mlp", "test_acc@krr-ntk", "test_acc@krr-nngp", "gain_over_random@convnet"}
    assert set(rec["metrics"]) == names
    for m in rec["metrics"].values():
        assert len(m["per_seed"]) == 2 and m["mean"] is not None
    # random is its own baseline: the gain is exactly 0 per seed.
    assert rec["metrics"]["gain_over_random@convnet"]["per_seed"] == [0.0, 0.0]
    assert rec["labels"] == "hard"
    assert set(rec["distill_seconds"]) == {"compile", "run"} and rec["eval_seconds"] > 0
    assert [len(a) for a in rec["eval_networks_acc"]["convnet"]] == [2, 2]
    assert rec["ntk"]["available"] and "fc" in rec["ntk"]["kernel"]
    assert set(rec["ntk"]["random_subset"]) >= {"krr-ntk", "krr-nngp", "convnet", "mlp"}
    assert rec["budget"]["eval_epochs"] == 3  # the reduced evaluation is recorded
    preview = rec["synthetic_preview"]
    assert preview["classes"] == list(range(C)) and preview["shape"] == [D, 1]
    assert len(json.dumps(to_jsonable(rec))) < 200_000


@pytest.mark.slow
def test_soft_labels_are_recorded_and_gain_is_paired():
    rec = run_record("distill-test-soft", TINY_BUDGET)
    assert rec["status"] == "ok", rec["error"]
    assert rec["labels"] == "soft"
    m = rec["metrics"]
    base = np.array(m["test_acc@convnet"]["per_seed"]) - np.array(m["gain_over_random@convnet"]["per_seed"])
    ref = run_record("random", TINY_BUDGET)["metrics"]["test_acc@convnet"]["per_seed"]
    np.testing.assert_allclose(base, ref, atol=1e-4)


def test_dsa_augmented_evaluation_runs_and_is_recorded():
    rec = run_record("random", {**TINY_BUDGET, "augment": "dsa", "evaluations": ["convnet", "mlp"]}, seeds=1)
    assert rec["status"] == "ok", rec["error"]
    assert rec["budget"]["augment"] == "dsa"
    aug = rec["augmentation"]
    assert aug["augment"] == "dsa" and aug["strategy"] == "color_crop_cutout_scale" and aug["mode"] == "single"
    assert rec["metrics"]["test_acc@convnet"]["mean"] is not None and "test_acc@mlp" in rec["metrics"]
    # augmented and plain evaluations never share a compiled program
    archs = eval_archs(C, TASK.typed_budget("tiny-distill", TINY_BUDGET))
    plain = NetworkEval(archs["mlp"], (D, 1), 20, False, TASK.typed_budget("tiny-distill", TINY_BUDGET))
    dsa = NetworkEval(
        archs["mlp"], (D, 1), 20, False, TASK.typed_budget("tiny-distill", {**TINY_BUDGET, "augment": "dsa"})
    )
    assert plain._config != dsa._config and plain.augmentation == {"augment": "none"}
    dsa_mnist = augmentation((28, 28, 1), TASK.typed_budget("mnist", {"augment": "dsa"}))
    assert dsa_mnist["strategy"] == "color_crop_cutout_flip_scale_rotate"


@pytest.mark.slow
def test_same_config_gives_identical_metrics():
    TASK._random_cache.clear()
    a = run_record("kcenter", {**TINY_BUDGET, "evaluations": ["convnet", "krr"]})
    TASK._random_cache.clear()
    b = run_record("kcenter", {**TINY_BUDGET, "evaluations": ["convnet", "krr"]})
    assert a["metrics"] == b["metrics"] and "test_acc@mlp" not in a["metrics"]


def test_budget_errors():
    # A value outside the Budget's types is refused before anything runs; a value that only the
    # data can refute (more images per class than the dataset has) fails the run, naming the field.
    with pytest.raises(ValueError, match="budget field 'augment': expected one of 'none', 'dsa', got 'autoaugment'"):
        TASK.resolve_budget({**TINY_BUDGET, "augment": "autoaugment"})
    rec = run_record("random", {**TINY_BUDGET, "ipc": 50})
    assert rec["status"] == "failed" and "ipc" in rec["error"]


@pytest.mark.parametrize(
    "method,params",
    [
        ("random", {}),
        ("herding", {}),
        ("kcenter", {"pool": 8}),
        ("kip", {"steps": 5, "target_batch": 50}),
        ("kip", {"steps": 5, "target_batch": 50, "learn_labels": True}),
        ("dm", {"iterations": 3, "width": 8, "depth": 1, "batch_real": 4}),
        pytest.param(
            "dc", {"iterations": 1, "outer_loop": 2, "width": 8, "depth": 1, "batch_real": 4}, marks=pytest.mark.slow
        ),
    ],
)
def test_reference_methods_honour_the_contract(method, params):
    spec = get_method(method)
    ds = tiny_dataset()
    train = nb.Split(jnp.asarray(ds.x_train), jnp.asarray(ds.y_train), C)
    out = jax.jit(jax.vmap(lambda k: spec.fn(k, train, 3, **spec.resolve_params(params))))(
        jax.random.split(jax.random.key(0), 2)
    )
    soft = check_shapes(f"method {method!r}", jax.tree.map(lambda a: a[0], out), 3, C, (D, 1))
    assert soft == bool(params.get("learn_labels"))
    x, y = (np.asarray(a) for a in out)
    assert np.all(np.isfinite(x)) and np.all(np.isfinite(y))
    if not soft:
        assert all(np.all(np.bincount(y[s], minlength=C) == 3) for s in range(2))
    if method in ("random", "herding", "kcenter"):  # selections are distinct real examples
        for s in range(2):
            rows = {tuple(r) for r in x[s].reshape(len(x[s]), -1).round(5)}
            assert len(rows) == 3 * C
            assert rows <= {tuple(r) for r in ds.x_train.reshape(len(ds.x_train), -1).round(5)}


def test_herding_tracks_the_class_mean_better_than_random():
    ds = tiny_dataset(n_per_class=40)
    train = nb.Split(jnp.asarray(ds.x_train), jnp.asarray(ds.y_train), C)
    err = {}
    for m in ("herding", "random"):
        x, y = get_method(m).fn(jax.random.key(1), train, 3)
        means = np.stack([np.asarray(x)[np.asarray(y) == c].mean(0) for c in range(C)])
        true = np.stack([ds.x_train[ds.y_train == c].mean(0) for c in range(C)])
        err[m] = float(np.sum((means - true) ** 2))
    assert err["herding"] < err["random"]


def test_kip_lowers_its_objective():
    from ntkbench.kernels import kernel_fn, krr_fit_predict

    ds = tiny_dataset()
    train = nb.Split(jnp.asarray(ds.x_train), jnp.asarray(ds.y_train), C)
    k = kernel_fn(nb.models.mlp(C, (128, 128), parameterization="ntk"), (D, 1), "ntk")
    yt = jax.nn.one_hot(train.y, C)

    def objective(x, y):
        pred = krr_fit_predict(k(x, x), jax.nn.one_hot(y, C), k(train.x, x), ridge=1e-5)
        return float(jnp.mean(jnp.sum((pred - yt) ** 2, -1)))

    spec = get_method("kip")
    before = objective(*get_method("random").fn(jax.random.split(jax.random.key(0))[0], train, 1))
    after = objective(*spec.fn(jax.random.key(0), train, 1, **spec.resolve_params({"steps": 40, "target_batch": 100})))
    assert after < 0.8 * before


def test_preview_round_trip():
    x = np.random.default_rng(0).normal(size=(20, 5, 4, 3)).astype(np.float32)
    y = np.repeat(np.arange(10), 2)
    p = encode_preview(x, y, 10)
    imgs = decode_preview(p).values()
    assert len(imgs) == 10 and imgs[0].shape == (5, 4, 3)
    np.testing.assert_allclose(imgs[3], x[6], atol=(x[6].max() - x[6].min()) / 255 + 1e-3)
    soft = encode_preview(x, np.eye(10)[y], 10)
    assert soft["classes"] == list(range(10))


def test_published_entries_have_the_forgetting_format():
    keys = set(FORGETTING_PUBLISHED[0])
    assert len(PUBLISHED) == 24
    for e in PUBLISHED:
        assert keys <= set(e) and e["task"] == "distillation" and e["metric"] == "test_acc@convnet"
        assert e["budget"]["ipc"] in (1, 10, 50) and e["hardware"]
    values = {e["name"]: e["value"] for e in PUBLISHED}
    assert values["dc-fashion_mnist-ipc10"] == 82.3 and values["dcbench-cifar10-dm-ipc50"] == 60.04


def test_suites_parse():
    root = Path(__file__).resolve().parents[1] / "suites"
    for name in ("quick.toml", "fashion_mnist_distillation.toml"):
        runs = [r for r in load_suite(root / name) if r.task == "distillation"]
        assert runs and all(r.budget["ipc"] in (1, 10, 50) for r in runs)


def test_random_baseline_is_the_random_method_draw():
    """The task's own `gain_over_random` baseline draws exactly the reference `random` method's sets."""
    ds = tiny_dataset()
    train = nb.Split(jnp.asarray(ds.x_train), jnp.asarray(ds.y_train), C)
    keys = jax.random.split(jax.random.key(3), 3)
    a = jax.vmap(lambda k: random_real_subset(k, train, 2))(keys)
    b = jax.vmap(lambda k: get_method("random").fn(k, train, 2))(keys)
    assert all(np.array_equal(u, v) for u, v in zip(a, b))


def test_methods_of_one_budget_share_the_evaluation_programs(monkeypatch, built_programs):
    """Evaluation networks are the task's, not the method's: two methods of one budget in one
    process train them with the same compiled programs (one per evaluation architecture)."""
    from ntkbench.engine import seeds

    built = built_programs
    monkeypatch.setattr(seeds.PROGRAMS, "_programs", {})  # whatever earlier tests built is not counted
    budget = {**TINY_BUDGET, "eval_epochs": 2}
    for method in ("random", "herding"):
        rec = run_record(method, budget)
        assert rec["status"] == "ok", rec["error"]
    assert built.count("distillation.evaluation.NetworkEval") == 2  # convnet and mlp, for both methods
