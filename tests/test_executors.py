"""Runs executed elsewhere: worker processes (`--jobs N`) and a real Slurm cluster
(`--executor slurm`) leave the same result files, with the same metrics to the bit, as the runs
executed one after another in one process; a cancelled Slurm job is recorded as failed and the
next `ntkbench run` completes it."""

import os
import shutil
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import pytest
from plugin_fixture import ROOT, ntkbench

from ntkbench.cli import DEFAULT_SUITE
from ntkbench.results import iter_results


def by_run(out: Path) -> dict:
    """{task/dataset/method/hash: record} of the non-derived results under `out`."""
    return {
        f"{r['task']}/{r['dataset']}/{r['method']}/{r['config_hash']}": r
        for _, r in iter_results(out)
        if not r.get("derived")
    }


def untimed(view):
    """An NTK view without its timings ("seconds"): everything else must match to the bit."""
    if isinstance(view, dict):
        return {k: untimed(v) for k, v in view.items() if k != "seconds"}
    if isinstance(view, list):
        return [untimed(v) for v in view]
    return view


def assert_same_results(a: Path, b: Path) -> None:
    ra, rb = by_run(a), by_run(b)
    assert ra and set(ra) == set(rb)
    for k in ra:
        assert ra[k]["status"] == rb[k]["status"], k
        assert ra[k]["metrics"] == rb[k]["metrics"], f"{k}: metrics differ"  # floats compared exactly
        assert untimed(ra[k]["ntk"]) == untimed(rb[k]["ntk"]), f"{k}: NTK view differs"
        assert ra[k]["error"] == rb[k]["error"], k


@pytest.fixture(scope="module")
def one_process(plugin, tmp_path_factory):
    """The toy suite run one run after another in one process, on one device."""
    env, suite = plugin
    out = tmp_path_factory.mktemp("one")
    proc = ntkbench("run", suite, "--out", out, env_extra=env)
    assert proc.returncode == 1 and "4 runs: 1 ok, 3 failed" in proc.stdout, proc.stdout + proc.stderr
    return out


def test_jobs_2_is_bit_identical_to_one_process(plugin, one_process, tmp_path):
    env, suite = plugin
    two = ntkbench("run", suite, "--out", tmp_path, "--jobs", "2", env_extra=env)
    assert "in 2 worker processes" in two.stdout, two.stdout + two.stderr
    # the suite has methods that fail on purpose: exit 1, with the same four files
    assert two.returncode == 1 and "4 runs: 1 ok, 3 failed" in two.stdout, two.stderr
    assert_same_results(one_process, tmp_path)


def test_seeds_split_over_two_devices_match_one_device(plugin, one_process, tmp_path):
    env, suite = plugin
    flags = {**env, "XLA_FLAGS": "--xla_force_host_platform_device_count=2"}
    two = ntkbench("run", suite, "--out", tmp_path, "--only", "*toy-linear*", env_extra=flags)
    assert two.returncode == 0, two.stdout + two.stderr
    (rec,) = by_run(tmp_path).values()
    assert rec["provenance"]["device"] == "cpu:cpu x2" and rec["vmap_seeds"] and rec["seeds"] == 2
    ref = next(r for r in by_run(one_process).values() if r["method"] == "toy-linear")
    assert rec["metrics"] == ref["metrics"]


def test_jobs_flag_refuses_slurm_options_without_slurm(plugin, tmp_path):
    env, suite = plugin
    proc = ntkbench("run", suite, "--out", tmp_path, "--slurm-partition", "gpu", env_extra=env)
    assert proc.returncode == 2 and "--slurm-partition needs --executor slurm" in proc.stderr


def test_bad_executor_table_is_refused_before_anything_runs(plugin, tmp_path):
    env, suite = plugin
    bad = tmp_path / "bad.toml"
    bad.write_text(Path(suite).read_text() + "\n[executor]\ntime_limit_min = 'soon'\n")
    proc = ntkbench("run", bad, "--out", tmp_path / "out", "--executor", "slurm", env_extra=env)
    assert proc.returncode == 2, proc.stderr
    assert f"{bad}: executor" in proc.stderr and "time_limit_min" in proc.stderr
    assert not (tmp_path / "out").exists()


# ---- a real Slurm cluster (.ci/slurm.sh starts a one-node one; skipped where none answers) ----


def _slurm_reason() -> str | None:
    if shutil.which("sbatch") is None:
        return "no Slurm here (sbatch not found; .ci/slurm.sh start sets up a one-node cluster)"
    try:
        info = subprocess.run(["sinfo", "-h", "-o", "%T"], capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.SubprocessError) as e:
        return f"sinfo failed: {e}"
    states = info.stdout.split()
    if info.returncode != 0 or not any(s.rstrip("*") in ("idle", "mixed", "allocated") for s in states):
        return f"no Slurm node up (sinfo: {(info.stdout + info.stderr).strip() or 'nothing'})"
    return None


needs_slurm = pytest.mark.skipif(_slurm_reason() is not None, reason=str(_slurm_reason()))

