import jax
import numpy as np
import pytest

from ntkbench.data import load_dataset
from ntkbench.data.subsets import balanced_quota, class_balanced_indices
from ntkbench.orchestration.consistency import metric_errors
from ntkbench.orchestration.one_run import execute_one
from ntkbench.orchestration.suites import expand_suite
from ntkbench.results import validate_record
from ntkbench.tasks.sample_complexity import fit_exponent, n_star


def test_n_star_interpolates_in_log_n():
    assert n_star([100, 1000], [50.0, 70.0], 60.0) == pytest.approx(np.sqrt(100 * 1000))
    assert n_star([100, 1000], [65.0, 70.0], 60.0) == 100.0
    assert n_star([100, 1000], [50.0, 55.0], 60.0) is None
    assert n_star([1000, 100, 10], [90.0, 40.0, 80.0], 60.0) == 10.0  # first crossing, sorted by n


def test_fit_exponent_recovers_a_power_law():
    d = [8, 18, 32, 50]
    assert fit_exponent(d, [3 * x**2 for x in d]) == pytest.approx(2.0)
    assert fit_exponent(d, [None, None, None, 5.0]) is None


def test_class_balanced_subsets():
    labels = np.repeat(np.arange(3), [5, 50, 50])
    assert list(balanced_quota(np.bincount(labels), 31)) == [5, 13, 13]
    idx = np.asarray(
        jax.vmap(lambda k: class_balanced_indices(k, labels, 30, 3))(jax.random.split(jax.random.key(0), 4))
    )
    for row in idx:
        assert len(set(row)) == 30 and list(np.bincount(labels[row], minlength=3)) == [5, 13, 12]
    assert not (idx[0] == idx[1]).all()
    with pytest.raises(ValueError, match="outside 1..105"):
        class_balanced_indices(jax.random.key(0), labels, 200, 3)


def test_lza_labels_follow_channel_energy():
    ds = load_dataset("lza-8")
    assert ds.input_shape == (2, 2, 2) and ds.num_classes == 2
    e = (ds.x_test**2).sum((1, 2))
    assert ((e[:, 0] > e[:, 1]).astype(int) == ds.y_test).all()


def test_mnist1d_shuffled_is_one_fixed_permutation():
    a, b = load_dataset("mnist1d"), load_dataset("mnist1d-shuffled")
    assert a.x_train.shape == b.x_train.shape == (4000, 40, 1) and a.x_test.shape == (1000, 40, 1)
    assert (a.y_train == b.y_train).all()
    # each signal's values are the same multiset, moved by one permutation shared by all signals
    assert np.allclose(np.sort(a.x_train[:50, :, 0], 1), np.sort(b.x_train[:50, :, 0], 1), atol=1e-5)


def test_small_run_learns_and_reports_n_star(tmp_path):
    (run,) = expand_suite(
        {
            "seeds": 2,
            "runs": [
                {
                    "task": "sample_complexity",
                    "datasets": "mnist1d",
                    "methods": "cnn",
                    "budget": {"n": [100, 400], "targets": [20.0, 99.0]},
                    "params": {"cnn": {"steps": 300}},
                }
            ],
        },
        where="t",
    )
    rec = execute_one(run, tmp_path, None, log=print)
    assert rec["status"] == "ok", rec["error"]
    a100, a400 = (rec["metrics"][f"test_acc@n={n}"]["mean"] for n in (100, 400))
    assert 20 < a100 < a400
    # reached at the grid's smallest n: only "at most 100" is known, so it is censored, not 100
    at_floor = rec["metrics"]["n_star@20"]
    assert at_floor["mean"] is None and at_floor["std"] is None
    assert at_floor["censored"] == {"side": "below", "bound": 100, "reached": 0, "of": 2}
    assert at_floor["per_seed"] == [100.0, 100.0]
    # never reached: censored above the grid's largest n, never a mean of the seeds that got there
    never = rec["metrics"]["n_star@99"]
    assert never["mean"] is None and never["per_seed"] == [None, None]
    assert never["censored"] == {"side": "above", "bound": 400, "reached": 0, "of": 2}
    assert validate_record(rec, "run") == [] and metric_errors(rec, "run") == []


