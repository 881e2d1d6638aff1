"""Result files: schema, config hash, atomic write, validation.

One JSON file per run at `<out>/<task>/<dataset>/<method>/<config-hash>.json`. The config hash
covers everything that defines the run (task and version, dataset, method, version and origin,
params, budget, seeds) and nothing of provenance, so the same run on another machine has the same
name and `--shard` jobs merge by file name. Nothing is ever unpickled.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import os
import tempfile
from pathlib import Path
from types import EllipsisType
from typing import Any

import numpy as np

SCHEMA = "ntkbench.result/3"
# Schemas `validate_record` reads. 1: a metric is {per_seed, mean, std}, std the population std
# (ddof=0). 2: std is the sample std (ddof=1) and `metric` adds ci95 (t interval); a seed without a
# value was left out of the mean. 3 (written now): a metric with a censored seed is never averaged
# and says so (`censored`); one computed identically by every seed says `deterministic`.
SCHEMAS = ("ntkbench.result/1", "ntkbench.result/2", SCHEMA)
METRIC_KEYS = ("per_seed", "mean", "std", "ci95", "censored", "deterministic")
CONFIG_FIELDS = (
    "task",
    "task_version",
    "dataset",
    "method",
    "method_version",
    "method_origin",
    "params",
    "budget",
    "seeds",
    "root_seed",
)
REQUIRED_FIELDS = (
    "schema",
    *CONFIG_FIELDS,
    "dataset_fingerprint",
    "metrics",
    "ntk",
    "status",
    "error",
    "provenance",
    "config_hash",
)
PROVENANCE_FIELDS = (
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


def canonical_json(obj: Any) -> str:
    return json.dumps(to_jsonable(obj), sort_keys=True, separators=(",", ":"), allow_nan=False)


def to_jsonable(obj: Any) -> Any:
    """Plain JSON types; NaN/inf become None (JSON has no such numbers)."""
    if isinstance(obj, dict):
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [to_jsonable(v) for v in obj]
    if isinstance(obj, (np.ndarray, np.generic)) or type(obj).__module__.startswith("jax"):
        return to_jsonable(np.asarray(obj).tolist())
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    return obj


def config_of(record: dict) -> dict:
    return {k: record[k] for k in CONFIG_FIELDS}


def config_hash(config: dict) -> str:
    return hashlib.sha256(canonical_json(config).encode()).hexdigest()[:16]


def result_path(out_dir: str | Path, task: str, dataset: str, method: str, chash: str) -> Path:
    return Path(out_dir) / task / dataset / method / f"{chash}.json"


def metric(
    per_seed,
    mean: float | None | EllipsisType = ...,
    *,
    bound: float | None = None,
    floor: float | None = None,
    deterministic: bool = False,
) -> dict:
    """{"per_seed", "mean", "std", "ci95"} over seeds (schema 3), plus "censored" or "deterministic".

    Uncensored (every seed has a value): `mean` their mean (or the task's own, see below), `std`
    the sample standard deviation (ddof=1) and `ci95` the Student-t 95% interval [lo, hi] of the
    mean; both None with fewer than 2 seeds.

    Censored: a seed whose value is None (or non-finite) never got there within the run's reach (a
    target not reached within `bound` steps, or by the grid's largest n = `bound`), and a value
    <= `floor` is only known to be at most the floor (an n* reached already at the grid's smallest
    n). A censored value is not a number, so a metric with any censored seed is never averaged: no
    std, no ci95, and a mean only where the task defines one that is itself uncensored (`mean`,
    e.g. n* of the mean curve, None where that is not reached); otherwise the mean is None. Its
    "censored" field says how:
    {"side": "above" | "below", "bound": the bound or floor (None: not known), "reached": seeds
    with a value, "of": seeds} ("> bound (reached of seeds)" on the pages).

    `deterministic`: every seed computes the same value (one effective sample, e.g. one kernel fit
    on the whole training set serving every seed): the mean is that value, with no spread.
    """
    values = [None if v is None or not math.isfinite(float(v)) else float(v) for v in per_seed]
    if deterministic:
        if values and (None in values or len(set(values)) != 1):
            raise ValueError(f"a deterministic metric needs one value for every seed, got {values}")
        first = values[0] if values else None
        return {"per_seed": values, "mean": first, "std": None, "ci95": None, "deterministic": True}
    own_mean = mean is not ...  # the task defines the mean (None: not reached)
    mean = None if mean is ... or mean is None or not math.isfinite(float(mean)) else float(mean)
    above = sum(v is None for v in values)
    below = sum(v is not None and floor is not None and v <= floor for v in values)
    mean_below = mean is not None and floor is not None and mean <= floor
    if above or below or (own_mean and mean is None) or mean_below:
        if mean_below:
            mean = None  # the task's own mean is at the floor: censored too
        side = "below" if below > above or (mean_below and not above) else "above"
        censored = {
            "side": side,
            "bound": floor if side == "below" else bound,
            "reached": len(values) - above - below,
            "of": len(values),
        }
        return {"per_seed": values, "mean": mean, "std": None, "ci95": None, "censored": censored}
    present = [v for v in values if v is not None]  # all of them: no seed is censored here
    if not own_mean:
        mean = float(np.mean(present)) if present else None
    std: float | None = None
    ci95: list[float] | None = None
    if len(present) >= 2:
        from scipy.stats import t as student_t  # here: scipy is slow to import, most readers never call this

        centre, std = float(np.mean(present)), float(np.std(present, ddof=1))
        half = float(student_t.ppf(0.975, len(present) - 1)) * std / math.sqrt(len(present))
        ci95 = [centre - half, centre + half]
    return {"per_seed": values, "mean": mean, "std": std, "ci95": ci95}


def write_json_atomic(path: str | Path, obj: Any) -> None:
    """Write to a temporary file in the same folder, fsync, then rename: never a partial file."""
    text = json.dumps(to_jsonable(obj), indent=1, sort_keys=True, allow_nan=False)
    with atomic_file(path, "w") as f:
        f.write(text + "\n")


def write_text_atomic(path: str | Path, text: str, encoding: str = "utf-8") -> None:
    """`Path.write_text`, all or nothing (see `atomic_file`)."""
    with atomic_file(path, "w", encoding=encoding) as f:
        f.write(text)


def write_bytes_atomic(path: str | Path, data: bytes) -> None:
    """`Path.write_bytes`, all or nothing (see `atomic_file`)."""
    with atomic_file(path, "wb") as f:
        f.write(data)


@contextlib.contextmanager
def atomic_file(path: str | Path, mode: str = "w", encoding: str | None = None):
    """A file object whose content replaces `path` only once the block has ended without error.

    It is a temporary file in the same folder (a dot-name, skipped by `iter_results`), fsynced,
    then renamed over `path`: a reader, a crash or a full disk mid-write leaves the old file whole
    or no file at all, never a truncated one; on any error the temporary file is removed. The file
    gets the mode a plain `open` would give (0666 less the umask), not mkstemp's 0600.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, mode, encoding=encoding) as f:
            os.fchmod(f.fileno(), 0o666 & ~_umask())
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def read_result(path: str | Path) -> dict:
    with open(path) as f:
        return json.load(f)


def iter_results(root: str | Path):
    """(path, record) for every result file under `root`, in a stable order."""
    for path in sorted(Path(root).rglob("*.json")):
        if path.name.startswith("."):
            continue
        yield path, read_result(path)


def validate_record(
    record: Any,
    where: str,
    *,
    current_task_versions: dict[str, int] | None = None,
    known_origins: dict[tuple[str, str], str] | None = None,
) -> list[str]:
    """Problems with one result record, each naming `where` and the field.

    The schemas in `SCHEMAS` are accepted. "ntkbench.result/1" (older files): each metric is
    {per_seed, mean, std}, std being the population std (ddof=0), no ci95. "ntkbench.result/2": std
    is the sample std (ddof=1; null with fewer than 2 seeds) and a metric built by `metric` carries
    `ci95`, [lo, hi] or null. "ntkbench.result/3" (`SCHEMA`, written now): as 2, and a metric may
    say `censored` or `deterministic` (`metric`). A derived record keeps its sources' schema
    string. The summaries are checked against per_seed by `ntkbench.orchestration.consistency`.
    """
    if not isinstance(record, dict):
        return [f"{where}: top level must be a JSON object"]
    errors = [f"{where}: missing field {f!r}" for f in REQUIRED_FIELDS if f not in record]
    if errors:
        return errors
    if record["schema"] not in SCHEMAS:
        errors.append(f"{where}: field 'schema' is {record['schema']!r}, expected one of {', '.join(SCHEMAS)}")
    if record["status"] not in ("ok", "failed"):
        errors.append(f"{where}: field 'status' must be 'ok' or 'failed', got {record['status']!r}")
    if record["status"] == "failed" and not record["error"]:
        errors.append(f"{where}: field 'error' must explain a failed run")
    keys = {"per_seed", "mean", "std"}
    extra = set(METRIC_KEYS) - keys if record["schema"] == SCHEMA else {"ci95"}
    for name, m in (record["metrics"] or {}).items():
        if not isinstance(m, dict) or not keys <= set(m) <= keys | extra:
            allowed = ", ".join(sorted(extra))
            errors.append(f"{where}: field 'metrics.{name}' must be {{per_seed, mean, std}} and optionally {allowed}")
        elif not isinstance(m["per_seed"], list):
            errors.append(f"{where}: field 'metrics.{name}.per_seed' must be a list")
        elif m.get("ci95") is not None and not (
            isinstance(m["ci95"], list) and len(m["ci95"]) == 2 and all(isinstance(v, int | float) for v in m["ci95"])
        ):
            errors.append(f"{where}: field 'metrics.{name}.ci95' must be [lo, hi] or null")
    prov = record["provenance"] if isinstance(record["provenance"], dict) else {}
    errors += [f"{where}: missing field 'provenance.{f}'" for f in PROVENANCE_FIELDS if f not in prov]
    try:
        expected = config_hash(config_of(record))
    except (TypeError, ValueError) as e:
        return errors + [f"{where}: config fields are not plain JSON: {e}"]
    if record["config_hash"] != expected:
        errors.append(
            f"{where}: field 'config_hash' is {record['config_hash']!r} but the config in the file "
            f"hashes to {expected!r} (was the config edited after the run?)"
        )
    if current_task_versions is not None:
        cur = current_task_versions.get(record["task"])
        if cur is None:
            errors.append(f"{where}: field 'task' names an unknown task {record['task']!r}")
        elif record["task_version"] != cur:
            errors.append(
                f"{where}: field 'task_version' is {record['task_version']}, the current version of "
                f"{record['task']!r} is {cur}"
            )
    key = (record["task"], record["method"])
    if known_origins is not None and key in known_origins and known_origins[key] != record["method_origin"]:
        errors.append(
            f"{where}: field 'method_origin' is {record['method_origin']!r} but method "
            f"{record['method']!r} comes from {known_origins[key]!r}"
        )
    return errors


def censored_text(m: dict, missing: str = "—") -> str | None:
    """How a censored metric reads ("> 10 000 (1 of 3 seeds)", "≤ 32 (at the floor for 3 of 3
    seeds)", or `missing` with the count where the bound is not known); None if not censored."""
    c = m.get("censored") if isinstance(m, dict) else None
    if not isinstance(c, dict):
        return None
    reached, of, bound = int(c.get("reached") or 0), int(c.get("of") or 0), c.get("bound")
    if isinstance(m.get("mean"), int | float):  # the task's own mean is a number; some seeds are censored
        return f"{bound_text(m['mean'])} ({reached} of {of} seeds reached it)"
    if not isinstance(bound, int | float):
        return f"{missing} ({reached} of {of} seeds)"
    if c.get("side") == "below":
        return f"≤ {bound_text(bound)} (at the floor for {of - reached} of {of} seeds)"
    return f"> {bound_text(bound)} ({reached} of {of} seeds)"


def bound_text(x: float) -> str:
    if abs(x) >= 1e7:
        return f"{x:.3g}"
    if float(x).is_integer():
        return f"{int(x):,}".replace(",", " ") if abs(x) >= 10_000 else f"{int(x)}"  # 10 000, 4000
    return f"{x:.4g}"
