"""Execute runs: skip what exists, run the rest through their task, write one result file each.

A method that raises, returns NaN or breaks its task's contract fails its own run (status
"failed", the error in the file); the suite goes on. Results are written atomically, so a run
killed midway leaves no file and the next `ntkbench run` redoes exactly that run.
"""

from __future__ import annotations

import dataclasses
import json
import sys
import textwrap
import threading
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

from ntkbench.data import load_dataset
from ntkbench.engine.cache import cache_use, cache_use_since
from ntkbench.orchestration.suites import RunSpec
from ntkbench.provenance import now_utc, provenance
from ntkbench.registry import PluginError, get_method
from ntkbench.results import SCHEMA, config_hash, iter_results, result_path, to_jsonable, write_json_atomic
from ntkbench.tasks import RunContext, get_task
from ntkbench.tasks.base import method_failure
from ntkbench.tasks.conformance import conformance


@dataclasses.dataclass
class Outcome:
    run: RunSpec
    status: str  # ok / failed / skipped
    path: Path
    seconds: float = 0.0
    headline: str = ""
    error: str = ""
    rerun_failed: bool = False  # an earlier result file of this run had status "failed"


# Held while a result file is written: a hard exit on a second Ctrl-C (ntkbench.cli) waits for it.
WRITE_LOCK = threading.Lock()


def _write(path: Path, record: dict) -> None:
    with WRITE_LOCK:
        write_json_atomic(path, record)


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


