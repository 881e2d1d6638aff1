"""Suite files (TOML) -> the list of runs they define, and the executor they run on.

    name = "quick"
    seeds = 3            # default for every run; `ntkbench run --seeds N` overrides
    root_seed = 0

    [[runs]]
    task = "sample_complexity"
    datasets = ["mnist1d", "mnist1d-shuffled"]
    methods = ["mlp", "cnn"]
    budget = { n = [100, 500, 4000] }          # or a list of tables: several budgets
    [runs.params.cnn]                          # per-method parameters (or a list of tables: a sweep)
    steps = 3000

A run is (task, dataset, method, params, budget, seeds). Every field is checked against the task,
dataset and method registries; errors name the file and the field.

`make_executor` merges `ntkbench run`'s --executor / --jobs / --slurm-* flags with the suites'
`[executor]` tables and picks where the runs execute: this module is orchestration's top floor,
above the executors and the single run (`one_run`).
"""

from __future__ import annotations

import difflib
import fnmatch
import json
import tomllib
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ntkbench.data.registry import check_dataset
from ntkbench.orchestration.executors import InProcess, Workers
from ntkbench.orchestration.one_run import Executor, RunSpec
from ntkbench.orchestration.slurm import SlurmExecutor, SlurmOptions
from ntkbench.registry import PluginError, get_method
from ntkbench.tasks import get_task
from ntkbench.typecheck import ConfigError

SUITE_FIELDS = {"name", "description", "seeds", "root_seed", "runs", "hardware", "executor"}
RUN_FIELDS = {"task", "datasets", "methods", "budget", "params", "seeds", "vmap_seeds", "note"}


class SuiteError(ValueError):
    pass


def _unknown(field_names: Iterable[str], allowed: set[str], where: str) -> None:
    for f in field_names:
        if f not in allowed:
            hint = difflib.get_close_matches(f, sorted(allowed), n=1)
            raise SuiteError(f"{where}.{f}: unknown field" + (f"; did you mean {hint[0]!r}?" if hint else ""))


