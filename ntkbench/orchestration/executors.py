"""Where runs execute: in this process (the default), in N worker processes (`--jobs N`), or as
Slurm jobs (`--executor slurm`, see `ntkbench.orchestration.slurm`).

Every executor leaves the same result files: a run's file is written, atomically, by the process
that ran it (`one_run.run_to_file`), so a worker or a job that dies leaves no partial file, and
what finished is kept whatever happens to the rest. An executor's `execute(steps, ...)` yields
`(step, record, seconds)` as runs finish, in whatever order they finish.

Worker processes are started with `spawn` (JAX is not fork-safe) and each sees one accelerator
when there are several (`CUDA_VISIBLE_DEVICES`, set before JAX starts its backend); on CPU, N
workers share the cores: XLA:CPU compiles on one thread, so one worker's compile overlaps
another's execution.
"""

from __future__ import annotations

import concurrent.futures as cf
import multiprocessing
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from ntkbench.orchestration.one_run import Finished, Record, Step, plural, record_failure, run_to_file, work

if TYPE_CHECKING:
    from tqdm import tqdm


class InProcess:
    """One run after another in this process, its log printed as it goes (the default)."""

    def execute(
        self, steps: list[Step], out_dir: Path, data_dir: Path | None, *, stream: TextIO, bar: tqdm | None = None
    ) -> Iterator[Finished]:
        for step in steps:
            note = " (rerun: the earlier result failed)" if step.rerun_failed else ""
            print(f"{step.label} ...{note}", file=stream, flush=True)
            t0 = time.perf_counter()
            log = lambda msg: print(f"    {msg}", file=stream, flush=True)  # noqa: E731
            record = run_to_file(step.run, out_dir, data_dir, log=log)
            yield step, record, time.perf_counter() - t0


def accelerators() -> list[str]:
    """The CUDA devices this process may use, without starting JAX's backend here (the parent of
    the workers must not take GPU memory): `$CUDA_VISIBLE_DEVICES`, else `nvidia-smi -L`."""
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    if visible is not None:
        return [d.strip() for d in visible.split(",") if d.strip() and d.strip() != "-1"]
    if shutil.which("nvidia-smi") is None:
        return []
    try:
        out = subprocess.run(["nvidia-smi", "-L"], capture_output=True, text=True, timeout=20).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    return [str(i) for i, line in enumerate(out.splitlines()) if line.startswith("GPU ")]


def _init_worker(devices: multiprocessing.queues.Queue[tuple[str | None, int]]) -> None:
    """Runs first in each worker: claim one accelerator (round robin when there are more workers
    than devices; those sharing one split its memory) before anything starts JAX's backend."""
    device, share = devices.get()
    if device is not None:
        os.environ["CUDA_VISIBLE_DEVICES"] = device
        if share > 1:
            os.environ.setdefault("XLA_PYTHON_CLIENT_MEM_FRACTION", f"{0.9 / share:.3f}")


class Workers:
    """`--jobs N`: N runs at once, each in a worker process of its own."""

    def __init__(self, jobs: int):
        if jobs < 1:
            raise ValueError(f"--jobs must be at least 1, got {jobs}")
        self.jobs = jobs

    def execute(
        self, steps: list[Step], out_dir: Path, data_dir: Path | None, *, stream: TextIO, bar: tqdm | None = None
    ) -> Iterator[Finished]:
        if not steps:
            return
        n = min(self.jobs, len(steps))
        ctx = multiprocessing.get_context("spawn")
        devices = ctx.Queue()
        gpus = accelerators()
        for k in range(n):
            devices.put((gpus[k % len(gpus)], -(-n // len(gpus))) if gpus else (None, 1))
        where = f" over {len(gpus)} GPUs" if gpus else ""
        workers = f"{n} worker process" + ("es" if n > 1 else "")
        print(f"{plural(len(steps), 'run')} in {workers}{where}", file=stream, flush=True)
        pool = cf.ProcessPoolExecutor(n, mp_context=ctx, initializer=_init_worker, initargs=(devices,))
        data = None if data_dir is None else str(Path(data_dir).resolve())
        started = time.time()
        futures = {pool.submit(work, s.run, str(out_dir.resolve()), data): s for s in steps}
        try:
            for future in cf.as_completed(futures):
                step = futures[future]
                note = " (rerun: the earlier result failed)" if step.rerun_failed else ""
                print(f"{step.label}{note}", file=stream, flush=True)
                try:
                    record, seconds, lines = future.result()
                except cf.process.BrokenProcessPool as e:
                    record, seconds, lines = _worker_died(step, e, started), 0.0, []
                for line in lines:
                    print(f"    {line}", file=stream, flush=True)
                yield step, record, seconds
        except BaseException:  # Ctrl-C or a closed generator: stop the workers, keep what finished
            for p in list(getattr(pool, "_processes", {}).values()):
                p.terminate()
            pool.shutdown(wait=False, cancel_futures=True)
            raise
        pool.shutdown()


def _worker_died(step: Step, error: BaseException, started: float) -> Record:
    """The failed record of a run whose worker process died (killed, out of memory): written
    here, since the worker could not; the next `ntkbench run` runs it again."""
    return record_failure(step, f"the worker process running it died ({error or type(error).__name__})", since=started)
