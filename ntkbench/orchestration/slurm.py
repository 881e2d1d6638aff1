"""`ntkbench run --executor slurm`: the runs as one Slurm job array, submitted with submitit.

Each array task runs one run (`one_run.work`), or `runs_per_job` consecutive runs of the suite
one after another in one process, and writes each run's result file into `--out`, which must be
on a filesystem the nodes share. Grouping is for short runs: each job pays a Python start, the
imports and loading its programs (from the persistent cache, when an earlier job compiled them), and
consecutive runs of a suite mostly share a task, a dataset and so compiled programs. A grouped
job that dies fails only the runs it had not finished. The submitting process waits, printing the count of
pending / running / done / failed tasks as it changes, and reports each run as it finishes.

A task that dies without writing its result (cancelled, out of time, node failure, preemption,
out of memory) gets a failed result file written here, with Slurm's state and reason, so the next
`ntkbench run` runs it again. States come from `scontrol show job`, which needs no accounting
database (submitit's own watcher asks `sacct`, which many small clusters do not have, and only
every few minutes).

Options (`[executor]` in the suite, or `--slurm-*` flags, which win):

    [executor]
    partition = "gpu"
    time_limit_min = 120     # per job
    gpus_per_job = 1
    cpus_per_job = 8
    mem_gb = 32
    max_jobs = 16            # at once (the array's % limit)
    runs_per_job = 1         # consecutive runs in one job (one process)
"""

from __future__ import annotations

import dataclasses
import re
import signal
import subprocess
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TextIO

from annotated_types import Ge, Gt

from ntkbench.orchestration.one_run import Finished, Record, RunSpec, Step, plural, record_failure, work
from ntkbench.typecheck import make_budget

if TYPE_CHECKING:
    import submitit
    from tqdm import tqdm

# What a job returns: each of its runs' record, wall seconds and log lines.
JobResult = list[tuple[Record, float, list[str]]]
JobState = dict[str, str]  # one job's fields in `scontrol show job`: JobState, Reason, NodeList, ...
Pending = dict[str, tuple[list[Step], "submitit.Job[JobResult]"]]  # by job id: its steps and its job

EXECUTOR_FIELDS = (
    "partition",
    "time_limit_min",
    "gpus_per_job",
    "cpus_per_job",
    "mem_gb",
    "max_jobs",
    "runs_per_job",
    "account",
)


@dataclasses.dataclass(frozen=True)
class SlurmOptions:
    partition: str | None = None
    time_limit_min: Annotated[int, Gt(0)] = 60
    gpus_per_job: Annotated[int, Ge(0)] = 0
    cpus_per_job: Annotated[int, Gt(0)] = 1
    mem_gb: Annotated[float, Gt(0)] | None = None
    max_jobs: Annotated[int, Gt(0)] | None = None
    runs_per_job: Annotated[int, Gt(0)] = 1
    account: str | None = None
    poll_seconds: Annotated[float, Gt(0)] = 5.0
    folder: str | None = None  # submitit's logs and pickles; default <out>/.slurm

    @classmethod
    def from_table(cls, table: Mapping[str, Any], *, where: str) -> SlurmOptions:
        """From an `[executor]` suite table (and/or flags); errors name `where` and the field."""
        return make_budget(cls, table, where=where, label="field")


def job_task(runs: list[RunSpec], out_dir: str, data_dir: str | None) -> JobResult:
    """What one array task runs: its runs, one after another. `scancel` sends SIGTERM, which
    submitit's job wrapper ignores (it waits for SIGUSR2 to checkpoint): a run cannot be
    checkpointed, so it ends at once, and its result file, written atomically, is either whole or
    absent; the runs finished before it keep theirs."""
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    finished = []
    for run in runs:
        print(f"ntkbench: {run.run_id}", flush=True)
        finished.append(work(run, out_dir, data_dir, echo=True))
    return finished


