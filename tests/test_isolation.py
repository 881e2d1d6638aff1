"""A plugin cannot end a suite: each run executes in a worker process of its own, so a method that
calls `sys.exit`, `os._exit`, raises a `BaseException`, kills its process (as the OOM killer does)
or hangs past the run's time limit fails that run alone, with the cause recorded, and the suite
goes on; under `--jobs` a dead worker fails only the run it held. Ctrl-C ends `ntkbench run` with
130 within seconds at any point, with nothing half-written."""

from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from plugin_fixture import ROOT, install, ntkbench

from ntkbench import cli
from ntkbench.orchestration import one_run, suites
from ntkbench.orchestration.locks import RunLock
from ntkbench.orchestration.one_run import RunSpec
from ntkbench.results import result_path

PYPROJECT = """
[build-system]
requires = ["setuptools>=61"]
build-backend = "setuptools.build_meta"

[project]
name = "hostileplug"
version = "0.0.1"

[project.entry-points."ntkbench.methods"]
hostileplug = "hostileplug"
"""

MODULE = '''
"""Methods that misbehave the ways a stranger's plugin can, and one honest one."""
import os, signal, sys, time

import optax
import ntkbench as nb


def honest(key, train):
    model = lambda rngs: nb.models.Network(nb.models.mlp(train.num_classes, ()), train.input_shape, rngs=rngs)
    return nb.fit_classifier(key, model, train, optimizer=optax.sgd(0.05), steps=20, batch_size=32)


@nb.method("hostile-honest", task="sample_complexity", version="0.1")
def hostile_honest(key, train, *, pause=0.0):
    """A linear classifier, after `pause` seconds (to be in flight while another run dies)."""
    time.sleep(pause)
    return honest(key, train)


@nb.method("hostile-exit", task="sample_complexity", version="0.1")
def hostile_exit(key, train):
    sys.exit(3)


@nb.method("hostile-osexit", task="sample_complexity", version="0.1")
def hostile_osexit(key, train):
    os._exit(0)


class Boom(BaseException):
    pass


@nb.method("hostile-base", task="sample_complexity", version="0.1")
def hostile_base(key, train):
    raise Boom("not an Exception")


@nb.method("hostile-vanish", task="sample_complexity", version="0.1")
def hostile_vanish(key, train):
    os.kill(os.getpid(), signal.SIGKILL)


@nb.method("hostile-sleep", task="sample_complexity", version="0.1")
def hostile_sleep(key, train):
    print("SLEEPING", flush=True)
    time.sleep(3600)
'''

BUDGET = "budget = { n = [50], targets = [20.0] }"


