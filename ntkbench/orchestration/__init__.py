"""Orchestration: suites -> runs -> result files, above the tasks and the engine.

Its modules import one another in floors, never in a loop (an import-linter contract):

- `one_run`: one run through its task and its result file written (`execute_one`,
  `run_to_file`, `record_failure`, `work`, the entry of a worker process or a Slurm job);
- `executors` (this process, `--jobs N` worker processes), `slurm` (`--executor slurm`) and
  `runner` (`execute`: skip finished runs, hand the rest to an executor, report, aggregate),
  each importing only `one_run`;
- `suites`: a suite file -> its runs, and the executor `ntkbench run`'s flags and the suites'
  `[executor]` tables pick;
- `validate` checks suites and result files, `reproduce` runs the protocols of published numbers;
  `compare` and `pairs` read result files only; `interrupts` (Ctrl-C) waits for a result file
  being written (`one_run.WRITE_LOCK`).

Nothing below this package (engine, tasks, data, kernels) imports it.
"""
