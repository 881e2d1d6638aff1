"""Spread over seeds (sample std, t interval), paired comparison of two methods, the method source hash."""

from __future__ import annotations

import copy
import hashlib
import inspect
import json
import sys
import types

import numpy as np
import pytest
from scipy import stats

from ntkbench.results import SCHEMA, censored_text, config_hash, config_of, metric, result_path, validate_record


def record(method="a", metrics=None, **fields):
    rec = {
        "schema": SCHEMA,
        "task": "sample_complexity",
        "task_version": 1,
        "dataset": "mnist1d",
        "method": method,
        "method_version": "1",
        "method_origin": "ntkbench",
        "params": {},
        "budget": {"n": [100]},
        "seeds": 3,
        "root_seed": 0,
        "dataset_fingerprint": "sha256:0",
        "metrics": metrics or {},
        "ntk": {},
        "status": "ok",
        "error": None,
        "provenance": dict.fromkeys(
            (
                "ntkbench_version",
                "git_commit",
                "versions",
                "backend",
                "device",
                "x64",
                "prng_impl",
                "start_time",
                "wall_seconds",
                "compile_seconds",
            )
        ),
        **fields,
    }
    rec["config_hash"] = config_hash(config_of(rec))
    return rec


# 14. spread


def test_metric_std_is_sample_std_with_t_interval():
    m = metric([70.0, 72.0, 77.0])
    assert m["mean"] == pytest.approx(73.0)
    assert m["std"] == pytest.approx(np.std([70, 72, 77], ddof=1))  # not the population std
    lo, hi = stats.t.interval(0.95, 2, loc=73.0, scale=stats.sem([70, 72, 77]))
    assert m["ci95"] == pytest.approx([lo, hi])
    assert set(m) == {"per_seed", "mean", "std", "ci95"}


def test_metric_one_seed_has_no_spread():
    assert metric([70.0]) == {"per_seed": [70.0], "mean": 70.0, "std": None, "ci95": None}


def test_a_censored_metric_is_never_averaged_over_the_seeds_that_got_there():
    # steps_to@60 of training_dynamics/mnist1d cnn-gd: 1 of 3 seeds reached it within 10 000 steps;
    # schema 2 wrote that seed's 9576 as the mean
    m = metric([9576.4, None, None], bound=10000)
    assert m["mean"] is None and m["std"] is None and m["ci95"] is None
    assert m["censored"] == {"side": "above", "bound": 10000, "reached": 1, "of": 3}
    assert censored_text(m) == "> 10 000 (1 of 3 seeds)"
    # non-finite values are censored too, and a bound not known still censors
    m = metric([1000.0, None, 3000.0, float("nan")])
    assert m["per_seed"] == [1000.0, None, 3000.0, None] and m["mean"] is None
    assert m["censored"] == {"side": "above", "bound": None, "reached": 2, "of": 4}
    assert censored_text(m, "> steps") == "> steps (2 of 4 seeds)"


def test_a_task_defined_mean_survives_censored_seeds_but_not_its_own_censoring():
    # n* of the mean curve is a number though one seed never reached the target: kept, no spread
    m = metric([1000.0, None, 3000.0], mean=1500.0, bound=4000, floor=100)
    assert m["mean"] == 1500.0 and m["std"] is None and m["ci95"] is None
    assert censored_text(m) == "1500 (2 of 3 seeds reached it)"
    # the mean curve never reaches it (schema 2 fell back to the survivors' mean, e.g. 3551)
    m = metric([3551.0, None, None], mean=None, bound=4000, floor=100)
    assert m["mean"] is None and censored_text(m) == "> 4000 (1 of 3 seeds)"
    # n* already at the grid's smallest n: only "at most", never a number to rank first
    m = metric([32.0, 32.0, 32.0], mean=32.0, bound=2048, floor=32)
    assert m["mean"] is None and m["censored"] == {"side": "below", "bound": 32, "reached": 0, "of": 3}
    assert censored_text(m) == "≤ 32 (at the floor for 3 of 3 seeds)"
    # every seed has a value and the mean is its own: the usual spread over seeds
    m = metric([100.0, 200.0, 300.0], mean=150.0, bound=4000, floor=32)
    assert m["mean"] == 150.0 and m["std"] == pytest.approx(100.0) and "censored" not in m


def test_a_deterministic_metric_is_one_value_without_a_spread():
    m = metric([90.81, 90.81, 90.81], deterministic=True)
    assert m == {"per_seed": [90.81] * 3, "mean": 90.81, "std": None, "ci95": None, "deterministic": True}
    with pytest.raises(ValueError, match="one value for every seed"):
        metric([90.81, 90.8], deterministic=True)


def test_validate_reads_schemas_1_to_3():
    assert SCHEMA == "ntkbench.result/3"
    new = record(metrics={"acc": metric([1.0, 2.0, 4.0]), "matrix": {"per_seed": [[1]], "mean": [1], "std": None}})
    new["metrics"]["steps"] = metric([5.0, None], bound=10)
    assert validate_record(new, "new.json") == []
    old = record(metrics={"acc": {"per_seed": [1.0, 2.0], "mean": 1.5, "std": 0.5}})
    old["schema"] = "ntkbench.result/1"
    assert validate_record(old, "old.json") == []
    older = copy.deepcopy(new)
    older["schema"] = "ntkbench.result/2"  # no `censored` before schema 3
    assert any("metrics.steps" in e for e in validate_record(older, "older.json"))
    bad = copy.deepcopy(new)
    bad["metrics"]["acc"]["ci95"] = [1.0]
    assert validate_record(bad, "bad.json") == ["bad.json: field 'metrics.acc.ci95' must be [lo, hi] or null"]
    bad["schema"] = "ntkbench.result/9"
    assert any("field 'schema'" in e for e in validate_record(bad, "bad.json"))


