"""`ntkbench validate`: suites and result files, every error naming the file and the field.

Plain validation checks a result's schema, that its config hash matches its content (a config
edited after the run is caught), the current task version and the method's origin. `--rerun`
re-executes the run from the file's config and compares every metric: a result whose metrics were
edited (or that does not reproduce on this platform) is refused.
"""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ntkbench.orchestration.consistency import metric_errors, place_errors
from ntkbench.orchestration.one_run import RunSpec, execute_one
from ntkbench.orchestration.source_history import unchanged_since
from ntkbench.orchestration.suites import SuiteError, load_suite
from ntkbench.registry import PluginError, all_methods, get_method
from ntkbench.results import REQUIRED_FIELDS, config_of, iter_results, to_jsonable, validate_record
from ntkbench.tasks import task_versions
from ntkbench.tasks.conformance import protocol_errors


def _known_origins() -> dict[tuple[str, str], str]:
    return {(m.task, m.name): m.origin for m in all_methods()}


def _result_files(path: Path) -> list[Path]:
    if path.is_dir():
        return [p for p, _ in ((p, None) for p in sorted(path.rglob("*.json"))) if not p.name.startswith(".")]
    return [path]


def validate_result_file(path: Path, origins: dict[tuple[str, str], str] | None = None) -> list[str]:
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except RecursionError:
        return [f"{path}: not valid JSON: nested too deeply to read"]
    except ValueError as e:  # JSONDecodeError, an integer past Python's 4300 digits
        return [f"{path}: not valid JSON: {e}"]
    except OSError as e:
        return [f"{path}: cannot read: {e}"]
    try:
        shape = field_type_errors(record, str(path))
        if shape:
            return shape
        errors = validate_record(
            record,
            str(path),
            current_task_versions=task_versions(),
            known_origins=origins if origins is not None else _known_origins(),
        )
        errors += protocol_errors(record, str(path))
        if all(field in record for field in REQUIRED_FIELDS):  # else validate_record said which is missing
            errors += metric_errors(record, str(path)) + place_errors(record, path)
        return errors
    except Exception as e:  # a malformed file is reported, never a traceback (RecursionError included)
        return [f"{path}: malformed result file ({type(e).__name__}: {str(e)[:200]})"]


# The JSON type each field of a result file must have (None: null allowed).
FIELD_TYPES: dict[str, tuple[type, ...]] = {
    "schema": (str,),
    "task": (str,),
    "task_version": (int,),
    "dataset": (str,),
    "method": (str,),
    "method_version": (str,),
    "method_origin": (str,),
    "params": (dict,),
    "budget": (dict,),
    "seeds": (int,),
    "root_seed": (int,),
    "dataset_fingerprint": (str, type(None)),
    "metrics": (dict,),
    "ntk": (dict, type(None)),
    "status": (str,),
    "error": (str, type(None)),
    "provenance": (dict,),
    "config_hash": (str,),
    "protocol": (dict, type(None)),
}
_JSON_NAMES = {str: "a string", int: "an integer", dict: "an object", type(None): "null", list: "a list"}


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, float):
        return "a number"
    return _JSON_NAMES.get(type(value), type(value).__name__)


def field_type_errors(record: Any, where: str) -> list[str]:
    """Fields of the wrong JSON type (e.g. `metrics` a string), each naming the file and field."""
    if not isinstance(record, dict):
        return [f"{where}: top level must be a JSON object, got {_json_type(record)}"]
    errors = []
    for name, kinds in FIELD_TYPES.items():
        if name not in record:
            continue
        value = record[name]
        if not isinstance(value, kinds) or (isinstance(value, bool) and bool not in kinds):
            want = " or ".join(_JSON_NAMES[k] for k in kinds)
            errors.append(f"{where}: field {name!r} must be {want}, got {_json_type(value)} {json.dumps(value)[:60]}")
    return errors


def compare_metrics(claimed: dict[str, Any], measured: dict[str, Any], where: str) -> list[str]:
    errors = []
    for name in sorted(set(claimed) | set(measured)):
        if name not in measured:
            errors.append(f"{where}: metric {name!r} is in the file but the rerun does not produce it")
        elif name not in claimed:
            errors.append(f"{where}: metric {name!r} is produced by the rerun but missing from the file")
        elif not _same(claimed[name], measured[name]):
            errors.append(
                f"{where}: field 'metrics.{name}' differs from the rerun: file "
                f"{_short(claimed[name])} vs rerun {_short(measured[name])}"
            )
    return errors


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if isinstance(a, float) and isinstance(b, float):
        return a == b or (math.isnan(a) and math.isnan(b))
    return a == b


def _short(m: Any) -> str:
    return json.dumps(m.get("mean") if isinstance(m, dict) else m)


def rerun_result(path: Path, data_dir: Path | None = None) -> list[str]:
    """Re-execute the run a result file describes; compare its metrics exactly."""
    record = json.loads(path.read_text())
    if record.get("derived"):
        return []  # derived from other results, each of which is rerun on its own
    run = RunSpec(**config_of(record), vmap_seeds=record.get("vmap_seeds"))
    fresh = execute_one(run, path.parent, data_dir, log=lambda msg: None)
    if fresh["status"] != "ok":
        return [f"{path}: rerun failed: {fresh['error']}"]
    return compare_metrics(record.get("metrics") or {}, to_jsonable(fresh["metrics"]), str(path))


def _warn_method_source(path: Path) -> None:
    """A warning on stderr (not an error) when a result's `method_source` is not the source hash of
    the installed method: the result was made by another version of the plugin's code (unless git
    shows that version differs only in docstrings and annotations: `source_history`)."""
    try:
        record = json.loads(path.read_text())
        recorded, task, name = record.get("method_source"), record["task"], record["method"]
        spec = get_method(name, task)
        installed = spec.source_hash
    except (OSError, ValueError, KeyError, TypeError, AttributeError, RecursionError, PluginError):
        return  # unreadable or an unknown method: validate_result_file reports what matters
    if recorded and installed and recorded != installed and not unchanged_since(record, spec.module):
        print(
            f"warning: {path}: method {name!r} ({task}) was run by code with source hash {recorded}, "
            f"the installed one hashes to {installed} (the plugin's module changed since)",
            file=sys.stderr,
        )


def validate_paths(
    paths: Iterable[str | Path],
    *,
    rerun: bool = False,
    data_dir: Path | None = None,
    suite_errors: list[str] | None = None,
) -> list[str]:
    """Errors of result files (returned) and of suite files (appended to `suite_errors` when
    given, else returned with the rest)."""
    errors: list[str] = []
    origins = None
    for raw in paths:
        path = Path(raw)
        if not path.exists():
            errors.append(f"{path}: no such file or directory")
            continue
        if path.is_file() and path.suffix == ".toml":
            try:
                load_suite(path)
            except SuiteError as e:
                (suite_errors if suite_errors is not None else errors).append(str(e))
            continue
        if path.is_file() and path.suffix != ".json":
            errors.append(f"{path}: not a result file (.json) or a suite (.toml)")
            continue
        files = [f for f in _result_files(path) if f.suffix == ".json"]
        if not files:
            errors.append(f"{path}: no result files (*.json) in this folder")
            continue
        for f in files:
            origins = origins if origins is not None else _known_origins()
            problems = validate_result_file(f, origins)
            errors += problems
            _warn_method_source(f)
            if rerun and not problems:
                errors += rerun_result(f, data_dir)
    return errors


__all__ = ["validate_paths", "validate_result_file", "rerun_result", "compare_metrics", "iter_results"]
