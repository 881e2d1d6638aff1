"""One run: its spec, executing it through its task, and writing its result file.

The bottom floor of orchestration: every executor (this process, a worker process, a Slurm job)
runs a run with `run_to_file`, and `work` is the entry of a worker process or a Slurm job. Nothing
here imports another orchestration module.

A method that raises, returns NaN or breaks its task's contract fails its own run (status
"failed", the error in the file); the suite goes on. Results are written atomically, so a run
killed midway leaves no file and the next `ntkbench run` redoes exactly that run.
"""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from multiprocessing.connection import Connection
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TextIO

from ntkbench.data import load_dataset
from ntkbench.engine import compiler
from ntkbench.engine.cache import cache_use, cache_use_since
from ntkbench.provenance import now_utc, provenance
from ntkbench.registry import MethodSpec, PluginError, get_method
from ntkbench.results import CONFIG_FIELDS, SCHEMA, config_hash, result_path, write_json_atomic
from ntkbench.tasks import RunContext, get_task
from ntkbench.tasks.base import method_failure
from ntkbench.tasks.conformance import conformance

if TYPE_CHECKING:
    from tqdm import tqdm

Record = dict[str, Any]  # a result file's content
Log = Callable[[str], None]


@dataclasses.dataclass(frozen=True)
class RunSpec:
    """One run of a suite: (task, dataset, method, params, budget, seeds) and the versions."""

    task: str
    task_version: int
    dataset: str
    method: str
    method_version: str
    method_origin: str
    params: dict[str, Any]
    budget: dict[str, Any]
    seeds: int
    root_seed: int
    vmap_seeds: bool | None = None  # None: the method's own declaration decides
    suite: str = ""
    time_limit_min: float | None = None  # None: DEFAULT_TIME_LIMIT_MIN; not part of the config

    def config(self) -> dict[str, Any]:
        """The fields the config hash covers."""
        return {name: getattr(self, name) for name in CONFIG_FIELDS}

    @property
    def config_hash(self) -> str:
        return config_hash(self.config())

    @property
    def run_id(self) -> str:
        return f"{self.task}/{self.dataset}/{self.method}/{self.config_hash}"


def plural(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


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


# Held while a result file is written: a hard exit on a second Ctrl-C (ntkbench.cli) waits for it.
WRITE_LOCK = threading.Lock()


class ResultNotWritten(Exception):
    """A result file could not be written (a full or read-only disk): the suite stops, saying
    where, and what the run that made it measured."""

    def __init__(self, path: Path, error: OSError, record: Record):
        super().__init__(f"could not write {path}: {error.strerror or error}")
        self.path, self.error, self.record = path, error, record


def write_record(path: Path, record: Record) -> None:
    """Write a result file atomically, holding WRITE_LOCK; an OSError is a ResultNotWritten."""
    try:
        with WRITE_LOCK:
            write_json_atomic(path, record)
    except OSError as e:
        raise ResultNotWritten(path, e, record) from e


def base_record(run: RunSpec) -> Record:
    record: Record = {"schema": SCHEMA, **run.config(), "config_hash": run.config_hash, "suite": run.suite}
    record["protocol"] = conformance(record)  # full protocol, or which fields deviate
    return record


def execute_one(run: RunSpec, out_dir: Path, data_dir: Path | None, log: Log) -> Record:
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
            budget=task.typed_budget(run.dataset, run.budget),  # the record keeps the dict as written
            seeds=run.seeds,
            root_seed=run.root_seed,
            vmap_seeds=vmap,
            log=log,
        )
        try:
            output = task.run(ctx)
        except PluginError:
            raise
        except (KeyboardInterrupt, GeneratorExit):
            raise
        except BaseException as e:  # SystemExit, or a plugin's own BaseException, too
            if _raised_in_plugin(e, spec):  # say whose code failed, and where
                raise PluginError(method_failure(spec, e)) from e
            raise
        record.update(metrics=output.metrics, ntk=output.ntk, status="ok", **output.extra)
        record["vmap_seeds"] = vmap
    except (KeyboardInterrupt, GeneratorExit):
        raise
    except BaseException as e:  # a failing run fails alone, whatever it raised; the suite goes on
        record["error"] = str(e) if isinstance(e, PluginError) else f"{type(e).__name__}: {e}"
        record["metrics"], record["ntk"] = {}, {}
    compile_s = ctx.timing.compile_seconds if ctx else 0.0
    record["provenance"] = provenance(start, time.perf_counter() - t0, compile_s)
    record["provenance"]["compile_cache"] = cache_use_since(cache_before)  # None: the cache was off
    return record