def groups(steps: list[Step], runs_per_job: int) -> list[list[Step]]:
    """Consecutive steps, `runs_per_job` to a job, the jobs as even as the count allows (11 runs
    at 4 per job: 3, 4, 4 rather than 4, 4, 3 and a straggler)."""
    n_jobs = -(-len(steps) // runs_per_job)
    bounds = [k * len(steps) // n_jobs for k in range(n_jobs + 1)]
    return [steps[a:b] for a, b in zip(bounds, bounds[1:])]


ACTIVE = {"PENDING", "CONFIGURING", "RUNNING", "COMPLETING", "SUSPENDED", "REQUEUED", "RESIZING", "SIGNALING"}


def _task_ids(field: str) -> list[str]:
    """ArrayTaskId values: "3", "3-9", "3-9%2", "1,4,6-7"."""
    ids = []
    for part in field.split("%")[0].split(","):
        if "-" in part:
            lo, hi = part.split("-")
            ids += [str(k) for k in range(int(lo), int(hi) + 1)]
        elif part:
            ids.append(part)
    return ids


def job_states(job_id: str) -> dict[str, JobState]:
    """{job id ("123", or "123_4" for a task of array 123): {JobState, Reason, NodeList, ExitCode}}
    for the jobs slurmctld still knows (finished ones for `MinJobAge` seconds), from one
    `scontrol show job` call for a job or a whole array."""
    try:
        out = subprocess.run(
            ["scontrol", "show", "job", "-o", job_id], capture_output=True, text=True, timeout=60
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return {}
    states: dict[str, JobState] = {}
    for line in out.splitlines():
        fields: dict[str, str] = {m[1]: m[2] for m in re.finditer(r"(\w[\w/:]*)=(\S*)", line)}
        if "ArrayTaskId" in fields:
            for task in _task_ids(fields["ArrayTaskId"]):
                states[f"{fields.get('ArrayJobId')}_{task}"] = fields
        elif "JobId" in fields:
            states[fields["JobId"]] = fields
    return states


class SlurmExecutor:
    """The runs as one job array; waits for it, with a live count."""

    def __init__(self, options: SlurmOptions | None = None):
        self.options = options or SlurmOptions()

    def _submitit_executor(self, folder: Path, n: int) -> submitit.SlurmExecutor:
        import submitit

        o = self.options
        ex = submitit.SlurmExecutor(folder=folder, max_num_timeout=0)
        params: dict[str, Any] = dict(
            job_name="ntkbench", time=o.time_limit_min, cpus_per_task=o.cpus_per_job, ntasks_per_node=1, nodes=1
        )
        if o.partition:
            params["partition"] = o.partition
        if o.gpus_per_job:
            params["gpus_per_node"] = o.gpus_per_job
        if o.mem_gb:
            params["mem"] = f"{int(o.mem_gb * 1024)}M"
        if o.account:
            params["account"] = o.account
        params["array_parallelism"] = o.max_jobs or n
        ex.update_parameters(**params)
        return ex

    def execute(
        self, steps: list[Step], out_dir: Path, data_dir: Path | None, *, stream: TextIO, bar: tqdm | None = None
    ) -> Iterator[Finished]:
        if not steps:
            return
        out_dir = out_dir.resolve()
        folder = Path(self.options.folder) if self.options.folder else out_dir / ".slurm"
        batches = groups(steps, self.options.runs_per_job)
        ex = self._submitit_executor(folder, len(batches))
        data = None if data_dir is None else str(Path(data_dir).resolve())
        submitted = time.time()
        jobs = ex.map_array(
            job_task,
            [[s.run for s in batch] for batch in batches],
            [str(out_dir)] * len(batches),
            [data] * len(batches),
        )
        array_id = jobs[0].job_id.split("_")[0]  # a single job is submitted as a plain job
        kind = "job array" if "_" in jobs[0].job_id else "job"
        grouped = (
            f", {plural(len(batches), 'job')} of up to {self.options.runs_per_job} runs"
            if len(batches) < len(steps)
            else ""
        )
        print(
            f"submitted {plural(len(steps), 'run')} as Slurm {kind} {array_id}{grouped} (logs: {folder})",
            file=stream,
            flush=True,
        )
        pending: Pending = {job.job_id: (batch, job) for batch, job in zip(batches, jobs)}
        gone_since: dict[str, float] = {}
        done = failed = 0
        last: dict[str, int] | None = None
        try:
            while pending:
                states = job_states(array_id)
                for task, (batch, job) in list(pending.items()):
                    info = states.get(task, {})
                    finished = self._finished(batch, job, info, gone_since, task, submitted)
                    if finished is None:
                        continue
                    del pending[task]
                    for step, (record, seconds, lines) in zip(batch, finished):
                        done += record["status"] == "ok"
                        failed += record["status"] != "ok"
                        print(f"{step.label} (Slurm job {job.job_id}{_on(info)})", file=stream, flush=True)
                        for line in lines:
                            print(f"    {line}", file=stream, flush=True)
                        yield step, record, seconds
                counts = self._counts(pending, states, done, failed)
                if counts != last:
                    print("slurm: " + ", ".join(f"{v} {k}" for k, v in counts.items()), file=stream, flush=True)
                    if bar is not None:
                        bar.set_postfix(counts, refresh=True)
                    last = counts
                if pending:
                    time.sleep(self.options.poll_seconds)
        except BaseException:  # Ctrl-C: the cluster would go on running what nobody waits for
            if pending:
                subprocess.run(["scancel", array_id], capture_output=True, timeout=60)
                print(f"\ncancelled Slurm job array {array_id}", file=stream, flush=True)
            raise

    @staticmethod
    def _counts(pending: Pending, states: dict[str, JobState], done: int, failed: int) -> dict[str, int]:
        """Counts of runs; a grouped job's runs count as running while it runs."""
        waiting = sum(len(batch) for batch, _ in pending.values())
        running = sum(
            len(batch)
            for t, (batch, _) in pending.items()
            if states.get(t, {}).get("JobState") in ("RUNNING", "COMPLETING")
        )
        return {"pending": waiting - running, "running": running, "done": done, "failed": failed}

    def _finished(
        self,
        batch: list[Step],
        job: submitit.Job[JobResult],
        info: JobState,
        gone_since: dict[str, float],
        task: str,
        submitted: float,
    ) -> JobResult | None:
        """[(record, seconds, log lines)] for the job's runs once it has ended, else None."""
        state = info.get("JobState", "")
        if job.paths.result_pickle.exists():
            try:
                return job.result()
            except Exception as e:  # noqa: BLE001 - the job's Python failed outside the runs (an import, the pickle)
                error = f"Slurm job {job.job_id} failed outside the run: {str(e).strip().splitlines()[-1]}"
                return self._failed(batch, error, job, info, submitted)
        if state in ACTIVE:
            return None
        # Not active and no result yet: the result pickle may still be on its way over a network
        # filesystem, so a task that ended COMPLETED, or that slurmctld does not list, gets a grace.
        now = time.monotonic()
        first = gone_since.setdefault(task, now)
        if state in ("", "COMPLETED") and now - first < 30.0:
            return None
        reason = info.get("Reason", "")
        error = (
            f"Slurm job {job.job_id} ended {state or 'without a result (slurmctld no longer lists it)'}"
            + (f" (reason: {reason})" if reason and reason != "None" else "")
            + (f", exit code {info['ExitCode']}" if info.get("ExitCode") not in (None, "0:0") else "")
            + f"; its log: {job.paths.stderr}"
        )
        return self._failed(batch, error, job, info, submitted)

    @staticmethod
    def _failed(
        batch: list[Step], error: str, job: submitit.Job[JobResult], info: JobState, submitted: float
    ) -> JobResult:
        """The job died: its runs that wrote an ok result since it was submitted keep it; the
        others are recorded as failed."""
        slurm = _job_info(job, info)
        return [(record_failure(step, error, since=submitted, slurm=slurm), 0.0, []) for step in batch]


def _on(info: JobState) -> str:
    node = info.get("NodeList") or info.get("BatchHost")
    return f" on {node}" if node and node != "(null)" else ""


def _job_info(job: submitit.Job[JobResult], info: JobState) -> dict[str, str | None]:
    node, state, reason = info.get("NodeList"), info.get("JobState"), info.get("Reason")
    return {"job_id": job.job_id, "node": node, "state": state, "reason": reason}
