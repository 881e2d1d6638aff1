"""The adversarial task's published numbers against their sources: the values read at the source,
runnable configurations, the source's networks built by `nb.models`, and the l2 threat on
Fashion-MNIST (tiny generated images, no download)."""

import jax
import numpy as np
import pytest

import ntkbench as nb
from ntkbench.data.base import Dataset
from ntkbench.orchestration.reproduce import registry, run_spec
from ntkbench.registry import get_method
from ntkbench.tasks import get_task
from ntkbench.tasks.adversarial.published import PUBLISHED
from ntkbench.tasks.adversarial.task import resolve_threat

TASK = get_task("adversarial")


def n_params(params):
    arch = nb.models.convnet(
        10, params["widths"], **{k: params[k] for k in ("kernel_size", "stride", "dense") if k in params}
    )
    _, weights = nb.build(lambda rngs: nb.models.Network(arch, (28, 28, 1), rngs=rngs), jax.random.key(0))
    return sum(x.size for x in jax.tree.leaves(weights))


def test_published_values_as_read_at_the_source():
    """Madry (fra31/auto-attack README) and Croce et al. 2019 Table 1 (F-MNIST rows): TE, LB, UB in
    percent become clean accuracy 100 - TE and robust accuracy in [100 - UB, 100 - LB]."""
    got = {p["name"]: (p["value"], p.get("bounds"), p["tolerance"]) for p in PUBLISHED}
    want = {
        "madry2018-mnist-pgd-at-clean": (98.53, None, 1.0),
        "madry2018-mnist-pgd-at-autoattack": (88.50, None, 1.5),
        "croce2019-fmnist-fc1-plain-clean": (90.51, None, 2.0),  # l∞ 0.1: TE 9.49, LB = UB = 100
        "croce2019-fmnist-fc1-plain-robust": (0.0, None, 1.0),
        "croce2019-fmnist-fc1-plain-l2-clean": (90.30, None, 1.0),  # l2 0.3: TE 9.70, LB 42.8, UB 91.8
        "croce2019-fmnist-fc1-plain-l2-robust": (None, [8.2, 57.2], 1.0),
        "croce2019-fmnist-cnn-plain-l2-clean": (90.68, None, 1.0),  # l2 0.3: TE 9.32, LB 57.1, UB 100
        "croce2019-fmnist-cnn-plain-l2-robust": (None, [0.0, 42.9], 1.0),
        "croce2019-fmnist-fc1-plain-l2-10ep-clean": (90.30, None, 2.0),
        "croce2019-fmnist-fc1-plain-l2-10ep-robust": (None, [8.2, 57.2], 3.2),
        "croce2019-fmnist-cnn-plain-l2-10ep-clean": (90.68, None, 2.0),
        "croce2019-fmnist-cnn-plain-l2-10ep-robust": (None, [0.0, 42.9], 3.2),
        "croce2019-fmnist-fc1-at-linf-clean": (88.31, None, 2.0),  # at, l∞ 0.1: TE 11.69, LB 29.5, UB 95.5
        "croce2019-fmnist-fc1-at-linf-robust": (None, [4.5, 70.5], 3.2),
        "croce2019-fmnist-cnn-at-linf-clean": (88.46, None, 2.0),  # at, l∞ 0.1: TE 11.54, LB 21.5, UB 73.0
        "croce2019-fmnist-cnn-at-linf-robust": (None, [27.0, 78.5], 3.2),
    }
    assert got == want
    # TRADES' SmallCNN (max pooling, dropout, SGD with step decay) is not expressible: no entry.
    assert not any(p["method"] == "trades" for p in PUBLISHED)


def test_published_entries_are_runnable_configs():
    for p in PUBLISHED:
        assert p["dataset"] in ("mnist", "fashion_mnist") and p["source"] and p["hardware"], p["name"]
        get_method(p["method"], "adversarial").resolve_params(p["params"])
        TASK.resolve_budget(p["budget"])
    mine = [e for e in registry() if e["task"] == "adversarial"]
    assert len(mine) == len(PUBLISHED) == 16
    hashes = {}
    for e in mine:  # the clean and the robust number of a cell come from one run
        hashes.setdefault(e["name"].rsplit("-", 1)[0], set()).add(run_spec(e).config_hash)
    assert all(len(h) == 1 for h in hashes.values()) and len(hashes) == 8


def test_croce_networks_are_theirs():
    """FC1 is 784-1024-10; the CNN is models.LeNetSmall: two 4x4 stride-2 SAME convs (16, 32
    channels; 28 -> 14 -> 7), FC 100, FC 10."""
    fc1 = next(p for p in PUBLISHED if p["name"] == "croce2019-fmnist-fc1-plain-l2-clean")["params"]
    cnn = next(p for p in PUBLISHED if p["name"] == "croce2019-fmnist-cnn-plain-l2-clean")["params"]
    assert n_params(fc1) == 784 * 1024 + 1024 + 1024 * 10 + 10
    assert n_params(cnn) == (4 * 4 * 1 * 16 + 16) + (4 * 4 * 16 * 32 + 32) + (7 * 7 * 32 * 100 + 100) + (100 * 10 + 10)
    # Their training: 100 epochs of 60 000 // 128 = 468 batches; the 10-epoch run is a tenth of it.
    steps = {p["name"]: p["params"]["steps"] for p in PUBLISHED if p["name"].startswith("croce2019-fmnist-")}
    assert (
        steps["croce2019-fmnist-cnn-plain-l2-clean"] == 46800 == 10 * steps["croce2019-fmnist-cnn-plain-l2-10ep-clean"]
    )
    at = next(p for p in PUBLISHED if p["name"] == "croce2019-fmnist-cnn-at-linf-robust")["params"]
    assert (at["attack_steps"], at["attack_step_size"]) == (40, 2 * 0.1 / 40)  # attacks.pgd_attack: eps_iter


def fashion_like(seed=0):
    rng = np.random.default_rng(seed)
    x = rng.uniform(0, 1, size=(40, 28, 28, 1)).astype(np.float32)
    y = rng.integers(0, 10, 40).astype(np.int32)
    return Dataset("fashion_mnist", x[:30], y[:30], x[30:], y[30:], 10)


def test_l2_threat_on_fashion_mnist():
    """l2 on fashion_mnist: the protocol's eps is Croce et al.'s 0.3, an explicit eps wins, [0, 1] box."""
    ds = fashion_like()
    threat, info = resolve_threat(ds, TASK.typed_budget("fashion_mnist", {"norm": "l2"}))
    assert (threat.norm, threat.eps, threat.lower, threat.upper) == ("l2", pytest.approx(0.3), 0.0, 1.0)
    assert info["box"] == "[0, 1]"
    threat, _ = resolve_threat(ds, TASK.typed_budget("fashion_mnist", {"norm": "l2", "eps": 0.5}))
    assert threat.eps == pytest.approx(0.5)
    # The ball is an l2 ball: a projected perturbation has l2 norm <= eps and stays in the box.
    x = ds.x_test
    far = x + np.random.default_rng(1).normal(size=x.shape).astype(np.float32)
    d = np.asarray(threat.project(far, x)) - x
    assert np.all(np.sqrt((d**2).sum(axis=(1, 2, 3))) <= 0.5 + 1e-5)
    assert np.all(np.asarray(threat.project(far, x)) >= 0.0) and np.all(np.asarray(threat.project(far, x)) <= 1.0)
