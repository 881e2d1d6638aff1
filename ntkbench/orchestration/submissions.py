"""A submission folder, `submissions/<name>/`: its checks before anything is installed and its
`submission.toml`.

The folder comes from a stranger's pull request, so it is read as untrusted: `check_folder` walks it
without following links and refuses anything outside the expected shape (a symlink, a path leaving
the folder, a file over the size limit, a name outside `[A-Za-z0-9._-]`) before any code of the
submission is installed or run. `check_pinned` refuses a package requirement that could install
other code tomorrow than today. Every refusal is one line naming the file and the field.
"""

from __future__ import annotations

import dataclasses
import os
import re
import stat
import tomllib
from pathlib import Path
from typing import Any

from packaging.requirements import InvalidRequirement, Requirement

NAME_PATTERN = re.compile(r"[a-z0-9][a-z0-9-]*")
MAX_NAME_LENGTH = 64
FILE_NAME_PATTERN = re.compile(r"[A-Za-z0-9._-]+")
MAX_FILE_BYTES = 2 * 1024 * 1024  # the largest reference result file is ~100 kB
MAX_TOTAL_BYTES = 50 * 1024 * 1024
RESULTS_DEPTH = 4  # results/<task>/<dataset>/<method>/<config hash>.json
TOP_LEVEL_FILES = ("submission.toml", "verification.json", "README.md")
COMMIT_PATTERN = re.compile(r"[0-9a-f]{40}")
STRING_FIELDS = ("name", "contact", "description", "package")
LIST_FIELDS = ("authors", "methods", "suites")


class SubmissionError(ValueError):
    """A submission refused: one line, "FILE: field 'x': why"."""


@dataclasses.dataclass(frozen=True)
class Submission:
    name: str
    folder: Path
    authors: list[str]
    contact: str
    paper: str
    description: str
    package: str
    methods: list[str]
    suites: list[Path]  # absolute paths inside `folder`

    @property
    def results_dir(self) -> Path:
        return self.folder / "results"


def check_name(name: str, where: str) -> None:
    if len(name) > MAX_NAME_LENGTH or not NAME_PATTERN.fullmatch(name):
        raise SubmissionError(
            f"{where}: field 'name': {name!r} must be lower-case letters, digits and '-' "
            f"(starting with a letter or digit), at most {MAX_NAME_LENGTH} characters"
        )


def check_folder(folder: Path, *, max_file_bytes: int = MAX_FILE_BYTES, max_total_bytes: int = MAX_TOTAL_BYTES) -> None:
    """Refuse a folder whose shape is not a submission's, reading nothing but directory entries.

    `os.walk` does not follow links and each entry is checked with `lstat`, so a link is refused
    rather than read through."""
    folder = Path(folder)
    info = os.lstat(folder) if os.path.lexists(folder) else None
    if info is None or not stat.S_ISDIR(info.st_mode):
        raise SubmissionError(f"{folder}: not a folder (a submission is a folder submissions/<name>/)")
    check_name(folder.name, str(folder))
    total = 0
    for here, dirs, files in os.walk(folder, followlinks=False):
        relative_here = Path(here).relative_to(folder)
        for entry in sorted(dirs) + sorted(files):
            path = Path(here) / entry
            relative = relative_here / entry
            if not FILE_NAME_PATTERN.fullmatch(entry) or entry in (".", ".."):
                raise SubmissionError(f"{path}: name {entry!r} has characters outside [A-Za-z0-9._-]")
            info = os.lstat(path)
            if stat.S_ISLNK(info.st_mode):
                raise SubmissionError(f"{path}: a symlink; submissions hold plain files only")
            if stat.S_ISDIR(info.st_mode):
                _check_expected_folder(path, relative)
                continue
            if not stat.S_ISREG(info.st_mode):
                raise SubmissionError(f"{path}: not a plain file")
            _check_expected_file(path, relative)
            if info.st_size > max_file_bytes:
                raise SubmissionError(f"{path}: {info.st_size} bytes, over the limit of {max_file_bytes} per file")
            total += info.st_size
            if total > max_total_bytes:
                raise SubmissionError(f"{folder}: over the limit of {max_total_bytes} bytes in all")


def _check_expected_folder(path: Path, relative: Path) -> None:
    parts = relative.parts
    if parts[0] != "results" or len(parts) > RESULTS_DEPTH:
        raise SubmissionError(
            f"{path}: unexpected folder; a submission holds results/<task>/<dataset>/<method>/ and files beside "
            "submission.toml only"
        )


def _check_expected_file(path: Path, relative: Path) -> None:
    parts = relative.parts
    if len(parts) == 1:
        if parts[0] in TOP_LEVEL_FILES or parts[0].endswith(".toml"):
            return
        raise SubmissionError(f"{path}: unexpected file; beside submission.toml only suite files (*.toml) belong")
    if parts[0] == "results" and len(parts) == RESULTS_DEPTH + 1 and parts[-1].endswith(".json"):
        return
    raise SubmissionError(f"{path}: unexpected file; results hold results/<task>/<dataset>/<method>/<hash>.json only")


