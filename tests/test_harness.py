"""The core harness end to end: plugins, suites, result files, determinism, resume, failures."""

import json
import os
import signal
import subprocess
import sys

import pytest
from plugin_fixture import ROOT, ntkbench

from ntkbench.results import PROVENANCE_FIELDS, REQUIRED_FIELDS, iter_results


@pytest.fixture(scope="module")
def toy_results(plugin, tmp_path_factory):
    env, suite = plugin
    out = tmp_path_factory.mktemp("results")
    proc = ntkbench("run", suite, "--out", out, env_extra=env)
    return out, proc


def records_by_method(out):
    return {rec["method"]: (path, rec) for path, rec in iter_results(out)}


def test_list_shows_third_party_origin(plugin):
    env, _ = plugin
    proc = ntkbench("list", "--json", env_extra=env)
    assert proc.returncode == 0, proc.stderr
    methods = {m["name"]: m for m in json.loads(proc.stdout)["methods"]}
    assert methods["toy-linear"]["origin"] == "toyplug"
    assert methods["toy-linear"]["params"] == {"steps": 100, "lr": 0.05}
    assert methods["mlp"]["origin"] == "ntkbench"


def test_plugin_runs_and_bad_methods_fail_alone(toy_results):
    out, proc = toy_results
    assert proc.returncode == 1, proc.stdout + proc.stderr  # some runs failed, the suite finished
    recs = records_by_method(out)
    assert set(recs) == {"toy-linear", "toy-raises", "toy-nan", "toy-shape"}
    ok = recs["toy-linear"][1]
    assert ok["status"] == "ok" and ok["method_origin"] == "toyplug"
    assert 10 < ok["metrics"]["test_acc@n=100"]["mean"] <= 100
    errors = {m: recs[m][1]["error"] for m in ("toy-raises", "toy-nan", "toy-shape")}
    assert all(recs[m][1]["status"] == "failed" and recs[m][1]["metrics"] == {} for m in errors)
    assert "toy-raises" in errors["toy-raises"] and "exploded on purpose" in errors["toy-raises"]
    assert "toy-nan" in errors["toy-nan"] and "non-finite" in errors["toy-nan"]
    assert "toy-shape" in errors["toy-shape"] and "(1000, 3)" in errors["toy-shape"]
    assert "4 runs: 1 ok, 3 failed" in proc.stdout


def test_result_file_has_every_field(toy_results):
    out, _ = toy_results
    path, rec = records_by_method(out)["toy-linear"]
    assert all(f in rec for f in REQUIRED_FIELDS)
    assert all(f in rec["provenance"] for f in PROVENANCE_FIELDS)
    assert path.name == rec["config_hash"] + ".json"
    assert path.parent.parent.parent.name == "sample_complexity"
    assert rec["dataset_fingerprint"].startswith("sha256:")
    assert rec["provenance"]["compile_seconds"] > 0
    m = rec["metrics"]["test_acc@n=50"]
    assert len(m["per_seed"]) == 2 and set(m) == {"per_seed", "mean", "std", "ci95"}
    assert ntkbench("validate", out).returncode == 0


def test_second_run_skips_ok_results_and_reruns_failed_ones(plugin, toy_results):
    env, suite = plugin
    out, _ = toy_results
    ok_path = records_by_method(out)["toy-linear"][0]
    before = ok_path.stat().st_mtime_ns
    proc = ntkbench("run", suite, "--out", out, env_extra=env)
    assert "4 runs: 0 ok, 3 failed, 1 skipped; 3 earlier failures rerun" in proc.stdout
    assert proc.returncode == 1
    assert ok_path.stat().st_mtime_ns == before


def test_same_suite_twice_is_bit_identical(plugin, toy_results, tmp_path):
    env, suite = plugin
    out1, _ = toy_results
    ntkbench("run", suite, "--out", tmp_path, "--only", "*toy-linear*", env_extra=env)
    a = records_by_method(out1)["toy-linear"][1]
    b = records_by_method(tmp_path)["toy-linear"][1]
    assert a["config_hash"] == b["config_hash"]
    assert json.dumps(a["metrics"], sort_keys=True) == json.dumps(b["metrics"], sort_keys=True)


def test_rerun_refuses_edited_metrics(plugin, toy_results, tmp_path):
    env, _ = plugin
    out, _ = toy_results
    path, rec = records_by_method(out)["toy-linear"]
    assert ntkbench("validate", "--rerun", path, env_extra=env).returncode == 0
    rec["metrics"]["test_acc@n=100"]["mean"] += 5.0
    edited = tmp_path / path.name
    edited.write_text(json.dumps(rec))
    proc = ntkbench("validate", "--rerun", edited, env_extra=env)
    assert proc.returncode == 1 and "metrics.test_acc@n=100" in proc.stderr


def test_validate_refuses_edited_config(toy_results, tmp_path):
    out, _ = toy_results
    path, rec = records_by_method(out)["toy-linear"]
    rec["params"]["steps"] = 5
    edited = tmp_path / path.name
    edited.write_text(json.dumps(rec))
    proc = ntkbench("validate", edited)
    assert proc.returncode == 1 and "config_hash" in proc.stderr and str(edited) in proc.stderr


def test_killed_run_leaves_no_partial_file_and_resumes(plugin, tmp_path):
    env, suite = plugin
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "ntkbench.cli", "run", str(suite), "--out", str(out), "--only", "*toy-linear*"]
    proc = subprocess.Popen(
        cmd, cwd=ROOT, env={**os.environ, **env}, stdout=subprocess.PIPE, text=True, start_new_session=True
    )
    for line in proc.stdout:  # kill it while the run is in progress
        if "n=50:" in line:
            os.killpg(proc.pid, signal.SIGKILL)
            break
    proc.wait()
    # The run's lock file may stay (the kernel released the lock with the process); nothing else may
    left = [p for p in out.rglob("*") if p.is_file() and not p.name.endswith(".lock")]
    assert not left, "a killed run left a file behind"
    done = ntkbench("run", suite, "--out", out, "--only", "*toy-linear*", env_extra=env)
    assert "1 run: 1 ok" in done.stdout
    assert len(list(iter_results(out))) == 1
    assert not list(out.rglob("*.lock")), "the next run takes the stale lock and removes it"


def test_shards_partition_the_suite(plugin):
    env, suite = plugin
    code = (
        "import sys; from ntkbench.orchestration.suites import load_suite, select; runs = load_suite(sys.argv[1]);"
        "print([sorted(r.run_id for r in select(runs, shard=f'{i}/3')) for i in range(3)]);"
        "print(sorted(r.run_id for r in runs))"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code, str(suite)], capture_output=True, text=True, env={**os.environ, **env}, check=True
    )
    shards, everything = (eval(line) for line in proc.stdout.splitlines())
    flat = [r for s in shards for r in s]
    assert sorted(flat) == everything and len(set(flat)) == len(flat) == 4
