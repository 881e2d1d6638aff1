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

from ntkbench.results import SCHEMA, config_hash, config_of, metric, result_path, validate_record


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


def test_derived_metric_keeps_its_mean_and_spreads_over_present_values():
    m = metric([1000.0, None, 3000.0, float("nan")], mean=1500.0)
    assert m["per_seed"] == [1000.0, None, 3000.0, None] and m["mean"] == 1500.0
    assert m["std"] == pytest.approx(np.std([1000, 3000], ddof=1))
    half = stats.t.ppf(0.975, 1) * np.std([1000, 3000], ddof=1) / np.sqrt(2)
    assert m["ci95"] == pytest.approx([2000 - half, 2000 + half])
    assert metric([None, 5.0], mean=4.0) == {"per_seed": [None, 5.0], "mean": 4.0, "std": None, "ci95": None}
    assert metric([None, None]) == {"per_seed": [None, None], "mean": None, "std": None, "ci95": None}


def test_validate_reads_schema_1_and_schema_2():
    assert SCHEMA == "ntkbench.result/2"
    new = record(metrics={"acc": metric([1.0, 2.0, 4.0]), "matrix": {"per_seed": [[1]], "mean": [1], "std": None}})
    assert validate_record(new, "new.json") == []
    old = record(metrics={"acc": {"per_seed": [1.0, 2.0], "mean": 1.5, "std": 0.5}})
    old["schema"] = "ntkbench.result/1"
    assert validate_record(old, "old.json") == []
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
