"""The command line's edges: resume after failures, derived files left alone, bad paths refused
before anything loads, --data-dir, colliding plugins, Ctrl-C, validate's refusals, the console
output and packaging. Everything runs on fake runs (no training)."""

from __future__ import annotations

import argparse
import io
import json
import math
import os
import signal
import subprocess
import sys
import time
import tomllib
from pathlib import Path
from types import SimpleNamespace

import pytest

from ntkbench import cli, registry
from ntkbench.orchestration import one_run, runner, suites
from ntkbench.orchestration.executors import InProcess
from ntkbench.orchestration.one_run import RunSpec
from ntkbench.registry import METHODS, MethodSpec, PluginError, get_method, register
from ntkbench.results import write_json_atomic
from ntkbench.tasks.sample_complexity import fit_exponent

ROOT = Path(__file__).resolve().parent.parent


def spec(method="toy", seeds=1, task="sample_complexity") -> RunSpec:
    return RunSpec(task, 1, "mnist1d", method, "1", "toyplug", {}, {}, seeds, 0)


def fake_record(run: RunSpec, status: str, error: str | None = None) -> dict:
    record = one_run.base_record(run)
    record.update(dataset_fingerprint=None, metrics={}, ntk={}, status=status, error=error, provenance={})
    return record


@pytest.fixture
def fake_runs(monkeypatch, tmp_path):
    """`ntkbench run SUITE` on two fake runs whose statuses come from `state["status"]`."""
    state = {"status": {"a": "ok", "b": "ok"}, "executed": []}
    suite = tmp_path / "suite.toml"
    suite.write_text('name = "fake"\n')

    def load_suite(path, seeds=None):
        return [spec("a"), spec("b")]

    def execute_one(run, out_dir, data_dir, log):
        state["executed"].append(run.method)
        status = state["status"][run.method]
        return fake_record(run, status, None if status == "ok" else "E" * 150 + " remedy: import the data")

    monkeypatch.setattr(suites, "load_suite", load_suite)
    monkeypatch.setattr(one_run, "execute_one", execute_one)
    monkeypatch.setattr(runner, "aggregate", lambda *a, **k: [])
    return state, suite, tmp_path / "out"


# 1. derived results


class FakeTask:
    version = 1

    def __init__(self):
        self.calls, self.alpha = 0, 0.0

    def aggregate(self, records):
        self.calls += 1
        tmpl = {**fake_record(spec("mlp", task="toy"), "ok"), "provenance": {"start_time": f"t{self.calls}"}}
        return [{"template": tmpl, "dataset": "lza", "metrics": {"alpha": {"per_seed": [1], "mean": self.alpha}}}]

    def headline(self, record):
        return None


def test_derived_result_rewritten_only_when_its_content_changes(monkeypatch, tmp_path):
    task = FakeTask()
    monkeypatch.setattr(runner, "get_task", lambda name: task)
    runs = [SimpleNamespace(task="toy")]
    (path,) = runner.aggregate((r.task for r in runs), tmp_path, stream=io.StringIO())
    text, mtime = path.read_text(), path.stat().st_mtime_ns
    time.sleep(0.01)
    out = io.StringIO()
    assert runner.aggregate((r.task for r in runs), tmp_path, stream=out) == []  # new provenance, same content
    assert path.read_text() == text and path.stat().st_mtime_ns == mtime
    assert "unchanged" in out.getvalue()
    task.alpha = 2.0
    assert runner.aggregate((r.task for r in runs), tmp_path, stream=io.StringIO()) == [path]
    assert json.loads(path.read_text())["metrics"]["alpha"]["mean"] == 2.0


def test_exponent_of_a_flat_curve_is_exactly_zero():
    for y in (100, 250, 2048, 512, 32):
        got = fit_exponent([8, 18, 32, 50], [y] * 4)
        assert got == 0.0 and math.copysign(1.0, got) == 1.0
    assert fit_exponent([8, 18, 32, 50], [y * y for y in (8, 18, 32, 50)]) == pytest.approx(2.0)