@pytest.mark.slow
def test_mnist1d_published_gap(tmp_path):
    """Full MNIST-1D protocol (4000 examples, 6000 Adam steps): CNN ≥ 90%, MLP ≤ 75%; shuffling
    removes the CNN's advantage (published: 94 / 68, shuffled 56 / 68)."""
    runs = expand_suite(
        {
            "seeds": 2,
            "runs": [
                {
                    "task": "sample_complexity",
                    "datasets": ["mnist1d", "mnist1d-shuffled"],
                    "methods": ["mlp", "cnn"],
                    "budget": {"n": [4000]},
                }
            ],
        },
        where="t",
    )
    acc = {
        (r.dataset, r.method): execute_one(r, tmp_path, None, log=print)["metrics"]["test_acc@n=4000"]["mean"]
        for r in runs
    }
    assert acc["mnist1d", "cnn"] >= 90 and acc["mnist1d", "mlp"] <= 75
    assert acc["mnist1d-shuffled", "cnn"] < acc["mnist1d-shuffled", "mlp"] + 5


def test_kernel_methods_and_ntk_view(tmp_path):
    """Infinite-width kernels of the same architectures: the conv NTK beats the FC NTK on MNIST-1D,
    and a finite method's result carries the infinite-width prediction at the same n."""
    runs = expand_suite(
        {
            "seeds": 1,
            "runs": [
                {
                    "task": "sample_complexity",
                    "datasets": "mnist1d",
                    "methods": ["ntk-mlp", "ntk-cnn", "mlp"],
                    "budget": {"n": [500], "targets": [50.0]},
                    "params": {"mlp": {"steps": 200}},
                }
            ],
        },
        where="t",
    )
    recs = {r.method: execute_one(r, tmp_path, None, log=print) for r in runs}
    assert all(r["status"] == "ok" for r in recs.values()), [r["error"] for r in recs.values()]
    acc = {m: r["metrics"]["test_acc@n=500"]["mean"] for m, r in recs.items()}
    assert acc["ntk-cnn"] > acc["ntk-mlp"] + 5
    view = recs["mlp"]["ntk"]
    assert view["infinite"]["test_acc@n=500"]["mean"] == pytest.approx(acc["ntk-mlp"], abs=1e-4)
    assert view["finite_minus_infinite"]["test_acc@n=500"] == pytest.approx(acc["mlp"] - acc["ntk-mlp"], abs=1e-4)
    assert 0 < view["label_energy_top10"]["n=500"]["mean"] < 1


FASHION = "/usr/share/datasets/fashion-mnist"


@pytest.mark.skipif(
    not __import__("os").path.isdir(FASHION), reason=f"{FASHION} absent (Debian package dataset-fashion-mnist)"
)
@pytest.mark.slow  # 47 s; the import itself and its fingerprint stay in test_data_import.py
def test_fashion_mnist_learning_curve_from_imported_files(tmp_path):
    from ntkbench.data import import_dataset

    import_dataset("fashion_mnist", FASHION, tmp_path / "data")
    runs = expand_suite(
        {
            "seeds": 2,
            "runs": [
                {
                    "task": "sample_complexity",
                    "datasets": "fashion_mnist",
                    "methods": ["mlp", "cnn"],
                    "budget": {"n": [100, 400], "targets": [60.0], "test_points": 1000, "ntk_max_n": 100},
                    "params": {"mlp": {"steps": 300}, "cnn": {"steps": 300, "kernel_size": 3}},
                }
            ],
        },
        where="t",
    )
    for run in runs:
        rec = execute_one(run, tmp_path, tmp_path / "data", log=print)
        assert rec["status"] == "ok", rec["error"]
        assert rec["dataset_meta"]["source"].startswith("imported")
        accs = [rec["metrics"][f"test_acc@n={n}"]["mean"] for n in (100, 400)]
        assert 45 < accs[0] < accs[1]


