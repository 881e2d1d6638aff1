"""`ntkbench verify` end to end, offline: a throwaway plugin package in a local git repository at a
commit, its suite run into a submission folder, then verified (installed from
`git+file://…@<commit>` into a fresh venv, re-run, compared); a hand-edited metric, code changed
after the results, and an uninstallable requirement are each refused or reported."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from plugin_fixture import install, ntkbench

from ntkbench.orchestration import verify

PYPROJECT = """
[build-system]
requires = ["setuptools>=61"]
build-backend = "setuptools.build_meta"

[project]
name = "toyverify"
version = "0.0.1"

[project.entry-points."ntkbench.methods"]
toyverify = "toyverify"
"""

MODULE = '''
"""A submitted method: a linear softmax classifier trained for a few steps."""
import os

import optax
import ntkbench as nb


@nb.method("toy-verify", task="sample_complexity", version="0.1")
def toy_verify(key, train, *, steps=30, lr=0.05):
    """A linear softmax classifier (that takes its worker process down when $TOYVERIFY_CRASH is set)."""
    if os.environ.get("TOYVERIFY_CRASH"):
        os._exit(3)
    model = lambda rngs: nb.models.Network(nb.models.mlp(train.num_classes, ()), train.input_shape, rngs=rngs)
    return nb.fit_classifier(key, model, train, optimizer=optax.sgd(lr), steps=steps, batch_size=32)
'''

SUITE = """
name = "toyverify"
seeds = 2
[[runs]]
task = "sample_complexity"
datasets = ["mnist1d"]
methods = ["toy-verify"]
budget = { n = [50, 100], targets = [20.0] }
"""

NAME = "toy-verify"


def git(repo: Path, *args: str) -> str:
    cmd = ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@example.org", *args]
    return subprocess.run(cmd, check=True, capture_output=True, text=True).stdout.strip()


def requirement(repo: Path, commit: str) -> str:
    return f"toyverify @ git+file://{repo}@{commit}"


def write_submission(folder: Path, package: str, suite: Path, results: Path) -> Path:
    """The submission folder as the spec lays it out (submission.toml, the suite, results/)."""
    folder.mkdir(parents=True)
    (folder / "submission.toml").write_text(
        textwrap.dedent(f"""
        name = "{folder.name}"
        authors = ["A. Person"]
        contact = "a.person@example.org"
        paper = ""
        description = "A linear classifier, submitted to test verify."
        package = "{package}"
        methods = ["toy-verify"]
        suites = ["suite.toml"]
        """)
    )
    shutil.copy(suite, folder / "suite.toml")
    shutil.copytree(results, folder / "results")
    return folder


@pytest.fixture(scope="module")
def plugin(tmp_path_factory):
    """(git repo, its commit, suite file, result files made with the package at that commit)."""
    root = tmp_path_factory.mktemp("verify")
    repo = root / "toyverify_repo"
    (repo / "toyverify").mkdir(parents=True)
    (repo / "pyproject.toml").write_text(textwrap.dedent(PYPROJECT))
    (repo / "toyverify" / "__init__.py").write_text(MODULE)
    git(repo, "init", "-q")
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "toy method")
    commit = git(repo, "rev-parse", "HEAD")
    site = install(repo, root / "site")
    suite = root / "suite.toml"
    suite.write_text(SUITE)
    env = {"PYTHONPATH": str(site)}
    run = ntkbench("run", suite, "--out", root / "results", env_extra=env)
    assert run.returncode == 0, run.stdout + run.stderr
    return repo, commit, suite, root / "results"


def verify_cli(folder: Path, *extra: str, env: dict | None = None) -> subprocess.CompletedProcess:
    env = {"PIP_NO_INDEX": "1", **(env or {})}
    out = ntkbench("verify", folder, "--allow-local-package", *extra, env_extra=env)
    print(out.stdout, out.stderr)  # shown with -s: the report's output
    return out


def test_verified_then_edited_metric_is_a_mismatch(plugin, tmp_path):
    repo, commit, suite, results = plugin
    # The folder as a submitter makes it: `ntkbench submit`, with the package installed.
    submit = ntkbench(
        "submit", suite, "--package", requirement(repo, commit), "--name", NAME, "--results", results,
        "--out-dir", tmp_path / "ok" / "submissions", "--author", "A. Person", "--contact",
        "a.person@example.org", "--description", "A linear classifier.", "--allow-local-package",
        env_extra={"PYTHONPATH": str(results.parent / "site")},
    )  # fmt: skip
    assert submit.returncode == 0, submit.stdout + submit.stderr
    folder = tmp_path / "ok" / "submissions" / NAME
    out = verify_cli(folder)
    assert out.returncode == 0, out.stdout + out.stderr
    report = json.loads((folder / "verification.json").read_text())
    assert report["submission"] == NAME and report["install_seconds"] > 0 and report["rerun_seconds"] > 0
    assert [r["status"] for r in report["runs"]] == ["verified identical"]
    assert report["stack"]["cpu"]

    # The board shows the row as verified; the --diff report names it with its rank.
    board, base = tmp_path / "ok" / "results", tmp_path / "base" / "results"
    board.mkdir()
    base.mkdir(parents=True)
    built = ntkbench("leaderboard", "--results", board, "--out", tmp_path / "site")
    assert built.returncode == 0, built.stdout + built.stderr
    page = (tmp_path / "site" / "sample_complexity--mnist1d.html").read_text()
    assert f"submitted by {NAME}: verified identical" in page
    diff = ntkbench("leaderboard", "--results", board, "--diff", base)
    assert diff.returncode == 0, diff.stdout + diff.stderr
    print(diff.stdout)  # the report a pull request gets (shown with -s)
    row = next(ln for ln in diff.stdout.splitlines() if NAME in ln and "verified identical" in ln)
    assert "| unranked (reduced) |" in row  # the toy suite is a reduced protocol: its rank says so

    edited = write_submission(tmp_path / "edited" / NAME, requirement(repo, commit), suite, results)
    (path,) = (edited / "results").rglob("*.json")
    record = json.loads(path.read_text())
    metric = "test_acc@n=100"
    claimed = record["metrics"][metric]["mean"] + 7.0
    record["metrics"][metric]["mean"] = claimed
    path.write_text(json.dumps(record, indent=1, sort_keys=True))
    out = verify_cli(edited)
    assert out.returncode == 1, out.stdout + out.stderr
    rel = path.relative_to(edited / "results").as_posix()
    line = next(ln for ln in out.stdout.splitlines() if metric in ln)
    assert rel in line and f"claimed {claimed}" in line and "measured" in line
    (run,) = json.loads((edited / "verification.json").read_text())["runs"]
    assert run["status"] == "mismatch" and run["mismatches"][0]["claimed"] == claimed


def test_a_plugin_that_kills_its_worker_fails_its_run_not_the_verification(plugin, tmp_path):
    repo, commit, suite, results = plugin
    folder = write_submission(tmp_path / "crash" / NAME, requirement(repo, commit), suite, results)
    out = verify_cli(folder, env={"TOYVERIFY_CRASH": "1"})
    assert out.returncode == 1, out.stdout + out.stderr
    (run,) = json.loads((folder / "verification.json").read_text())["runs"]
    assert run["status"] == "mismatch" and run["why"].startswith("the re-run failed: ")
    assert "exit" in run["why"] or "code 3" in run["why"], run["why"]


def test_code_changed_after_the_results_is_refused(plugin, tmp_path):
    repo, commit, suite, results = plugin
    later = tmp_path / "later_repo"
    shutil.copytree(repo, later)
    module = later / "toyverify" / "__init__.py"
    module.write_text(module.read_text().replace("steps=30", "steps=31"))
    git(later, "commit", "-q", "-am", "more steps")
    new_commit = git(later, "rev-parse", "HEAD")
    folder = write_submission(tmp_path / "later" / NAME, requirement(later, new_commit), suite, results)
    out = verify_cli(folder)
    assert out.returncode == 2, out.stdout + out.stderr
    (claim,) = (json.loads(p.read_text()) for p in (folder / "results").rglob("*.json"))
    error = out.stderr.strip()
    assert "'toy-verify'" in error and claim["method_source"] in error
    assert "hashes to " in error and error.split("hashes to ")[1] not in ("None", claim["method_source"])
    assert not (folder / "verification.json").exists()


def test_uninstallable_requirement_is_one_line_and_installs_nothing(plugin, tmp_path):
    repo, _, suite, results = plugin
    folder = write_submission(tmp_path / "bad" / NAME, requirement(repo, "0" * 40), suite, results)
    out = verify_cli(folder)
    assert out.returncode == 2, out.stdout + out.stderr
    assert len(out.stderr.strip().splitlines()) == 1 and "cannot install" in out.stderr
    # Nothing reached the project's environment: the venv lived in a temporary folder.
    find = subprocess.run([sys.executable, "-c", "import importlib.util as u; print(u.find_spec('toyverify'))"],
                          capture_output=True, text=True)  # fmt: skip
    assert find.stdout.strip() == "None"


def test_the_sample_depends_on_the_content_only(plugin, tmp_path):
    _, _, _, results = plugin
    copy = tmp_path / "elsewhere" / "results"
    shutil.copytree(results, copy)
    assert verify.sample_seed(results) == verify.sample_seed(copy)
    (path,) = copy.rglob("*.json")
    path.write_text(path.read_text() + " ")
    assert verify.sample_seed(results) != verify.sample_seed(copy)


def _claim(path: str, method: str, wall: float) -> verify.Claim:
    return verify.Claim(path, {"status": "ok", "method": method, "provenance": {"wall_seconds": wall}})


def test_sample_covers_each_method_within_the_budget_and_is_repeatable():
    claims = [_claim(f"t/d/m{i % 3}/{i:016x}.json", f"m{i % 3}", wall=20.0 + i) for i in range(12)]
    claims.append(_claim("t/d/huge/0.json", "huge", wall=3600.0))
    budget = 150.0
    picked, skipped = verify.sample(claims, "seed", budget)
    assert (picked, skipped) == verify.sample(list(reversed(claims)), "seed", budget)
    assert {c.method for c in picked} == {"m0", "m1", "m2"}
    assert sum(c.estimate_seconds for c in picked) <= budget
    assert "more than the 2.5 min budget" in skipped["t/d/huge/0.json"]
    assert len(picked) + len(skipped) == len(claims)
    assert verify.sample(claims, "another seed", budget)[0] != picked
    everything, none_skipped = verify.sample(claims, "seed", budget, take_all=True)
    assert len(everything) == len(claims) and not none_skipped


def test_tolerance_off_the_same_stack():
    claim = {"status": "ok", "seeds": 4, "metrics": {"acc": {"mean": 80.0, "std": 2.0, "per_seed": [1, 2, 3, 4]}}}
    other = {"provenance": {"cpu": {"isa": "avx2"}}}
    claim["provenance"] = {"cpu": {"isa": "avx512"}}
    near = {**other, "status": "ok", "metrics": {"acc": {"mean": 82.9, "per_seed": [0]}}}
    far = {**other, "status": "ok", "metrics": {"acc": {"mean": 83.1, "per_seed": [0]}}}
    status, why, _ = verify.compare_claim(near, claim)
    assert status == "verified within tolerance" and why.startswith(
        "different CPU ISA: avx2 vs avx512; largest |Δmean| 2.9 (acc)"
    )
    status, _, (mismatch,) = verify.compare_claim(far, claim)
    assert status == "mismatch" and mismatch["tolerance"] == 3.0 and mismatch["measured"] == 83.1
    failed = verify.compare_claim({"status": "failed", "error": "worker died: SIGKILL"}, claim)
    assert failed[0] == "mismatch" and "SIGKILL" in failed[1]


def test_reference_mode_reruns_a_sample_of_committed_results(plugin, monkeypatch, capsys):
    """`make check-results`' half: the same sampler and comparer on a results folder, no install
    (the plugin is on PYTHONPATH as a reference method would be installed)."""
    _, _, suite, results = plugin
    monkeypatch.setenv("PYTHONPATH", str(results.parent / "site"))
    status = verify.verify_reference(results, suite, suite_name="toyverify", budget_minutes=1.0)
    out = capsys.readouterr().out
    assert status == 0, out
    assert "verified identical" in out and "1 of 1 runs re-run" in out