def plural(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def base_record(run: RunSpec) -> dict:
    record = {"schema": SCHEMA, **run.config(), "config_hash": run.config_hash, "suite": run.suite}
    record["protocol"] = conformance(record)  # full protocol, or which fields deviate
    return record


def execute_one(run: RunSpec, out_dir: Path, data_dir: Path | None, log: Callable[[str], None]) -> dict:
    """Run one spec; always returns a complete record (status ok or failed)."""
    start, t0, cache_before = now_utc(), time.perf_counter(), cache_use()
    record = base_record(run)
    record.update(dataset_fingerprint=None, metrics={}, ntk={}, status="failed", error=None)
    task = get_task(run.task)
    ctx = None
    try:
        spec = get_method(run.method, run.task)
        record["method_source"] = spec.source_hash  # which code made it (not part of the config hash)
        dataset = load_dataset(run.dataset, data_dir)
        record["dataset_fingerprint"] = dataset.fingerprint()
        record["dataset_meta"] = dataset.meta
        vmap = spec.vmappable if run.vmap_seeds is None else (run.vmap_seeds and spec.vmappable)
        ctx = RunContext(
            method=spec,
            dataset=dataset,
            params=run.params,
            budget=run.budget,
            seeds=run.seeds,
            root_seed=run.root_seed,
            vmap_seeds=vmap,
            log=log,
        )
        try:
            output = task.run(ctx)
        except PluginError:
            raise
        except Exception as e:
            if _raised_in_plugin(e, spec):  # say whose code failed, and where
                raise PluginError(method_failure(spec, e)) from e
            raise
        record.update(metrics=output.metrics, ntk=output.ntk, status="ok", **output.extra)
        record["vmap_seeds"] = vmap
    except Exception as e:  # a failing run fails alone; the suite goes on
        record["error"] = str(e) if isinstance(e, PluginError) else f"{type(e).__name__}: {e}"
        record["metrics"], record["ntk"] = {}, {}
    compile_s = ctx.timing.compile_seconds if ctx else 0.0
    record["provenance"] = provenance(start, time.perf_counter() - t0, compile_s)
    record["provenance"]["compile_cache"] = cache_use_since(cache_before)  # None: the cache was off
    return record


def _raised_in_plugin(exc: BaseException, spec) -> bool:
    module = sys.modules.get(spec.module)
    path = getattr(module, "__file__", None)
    return path is None or any(f.filename == path for f in traceback.extract_tb(exc.__traceback__))


def headline(record: dict) -> str:
    """For the progress log: the error (in full), or the task's headline metric."""
    if record["status"] != "ok":
        return record.get("error") or ""
    found = get_task(record["task"]).headline(record)
    if not found:
        return ""
    k, v = found
    if v.get("mean") is None:
        return k
    return f"{k} {v['mean']:.1f}" + (f" ± {v['std']:.1f}" if v.get("std") is not None else "")  # no std: 1 seed


def run_to_file(run: RunSpec, out_dir: Path, data_dir, log: Callable[[str], None]) -> dict:
    """Execute one run and write its result file (atomically): what every executor does per run,
    in this process, a worker process or a Slurm job. Returns the record written."""
    record = execute_one(run, out_dir, data_dir, log=log)
    _write(result_path(out_dir, run.task, run.dataset, run.method, run.config_hash), record)
    return record


def record_failure(step: Step, error: str, *, since: float | None = None, **provenance_extra) -> dict:
    """Write the failed record of a run that died outside ntkbench's hands (a worker process
    killed, a Slurm job cancelled or out of time), unless its process wrote an "ok" result first
    (after `since`, a time.time(), when given: under --force an older ok file is the one being
    replaced). Written by the parent, which must not start JAX's backend (on a GPU it would take
    memory the workers need): the provenance names no device."""
    try:
        fresh = since is None or step.path.stat().st_mtime >= since
        done = json.loads(step.path.read_text())
        ok = isinstance(done, dict) and done.get("status") == "ok" and done.get("config_hash") == step.run.config_hash
        if ok and fresh:
            return done
    except (OSError, ValueError):
        pass
    record = base_record(step.run)
    record.update(dataset_fingerprint=None, metrics={}, ntk={}, status="failed", error=error)
    record["provenance"] = {**provenance(now_utc(), 0.0, 0.0, devices=False), **provenance_extra}
    _write(step.path, record)
    return record


@dataclasses.dataclass
class Step:
    """One run to execute: its place in the suite, and the result file it will write."""

    index: int
    total: int
    run: RunSpec
    path: Path
    rerun_failed: bool = False

    @property
    def label(self) -> str:
        r = self.run
        return f"[{self.index}/{self.total}] {r.task}/{r.dataset}/{r.method} ({plural(r.seeds, 'seed')})"


def execute(
    runs: list[RunSpec],
    out_dir: str | Path,
    *,
    data_dir=None,
    force: bool = False,
    stream: TextIO | None = None,
    executor=None,
) -> list[Outcome]:
    """Run each spec whose result file is missing or failed (all of them with `force`); a result
    with status "ok" is skipped. `executor` (ntkbench.orchestration.executors) says where the runs
    execute: by default one after another in this process. A progress bar with an ETA goes to
    stderr when it is a terminal."""
    from tqdm import tqdm

    from ntkbench.orchestration.executors import InProcess

    stream = sys.stdout if stream is None else stream  # the current stdout, not the one at import
    out_dir = Path(out_dir)
    executor = InProcess() if executor is None else executor
    outcomes: dict[int, Outcome] = {}
    steps = []
    for i, run in enumerate(runs, 1):
        path = result_path(out_dir, run.task, run.dataset, run.method, run.config_hash)
        step = Step(i, len(runs), run, path)
        existing = _existing_status(path)
        if existing == "ok" and not force:
            print(f"{step.label}: exists, skipped ({path})", file=stream, flush=True)
            outcomes[i] = Outcome(run, "skipped", path)
            continue
        step.rerun_failed = existing == "failed" and not force
        steps.append(step)
    bar = tqdm(total=len(runs), unit="run", file=sys.stderr, disable=not _isatty(sys.stderr), leave=False)
    bar.update(len(outcomes))
    try:
        for step, record, seconds in executor.execute(steps, out_dir, data_dir, stream=stream, bar=bar):
            outcomes[step.index] = _report(step, record, seconds, stream)
            bar.update(1)
    finally:
        bar.close()
    aggregate(runs, out_dir, stream=stream)
    return [outcomes[i] for i in sorted(outcomes)]


def _isatty(f) -> bool:
    try:
        return f.isatty()
    except (AttributeError, ValueError):
        return False


def _report(step: Step, record: dict, seconds: float, stream: TextIO) -> Outcome:
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


def aggregate(runs: list[RunSpec], out_dir: Path, stream: TextIO | None = None) -> list[Path]:
    """Derived results (task.aggregate) over the result files of the tasks this suite touched;
    a derived file whose content (all but provenance) is unchanged is not rewritten."""
    stream = sys.stdout if stream is None else stream
    written = []
    for task_name in sorted({r.task for r in runs}):
        task = get_task(task_name)
        records = [
            rec
            for _, rec in iter_results(out_dir / task_name)
            if rec.get("task_version") == task.version and not rec.get("derived")
        ]
        for d in task.aggregate(records):
            tmpl = d.pop("template")
            record = {
                k: tmpl[k]
                for k in (
                    "schema",
                    "task",
                    "task_version",
                    "method",
                    "method_version",
                    "method_origin",
                    "params",
                    "budget",
                    "seeds",
                    "root_seed",
                )
            }
            record["schema"] = SCHEMA  # the derived metrics are computed now, with this schema's statistics
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
            record["config_hash"] = config_hash(
                {
                    k: record[k]
                    for k in (
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
                }
            )
            path = result_path(out_dir, record["task"], record["dataset"], record["method"], record["config_hash"])
            name = f"{record['task']}/{record['dataset']}/{record['method']}"
            if _same_content(path, record):
                print(f"derived {name}: unchanged", file=stream)
                continue
            _write(path, record)
            print(f"derived {name}: " + headline(record), file=stream)
            written.append(path)
    return written


# Fields of a derived record that say when and where it was made, not what it says.
VOLATILE_FIELDS = ("provenance",)


def _same_content(path: Path, record: dict) -> bool:
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
                f"{o.seconds:.1f}" if o.status != "skipped" else "-",
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
    reruns = sum(o.rerun_failed for o in outcomes)
    if reruns:
        line += f"; {reruns} earlier {'failure' if reruns == 1 else 'failures'} rerun"
    lines.append(line)
    return "\n".join(lines)
