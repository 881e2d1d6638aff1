"""The forgetting task: metrics by hand, the learner contract and its guard, reference learners."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import ntkbench as nb
from ntkbench.data.base import Dataset
from ntkbench.data.registry import DataAccessError, forbid_data_access, load_dataset
from ntkbench.registry import MethodSpec, _declared_params, get_method
from ntkbench.tasks import get_task
from ntkbench.tasks.base import ContractError, RunContext
from ntkbench.tasks.forgetting.contract import Learner, StreamInfo, TaskData
from ntkbench.tasks.forgetting.metrics import forgetting_metrics, spearman
from ntkbench.tasks.forgetting.published import PUBLISHED

TASK = get_task("forgetting")


def tiny_dataset(n_train=240, n_test=120, d=12, classes=4, seed=0):
    """Linearly separable-ish Gaussian blobs (n, d, 1): learnable in a few SGD epochs."""
    rng = np.random.default_rng(seed)
    means = rng.normal(size=(classes, d, 1)) * 2
    ytr, yte = rng.integers(0, classes, n_train), rng.integers(0, classes, n_test)
    xtr = (means[ytr] + rng.normal(size=(n_train, d, 1))).astype(np.float32)
    xte = (means[yte] + rng.normal(size=(n_test, d, 1))).astype(np.float32)
    return Dataset("tiny", xtr, ytr.astype(np.int32), xte, yte.astype(np.int32), classes)


def spec_for(fn, name, vmappable=True):
    return MethodSpec(
        name=name,
        task="forgetting",
        fn=fn,
        version="1",
        params=_declared_params(fn),
        origin="tests",
        module=__name__,
        vmappable=vmappable,
    )


def run_task(spec, budget, seeds=2, params=None, ds=None, vmap=None):
    ds = ds or tiny_dataset()
    ctx = RunContext(
        method=spec,
        dataset=ds,
        params=spec.resolve_params(params),
        budget=TASK.typed_budget(ds.name, budget),
        seeds=seeds,
        root_seed=0,
        vmap_seeds=spec.vmappable if vmap is None else vmap,
    )
    return TASK.run(ctx)


# ---------------------------------------------------------------------------------------------
# metrics


def test_metrics_match_hand_computation():
    R = np.array([[80.0, 20.0, 10.0], [60.0, 90.0, 30.0], [50.0, 70.0, 85.0]])
    b = np.array([10.0, 12.0, 14.0])
    m = forgetting_metrics(R, b)
    assert m["ACC"] == pytest.approx((50 + 70 + 85) / 3)
    assert m["LA"] == pytest.approx((80 + 90 + 85) / 3)
    assert m["BWT"] == pytest.approx(((50 - 80) + (70 - 90)) / 2)
    assert m["FWT"] == pytest.approx(((20 - 12) + (30 - 14)) / 2)
    assert m["forgetting"] == pytest.approx(((80 - 50) + (90 - 70)) / 2)
    one = forgetting_metrics(np.array([[70.0]]), np.array([10.0]))
    assert one == {"ACC": 70.0, "LA": 70.0, "BWT": None, "FWT": None, "forgetting": None}


def test_spearman_with_ties():
    a, b = [1, 2, 3, 4, 5], [2, 1, 4, 3, 5]
    assert spearman(a, b) == pytest.approx(0.8)
    assert spearman(a, [5, 4, 3, 2, 1]) == pytest.approx(-1.0)
    assert spearman([1, 1, 1], [1, 2, 3]) is None and spearman([1, 2], [1, 2]) is None
    scipy_stats = pytest.importorskip("scipy.stats")
    x, y = np.random.default_rng(0).integers(0, 4, (2, 30))
    assert spearman(x, y) == pytest.approx(scipy_stats.spearmanr(x, y).statistic)


def test_published_entries_are_complete():
    fields = {
        "name",
        "task",
        "dataset",
        "method",
        "params",
        "budget",
        "metric",
        "value",
        "source",
        "tolerance",
        "hardware",
    }
    assert {p["metric"]: p["value"] for p in PUBLISHED} == {"ACC": 44.4, "forgetting": 53.0}
    for p in PUBLISHED:
        assert set(p) == fields and p["budget"]["num_tasks"] == 20
        TASK.resolve_budget(p["budget"])
        get_method(p["method"], "forgetting").resolve_params(p["params"])


# ---------------------------------------------------------------------------------------------
# harness: stored matrix, metrics recomputed from it, contract and guard


def test_sgd_run_stores_matrix_and_metrics_recompute_by_hand():
    out = run_task(
        get_method("sgd", "forgetting"),
        {"num_tasks": 3, "epochs": 3, "batch_size": 16, "ntk_probe": 10, "ntk_train_points": 40},
        params={"lr": 0.05},
    )
    R = np.array(out.metrics["acc_matrix"]["per_seed"])
    b = np.array(out.metrics["acc_init"]["per_seed"])
    assert R.shape == (2, 3, 3) and b.shape == (2, 3)
    assert np.allclose(out.metrics["acc_matrix"]["mean"], R.mean(0))
    for s in range(2):
        Rs, bs, T = R[s], b[s], 3
        assert out.metrics["ACC"]["per_seed"][s] == pytest.approx(Rs[T - 1].mean())
        assert out.metrics["LA"]["per_seed"][s] == pytest.approx(np.mean([Rs[j, j] for j in range(T)]))
        assert out.metrics["BWT"]["per_seed"][s] == pytest.approx(
            np.mean([Rs[T - 1, j] - Rs[j, j] for j in range(T - 1)])
        )
        assert out.metrics["FWT"]["per_seed"][s] == pytest.approx(np.mean([Rs[j - 1, j] - bs[j] for j in range(1, T)]))
        assert out.metrics["forgetting"]["per_seed"][s] == pytest.approx(
            np.mean([max(Rs[l, j] for l in range(T - 1)) - Rs[T - 1, j] for j in range(T - 1)])
        )
    assert R[:, 0, 0].mean() > 60  # it learns task 1
    ntk = out.ntk
    assert ntk["available"] and ntk["seeds"].startswith("first seed")
    assert [(r["k"], r["j"]) for r in ntk["pairs"]] == [(2, 1), (3, 1), (3, 2)]
    for r in ntk["pairs"]:
        assert r["measured_drop_test"] == pytest.approx(R[0, r["k"] - 2, r["j"] - 1] - R[0, r["k"] - 1, r["j"] - 1])
        assert np.isfinite(r["delta_f_norm"]) and r["probe_points"] == 10
    assert out.extra["stream"]["kind"] == "permuted" and out.extra["stream"]["train_per_task"] == [240] * 3


def recording_method(log):
    def factory(info: StreamInfo, *, peek=False):
        def init(key):
            return {"w": jnp.zeros(info.num_classes)}

        def learn(state, key, task: TaskData):
            if peek:
                load_dataset("mnist1d")  # a learner reaching for data it was not given
            jax.debug.callback(
                lambda tid, x, y: log.append((int(tid), np.asarray(x).copy(), np.asarray(y).copy())),
                task.task_id,
                task.x,
                task.y,
            )
            return {"w": state["w"] + jnp.bincount(task.y, length=info.num_classes)}

        return Learner(
            init=init, learn=learn, predict=lambda s, x, tid: jnp.broadcast_to(s["w"], (x.shape[0], info.num_classes))
        )

    return factory


def test_learner_sees_only_current_task_training_data_in_order():
    log = []
    ds = tiny_dataset()
    out = run_task(
        spec_for(recording_method(log), "recorder", vmappable=False),
        {"stream": "split", "num_tasks": 2, "setting": "task-il"},
        seeds=1,
        ds=ds,
    )
    stream = TASK.build_stream(ds, TASK.typed_budget(ds.name, {"stream": "split", "num_tasks": 2}), 0)
    assert [t for t, _, _ in log] == [0, 1]
    for (_, x, y), task in zip(log, stream):
        np.testing.assert_array_equal(x, task.x_train)  # the current task's training split, nothing else
        np.testing.assert_array_equal(y, task.y_train)
        assert set(np.unique(y)) == set(task.classes)
    assert not out.ntk["available"]


def test_learner_reading_data_is_stopped_with_a_clear_error():
    spec = spec_for(recording_method([]), "peeker", vmappable=False)
    with pytest.raises(
        DataAccessError, match=r"method 'peeker' from tests.*only the current task's training data.*'mnist1d'"
    ):
        run_task(spec, {"num_tasks": 2}, seeds=1, params={"peek": True})
    with forbid_data_access("someone"):
        with pytest.raises(DataAccessError, match="someone"):
            load_dataset("mnist1d")
    load_dataset("lza-8")  # the guard is lifted afterwards


def test_bad_learner_outputs_fail_the_contract():
    def wrong_shape(info, *, x=0):
        return Learner(
            init=lambda k: {"w": jnp.zeros(())},
            learn=lambda s, k, t: s,
            predict=lambda s, x, tid: jnp.zeros((x.shape[0], 3)),
        )

    with pytest.raises(ContractError, match="logits of shape"):
        run_task(spec_for(wrong_shape, "wrong"), {"num_tasks": 2, "ntk_view": False}, seeds=1)
    with pytest.raises(ContractError, match="must return an ntkbench Learner"):
        run_task(spec_for(lambda info, *, x=0: 3, "nolearner"), {"num_tasks": 2}, seeds=1)
    with pytest.raises(ValueError, match="'setting'"):
        run_task(get_method("sgd", "forgetting"), {"stream": "permuted", "setting": "task-il"}, seeds=1)


# ---------------------------------------------------------------------------------------------
# reference learners


def test_reservoir_buffer_keeps_a_sample_of_what_it_saw():
    from ntkbench.methods.forgetting import _buffer, _reservoir_add

    info = StreamInfo((2, 1), 3, 2, "domain-il", 1, 4, 50, False)
    buf = _buffer(info, 8)
    x = jnp.arange(5.0)[:, None, None] * jnp.ones((5, 2, 1))
    t = TaskData(
        x=x, y=jnp.arange(5) % 3, task_id=jnp.int32(0), classes=jnp.ones(3, bool), logit_mask=jnp.ones(3, bool)
    )
    buf = _reservoir_add(buf, jax.random.key(0), t)
    assert int(buf["seen"]) == 5 and np.allclose(buf["x"][:5, 0, 0], np.arange(5))
    t2 = TaskData(x=x + 100, y=t.y, task_id=jnp.int32(1), classes=t.classes, logit_mask=t.logit_mask)
    for i in range(6):
        buf = _reservoir_add(buf, jax.random.key(i + 1), t2)
    vals = np.asarray(buf["x"][:, 0, 0])
    assert int(buf["seen"]) == 35 and set(vals) <= set(range(5)) | set(range(100, 105))
    assert (vals >= 100).sum() >= 4  # 30 of the 35 seen came from task 2


@pytest.mark.parametrize("name", ["ewc", "ogd", "er", "agem", "multitask", "ntk-krr"])
def test_reference_learners_run_and_learn(name):
    params = {"ntk-krr": {"points_per_task": 60}}.get(name, {"lr": 0.05})
    out = run_task(
        get_method(name, "forgetting"),
        {"num_tasks": 2, "epochs": 2, "batch_size": 16, "ntk_view": False},
        seeds=2,
        params=params,
    )
    R = np.array(out.metrics["acc_matrix"]["mean"])
    assert R[0, 0] > 50 and R[1, 1] > 50, R  # chance is 25
    assert all(np.isfinite(out.metrics[m]["mean"]) for m in ("ACC", "BWT", "FWT", "forgetting", "LA"))


def test_ogd_basis_is_orthonormal():
    info = StreamInfo((12, 1), 4, 2, "domain-il", 1, 16, 240, False)
    learner = get_method("ogd").fn(info, memory_per_task=5)
    ds = tiny_dataset()
    s = learner.init(jax.random.key(0))
    for t in range(2):
        x = jnp.asarray(ds.x_train[:, ::-1] if t else ds.x_train)
        s = jax.jit(learner.learn)(
            s,
            jax.random.key(t + 1),
            TaskData(x, jnp.asarray(ds.y_train), jnp.int32(t), jnp.ones(4, bool), jnp.ones(4, bool)),
        )
    B = np.asarray(s["basis"])
    assert B.shape[0] == 10
    np.testing.assert_allclose(B @ B.T, np.eye(10), atol=1e-4)


@pytest.mark.parametrize("anchor", ["latest", "per-task"])
def test_ewc_penalty_is_centred_where_it_should_be(anchor):
    """Two tasks with λ = 0 (the Fisher bookkeeping runs regardless), then a third with a huge λ,
    which freezes every parameter with Fisher mass (proximal step: θ → B/A in one step).
    anchor="latest": B = A·θ*, so the frozen point is the last task's parameters (the network does
    not move); anchor="per-task": B/A is the Fisher-weighted mean of all anchors, which is NOT θ*
    of the last task (the pull that wipes recent tasks)."""
    info = StreamInfo((12, 1), 4, 3, "domain-il", 1, 16, 240, False)
    ds = tiny_dataset()
    task = lambda t: TaskData(
        jnp.asarray(np.roll(ds.x_train, 3 * t, axis=1)),
        jnp.asarray(ds.y_train),
        jnp.int32(t),
        jnp.ones(4, bool),
        jnp.ones(4, bool),
    )
    flat = lambda tree: np.concatenate([np.ravel(a) for a in jax.tree.leaves(tree)])
    free = get_method("ewc").fn(info, lr=0.05, ewc_lambda=0.0, anchor=anchor)
    s = free.init(jax.random.key(0))
    for t in range(2):
        s = jax.jit(free.learn)(s, jax.random.key(t + 1), task(t))
    A, B, p = flat(s["A"]), flat(s["B"]), flat(s["params"])
    c = float(np.sum(A * p * p)) if anchor == "latest" else None
    on = A > 1e-3 * A.max()
    assert on.sum() > 100
    frozen = get_method("ewc").fn(info, lr=0.05, ewc_lambda=1e9, anchor=anchor)
    p3 = flat(jax.jit(frozen.learn)(s, jax.random.key(3), task(2))["params"])
    if anchor == "latest":
        np.testing.assert_allclose(B, A * p, rtol=1e-5, atol=1e-8)
        assert float(s["c"]) == pytest.approx(c, rel=1e-4)
        np.testing.assert_allclose(p3[on], p[on], atol=1e-5)
    else:
        np.testing.assert_allclose(p3[on], B[on] / A[on], rtol=1e-4, atol=1e-5)
        assert np.abs(p3[on] - p[on]).max() > 1e-3
    with pytest.raises(ValueError, match="anchor"):
        get_method("ewc").fn(info, anchor="mean")


def test_train_params_epochs_visit_every_example_once_and_grad_transform_applies():
    import optax

    data = nb.Split(jnp.arange(12.0), jnp.zeros(12, jnp.int32), 2)
    loss = lambda p, x, y, k: p * x.sum()
    p, losses = nb.train_params(
        jax.random.key(0), loss, jnp.float32(0.0), data, optimizer=optax.sgd(1.0), epochs=2, batch_size=4
    )
    assert losses.shape == (6,) and float(p) == -2 * 66.0  # each example exactly once per epoch
    p, _ = nb.train_params(
        jax.random.key(0),
        loss,
        jnp.float32(0.0),
        data,
        optimizer=optax.sgd(1.0),
        epochs=1,
        batch_size=4,
        grad_transform=lambda g, params, k: 0.0 * g,
    )
    assert float(p) == 0.0
    with pytest.raises(ValueError, match="exactly one of"):
        nb.train_params(jax.random.key(0), loss, 0.0, data, optimizer=optax.sgd(1.0), steps=3, epochs=1, batch_size=4)


def test_one_learn_program_serves_every_task_of_a_stream(built_programs):
    """The tasks of a permuted stream have one shape: `learn` compiles once for all of them (the
    task id and the data are inputs of the program, not constants in it)."""
    built = built_programs
    out = run_task(get_method("sgd", "forgetting"), {"num_tasks": 3, "epochs": 1, "batch_size": 16, "ntk_view": False})
    assert np.array(out.metrics["acc_matrix"]["per_seed"]).shape == (2, 3, 3)
    assert built.count("learn") == 1 and built.count("evaluate") == 1