def _raised_in_plugin(exc: BaseException, spec: MethodSpec) -> bool:
    module = sys.modules.get(spec.module)
    path = getattr(module, "__file__", None)
    return path is None or any(f.filename == path for f in traceback.extract_tb(exc.__traceback__))


def run_to_file(run: RunSpec, out_dir: Path, data_dir: Path | None, log: Log) -> Record:
    """Execute one run and write its result file (atomically): what every executor does per run,
    in this process, a worker process or a Slurm job. Returns the record written."""
    record = execute_one(run, out_dir, data_dir, log=log)
    write_record(result_path(out_dir, run.task, run.dataset, run.method, run.config_hash), record)
    return record


def work(run: RunSpec, out_dir: str, data_dir: str | None, echo: bool = False) -> tuple[Record, float, list[str]]:
    """One run in a worker process or a Slurm job: its record, wall seconds and log lines (also
    printed as they come with `echo`: a job's log file shows how far it got)."""
    compiler.configure()
    lines: list[str] = []

    def log(line: str) -> None:
        lines.append(line)
        if echo:
            print(line, flush=True)

    t0 = time.perf_counter()
    record = run_to_file(run, Path(out_dir), None if data_dir is None else Path(data_dir), log=log)
    return record, time.perf_counter() - t0, lines


def serve(conn: Connection, device: str | None, share: int) -> None:
    """The loop of a worker process (`executors.Workers`): run what the parent sends, one run at a
    time, and send back ("start", time), ("log", line)... and ("done", record, seconds). The
    parent writes the result file, so a worker killed at any moment leaves nothing half-written.

    Ctrl-C is the parent's: it reaches the whole process group, and the parent kills its workers
    (a worker inside a compile or a compiled program would not see it for seconds). The device
    (one GPU where there are several) is claimed before anything starts JAX's backend.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if device is not None:
        os.environ["CUDA_VISIBLE_DEVICES"] = device
        if share > 1:
            os.environ.setdefault("XLA_PYTHON_CLIENT_MEM_FRACTION", f"{0.9 / share:.3f}")
    compiler.configure()
    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError):
            return  # the parent is gone
        if message is None:
            return
        run, out_dir, data_dir = message
        conn.send(("start", time.time()))
        t0 = time.perf_counter()
        record = execute_one(run, Path(out_dir), None if data_dir is None else Path(data_dir), log=_sender(conn))
        conn.send(("done", record, time.perf_counter() - t0))


def _sender(conn: Connection) -> Log:
    return lambda line: conn.send(("log", line))


def record_failure(step: Step, error: str, *, since: float | None = None, **provenance_extra: Any) -> Record:
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
    write_record(step.path, record)
    return record


Finished = tuple[Step, Record, float]  # a step, the record its run wrote, its wall seconds


class Executor(Protocol):
    """Where runs execute (ntkbench.orchestration.executors, .slurm): yields each step as its run
    finishes, in whatever order they finish, after its result file is written."""

    def execute(
        self, steps: list[Step], out_dir: Path, data_dir: Path | None, *, stream: TextIO, bar: tqdm | None = None
    ) -> Iterator[Finished]: ...
