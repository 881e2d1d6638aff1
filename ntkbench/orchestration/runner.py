"""Execute a list of runs: skip what exists, hand the rest to an executor, report each as it
finishes, then write the tasks' derived results.

Where the runs execute is the executor's business (ntkbench.orchestration.executors, .slurm);
what a run does and the result file it writes is `one_run`'s.
"""

from __future__ import annotations

import dataclasses
import json
import sys
import textwrap
from collections.abc import Iterable
from pathlib import Path
from typing import Any, TextIO

from tqdm import tqdm

from ntkbench.orchestration.locks import RunLock
from ntkbench.orchestration.one_run import Executor, Record, ResultNotWritten, RunSpec, Step, plural, write_record
from ntkbench.results import (
    CONFIG_FIELDS,
    SCHEMA,
    censored_text,
    config_hash,
    config_of,
    iter_results,
    result_path,
    to_jsonable,
)
from ntkbench.tasks import get_task


@dataclasses.dataclass
class Outcome:
    run: RunSpec
    status: str  # ok / failed / skipped / not run (the suite stopped before it)
    path: Path
    seconds: float = 0.0
    headline: str = ""
    error: str = ""
    rerun_failed: bool = False  # an earlier result file of this run had status "failed"


def _existing_status(path: Path) -> str | None:
    """The status of the result file at `path` ("ok", "failed"), None where there is none, or
    "unreadable" (a file that is not a result: it is rerun and overwritten)."""
    if not path.exists():
        return None
    try:
        status = json.loads(path.read_text()).get("status")
    except (OSError, ValueError, AttributeError):
        return "unreadable"
    return status if isinstance(status, str) else "unreadable"


def headline(record: Record) -> str:
    """For the progress log: the error (in full), or the task's headline metric."""
    if record["status"] != "ok":
        return record.get("error") or ""
    task = get_task(record["task"])
    found = task.headline(record)
    if not found:
        return ""
    k, v = found
    spec = task.metric_spec(k)
    if (text := censored_text(v, spec.missing if spec else "—")) is not None:
        return f"{k} {text}"
    if v.get("mean") is None:  # an older file's censored value: the bound, never a number
        per_seed = seeds if isinstance(seeds := v.get("per_seed"), list) else []
        reached = sum(x is not None for x in per_seed)
        return f"{k} {spec.missing if spec else '—'}" + (f" ({reached} of {len(per_seed)} seeds)" if per_seed else "")
    return f"{k} {v['mean']:.1f}" + (f" ± {v['std']:.1f}" if v.get("std") is not None else "")  # no std: 1 seed


def execute(
    runs: list[RunSpec],
    out_dir: str | Path,
    executor: Executor,
    *,
    data_dir: Path | None = None,
    force: bool = False,
    stream: TextIO | None = None,
) -> list[Outcome]:
    """Run each spec whose result file is missing or failed (all of them with `force`); a result
    with status "ok" is skipped. `executor` (ntkbench.orchestration.executors, .slurm) says where
    the runs execute. A progress bar with an ETA goes to stderr when it is a terminal."""
    stream = sys.stdout if stream is None else stream  # the current stdout, not the one at import
    out_dir = Path(out_dir)
    outcomes: dict[int, Outcome] = {}
    steps: list[Step] = []
    locks: list[RunLock] = []
    try:
        for i, run in enumerate(runs, 1):
            path = result_path(out_dir, run.task, run.dataset, run.method, run.config_hash)
            step = Step(i, len(runs), run, path)
            lock = RunLock(path)
            if not lock.acquire():
                print(f"{step.label}: skipped, another ntkbench process is running it", file=stream, flush=True)
                outcomes[i] = Outcome(run, "skipped", path)
                continue
            locks.append(lock)
            existing = _existing_status(path)  # read under the lock: another process may just have written it
            if existing == "ok" and not force:
                print(f"{step.label}: exists, skipped ({path})", file=stream, flush=True)
                outcomes[i] = Outcome(run, "skipped", path)
                continue
            step.rerun_failed = existing == "failed" and not force
            steps.append(step)
        if _run_steps(steps, outcomes, executor, out_dir, data_dir, len(runs), stream):
            aggregate((r.task for r in runs), out_dir, stream=stream)
    finally:
        for lock in locks:
            lock.release()
    return [outcomes[i] for i in sorted(outcomes)]


def _run_steps(
    steps: list[Step],
    outcomes: dict[int, Outcome],
    executor: Executor,
    out_dir: Path,
    data_dir: Path | None,
    total: int,
    stream: TextIO,
) -> bool:
    """Hand `steps` to the executor, recording each outcome as it comes; False when a result file
    could not be written (a full disk): the suite stops there, saying what was lost."""
    bar = tqdm(total=total, unit="run", file=sys.stderr, disable=not _isatty(sys.stderr), leave=False)
    bar.update(len(outcomes))
    try:
        for step, record, seconds in executor.execute(steps, out_dir, data_dir, stream=stream, bar=bar):
            outcomes[step.index] = _report(step, record, seconds, stream)
            bar.update(1)
    except ResultNotWritten as e:
        step = next(s for s in steps if s.path == e.path)
        measured = headline(e.record)
        error = f"{e}; the run ended {e.record.get('status')}" + (f" ({measured})" if measured else "")
        outcomes[step.index] = Outcome(step.run, "failed", step.path, error=error)
        for s in steps:
            outcomes.setdefault(s.index, Outcome(s.run, "not run", s.path))
        print(f"error: {error}; the suite stops here (runs already written are kept)", file=sys.stderr, flush=True)
        return False
    finally:
        bar.close()
    return True


