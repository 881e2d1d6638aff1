"""Execute runs: skip what exists, run the rest through their task, write one result file each.

A method that raises, returns NaN or breaks its task's contract fails its own run (status
"failed", the error in the file); the suite goes on. Results are written atomically, so a run
killed midway leaves no file and the next `ntkbench run` redoes exactly that run.
"""

from __future__ import annotations

import dataclasses
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

from ntkbench.data import load_dataset
from ntkbench.orchestration.suites import RunSpec
from ntkbench.provenance import now_utc, provenance
from ntkbench.registry import PluginError, get_method
from ntkbench.results import SCHEMA, config_hash, iter_results, result_path, write_json_atomic
from ntkbench.tasks import RunContext, get_task
from ntkbench.tasks.base import method_failure


@dataclasses.dataclass
class Outcome:
    run: RunSpec
    status: str  # ok / failed / skipped
    path: Path
    seconds: float = 0.0
    headline: str = ""
    error: str = ""


def base_record(run: RunSpec) -> dict:
    return {"schema": SCHEMA, **run.config(), "config_hash": run.config_hash, "suite": run.suite}


def execute_one(run: RunSpec, out_dir: Path, data_dir: Path | None, log: Callable[[str], None]) -> dict:
    """Run one spec; always returns a complete record (status ok or failed)."""
    start, t0 = now_utc(), time.perf_counter()
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
    return record


def _raised_in_plugin(exc: BaseException, spec) -> bool:
    module = sys.modules.get(spec.module)
    path = getattr(module, "__file__", None)
    return path is None or any(f.filename == path for f in traceback.extract_tb(exc.__traceback__))


def headline(record: dict) -> str:
    """One line for the progress log: the error, or the task's headline metric."""
    if record["status"] != "ok":
        return (record.get("error") or "")[:100]
    found = get_task(record["task"]).headline(record)
    if not found:
        return ""
    k, v = found
    if v.get("mean") is None:
        return k
    return f"{k} {v['mean']:.1f}" + (f" ± {v['std']:.1f}" if v.get("std") is not None else "")  # no std: 1 seed


def execute(
    runs: list[RunSpec], out_dir: str | Path, *, data_dir=None, force: bool = False, stream: TextIO = sys.stdout
) -> list[Outcome]:
    out_dir = Path(out_dir)
    outcomes: list[Outcome] = []
    total = len(runs)
    for i, run in enumerate(runs, 1):
        path = result_path(out_dir, run.task, run.dataset, run.method, run.config_hash)
        label = f"[{i}/{total}] {run.task}/{run.dataset}/{run.method} ({run.seeds} seeds)"
        if path.exists() and not force:
            print(f"{label}: exists, skipped ({path})", file=stream, flush=True)
            outcomes.append(Outcome(run, "skipped", path))
            continue
        print(f"{label} ...", file=stream, flush=True)
        t0 = time.perf_counter()
        record = execute_one(run, out_dir, data_dir, log=lambda msg: print(f"    {msg}", file=stream, flush=True))
        write_json_atomic(path, record)
        seconds = time.perf_counter() - t0
        o = Outcome(run, record["status"], path, seconds, headline(record), record.get("error") or "")
        print(f"    {o.status} in {seconds:.1f}s  {o.headline}", file=stream, flush=True)
        outcomes.append(o)
    aggregate(runs, out_dir, stream=stream)
    return outcomes


def aggregate(runs: list[RunSpec], out_dir: Path, stream: TextIO = sys.stdout) -> list[Path]:
    """Derived results (task.aggregate) over the result files of the tasks this suite touched."""
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
            write_json_atomic(path, record)
            print(f"derived {record['task']}/{record['dataset']}/{record['method']}: " + headline(record), file=stream)
            written.append(path)
    return written


def summary_table(outcomes: list[Outcome]) -> str:
    rows = [("run", "status", "seconds", "headline")]
    for o in outcomes:
        rows.append(
            (
                f"{o.run.task}/{o.run.dataset}/{o.run.method}",
                o.status,
                f"{o.seconds:.1f}" if o.status != "skipped" else "-",
                o.headline or o.error[:80],
            )
        )
    widths = [max(len(r[c]) for r in rows) for c in range(4)]
    lines = ["  ".join(v.ljust(w) for v, w in zip(r, widths)).rstrip() for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    counts = {s: sum(o.status == s for o in outcomes) for s in ("ok", "failed", "skipped")}
    lines.append(f"{len(outcomes)} runs: {counts['ok']} ok, {counts['failed']} failed, {counts['skipped']} skipped")
    return "\n".join(lines)
