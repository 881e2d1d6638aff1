"""Submissions (issue #28): the folder's checks before anything is installed, the pinned
requirement, `ntkbench submit` on results made by really running the toy plugin, the
`leaderboard --diff` report, and the permissions of the two CI workflows."""

import json
import shutil
from pathlib import Path

import pytest
import yaml
from plugin_fixture import ROOT, ntkbench

from ntkbench.leaderboard.diff import diff_report
from ntkbench.orchestration.submissions import SubmissionError, check_folder, check_pinned, load_submission
from ntkbench.orchestration.submit import About, prepare

COMMIT = "0123456789abcdef0123456789abcdef01234567"

TINY_SUITE = """
name = "tiny"
seeds = 2
[[runs]]
task = "sample_complexity"
datasets = ["mnist1d"]
methods = ["toy-linear"]
budget = { n = [50, 100], targets = [20.0] }
"""


# ---- the pinned requirement --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("requirement", "name"),
    [
        ("mypkg==1.2.0", "mypkg"),
        ("my-pkg[extra]==0.1", "my-pkg"),
        (f"mypkg @ git+https://example.org/x.git@{COMMIT}", "mypkg"),
    ],
)
def test_pinned_requirements_are_accepted(requirement, name):
    assert check_pinned(requirement) == name


@pytest.mark.parametrize(
    ("requirement", "why"),
    [
        ("mypkg>=1.2", "is not pinned"),
        ("mypkg", "is not pinned"),
        ("mypkg==1.*", "is not pinned"),
        ("mypkg==1.2,!=1.3", "is not pinned"),
        ("mypkg @ git+https://example.org/x.git", "names no commit"),
        ("mypkg @ git+https://example.org/x.git@main", "names no commit"),
        ("mypkg @ git+https://example.org/x.git@0123abc", "names no commit"),
        ("mypkg @ https://example.org/mypkg.tar.gz", "is not pinned"),
        ("/home/me/mypkg", "is a local path"),
        ("mypkg @ file:///home/me/mypkg", "is a local path"),
        (f"mypkg @ git+file:///home/me/mypkg@{COMMIT}", "is a local repository"),
        ("not a requirement !", "is not a pip requirement"),
    ],
)
def test_unpinned_requirements_are_refused_naming_the_field(requirement, why):
    with pytest.raises(SubmissionError) as e:
        check_pinned(requirement, where="submissions/x/submission.toml")
    message = str(e.value)
    assert message.startswith("submissions/x/submission.toml: field 'package': ") and why in message
    assert "\n" not in message


def test_local_packages_only_with_allow_local(tmp_path):
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "toyplug"\nversion = "0.1"\n')
    assert check_pinned(str(tmp_path), allow_local=True) == "toyplug"
    assert check_pinned(f"toyplug @ git+file://{tmp_path}@{COMMIT}", allow_local=True) == "toyplug"
    assert check_pinned(f"toyplug @ file://{tmp_path}", allow_local=True) == "toyplug"


# ---- the folder, before anything is installed ------------------------------------------------------


def make_folder(root: Path, folder_name: str = "my-method", **fields) -> Path:
    folder = root / folder_name
    (folder / "results" / "sample_complexity" / "mnist1d" / "m").mkdir(parents=True)
    (folder / "results" / "sample_complexity" / "mnist1d" / "m" / "0123456789abcdef.json").write_text("{}")
    (folder / "suite.toml").write_text(TINY_SUITE)
    values = {
        "name": folder_name,
        "authors": ["A. Person"],
        "contact": "a@example.org",
        "paper": "",
        "description": "One paragraph.",
        "package": "mypkg==1.2.0",
        "methods": ["m"],
        "suites": ["suite.toml"],
        **fields,
    }
    (folder / "submission.toml").write_text("".join(f"{k} = {json.dumps(v)}\n" for k, v in values.items()))
    return folder


def refusal(folder: Path, **kw) -> str:
    with pytest.raises(SubmissionError) as e:
        load_submission(folder, **kw)
    assert "\n" not in str(e.value)
    return str(e.value)


def test_a_well_formed_folder_loads(tmp_path):
    sub = load_submission(make_folder(tmp_path))
    assert (sub.name, sub.package, sub.methods) == ("my-method", "mypkg==1.2.0", ["m"])
    assert sub.suites == [tmp_path.absolute() / "my-method" / "suite.toml"]
    assert sub.results_dir == tmp_path.absolute() / "my-method" / "results"


def test_a_symlink_is_refused(tmp_path):
    folder = make_folder(tmp_path)
    (folder / "other.toml").symlink_to("/etc/hostname")
    assert refusal(folder) == f"{folder.absolute()}/other.toml: a symlink; submissions hold plain files only"