@pytest.fixture(scope="module")
def hostile(tmp_path_factory) -> dict:
    """The hostile plugin installed: the environment of a CLI process that finds it."""
    root = tmp_path_factory.mktemp("hostile")
    pkg = root / "src"
    (pkg / "hostileplug").mkdir(parents=True)
    (pkg / "pyproject.toml").write_text(textwrap.dedent(PYPROJECT))
    (pkg / "hostileplug" / "__init__.py").write_text(MODULE)
    site = install(pkg, root / "site")
    return {"PYTHONPATH": f"{site}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}


def suite_file(path: Path, blocks: list[str], top: str = "") -> Path:
    runs = "".join(
        f'\n[[runs]]\ntask = "sample_complexity"\ndatasets = ["mnist1d"]\n{BUDGET}\n{block}\n' for block in blocks
    )
    path.write_text(f'name = "hostile"\nseeds = 1\n{top}\n{runs}')
    return path


def results(out: Path) -> dict[str, dict]:
    """{method: record} of the result files under `out`."""
    return {r["method"]: r for r in (json.loads(p.read_text()) for p in out.rglob("*.json"))}


def test_a_plugin_that_exits_or_dies_fails_its_own_run_and_the_suite_goes_on(hostile, tmp_path):
    methods = ["hostile-exit", "hostile-osexit", "hostile-base", "hostile-vanish", "hostile-honest"]
    suite = suite_file(tmp_path / "s.toml", [f'methods = ["{m}"]' for m in methods])
    proc = ntkbench("run", suite, "--out", tmp_path / "out", env_extra=hostile)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "5 runs: 1 ok, 4 failed" in proc.stdout, proc.stdout + proc.stderr
    got = results(tmp_path / "out")
    assert set(got) == set(methods)
    assert got["hostile-honest"]["status"] == "ok"
    causes = {
        "hostile-exit": "SystemExit: 3",
        "hostile-osexit": "exited with code 0",
        "hostile-base": "Boom: not an Exception",
        "hostile-vanish": "killed by signal 9 (SIGKILL",
    }
    for method, cause in causes.items():
        assert got[method]["status"] == "failed" and cause in got[method]["error"], got[method]["error"]


def test_a_dead_worker_fails_only_the_run_it_held(hostile, tmp_path):
    """`--jobs 2`: one worker is killed (SIGKILL, as by the OOM killer) while the other's run is in
    flight; that run ends ok, and a new worker takes the next run."""
    blocks = [
        'methods = ["hostile-honest"]\n[runs.params.hostile-honest]\npause = 4.0',
        'methods = ["hostile-vanish"]',
        'methods = ["hostile-honest"]',
    ]
    suite = suite_file(tmp_path / "s.toml", blocks)
    proc = ntkbench("run", suite, "--out", tmp_path / "out", "--jobs", "2", env_extra=hostile)
    assert "3 runs: 2 ok, 1 failed" in proc.stdout, proc.stdout + proc.stderr
    by_pause = {
        r["params"].get("pause", 0.0): r
        for r in (json.loads(p.read_text()) for p in (tmp_path / "out").rglob("*.json"))
        if r["method"] == "hostile-honest"
    }
    assert {k: r["status"] for k, r in by_pause.items()} == {4.0: "ok", 0.0: "ok"}
    assert "SIGKILL" in results(tmp_path / "out")["hostile-vanish"]["error"]


def test_a_run_past_its_time_limit_fails_and_the_suite_goes_on(hostile, tmp_path):
    blocks = ['methods = ["hostile-sleep"]\ntime_limit_min = 0.05', 'methods = ["hostile-honest"]']
    suite = suite_file(tmp_path / "s.toml", blocks)
    t0 = time.monotonic()
    proc = ntkbench("run", suite, "--out", tmp_path / "out", env_extra=hostile, timeout=300)
    assert time.monotonic() - t0 < 120
    assert proc.returncode == 1 and "2 runs: 1 ok, 1 failed" in proc.stdout, proc.stdout + proc.stderr
    got = results(tmp_path / "out")
    assert "exceeded its time limit of 0.05 min" in got["hostile-sleep"]["error"]
    assert got["hostile-honest"]["status"] == "ok"


def test_time_limit_flag_overrides_the_suite(hostile, tmp_path):
    suite = suite_file(tmp_path / "s.toml", ['methods = ["hostile-sleep"]'], top="time_limit_min = 600")
    proc = ntkbench("run", suite, "--out", tmp_path / "out", "--time-limit", "0.05", env_extra=hostile, timeout=300)
    assert proc.returncode == 1 and "1 run: 0 ok, 1 failed" in proc.stdout, proc.stdout + proc.stderr
    assert "exceeded its time limit of 0.05 min" in results(tmp_path / "out")["hostile-sleep"]["error"]


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_ctrl_c_in_a_long_native_call_exits_130_within_seconds(hostile, tmp_path, jobs):
    """The terminal's SIGINT reaches the whole process group; the method is inside a call that
    does not return (as a compile or a compiled program does): exit 130 within ~2 s anyway."""
    suite = suite_file(tmp_path / "s.toml", ['methods = ["hostile-sleep"]', 'methods = ["hostile-honest"]'])
    out = tmp_path / "out"
    proc = subprocess.Popen(
        [sys.executable, "-m", "ntkbench.cli", "run", str(suite), "--out", str(out), "--jobs", jobs],
        cwd=ROOT,
        env={**os.environ, **hostile},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    assert proc.stdout is not None
    for line in proc.stdout:
        if "SLEEPING" in line:
            break
    t0 = time.monotonic()
    os.killpg(proc.pid, signal.SIGINT)
    rc = proc.wait(timeout=30)
    assert rc == 130 and time.monotonic() - t0 < 3, (rc, time.monotonic() - t0)
    assert "interrupted" in proc.stderr.read()
    leftovers = [p for p in out.rglob("*") if p.is_file() and (p.name.startswith(".") or p.suffix != ".json")]
    assert not leftovers
    for p in out.rglob("*.json"):
        json.loads(p.read_text())  # whole
    assert not live_processes_in_group(proc.pid)  # no worker left behind


def live_processes_in_group(pgid: int, wait: float = 5.0) -> list[int]:
    """The processes of group `pgid` still running after up to `wait` seconds (zombies, which
    exited and wait for a reaper, do not count)."""
    deadline = time.monotonic() + wait
    while True:
        live = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[2]) == pgid and fields[0] != "Z":  # state, ppid, pgrp
                live.append(int(stat.parent.name))
        if not live or time.monotonic() > deadline:
            return live
        time.sleep(0.2)


# A full disk, and two processes on one --out (in this process: the runs are fakes)


def fake_run(method: str) -> RunSpec:
    return RunSpec("sample_complexity", 1, "mnist1d", method, "1", "fake", {}, {}, 1, 0)


@pytest.fixture
def fake_suite(monkeypatch, tmp_path):
    """`ntkbench run SUITE --executor inline` over three fake runs that end ok at once."""
    runs = [fake_run(m) for m in ("a", "b", "c")]
    executed: list[str] = []

    def execute_one(run, out_dir, data_dir, log):
        executed.append(run.method)
        record = one_run.base_record(run)
        metric = {"per_seed": [50.0], "mean": 50.0, "std": None}
        record.update(dataset_fingerprint=None, metrics={"test_acc@n=50": metric}, ntk={}, status="ok", error=None)
        record["provenance"] = {}
        return record

    monkeypatch.setattr(suites, "load_suite", lambda path, seeds=None: runs)
    monkeypatch.setattr(one_run, "execute_one", execute_one)
    suite = tmp_path / "suite.toml"
    suite.write_text('name = "fake"\n')
    return suite, tmp_path / "out", runs, executed


def test_a_full_disk_stops_the_suite_in_one_line_saying_what_was_lost(fake_suite, monkeypatch, capsys):
    suite, out, runs, executed = fake_suite
    write = one_run.write_json_atomic

    def write_until_full(path, record):
        if record["method"] == "b":
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))
        write(path, record)

    monkeypatch.setattr(one_run, "write_json_atomic", write_until_full)
    assert cli.main(["run", str(suite), "--out", str(out), "--executor", "inline"]) == 1
    captured = capsys.readouterr()
    errors = [line for line in captured.err.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "Traceback" not in captured.err
    b = result_path(out, "sample_complexity", "mnist1d", "b", runs[1].config_hash)
    assert f"could not write {b}: No space left on device; the run ended ok (test_acc@n=50 50.0)" in errors[0]
    assert "the suite stops here" in errors[0]
    assert executed == ["a", "b"]  # c never started
    written = sorted(p.parent.name for p in out.rglob("*.json"))
    assert written == ["a"] and not [p for p in out.rglob(".*")]  # no temporary or lock file left
    assert "3 runs: 1 ok, 1 failed, 0 skipped, 1 not run" in captured.out


def test_a_run_another_process_is_running_is_skipped_not_run_twice(fake_suite, capsys):
    suite, out, runs, executed = fake_suite
    other = RunLock(result_path(out, "sample_complexity", "mnist1d", "b", runs[1].config_hash))
    assert other.acquire()  # as a second `ntkbench run` on the same --out would hold it
    try:
        assert cli.main(["run", str(suite), "--out", str(out), "--executor", "inline"]) == 0
    finally:
        other.release()
    captured = capsys.readouterr()
    assert executed == ["a", "c"]
    assert "skipped, another ntkbench process is running it" in captured.out
    assert not [p for p in out.rglob(".*")]