def test_headline_of_a_one_seed_run(monkeypatch):
    from ntkbench.orchestration import runner

    rec = record(task="adversarial", metrics={"robust_acc": metric([88.0])})
    assert runner.headline(rec) == "robust_acc 88.0"
    rec["metrics"]["robust_acc"] = metric([88.0, 90.0])
    assert runner.headline(rec) == "robust_acc 89.0 ± 1.4"


# 13. two methods, seed by seed

A = {"test_acc@n=100": metric([70.0, 72.0, 74.0]), "n_star@60": metric([500.0, None, 700.0], mean=600.0)}
B = {"test_acc@n=100": metric([71.0, 74.5, 75.0]), "n_star@60": metric([400.0, 300.0, None], mean=350.0)}


def test_compare_pair_paired_differences_and_t_test():
    from ntkbench.orchestration.pairs import compare_pair

    rows = {r["metric"]: r for r in compare_pair(record("a", A), record("b", B))}
    acc = rows["test_acc@n=100"]
    assert acc["diffs"] == pytest.approx([1.0, 2.5, 1.0]) and acc["mean"] == pytest.approx(1.5) and acc["n"] == 3
    want = stats.ttest_rel([71.0, 74.5, 75.0], [70.0, 72.0, 74.0])
    assert acc["t"] == pytest.approx(want.statistic) and acc["p"] == pytest.approx(want.pvalue)
    star = rows["n_star@60"]
    assert star["diffs"] == [-100.0, None, None] and star["n"] == 1 and star["t"] is None


def test_compare_pair_refuses_and_names_the_field():
    from ntkbench.orchestration.pairs import NotComparable, compare_pair

    for field, value in (("budget", {"n": [200], "x": 1}), ("seeds", 5), ("root_seed", 1), ("dataset", "fmnist")):
        with pytest.raises(NotComparable, match=f"field '{field}' differs"):
            compare_pair(record("a", A), record("b", B, **{field: value}))


def test_compare_command(tmp_path, capsys):
    from ntkbench.cli import main

    for name, metrics, extra in (("a", A, {}), ("b", B, {}), ("c", B, {"root_seed": 7})):
        rec = record(name, metrics, **extra)
        path = tmp_path / "res" / "sample_complexity" / "mnist1d" / name / f"{rec['config_hash']}.json"
        path.parent.mkdir(parents=True)
        path.write_text(json.dumps(rec))
    res = str(tmp_path / "res")
    assert main(["compare", "sample_complexity/mnist1d/a", "*/mnist1d/b", "--results", res]) == 0
    out = capsys.readouterr().out
    assert "test_acc@n=100: B − A per seed [+1, +2.5, +1], mean +1.5; paired t(2) = " in out
    assert "n_star@60: B − A per seed [-100, —, —], mean -100; paired t-test n/a (< 2 paired seeds)" in out
    assert main(["compare", "sample_complexity/mnist1d/a", "sample_complexity/mnist1d/c", "--results", res]) == 2
    err = capsys.readouterr().err
    assert err == "error: not comparable: field 'root_seed' differs (0 vs 7)\n"
    assert main(["compare", "sample_complexity/mnist1d/*", "x.json", "--results", res]) == 2
    assert "3 result files" in capsys.readouterr().err


# 15. which code made a result


def test_method_source_hash_recorded_and_checked(tmp_path, monkeypatch, capsys):
    import ntkbench as nb
    from ntkbench.orchestration import one_run, validate
    from ntkbench.orchestration.one_run import RunSpec
    from ntkbench.registry import METHODS, get_method
    from ntkbench.tasks.base import TaskOutput

    spec = get_method("mlp", "sample_complexity")
    module_source = inspect.getsource(sys.modules[spec.module])
    assert spec.source_hash == hashlib.sha256(module_source.encode()).hexdigest()[:16]

    @nb.method("source-probe", task="sample_complexity", version="1")
    def probe(key, train):
        pass

    here = hashlib.sha256(inspect.getsource(sys.modules[__name__]).encode()).hexdigest()[:16]
    assert get_method("source-probe", "sample_complexity").source_hash == here
    METHODS.remove(("sample_complexity", "source-probe"))

    fake_task = types.SimpleNamespace(
        run=lambda ctx: TaskOutput(metrics={"acc": metric([1.0, 2.0])}, ntk={}), typed_budget=lambda dataset, b: b
    )
    fake_data = types.SimpleNamespace(fingerprint=lambda: "sha256:0", meta={})
    monkeypatch.setattr(one_run, "get_task", lambda name: fake_task)
    monkeypatch.setattr(one_run, "load_dataset", lambda name, data_dir: fake_data)
    run = RunSpec("sample_complexity", 1, "mnist1d", "mlp", spec.version, "ntkbench", spec.params, {}, 2, 0)
    rec = one_run.execute_one(run, tmp_path, None, log=lambda m: None)
    assert rec["status"] == "ok" and rec["method_source"] == spec.source_hash
    assert "method_source" not in config_of(rec)

    rec = record("mlp", {"acc": metric([1.0, 2.0, 3.0])}, method_source="0123456789abcdef")  # 3 seeds
    path = result_path(tmp_path, "sample_complexity", "mnist1d", "mlp", rec["config_hash"])  # where it belongs
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps(rec))
    capsys.readouterr()
    assert validate.validate_paths([path]) == []  # a warning, not an error
    err = capsys.readouterr().err
    assert f"warning: {path}: method 'mlp' (sample_complexity)" in err
    assert "0123456789abcdef" in err and spec.source_hash in err
    path.write_text(json.dumps(rec | {"method_source": spec.source_hash}))
    assert validate.validate_paths([path]) == [] and capsys.readouterr().err == ""