def test_a_symlinked_results_folder_is_refused_not_followed(tmp_path):
    folder = make_folder(tmp_path)
    outside = tmp_path / "outside"
    outside.mkdir()
    (folder / "results" / "sample_complexity" / "mnist1d" / "n").symlink_to(outside, target_is_directory=True)
    assert "a symlink" in refusal(folder)


def test_a_suite_path_leaving_the_folder_is_refused(tmp_path):
    folder = make_folder(tmp_path, suites=["../suite.toml"])
    (tmp_path / "suite.toml").write_text(TINY_SUITE)
    message = refusal(folder)
    assert "submission.toml: field 'suites': '../suite.toml' must be the name of a .toml file" in message


def test_a_file_over_the_size_limit_is_refused(tmp_path):
    folder = make_folder(tmp_path)
    big = folder / "results" / "sample_complexity" / "mnist1d" / "m" / "0123456789abcdef.json"
    big.write_text(" " * 2000)
    with pytest.raises(SubmissionError, match=r"0123456789abcdef.json: 2000 bytes, over the limit of 1000 per file"):
        check_folder(folder, max_file_bytes=1000)
    with pytest.raises(SubmissionError, match=r"over the limit of 1500 bytes in all"):
        check_folder(folder, max_total_bytes=1500)


@pytest.mark.parametrize("bad", ["My_Method", "-x", "a" * 65, "x.y"])
def test_a_bad_submission_name_is_refused(tmp_path, bad):
    with pytest.raises(SubmissionError, match="must be lower-case letters, digits and '-'"):
        check_folder(make_folder(tmp_path, folder_name=bad))


def test_bad_file_names_and_unexpected_files_are_refused(tmp_path):
    folder = make_folder(tmp_path)
    (folder / "run me.sh").write_text("")
    assert "has characters outside [A-Za-z0-9._-]" in refusal(folder)
    (folder / "run me.sh").unlink()
    (folder / "setup.py").write_text("")
    assert "setup.py: unexpected file" in refusal(folder)


def test_submission_toml_fields_are_checked(tmp_path):
    assert "field 'name': 'other' differs from the folder name" in refusal(make_folder(tmp_path, name="other"))
    assert "field 'package': 'mypkg>=1' is not pinned" in refusal(make_folder(tmp_path / "b", package="mypkg>=1"))
    assert "field 'authors': missing" in refusal(make_folder(tmp_path / "c", authors=[]))
    assert "field 'package': '/tmp/pkg' is a local path" in refusal(make_folder(tmp_path / "d", package="/tmp/pkg"))


# ---- `ntkbench submit` on results made by running the toy plugin -----------------------------------