def test_one_program_per_learning_curve_gives_the_metrics_of_one_per_n(tmp_path):
    """`mlp` declares padded_subsets: its curve shares one compiled program (n traced); the same
    method without the declaration compiles one program per n. Every metric is identical, and the
    smallest n, below the batch size, runs apart (its minibatches are smaller)."""
    import dataclasses

    from ntkbench.registry import METHODS, get_method

    padded = get_method("mlp", "sample_complexity")
    apart = dataclasses.replace(padded, name="mlp-per-n", extras={**padded.extras, "padded_subsets": False})
    doc = {
        "seeds": 2,
        "runs": [
            {
                "task": "sample_complexity",
                "datasets": "mnist1d",
                "methods": ["mlp", "mlp-per-n"],
                "budget": {"n": [40, 100, 200], "targets": [20.0], "ntk_view": False},
                "params": {m: {"steps": 50, "batch_size": 50} for m in ("mlp", "mlp-per-n")},
            }
        ],
    }
    logs: dict[str, list[str]] = {"mlp": [], "mlp-per-n": []}
    with METHODS.temporary(("sample_complexity", "mlp-per-n"), apart):
        recs = {
            r.method: execute_one(r, tmp_path, None, log=logs[r.method].append) for r in expand_suite(doc, where="t")
        }
    assert recs["mlp"]["status"] == recs["mlp-per-n"]["status"] == "ok"
    assert recs["mlp"]["metrics"] == recs["mlp-per-n"]["metrics"]
    compiled = {m: [line for line in lines if "(compile 0.0s" not in line] for m, lines in logs.items()}
    assert len(compiled["mlp-per-n"]) == 3  # a program per n
    assert [line.split(":")[0] for line in compiled["mlp"]] == ["n=40", "n=100"]  # n=40 apart, then one


def test_a_deterministic_method_fits_once_per_distinct_subset_and_records_its_cg_fit(tmp_path):
    """A `deterministic` method (a kernel fit: no key, order-free) runs once per distinct subset:
    at n = the whole training set (MNIST-1D: 4000) the three seeds share one fit; below it every
    seed fits its own subset. A CG fit's iterations and residual land in `kernel_solver`."""
    import dataclasses

    from ntkbench import api as nb
    from ntkbench.methods.sample_complexity import mlp_arch
    from ntkbench.registry import METHODS, get_method

    calls: list[int] = []

    def fit(key, train, *, ridge=1e-4):
        calls.append(len(train.y))
        arch = mlp_arch(train.num_classes, width=100, depth=2)
        return nb.krr_predictor(arch, "ntk", train.x, train.y, train.num_classes, ridge=ridge, solver="cg", centres=100)

    base = get_method("ntk-mlp", "sample_complexity")
    once = dataclasses.replace(base, name="ntk-cg", fn=fit, params={"ridge": 1e-4})
    every = dataclasses.replace(once, name="ntk-cg-every", extras={**once.extras, "deterministic": False})
    assert once.extras["deterministic"]
    doc = {
        "seeds": 3,
        "runs": [
            {
                "task": "sample_complexity",
                "datasets": "mnist1d",
                "methods": ["ntk-cg", "ntk-cg-every"],
                "budget": {"n": [100, 4000], "targets": [20.0], "ntk_view": False},
            }
        ],
    }
    recs, fits = {}, {}
    with (
        METHODS.temporary(("sample_complexity", "ntk-cg"), once),
        METHODS.temporary(("sample_complexity", "ntk-cg-every"), every),
    ):
        for r in expand_suite(doc, where="t"):
            calls.clear()
            recs[r.method] = execute_one(r, tmp_path, None, log=print)
            fits[r.method] = list(calls)
    assert recs["ntk-cg"]["status"] == recs["ntk-cg-every"]["status"] == "ok"
    assert fits == {"ntk-cg": [100, 100, 100, 4000], "ntk-cg-every": [100, 100, 100, 4000, 4000, 4000]}
    once_m, every_m = recs["ntk-cg"]["metrics"], recs["ntk-cg-every"]["metrics"]
    assert once_m["test_acc@n=100"]["per_seed"] == every_m["test_acc@n=100"]["per_seed"]
    full = once_m["test_acc@n=4000"]["per_seed"]
    assert full == [every_m["test_acc@n=4000"]["per_seed"][0]] * 3  # seed 0's fit, shared
    solver = recs["ntk-cg"]["kernel_solver"]
    assert sorted(solver) == ["100", "4000"] and len(solver["4000"]) == 1 and len(solver["100"]) == 3
    assert all(s["solver"] == "cg" and s["residual"] <= 1e-3 and s["nystrom_rank"] <= 100 for s in solver["4000"])
