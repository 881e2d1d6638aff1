"""Where runs execute: in worker processes (the default, `--jobs N` of them), as Slurm jobs
(`--executor slurm`, see `ntkbench.orchestration.slurm`), or in this process (`--executor
inline`: for a debugger, and tests; a plugin that exits ends the suite there).

Plugin code is untrusted: under the default executor it never runs in the process that holds the
suite, so nothing a method does (an exit, a crash, a hang, the OOM killer) ends the suite or
loses another run's result. An executor's `execute(steps, ...)` yields `(step, record, seconds)`
as runs finish, in whatever order they finish, after the run's result file is written
(atomically: a process that dies leaves no partial file).

Worker processes are started with `spawn` (JAX is not fork-safe) and each sees one accelerator
when there are several (`CUDA_VISIBLE_DEVICES`, set before JAX starts its backend); on CPU, N
workers share the cores: XLA:CPU compiles on one thread, so one worker's compile overlaps
another's execution.
"""

from __future__ import annotations

import multiprocessing
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator, Sequence
from multiprocessing.connection import wait
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from ntkbench.orchestration.one_run import Finished, Step, plural, record_failure, run_to_file, serve, write_record

if TYPE_CHECKING:
    from tqdm import tqdm


class InProcess:
    """One run after another in this process, its log printed as it goes (`--executor inline`).
    No isolation and no time limit: for a debugger, and for tests that patch the runner."""

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


DEFAULT_TIME_LIMIT_MIN = 120.0  # a run's limit where neither the suite nor --time-limit sets one


class Workers:
    """Runs in worker processes, `jobs` at once (the default executor, with one).

    A plugin's code runs in a worker, never in this process: a method that calls `os._exit`,
    segfaults or is killed by the OOM killer takes down its worker alone. Its run is recorded as
    failed with the cause, a new worker takes the next run, and the other workers' runs go on.
    A run past its time limit (`RunSpec.time_limit_min`, else DEFAULT_TIME_LIMIT_MIN) has its
    worker killed and fails the same way. This process writes every result file, so a worker
    killed at any moment leaves nothing half-written; a worker keeps its compiled programs from
    one run to the next.
    """

    def __init__(self, jobs: int = 1):
        if jobs < 1:
            raise ValueError(f"--jobs must be at least 1, got {jobs}")
        self.jobs = jobs

    def execute(
        self, steps: list[Step], out_dir: Path, data_dir: Path | None, *, stream: TextIO, bar: tqdm | None = None
    ) -> Iterator[Finished]:
        if not steps:
            return
        n = min(self.jobs, len(steps))
        # One worker sees every device (a run's seeds are split over them); several take one each.
        gpus = accelerators() if n > 1 else []
        slots = [(gpus[k % len(gpus)], -(-n // len(gpus))) if gpus else (None, 1) for k in range(n)]
        if n > 1:
            where = f" over {len(gpus)} GPUs" if gpus else ""
            workers = f"{n} worker process" + ("es" if n > 1 else "")
            print(f"{plural(len(steps), 'run')} in {workers}{where}", file=stream, flush=True)
        out = str(out_dir.resolve())
        data = None if data_dir is None else str(Path(data_dir).resolve())
        todo = list(reversed(steps))
        pool = [_Worker(slot) for slot in slots]
        try:
            while todo or any(w.step for w in pool):
                for w in pool:
                    if w.step is None and todo:
                        w.give(todo.pop(), out, data, stream)
                busy = [w for w in pool if w.step is not None]
                waitables: list[Any] = [x for w in busy for x in (w.conn, w.process.sentinel)]
                ready = wait(waitables, timeout=_next_deadline(busy))
                for w in busy:
                    finished = w.poll(ready, stream)
                    if finished is not None:
                        yield finished
        finally:  # done, Ctrl-C, a write that failed or a closed generator: no worker outlives the suite
            for w in pool:
                w.stop()


def _next_deadline(busy: list[_Worker]) -> float | None:
    deadlines = [d for w in busy if (d := w.deadline) is not None]
    return None if not deadlines else max(0.0, min(deadlines) - time.monotonic()) + 0.05


class _Worker:
    """One worker process and the run it holds; a dead worker is replaced by a fresh one."""

    def __init__(self, slot: tuple[str | None, int]):
        self.slot = slot
        self.step: Step | None = None
        self.deadline: float | None = None  # time.monotonic() past which the run is stopped
        self.t0 = 0.0
        self._start()

    def _start(self) -> None:
        ctx = multiprocessing.get_context("spawn")  # JAX is not fork-safe
        self.conn, child = ctx.Pipe()
        self.process = ctx.Process(target=serve, args=(child, *self.slot), daemon=True)
        self.process.start()
        child.close()

    def give(self, step: Step, out: str, data: str | None, stream: TextIO) -> None:
        note = " (rerun: the earlier result failed)" if step.rerun_failed else ""
        print(f"{step.label} ...{note}", file=stream, flush=True)
        self.step, self.deadline, self.t0 = step, None, time.perf_counter()
        self.conn.send((step.run, out, data))

    @property
    def limit_min(self) -> float:
        assert self.step is not None
        limit = self.step.run.time_limit_min
        return DEFAULT_TIME_LIMIT_MIN if limit is None else limit

    def poll(self, ready: Sequence[object], stream: TextIO) -> Finished | None:
        """Read what the worker sent; the finished run, if it finished, died or ran out of time."""
        step = self.step
        assert step is not None
        try:
            while self.conn.poll():
                message = self.conn.recv()
                if message[0] == "start":  # the clock starts when the worker has the run
                    self.deadline = time.monotonic() + 60 * self.limit_min
                elif message[0] == "log":
                    print(f"    {message[1]}", file=stream, flush=True)
                elif message[0] == "done":
                    self.step = None
                    record = message[1]
                    write_record(step.path, record)
                    return step, record, message[2]
        except (EOFError, OSError):
            pass  # the worker died; its sentinel says how
        if not self.process.is_alive() or self.process.sentinel in ready:
            self.process.join(1)
            return self._lost(step, _death(self.process.exitcode))
        if self.deadline is not None and time.monotonic() > self.deadline:
            return self._lost(step, f"exceeded its time limit of {self.limit_min:g} min; its worker was stopped")
        return None

    def _lost(self, step: Step, cause: str) -> Finished:
        """The run this worker held failed outside the run's own hands: record why, and start a
        fresh worker for the next run."""
        self.stop()
        self.step = None
        self._start()
        record = record_failure(step, f"{step.run.method!r} did not finish: the run {cause}")
        return step, record, time.perf_counter() - self.t0

    def stop(self) -> None:
        if self.process.is_alive():
            self.process.kill()
        self.process.join(5)
        self.conn.close()


def _death(exitcode: int | None) -> str:
    """Why a worker process ended, in words."""
    if exitcode is not None and exitcode < 0:
        name = signal.Signals(-exitcode).name if -exitcode in signal.valid_signals() else "?"
        oom = " (the out-of-memory killer sends it)" if name == "SIGKILL" else ""
        return f"ended its process: killed by signal {-exitcode} ({name}){oom}"
    return f"ended its process: it exited with code {exitcode} before returning a result"