def check_pinned(requirement: str, *, allow_local: bool = False, where: str = "requirement") -> str:
    """The distribution name of `requirement` when it names exactly one version of the code:
    `pkg==1.2.0` or `pkg @ git+URL@<40-hex commit>` (a local path or file:// URL only with
    `allow_local`, for tests). Anything else is refused naming the field 'package'."""
    field = f"{where}: field 'package'"
    if _is_local_path(requirement):
        if not allow_local:
            raise SubmissionError(f"{field}: {requirement!r} is a local path; CI cannot install it")
        return _local_distribution_name(Path(requirement).expanduser())
    try:
        parsed = Requirement(requirement)
    except InvalidRequirement as e:
        raise SubmissionError(f"{field}: {requirement!r} is not a pip requirement ({str(e).splitlines()[0]})") from e
    if parsed.url:
        _check_pinned_url(parsed.url, field, allow_local=allow_local)
        return parsed.name
    specifiers = list(parsed.specifier)
    if len(specifiers) != 1 or specifiers[0].operator != "==" or "*" in specifiers[0].version:
        raise SubmissionError(
            f"{field}: {requirement!r} is not pinned; name one version ({parsed.name}==1.2.0) "
            f"or a commit ({parsed.name} @ git+https://host/repo.git@<40-hex commit>)"
        )
    return parsed.name


def _check_pinned_url(url: str, field: str, *, allow_local: bool) -> None:
    if url.startswith("git+"):
        _, _, ref = url[len("git+") :].rpartition("@")
        ref = ref.split("#", 1)[0]
        if COMMIT_PATTERN.fullmatch(ref):
            if url.startswith("git+file:") and not allow_local:
                raise SubmissionError(f"{field}: {url!r} is a local repository; CI cannot install it")
            return
        raise SubmissionError(f"{field}: {url!r} names no commit; end the URL with @<40-hex commit>")
    if url.startswith("file:"):
        if allow_local:
            return
        raise SubmissionError(f"{field}: {url!r} is a local path; CI cannot install it (use pkg==X.Y or a git commit)")
    raise SubmissionError(f"{field}: {url!r} is not pinned; use pkg==X.Y or pkg @ git+URL@<40-hex commit>")


def load_submission(folder: Path, *, allow_local: bool = False) -> Submission:
    """`check_folder`, then `submission.toml` parsed and checked; a local path as the package (for
    tests) is accepted only with `allow_local`."""
    folder = Path(folder).absolute()
    check_folder(folder)
    where = folder / "submission.toml"
    if not where.is_file():
        raise SubmissionError(f"{where}: missing; a submission describes itself in submission.toml")
    try:
        data = tomllib.loads(where.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise SubmissionError(f"{where}: not valid TOML: {e}") from e
    _check_fields(data, where)
    check_name(data["name"], str(where))
    if data["name"] != folder.name:
        raise SubmissionError(f"{where}: field 'name': {data['name']!r} differs from the folder name {folder.name!r}")
    package = data["package"].strip()
    check_pinned(package, allow_local=allow_local, where=str(where))
    suites = [_suite_path(folder, entry, where) for entry in data["suites"]]
    return Submission(
        name=data["name"],
        folder=folder,
        authors=list(data["authors"]),
        contact=data["contact"],
        paper=data.get("paper", ""),
        description=data["description"],
        package=package,
        methods=list(data["methods"]),
        suites=suites,
    )


def _is_local_path(package: str) -> bool:
    return package.startswith(("/", "./", "../", "~")) or (os.sep in package and " @ " not in package)


def _local_distribution_name(path: Path) -> str:
    """The `[project] name` of a local source tree (tests only), else the folder's name."""
    try:
        name = tomllib.loads((path / "pyproject.toml").read_text(encoding="utf-8"))["project"]["name"]
        return str(name)
    except (OSError, KeyError, TypeError, tomllib.TOMLDecodeError):
        return path.name


def _check_fields(data: dict[str, Any], where: Path) -> None:
    for field in STRING_FIELDS:
        if not isinstance(data.get(field), str) or not data[field].strip():
            raise SubmissionError(f"{where}: field {field!r}: missing or not a non-empty string")
    if not isinstance(data.get("paper", ""), str):
        raise SubmissionError(f"{where}: field 'paper': must be a string (\"\" when there is none)")
    for field in LIST_FIELDS:
        value = data.get(field)
        if not isinstance(value, list) or not value or not all(isinstance(v, str) and v.strip() for v in value):
            raise SubmissionError(f"{where}: field {field!r}: missing or not a non-empty list of strings")
    known = set(STRING_FIELDS) | set(LIST_FIELDS) | {"paper"}
    unknown = sorted(set(data) - known)
    if unknown:
        raise SubmissionError(f"{where}: field {unknown[0]!r}: unknown (known: {', '.join(sorted(known))})")


def _suite_path(folder: Path, entry: str, where: Path) -> Path:
    """A suite named in `suites` must be a file directly in the folder: no `..`, no sub-folder."""
    if not FILE_NAME_PATTERN.fullmatch(entry) or entry in (".", "..") or not entry.endswith(".toml"):
        raise SubmissionError(
            f"{where}: field 'suites': {entry!r} must be the name of a .toml file in the folder "
            "(no path, characters [A-Za-z0-9._-])"
        )
    path = folder / entry
    if not path.is_file():
        raise SubmissionError(f"{where}: field 'suites': {entry!r} is not a file in {folder}")
    return path
