"""`ntkbench submit`: on the submitter's machine, the checks CI will make, then the folder
`submissions/<name>/` and the text of the pull request.

    submission = prepare([Path("my-suite.toml")], package="mypkg==1.2.0", name="my-method",
                         results_dir=Path("results"), about=About(["A. Person"], "a@b.org", "", "..."))
    folder = write_submission(submission, Path("submissions"))

Checked before anything is written: the requirement is pinned; every run of the suites has a result
file with status ok; each validates (schema, config hash, metrics against their own seeds, protocol
recomputed, its place); each was made by the installed package's code for its method (its
`method_source` and `method_origin`). The suite files and the result files are copied unedited.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
from pathlib import Path
from typing import Any

from ntkbench.orchestration.one_run import RunSpec
from ntkbench.orchestration.submissions import SubmissionError, check_name, check_pinned
from ntkbench.orchestration.suites import load_suite
from ntkbench.orchestration.validate import validate_result_file
from ntkbench.registry import PluginError, get_method
from ntkbench.results import result_path


@dataclasses.dataclass(frozen=True)
class About:
    """Who submits: the fields of submission.toml that are not checked against code."""

    authors: list[str]
    contact: str
    paper: str
    description: str


@dataclasses.dataclass(frozen=True)
class Prepared:
    """A submission checked and ready to write: its suites, runs and their result files."""

    name: str
    package: str
    distribution: str
    about: About
    suites: list[Path]
    methods: list[str]
    runs: list[tuple[RunSpec, Path]]  # each run of the suites and its result file


def prepare(
    suites: list[Path],
    *,
    package: str,
    name: str,
    results_dir: Path,
    about: About,
    allow_local: bool = False,
) -> Prepared:
    """Every check `ntkbench verify` makes short of re-running; SubmissionError on the first refusal."""
    check_name(name, "--name")
    distribution = check_pinned(package, allow_local=allow_local, where="--package")
    _check_about(about)
    _check_suite_names(suites)
    runs: list[tuple[RunSpec, Path]] = []
    for suite in suites:
        for run in load_suite(suite):
            runs.append((run, _checked_result(run, suite, results_dir, distribution)))
    if not runs:
        raise SubmissionError(f"{suites[0]}: field 'runs': the suites hold no runs")
    methods = sorted({run.method for run, _ in runs})
    return Prepared(name, package, distribution, about, list(suites), methods, runs)


def _check_about(about: About) -> None:
    if not about.authors or not all(a.strip() for a in about.authors):
        raise SubmissionError("--author: field 'authors': give at least one (--author 'A. Person', repeatable)")
    if not about.contact.strip():
        raise SubmissionError("--contact: field 'contact': an e-mail address or a page to reach the authors")
    if not about.description.strip():
        raise SubmissionError("--description: field 'description': one paragraph on the method")


def _check_suite_names(suites: list[Path]) -> None:
    """The suites are copied beside submission.toml under their own names: no two alike, none
    named like the submission's own files."""
    names = [s.name for s in suites]
    for suite, file_name in zip(suites, names):
        if file_name == "submission.toml" or names.count(file_name) > 1 or not file_name.endswith(".toml"):
            raise SubmissionError(f"{suite}: field 'suites': the suite files need distinct names *.toml")


def _checked_result(run: RunSpec, suite: Path, results_dir: Path, distribution: str) -> Path:
    path = result_path(results_dir, run.task, run.dataset, run.method, run.config_hash)
    if not path.is_file():
        raise SubmissionError(
            f"{suite}: run {run.run_id}: no result file {path} (run `ntkbench run {suite} --out {results_dir}`)"
        )
    record = _read(path)
    if record.get("status") != "ok":
        raise SubmissionError(f"{path}: field 'status': {record.get('status')!r} ({record.get('error')}); rerun it")
    errors = validate_result_file(path)
    if errors:
        raise SubmissionError(errors[0] + (f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""))
    try:
        method = get_method(run.method, run.task)
    except PluginError as e:
        raise SubmissionError(f"{path}: field 'method': {e}") from e
    if method.origin != distribution or record.get("method_origin") != distribution:
        raise SubmissionError(
            f"{path}: field 'method_origin': method {run.method!r} comes from {record.get('method_origin')!r} "
            f"(installed: {method.origin!r}), not from the submitted package {distribution!r}"
        )
    if record.get("method_source") != method.source_hash:
        raise SubmissionError(
            f"{path}: field 'method_source': {record.get('method_source')!r}, but the installed {distribution}'s "
            f"code of method {run.method!r} hashes to {method.source_hash!r}; rerun with the package you submit"
        )
    return path


def _read(path: Path) -> dict[str, Any]:
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError) as e:
        raise SubmissionError(f"{path}: not a readable result file ({type(e).__name__})") from e
    if not isinstance(record, dict):
        raise SubmissionError(f"{path}: not a result file (top level must be a JSON object)")
    return record


def submission_toml(prepared: Prepared) -> str:
    """submission.toml, every value written as a JSON string (a valid TOML basic string)."""
    about = prepared.about

    def text(value: str) -> str:
        return json.dumps(value, ensure_ascii=False)

    def texts(values: list[str]) -> str:
        return "[" + ", ".join(map(text, values)) + "]"

    return (
        f"name = {text(prepared.name)}\n"
        f"authors = {texts(about.authors)}\n"
        f"contact = {text(about.contact)}\n"
        f"paper = {text(about.paper)}\n"
        f"description = {text(about.description)}\n"
        f"package = {text(prepared.package)}\n"
        f"methods = {texts(prepared.methods)}\n"
        f"suites = {texts([s.name for s in prepared.suites])}\n"
    )


def write_submission(prepared: Prepared, out_dir: Path) -> Path:
    """`out_dir/<name>/`: submission.toml, the suites, and results/ with the suites' result files
    copied byte for byte. An existing folder of that name is refused, never overwritten."""
    folder = Path(out_dir) / prepared.name
    if folder.exists():
        raise SubmissionError(f"{folder}: field 'name': a submission of that name exists; remove it or pick another")
    staging = Path(out_dir) / f".{prepared.name}.partial"
    shutil.rmtree(staging, ignore_errors=True)
    (staging / "results").mkdir(parents=True)
    (staging / "submission.toml").write_text(submission_toml(prepared), encoding="utf-8")
    for suite in prepared.suites:
        shutil.copyfile(suite, staging / suite.name)
    for run, path in prepared.runs:
        target = result_path(staging / "results", run.task, run.dataset, run.method, run.config_hash)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)
    staging.rename(folder)  # the folder appears whole or not at all
    return folder


def pull_request_text(prepared: Prepared, folder: Path) -> str:
    """The title line and body of the pull request that adds `folder`."""
    about = prepared.about
    suites = ", ".join(s.name for s in prepared.suites)
    lines = [
        f"Submission: {', '.join(prepared.methods)} ({prepared.name})",
        "",
        f"- **Who**: {', '.join(about.authors)} ({about.contact})" + (f"; paper: {about.paper}" if about.paper else ""),
        f"- **Package**: `{prepared.package}`",
        f"- **Methods**: {', '.join(prepared.methods)}",
        f"- **Suites**: {suites}",
        f"- **Runs**: {len(prepared.runs)}, results in `{folder.as_posix()}/results/`",
        "",
        about.description,
    ]
    return "\n".join(lines) + "\n"