def _as_list(value: Any, where: str) -> list[str]:
    """A string or a list of strings, as a list."""
    if isinstance(value, str):
        return [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise SuiteError(f"{where}: expected a str or a list of them, got {value!r}")
    return value


def _tables(value: Any, where: str) -> list[dict[str, Any]]:
    if value is None:
        return [{}]
    if isinstance(value, dict):
        return [value]
    if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
        return value
    raise SuiteError(f"{where}: expected a table or a list of tables")


def load_suite(path: str | Path, *, seeds: int | None = None) -> list[RunSpec]:
    path = Path(path)
    where = str(path)
    try:
        doc = tomllib.loads(path.read_text())
    except FileNotFoundError:
        raise SuiteError(f"{where}: no such suite file") from None
    except tomllib.TOMLDecodeError as e:
        raise SuiteError(f"{where}: not valid TOML: {e}") from None
    return expand_suite(doc, where=where, seeds=seeds, name=doc.get("name", path.stem))


def executor_table(path: str | Path) -> dict[str, Any]:
    """The suite's `[executor]` table (options for `--executor slurm`), {} when it has none."""
    doc = tomllib.loads(Path(path).read_text())
    table = doc.get("executor", {})
    if not isinstance(table, dict):
        raise SuiteError(f"{path}: field 'executor' must be a table ([executor])")
    return table


# `ntkbench run --slurm-X` flag -> the `[executor]` field it overrides
SLURM_FLAGS = {
    "slurm_partition": "partition",
    "slurm_time": "time_limit_min",
    "slurm_gpus": "gpus_per_job",
    "slurm_cpus": "cpus_per_job",
    "slurm_mem": "mem_gb",
    "slurm_runs_per_job": "runs_per_job",
    "slurm_account": "account",
}


def make_executor(kind: str, jobs: int, suites: list[str | Path], slurm_flags: dict[str, Any]) -> Executor:
    """The executor `ntkbench run --executor KIND --jobs N [--slurm-* ...]` asks for, with the
    suites' `[executor]` tables under the flags; a bad combination is a SuiteError (exit 2)."""
    if kind == "local":
        if slurm_flags:
            flag = next(f for f, field in SLURM_FLAGS.items() if field in slurm_flags)
            raise SuiteError(f"--{flag.replace('_', '-')} needs --executor slurm")
        return InProcess() if jobs == 1 else Workers(jobs)
    given = [(s, t) for s in suites if (t := executor_table(s))]
    if len({json.dumps(t, sort_keys=True) for _, t in given}) > 1:
        raise SuiteError(f"suites {given[0][0]} and {given[1][0]} have different [executor] tables; run them apart")
    table = {**(given[0][1] if given else {}), **slurm_flags}
    if jobs != 1:
        table["max_jobs"] = jobs
    try:
        return SlurmExecutor(
            SlurmOptions.from_table(table, where=f"{given[0][0]}: executor" if given else "--slurm flags")
        )
    except ConfigError as e:
        raise SuiteError(str(e)) from None


def expand_suite(doc: dict, *, where: str, seeds: int | None = None, name: str = "") -> list[RunSpec]:
    _unknown(doc, SUITE_FIELDS, where)
    default_seeds = doc.get("seeds", 3)
    root_seed = doc.get("root_seed", 0)
    for field, value in (("seeds", default_seeds), ("root_seed", root_seed)):
        if not isinstance(value, int) or isinstance(value, bool) or value < (1 if field == "seeds" else 0):
            kind = "positive" if field == "seeds" else "non-negative"
            raise SuiteError(f"{where}: field {field!r} must be a {kind} integer, got {value!r}")
    if "executor" in doc:  # checked now, whichever executor this invocation uses
        if not isinstance(doc["executor"], dict):
            raise SuiteError(f"{where}: field 'executor' must be a table ([executor])")
        try:
            SlurmOptions.from_table(doc["executor"], where=f"{where}: executor")
        except ConfigError as e:
            raise SuiteError(str(e)) from None
    runs_doc = doc.get("runs")
    if not isinstance(runs_doc, list) or not runs_doc:
        raise SuiteError(f"{where}: field 'runs' must be a non-empty list of [[runs]] tables")
    out: list[RunSpec] = []
    for i, run in enumerate(runs_doc):
        at = f"{where}: runs[{i}]"
        if not isinstance(run, dict):
            raise SuiteError(f"{at}: expected a table")
        _unknown(run, RUN_FIELDS, at)
        for field in ("task", "datasets", "methods"):
            if field not in run:
                raise SuiteError(f"{at}.{field}: missing")
        try:
            task = get_task(run["task"])
        except KeyError as e:
            raise SuiteError(f"{at}.task: {e.args[0]}") from None
        datasets = _as_list(run["datasets"], f"{at}.datasets")
        for d in datasets:
            try:
                check_dataset(d)
            except KeyError as e:
                raise SuiteError(f"{at}.datasets: {e.args[0]}") from None
        methods = _as_list(run["methods"], f"{at}.methods")
        params_doc = run.get("params", {})
        if not isinstance(params_doc, dict):
            raise SuiteError(f"{at}.params: expected a table of per-method tables")
        for m in params_doc:
            if m not in methods:
                raise SuiteError(f"{at}.params.{m}: method {m!r} is not in this run's methods {methods}")
        budgets = []
        for j, b in enumerate(_tables(run.get("budget"), f"{at}.budget")):
            try:
                budgets.append(task.resolve_budget(b))
            except ValueError as e:
                raise SuiteError(f"{at}.budget{f'[{j}]' if isinstance(run.get('budget'), list) else ''}: {e}") from None
        run_seeds = seeds or run.get("seeds", default_seeds)
        if not isinstance(run_seeds, int) or isinstance(run_seeds, bool) or run_seeds < 1:
            raise SuiteError(f"{at}.seeds: must be a positive integer, got {run_seeds!r}")
        vmap_seeds = run.get("vmap_seeds")
        for m in methods:
            try:
                spec = get_method(m, task.name)
            except PluginError as e:
                raise SuiteError(f"{at}.methods: {e}") from None
            for p in _tables(params_doc.get(m), f"{at}.params.{m}"):
                try:
                    params = spec.resolve_params(p)
                except PluginError as e:
                    raise SuiteError(f"{at}.params.{m}: {e}") from None
                for d in datasets:
                    for budget in budgets:
                        out.append(
                            RunSpec(
                                task=task.name,
                                task_version=task.version,
                                dataset=d,
                                method=m,
                                method_version=spec.version,
                                method_origin=spec.origin,
                                params=params,
                                budget=budget,
                                seeds=run_seeds,
                                root_seed=root_seed,
                                vmap_seeds=vmap_seeds,
                                suite=name,
                            )
                        )
    seen = {}
    for r in out:
        if r.config_hash in seen:
            raise SuiteError(f"{where}: run {r.run_id} is listed twice")
        seen[r.config_hash] = r
    return out


def select(runs: list[RunSpec], only: str | None = None, shard: str | None = None) -> list[RunSpec]:
    """Filter by `--only GLOB` (matched against task/dataset/method/hash) and `--shard I/N`.

    Shards are 0-based (I in 0..N-1, as Slurm array ids usually are) and assigned by config hash,
    so the split is deterministic and independent of suite order.
    """
    if only:
        runs = [r for r in runs if fnmatch.fnmatch(r.run_id, only) or fnmatch.fnmatch(r.run_id, f"*{only}*")]
    if shard:
        try:
            i, n = (int(v) for v in shard.split("/"))
            assert n >= 1 and 0 <= i < n
        except (ValueError, AssertionError):
            raise SuiteError(f"--shard {shard!r}: expected I/N with 0 <= I < N") from None
        runs = [r for r in runs if int(r.config_hash, 16) % n == i]
    return runs