@pytest.fixture(scope="module")
def toy_run(plugin, tmp_path_factory):
    """The tiny suite run once with the toy plugin: (environment, suite, results folder, package)."""
    env, toy_suite = plugin
    root = tmp_path_factory.mktemp("toy-run")
    suite = root / "tiny.toml"
    suite.write_text(TINY_SUITE)
    results = root / "results"
    proc = ntkbench("run", suite, "--out", results, env_extra=env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    package = Path(toy_suite).parent / "toyplug_src"  # where plugin_fixture wrote the package
    return env, suite, results, package


def submit(toy_run, out_dir: Path, *extra, results: Path | None = None, name: str = "toy-sub"):
    env, suite, default_results, package = toy_run
    args = ["submit", suite, "--results", results or default_results, "--out-dir", out_dir, "--name", name]
    args += ["--package", package, "--allow-local-package", "--author", "A. Person", "--contact", "a@example.org"]
    args += ["--description", "A linear softmax classifier.", *extra]
    return ntkbench(*args, env_extra=env)


def only_result(results: Path) -> Path:
    (path,) = results.rglob("*.json")
    return path


def test_submit_writes_the_folder_and_prints_the_pull_request_and_report(toy_run, tmp_path):
    _, suite, results, _ = toy_run
    proc = submit(toy_run, tmp_path, "--author", "B. Person", "--paper", "https://arxiv.org/abs/0000.00000")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    folder = tmp_path / "toy-sub"
    claimed = only_result(results)
    copied = folder / "results" / claimed.relative_to(results)
    assert copied.read_bytes() == claimed.read_bytes()  # unedited
    assert (folder / "tiny.toml").read_text() == suite.read_text()
    sub = load_submission(folder, allow_local=True)
    assert (sub.authors, sub.methods, sub.paper) == (
        ["A. Person", "B. Person"],
        ["toy-linear"],
        "https://arxiv.org/abs/0000.00000",
    )
    assert sorted(p.name for p in folder.iterdir()) == ["results", "submission.toml", "tiny.toml"]
    out = proc.stdout
    assert "Submission: toy-linear (toy-sub)" in out and "- **Runs**: 1," in out and "- **Suites**: tiny.toml" in out
    assert "## Leaderboard changes" in out and "1 new row, 0 moved, 0 removed." in out
    row = next(line for line in out.splitlines() if line.startswith("| sample_complexity / mnist1d / v1 | toy-linear"))
    # seeds 2 of 3 and a shorter grid: a reduced run, kept out of the ranking, not yet verified
    assert "unranked (reduced)" in row and "seeds 2 of 3" in row and "submitted by toy-sub: not verified" in row
    assert "| test_acc@n=100 " in row  # the table's headline (at n=4000) it lacks; its own instead
    again = submit(toy_run, tmp_path)
    assert again.returncode == 2 and "a submission of that name exists" in again.stderr


def edited_copy(results: Path, tmp_path: Path, edit) -> tuple[Path, Path]:
    copy = tmp_path / "edited"
    shutil.copytree(results, copy)
    path = only_result(copy)
    record = json.loads(path.read_text())
    edit(record)
    path.write_text(json.dumps(record, indent=1))
    return copy, path


def test_submit_refuses_a_hand_edited_metric(toy_run, tmp_path):
    def better(record):
        record["metrics"]["test_acc@n=100"]["mean"] += 5.0  # no longer the mean of its per_seed values

    copy, path = edited_copy(toy_run[2], tmp_path, better)
    proc = submit(toy_run, tmp_path / "subs", results=copy)
    assert proc.returncode == 2 and proc.stderr.startswith(f"error: {path}: field 'metrics.test_acc@n=100"), proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1 and not (tmp_path / "subs" / "toy-sub").exists()


def test_submit_refuses_an_edited_config(toy_run, tmp_path):
    copy, path = edited_copy(toy_run[2], tmp_path, lambda record: record["params"].update(lr=0.5))
    proc = submit(toy_run, tmp_path / "subs", results=copy)
    assert proc.returncode == 2 and f"error: {path}: field 'config_hash'" in proc.stderr, proc.stderr


def test_submit_refuses_results_of_other_code(toy_run, tmp_path):
    copy, path = edited_copy(toy_run[2], tmp_path, lambda record: record.update(method_source="0" * 16))
    proc = submit(toy_run, tmp_path / "subs", results=copy)
    assert proc.returncode == 2 and f"error: {path}: field 'method_source': '{'0' * 16}'" in proc.stderr, proc.stderr


def test_submit_refuses_a_run_without_a_result(toy_run, tmp_path):
    env, _, results, package = toy_run
    suite = tmp_path / "more.toml"
    suite.write_text(TINY_SUITE.replace("n = [50, 100]", "n = [50, 200]"))
    proc = ntkbench(
        "submit", suite, "--results", results, "--out-dir", tmp_path / "subs", "--name", "toy-sub",
        "--package", package, "--allow-local-package", "--author", "A", "--contact", "a@b", "--description", "d",
        env_extra=env,
    )  # fmt: skip
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert proc.stderr.startswith(f"error: {suite}: run sample_complexity/mnist1d/toy-linear/"), proc.stderr
    assert "no result file" in proc.stderr and not (tmp_path / "subs").exists()


def test_submit_refuses_an_unpinned_package_before_reading_results(toy_run, tmp_path):
    env, suite, results, _ = toy_run
    proc = ntkbench(
        "submit", suite, "--results", results, "--out-dir", tmp_path, "--name", "toy-sub", "--package", "toyplug",
        "--author", "A", "--contact", "a@b", "--description", "d", env_extra=env,
    )  # fmt: skip
    assert proc.returncode == 2 and proc.stderr.startswith("error: --package: field 'package': 'toyplug' is not pinned")


# ---- `ntkbench leaderboard --diff` ---------------------------------------------------------------------


def board_copy(root: Path) -> Path:
    """A board of the committed reference results of one table: adversarial on fashion_mnist (two
    runs of the full protocol, ranked, and runs at reduced budgets, unranked)."""
    results = root / "results"
    shutil.copytree(ROOT / "results" / "adversarial" / "fashion_mnist", results / "adversarial" / "fashion_mnist")
    return results


def full_protocol_runs(results: Path) -> list[Path]:
    return [p for p in sorted(results.rglob("*.json")) if (json.loads(p.read_text())["protocol"] or {}).get("full")]


def test_diff_reports_moved_and_removed_rows_with_their_ranks(tmp_path):
    base, new = board_copy(tmp_path / "base"), board_copy(tmp_path / "new")
    assert diff_report([new], [base]).splitlines()[2] == "0 new rows, 0 moved, 0 removed."
    ranked = {json.loads(p.read_text())["method"]: p for p in full_protocol_runs(new)}
    assert sorted(ranked) == ["pgd-at", "standard"]  # robust accuracy: pgd-at first, standard second
    ranked["pgd-at"].unlink()
    summary = tmp_path / "summary.md"
    summary.write_text("earlier step\n")
    proc = ntkbench("leaderboard", "--results", new, "--diff", base, env_extra={"GITHUB_STEP_SUMMARY": str(summary)})
    assert proc.returncode == 0, proc.stderr
    assert "0 new rows, 1 moved, 1 removed." in proc.stdout
    assert summary.read_text() == "earlier step\n" + proc.stdout  # appended, as GitHub expects
    moved = proc.stdout.split("### Moved rows")[1].split("###")[0]
    assert "| adversarial / fashion_mnist / v1 | standard (" in moved and "| 2 → 1 |" in moved
    removed = proc.stdout.split("### Removed rows")[1]
    assert "| adversarial / fashion_mnist / v1 | pgd-at (" in removed and "| 1 | robust_acc " in removed


def test_diff_names_a_new_row_with_its_rank_and_verification(tmp_path):
    base = board_copy(tmp_path / "base")
    new = board_copy(tmp_path)
    full = full_protocol_runs(new)[0]
    record = json.loads(full.read_text())
    folder = tmp_path / "submissions" / "better"
    target = folder / "results" / full.relative_to(new)
    target.parent.mkdir(parents=True)
    full.rename(target)  # the same run, moved from the reference folder into a submission
    runs = [{"path": full.relative_to(new).as_posix(), "status": "verified identical", "why": "", "mismatches": []}]
    (folder / "verification.json").write_text(json.dumps({"submission": "better", "runs": runs}))
    report = diff_report([new], [base])
    assert "1 new row, 0 moved, 1 removed." in report
    added = report.split("### New rows")[1].split("###")[0]
    assert f"| {record['method']}" in added and "submitted by better: verified identical" in added
    assert "full protocol" in added


# ---- the CI workflows ----------------------------------------------------------------------------------

WORKFLOWS = ROOT / ".github" / "workflows"


def workflow(name: str) -> dict:
    doc = yaml.safe_load((WORKFLOWS / name).read_text())
    doc["on"] = doc.pop(True, doc.get("on"))  # YAML 1.1 reads the key `on` as true
    return doc


def test_the_verify_workflow_reads_only_and_has_no_secrets():
    doc = workflow("submission.yml")
    assert doc["on"] == {"pull_request": {"paths": ["submissions/**"]}}
    assert doc["permissions"] == {"contents": "read"}
    (job,) = doc["jobs"].values()
    assert "permissions" not in job  # nothing widens the workflow's read-only token
    text = (WORKFLOWS / "submission.yml").read_text()
    assert "secrets." not in text and "pull_request_target" not in text
    runs = "\n".join(step.get("run", "") for step in job["steps"])
    assert "ntkbench verify" in runs and "ntkbench leaderboard --results results --diff" in runs
    checkout = next(s for s in job["steps"] if str(s.get("uses", "")).startswith("actions/checkout"))
    assert checkout["with"]["persist-credentials"] is False
    assert any(str(s.get("uses", "")).startswith("actions/upload-artifact") for s in job["steps"])


def test_the_comment_workflow_never_checks_out_or_runs_the_pull_request():
    doc = workflow("submission-comment.yml")
    assert doc["on"] == {"workflow_run": {"workflows": ["submission"], "types": ["completed"]}}
    assert doc["permissions"] == {"pull-requests": "write", "actions": "read"}
    (job,) = doc["jobs"].values()
    uses = [str(step.get("uses", "")) for step in job["steps"]]
    assert not any(u.startswith("actions/checkout") for u in uses)
    assert all("run" not in step for step in job["steps"])  # no shell step: nothing of the PR is executed
    assert [u.split("@")[0] for u in uses] == ["actions/download-artifact", "actions/github-script"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"name": "My Method"}, "--name: field 'name': 'My Method' must be lower-case letters"),
        ({"package": "mypkg>=1"}, "--package: field 'package': 'mypkg>=1' is not pinned"),
        ({"about": About([], "a@b", "", "d")}, "--author: field 'authors'"),
        ({"about": About(["A"], " ", "", "d")}, "--contact: field 'contact'"),
        ({"about": About(["A"], "a@b", "", "")}, "--description: field 'description'"),
    ],
)
def test_submit_refuses_its_own_flags_before_reading_any_result(tmp_path, change, message):
    suite = tmp_path / "tiny.toml"
    suite.write_text(TINY_SUITE)
    flags = {"package": "mypkg==1.0", "name": "my-method", "about": About(["A"], "a@b", "", "d"), **change}
    with pytest.raises(SubmissionError) as e:
        prepare([suite], results_dir=tmp_path / "no-results", **flags)
    assert str(e.value).startswith(message)