# A slice of the quick suite (two of its forgetting runs), polled every second.
SLICE = "forgetting/mnist1d/e*"


def _quick_suite_polled(tmp_path: Path) -> Path:
    text = DEFAULT_SUITE.read_text()
    assert "[executor]" not in text
    suite = tmp_path / "quick.toml"
    suite.write_text(text + "\n[executor]\npoll_seconds = 1.0\ntime_limit_min = 20\n")
    assert tomllib.loads(suite.read_text())["name"] == tomllib.loads(text)["name"]
    return suite


@needs_slurm
def test_slurm_slice_of_quick_suite_is_bit_identical_to_local(tmp_path):
    suite = _quick_suite_polled(tmp_path)
    local = ntkbench("run", suite, "--only", SLICE, "--out", tmp_path / "local")
    assert local.returncode == 0, local.stdout + local.stderr
    slurm = ntkbench("run", suite, "--only", SLICE, "--out", tmp_path / "slurm", "--executor", "slurm")
    assert slurm.returncode == 0, slurm.stdout + slurm.stderr
    assert "submitted 2 runs as Slurm job array" in slurm.stdout
    assert "slurm: 0 pending, 0 running, 2 done, 0 failed" in slurm.stdout
    assert_same_results(tmp_path / "local", tmp_path / "slurm")
    for rec in by_run(tmp_path / "slurm").values():
        job = rec["provenance"]["slurm"]
        assert job["job_id"] and job["node"]
    # already finished: nothing is submitted again
    again = ntkbench("run", suite, "--only", SLICE, "--out", tmp_path / "slurm", "--executor", "slurm")
    assert again.returncode == 0 and "submitted" not in again.stdout and "2 skipped" in again.stdout


def _wait_for(predicate, seconds: float, what: str):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = predicate()
        if found:
            return found
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}")


@needs_slurm
def test_scancel_mid_run_is_recorded_as_failed_and_rerun(plugin, tmp_path):
    """Two runs in one job (`runs_per_job = 2`), cancelled during the second: the first keeps its
    ok result, the second is recorded as failed, and the next `ntkbench run` reruns only it."""
    env, _ = plugin
    suite = tmp_path / "slow.toml"
    suite.write_text(
        'name = "slow"\nseeds = 1\n[[runs]]\ntask = "sample_complexity"\ndatasets = ["mnist1d"]\n'
        'methods = ["toy-linear", "toy-slow"]\nbudget = { n = [50], targets = [20.0] }\n'
        "[executor]\npoll_seconds = 1.0\ntime_limit_min = 10\nruns_per_job = 2\n"
    )
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "ntkbench.cli", "run", str(suite), "--out", str(out), "--executor", "slurm"]
    proc = subprocess.Popen(
        cmd, cwd=ROOT, env={**os.environ, **env, "TOYPLUG_SLEEP": "120"}, stdout=subprocess.PIPE, text=True
    )
    try:
        logs = out / ".slurm"
        # mid-run: the job has finished its first run and started the second (sleeping inside it)
        log = _wait_for(
            lambda: next((p for p in logs.glob("*_log.err") if "toy-slow: sleeping" in p.read_text()), None),
            120,
            "the job to start its second run",
        )
        job_id = log.name.split("_log")[0].rsplit("_", 1)[0]
        subprocess.run(["scancel", job_id], check=True)
        stdout, _ = proc.communicate(timeout=120)
    finally:
        proc.kill()
    assert proc.returncode == 1, stdout
    assert "submitted 2 runs as Slurm job " in stdout and ", 1 job of up to 2 runs" in stdout
    records = {rec["method"]: rec for _, rec in iter_results(out)}
    assert sorted(records) == ["toy-linear", "toy-slow"]
    assert records["toy-linear"]["status"] == "ok"
    rec = records["toy-slow"]
    assert rec["status"] == "failed" and "CANCELLED" in rec["error"], rec["error"]
    assert rec["provenance"]["slurm"]["job_id"] == job_id
    assert not [p for p in out.rglob("*.tmp")], "a half-written file was left behind"
    # the next run submits only the failed one again and completes it
    again = ntkbench("run", suite, "--out", out, "--executor", "slurm", env_extra=env)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "1 earlier failure rerun" in again.stdout and "submitted 1 run as Slurm job " in again.stdout
    records = {rec["method"]: rec for _, rec in iter_results(out)}
    assert records["toy-slow"]["status"] == "ok" and records["toy-slow"]["provenance"]["slurm"]["job_id"] != job_id


def test_runs_are_grouped_into_even_consecutive_jobs():
    from ntkbench.orchestration.slurm import groups

    assert [len(g) for g in groups(list(range(11)), 4)] == [3, 4, 4]
    assert groups(list(range(5)), 1) == [[k] for k in range(5)]
    assert [k for g in groups(list(range(21)), 11) for k in g] == list(range(21))
    assert [len(g) for g in groups(list(range(21)), 11)] == [10, 11]