# 2. failed results are rerun


def test_failed_result_is_rerun_and_counted_and_exits_nonzero(fake_runs, capsys):
    state, suite, out = fake_runs
    state["status"]["b"] = "failed"
    assert cli.main(["run", str(suite), "--out", str(out), "--executor", "inline"]) == 1
    assert "2 runs: 1 ok, 1 failed, 0 skipped" in capsys.readouterr().out
    state["status"]["b"] = "ok"
    state["executed"].clear()
    assert cli.main(["run", str(suite), "--out", str(out), "--executor", "inline"]) == 0
    stdout = capsys.readouterr().out
    assert state["executed"] == ["b"]  # the ok result is skipped, the failed one rerun
    assert "2 runs: 1 ok, 0 failed, 1 skipped; 1 earlier failure rerun" in stdout
    state["executed"].clear()
    assert cli.main(["run", str(suite), "--out", str(out), "--executor", "inline"]) == 0
    assert state["executed"] == []


# 3. bad paths refused before anything loads


@pytest.mark.parametrize("case", ["out-file", "out-under-file", "out-readonly", "suite-folder", "suite-missing"])
def test_bad_paths_refused_before_anything_loads(case, tmp_path, monkeypatch, capsys):
    def refuse(*a, **k):
        raise AssertionError("a suite was loaded")

    monkeypatch.setattr(suites, "load_suite", refuse)
    suite = tmp_path / "suite.toml"
    suite.write_text('name = "x"\n')
    afile = tmp_path / "afile"
    afile.write_text("")
    out = {
        "out-file": afile,
        "out-under-file": afile / "sub",
        "out-readonly": Path("/proc/ntkbench-results"),  # not writable, even by root
    }.get(case, tmp_path / "out")
    suite_arg = {"suite-folder": tmp_path, "suite-missing": tmp_path / "nope.toml"}.get(case, suite)
    assert cli.main(["run", str(suite_arg), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1, err
    assert not list(tmp_path.glob("**/.ntkbench-write-test*"))


# 4. --data-dir before or after the subcommand


@pytest.mark.parametrize("where", ["top", "sub"])
def test_data_dir_is_honoured_before_and_after_the_subcommand(where, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("NTKBENCH_DATA_DIR", str(tmp_path / "from-env"))
    mine = tmp_path / "mine"
    argv = ["--data-dir", str(mine), "data", "list"] if where == "top" else ["data", "list", "--data-dir", str(mine)]
    assert cli.main(argv) == 0
    assert f"data dir: {mine}\n" in capsys.readouterr().out
    assert cli._data_dir(cli.build_parser().parse_args(["data", "list"])) == tmp_path / "from-env"


# 5. two packages, one method name


def toy_a(key, train):
    pass


def toy_b(key, train):
    pass


def method_spec(fn, origin, name="dup-name"):
    return MethodSpec(name, "sample_complexity", fn, "1", {}, origin, f"{origin}.methods")


def test_colliding_plugin_is_skipped_with_a_warning_and_only_its_name_fails(monkeypatch, tmp_path, capsys):
    registry.load_plugins()
    monkeypatch.setattr(METHODS, "_items", dict(METHODS._items))
    monkeypatch.setattr(registry, "_COLLISIONS", {})
    register(method_spec(toy_a, "pkg-a"))
    register(method_spec(toy_b, "pkg-b"))  # skipped, not raised
    with pytest.raises(PluginError) as e:
        get_method("dup-name", "sample_complexity")
    for word in ("pkg-a", "pkg-b", "renamed", "uninstall"):
        assert word in str(e.value)
    assert cli.main(["list"]) == 0
    assert "warning: method 'dup-name'" in capsys.readouterr().err
    good, bad = tmp_path / "good.toml", tmp_path / "bad.toml"
    body = 'name = "s"\n[[runs]]\ntask = "sample_complexity"\ndatasets = ["mnist1d"]\nmethods = ["{}"]\n'
    good.write_text(body.format("mlp"))
    bad.write_text(body.format("dup-name"))
    assert cli.main(["validate", str(good)]) == 0
    assert cli.main(["validate", str(bad)]) == 2
    assert "pkg-b" in capsys.readouterr().err
    # a duplicate inside one package (ntkbench's own built-ins) stays an error
    register(method_spec(toy_a, "ntkbench", name="dup-builtin"))
    with pytest.raises(PluginError, match="defined twice"):
        register(method_spec(toy_b, "ntkbench", name="dup-builtin"))


# 6. Ctrl-C

SCRIPT = """
import sys, time
from ntkbench import cli
from ntkbench.orchestration import one_run, runner, suites
from ntkbench.orchestration.one_run import RunSpec

from ntkbench.orchestration.interrupts import Interrupts
Interrupts.GRACE = 1.0
runs = [RunSpec("sample_complexity", 1, "mnist1d", m, "1", "x", {{}}, {{}}, 1, 0) for m in ("fast", "slow", "z")]
suites.load_suite = lambda path, seeds=None: runs
runner.aggregate = lambda *a, **k: []

def execute_one(run, out_dir, data_dir, log):
    if run.method != "fast":
        print("SLOW", flush=True)
        try:
            time.sleep(60)
        except KeyboardInterrupt:
            if {stuck}:  # a main thread that does not come back (a native call): the watcher ends it
                time.sleep(60)
            raise
    rec = one_run.base_record(run)
    rec.update(dataset_fingerprint=None, metrics={{}}, ntk={{}}, status="ok", error=None, provenance={{}})
    return rec

one_run.execute_one = execute_one
sys.exit(cli.main(["run", sys.argv[1], "--out", sys.argv[2], "--executor", "inline"]))
"""


@pytest.mark.parametrize("stuck", [False, True])
def test_ctrl_c_exits_130_promptly_with_nothing_half_written(stuck, tmp_path):
    script, suite, out = tmp_path / "run.py", tmp_path / "suite.toml", tmp_path / "out"
    script.write_text(SCRIPT.format(stuck=stuck))
    suite.write_text('name = "x"\n')
    env = {**os.environ, "PYTHONPATH": f"{ROOT}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    proc = subprocess.Popen(
        [sys.executable, str(script), str(suite), str(out)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    for line in proc.stdout:
        if "SLOW" in line:  # the first result is written, the second run is under way
            break
    t0 = time.monotonic()
    proc.send_signal(signal.SIGINT)
    rc = proc.wait(timeout=10)
    assert rc == 130 and time.monotonic() - t0 < 5
    assert "interrupted; finished runs are saved, rerun to resume" in proc.stderr.read()
    files = [p for p in out.rglob("*") if p.is_file()]
    assert [p.parent.name for p in files] == ["fast"] and not [p for p in files if p.name.startswith(".")]
    json.loads(files[0].read_text())


# 7. validate and leaderboard refusals


def test_validate_refuses_empty_folders_other_files_and_malformed_fields(tmp_path, capsys):
    empty = tmp_path / "empty"
    empty.mkdir()
    txt = tmp_path / "notes.txt"
    txt.write_text("hello")
    assert cli.main(["validate", str(empty)]) == 1
    assert "no result files" in capsys.readouterr().err
    assert cli.main(["validate", str(txt)]) == 1
    assert "not a result file" in capsys.readouterr().err
    bad = tmp_path / "bad.json"
    record = fake_record(spec(), "ok")
    record.update(metrics="oops", provenance={}, config_hash="x")
    bad.write_text(json.dumps(record))
    assert cli.main(["validate", str(bad)]) == 1
    err = capsys.readouterr().err
    assert f"{bad}: field 'metrics' must be an object" in err and "Traceback" not in err


def test_leaderboard_of_a_missing_folder_is_a_one_line_error(tmp_path, capsys):
    assert cli.main(["leaderboard", "--results", str(tmp_path / "nonexistent"), "--out", str(tmp_path / "s")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: --results") and err.count("\n") == 1


# 8. console


def test_errors_are_printed_in_full_and_seed_is_singular(fake_runs, capsys):
    state, suite, out = fake_runs
    state["status"]["a"] = "failed"
    assert cli.main(["run", str(suite), "--out", str(out), "--executor", "inline"]) == 1
    captured = capsys.readouterr()
    assert "(1 seed)" in captured.out and "1 seeds" not in captured.out
    assert captured.out.count("remedy: import the data") == 2  # in the log and in the summary
    assert "E" * 150 in captured.out
    assert captured.err == ""  # no progress bar when stderr is not a terminal


def test_progress_bar_on_a_terminal(monkeypatch, tmp_path):
    class Tty(io.StringIO):
        def isatty(self):
            return True

    err = Tty()
    monkeypatch.setattr(sys, "stderr", err)
    monkeypatch.setattr(one_run, "execute_one", lambda run, *a, **k: fake_record(run, "ok"))
    monkeypatch.setattr(runner, "aggregate", lambda *a, **k: [])
    monkeypatch.setattr(runner, "headline", lambda record: "")
    runner.execute([spec("a"), spec("b")], tmp_path, InProcess(), stream=io.StringIO())
    assert "0/2 [" in err.getvalue() and "run" in err.getvalue()


def test_version_help_and_list_columns(capsys, monkeypatch):
    with pytest.raises(SystemExit) as e:
        cli.main(["--version"])
    assert e.value.code == 0 and capsys.readouterr().out.startswith("ntkbench ")

    def options(parser):
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, sub in action.choices.items():
                    yield from ((f"{name} {n}", a) for n, a in options(sub))
            elif not isinstance(action, argparse._HelpAction):
                yield parser.prog, action

    missing = [f"{where}: {a.dest}" for where, a in options(cli.build_parser()) if not a.help]
    assert not missing

    long = MethodSpec("a-very-long-method-name", "sample_complexity", toy_a, "1", {}, "ntkbench", "m", description="D")
    with METHODS.temporary(("sample_complexity", long.name), long):
        assert cli.main(["list"]) == 0
    lines = capsys.readouterr().out.split("Methods:\n")[1].splitlines()
    rows = [line for line in lines if line.startswith("  ") and " from " in line]
    assert len({line.index(" from ") for line in rows}) == 1, rows


# 9. packaging


def test_suites_ship_in_the_package_and_pyproject():
    assert cli.DEFAULT_SUITE.is_file() and cli.DEFAULT_SUITE.parent == Path(cli.__file__).resolve().parent / "suites"
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert "suites/*.toml" in project["tool"]["setuptools"]["package-data"]["ntkbench"]
    assert "setuptools>=77" in project["build-system"]["requires"]
    assert any(d.startswith("tqdm>=4.66") for d in project["project"]["dependencies"])
    assert (ROOT / "suites" / "quick.toml").is_file()


@pytest.mark.parametrize(("umask", "mode"), [(0o022, 0o644), (0o027, 0o640)])
def test_result_files_are_readable_as_the_umask_allows(umask, mode, tmp_path):
    old = os.umask(umask)
    try:
        write_json_atomic(tmp_path / "r.json", {"a": 1})
    finally:
        os.umask(old)
    assert (tmp_path / "r.json").stat().st_mode & 0o777 == mode


def test_a_censored_headline_shows_its_bound_and_how_many_seeds_got_there():
    record = fake_record(spec("cnn-gd", seeds=3, task="training_dynamics"), "ok")
    record["metrics"] = {"steps_to@30": {"per_seed": [None, 900.0, None], "mean": None, "std": None}}
    assert runner.headline(record) == "steps_to@30 > steps (1 of 3 seeds)"