def _isatty(f: Any) -> bool:
    try:
        return f.isatty()
    except (AttributeError, ValueError):
        return False


def _report(step: Step, record: Record, seconds: float, stream: TextIO) -> Outcome:
    o = Outcome(
        step.run, record["status"], step.path, seconds, headline(record), record.get("error") or "", step.rerun_failed
    )
    if o.status == "ok":
        print(f"    {o.status} in {seconds:.1f}s  {o.headline}", file=stream, flush=True)
    else:
        print(f"    {o.status} in {seconds:.1f}s", file=stream, flush=True)
        print(_indented(o.error, "      "), file=stream, flush=True)
    return o


def _indented(text: str, prefix: str, width: int = 100) -> str:
    """`text` in full, wrapped at `width` and indented (long words, e.g. paths, are not broken)."""
    lines = []
    for para in text.splitlines() or [""]:
        lines += textwrap.wrap(para, width, break_long_words=False, break_on_hyphens=False) or [""]
    return "\n".join(prefix + line for line in lines)


def aggregate(tasks: Iterable[str], out_dir: Path, stream: TextIO | None = None) -> list[Path]:
    """Derived results (task.aggregate) over the result files of `tasks` (those a suite touched);
    a derived file whose content (all but provenance) is unchanged is not rewritten."""
    stream = sys.stdout if stream is None else stream
    written = []
    for task_name in sorted(set(tasks)):
        task = get_task(task_name)
        records = [
            rec
            for _, rec in iter_results(out_dir / task_name)
            if rec.get("task_version") == task.version and not rec.get("derived")
        ]
        for d in task.aggregate(records):
            tmpl = d.pop("template")
            # the template's config, but for its dataset (the derived record names its own)
            record = {"schema": SCHEMA, **{k: tmpl[k] for k in CONFIG_FIELDS if k != "dataset"}}
            record.update(
                dataset=d.pop("dataset"),
                dataset_fingerprint=None,
                ntk={},
                status="ok",
                error=None,
                derived=True,
                provenance=tmpl["provenance"],
                **d,
            )
            record["config_hash"] = config_hash(config_of(record))
            path = result_path(out_dir, record["task"], record["dataset"], record["method"], record["config_hash"])
            name = f"{record['task']}/{record['dataset']}/{record['method']}"
            if _same_content(path, record):
                print(f"derived {name}: unchanged", file=stream)
                continue
            write_record(path, record)
            print(f"derived {name}: " + headline(record), file=stream)
            written.append(path)
    return written


# Fields of a derived record that say when and where it was made, not what it says.
VOLATILE_FIELDS = ("provenance",)


def _same_content(path: Path, record: Record) -> bool:
    """Whether the file at `path` already holds `record`, up to provenance (a rerun that derives
    the same numbers leaves the committed file alone)."""
    if not path.exists():
        return False
    try:
        old = json.loads(path.read_text())
    except (OSError, ValueError):
        return False
    if not isinstance(old, dict):
        return False
    new = json.loads(json.dumps(to_jsonable(record), sort_keys=True, allow_nan=False))
    strip = lambda r: {k: v for k, v in r.items() if k not in VOLATILE_FIELDS}
    return strip(old) == strip(new)


def summary_table(outcomes: list[Outcome]) -> str:
    """One row per run; a failed run's error in full under its row."""
    rows = [("run", "status", "seconds", "headline")]
    errors: dict[int, str] = {}
    for o in outcomes:
        if o.status == "failed":
            errors[len(rows)] = o.error or o.headline
        rows.append(
            (
                f"{o.run.task}/{o.run.dataset}/{o.run.method}",
                o.status,
                f"{o.seconds:.1f}" if o.status in ("ok", "failed") else "-",
                o.headline if o.status != "failed" else "(error below)",
            )
        )
    widths = [max(len(r[c]) for r in rows) for c in range(4)]
    lines = []
    for k, r in enumerate(rows):
        lines.append("  ".join(v.ljust(w) for v, w in zip(r, widths)).rstrip())
        if k == 0:
            lines.append("  ".join("-" * w for w in widths))
        if k in errors:
            lines.append(_indented(errors[k], "    "))
    counts = {s: sum(o.status == s for o in outcomes) for s in ("ok", "failed", "skipped")}
    line = f"{plural(len(outcomes), 'run')}: {counts['ok']} ok, {counts['failed']} failed, {counts['skipped']} skipped"
    not_run = sum(o.status == "not run" for o in outcomes)
    if not_run:
        line += f", {not_run} not run"
    reruns = sum(o.rerun_failed for o in outcomes)
    if reruns:
        line += f"; {reruns} earlier {'failure' if reruns == 1 else 'failures'} rerun"
    lines.append(line)
    return "\n".join(lines)
