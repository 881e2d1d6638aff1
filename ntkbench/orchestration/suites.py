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
import math
import tomllib
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ntkbench.data.registry import check_dataset, train_size
from ntkbench.orchestration.executors import InProcess, Workers
from ntkbench.orchestration.one_run import Executor, RunSpec
from ntkbench.orchestration.slurm import SlurmExecutor, SlurmOptions
from ntkbench.registry import PluginError, get_method
from ntkbench.tasks import get_task
from ntkbench.typecheck import ConfigError

SUITE_FIELDS = {"name", "description", "seeds", "root_seed", "runs", "hardware", "executor", "time_limit_min"}
RUN_FIELDS = {"task", "datasets", "methods", "budget", "params", "seeds", "vmap_seeds", "note", "time_limit_min"}


def _time_limit(value: Any, where: str) -> float | None:
    """A run's time limit in minutes (a positive, finite number), None where none is given."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
        raise SuiteError(f"{where}: field 'time_limit_min' must be a positive number of minutes, got {value!r}")
    return float(value)


class SuiteError(ValueError):
    pass


# Every seed is a whole run (its keys made one by one, its values listed in the result file, its
# training vmapped beside the others): a thousand seeds of the smallest protocol run are already
# days of device time and a vmapped batch no device holds; more is a typo (and took hours to refuse).
MAX_SEEDS = 1000
# jax.random.key takes the seed as a uint32 without x64 (higher bits are dropped silently, so
# 2**32 would be seed 0 again) and overflows past int64 with it: one range that means one key.
MAX_ROOT_SEED = 2**32 - 1


def _check_int(value: Any, low: int, high: int, what: str) -> None:
    """SuiteError unless `value` is an int (a bool is not) in [low, high]."""
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        kind = "positive" if low == 1 else "non-negative" if low == 0 else f">= {low}"
        raise SuiteError(f"{what} must be a {kind} integer <= {high}, got {value!r}")


def _too_many_examples(task: Any, dataset: str, budget: dict[str, Any]) -> str | None:
    """Why `budget` asks for more training examples than `dataset` has (the task's
    `train_count_fields`), where the dataset's size is known without loading it; else None."""
    size = train_size(dataset)
    if size is None:
        return None  # known only once loaded: the task refuses it then, before it compiles
    typed = task.typed_budget(dataset, budget)
    for field in sorted(task.train_count_fields):
        value = getattr(typed, field, None)
        for n in value if isinstance(value, (list, tuple)) else [value]:
            if isinstance(n, int) and n > size:
                return f"budget field {field!r}: {n} exceeds the {size} training examples of {dataset!r}"
    return None


def _unknown(field_names: Iterable[str], allowed: set[str], where: str) -> None:
    for f in field_names:
        if f not in allowed:
            hint = difflib.get_close_matches(f, sorted(allowed), n=1)
            raise SuiteError(f"{where}: unknown field {f!r}" + (f"; did you mean {hint[0]!r}?" if hint else ""))


def _as_list(value: Any, where: str) -> list[str]:
    """A string or a list of strings, as a list."""
    if isinstance(value, str):
        return [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise SuiteError(f"{where}: expected a str or a list of them, got {value!r}")
    if not value:
        raise SuiteError(f"{where}: the list is empty; name at least one")
    return value


def _tables(value: Any, where: str) -> list[dict[str, Any]]:
    if value is None:
        return [{}]
    if isinstance(value, dict):
        return [value]
    if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
        return value
    raise SuiteError(f"{where}: expected a table or a list of tables")


def _read_toml(path: Path) -> dict[str, Any]:
    """The suite file's TOML document; any unreadable file (missing, a folder, binary, nested
    past the parser's recursion limit, not TOML) is one SuiteError line naming it."""
    where = str(path)
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SuiteError(f"{where}: no such suite file") from None
    except tomllib.TOMLDecodeError as e:
        raise SuiteError(f"{where}: not valid TOML: {e}") from None
    except UnicodeDecodeError as e:
        raise SuiteError(f"{where}: not a text (UTF-8) file: {e.reason} at byte {e.start}") from None
    except RecursionError:
        raise SuiteError(f"{where}: nested too deeply to read") from None
    except (OSError, ValueError) as e:  # a folder, a permission, an integer too long to parse
        raise SuiteError(f"{where}: cannot read: {e}") from None


def load_suite(path: str | Path, *, seeds: int | None = None) -> list[RunSpec]:
    path = Path(path)
    where = str(path)
    doc = _read_toml(path)
    return expand_suite(doc, where=where, seeds=seeds, name=doc.get("name", path.stem))


def executor_table(path: str | Path) -> dict[str, Any]:
    """The suite's `[executor]` table (options for `--executor slurm`), {} when it has none."""
    doc = _read_toml(Path(path))
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
    if kind in ("local", "inline"):
        if slurm_flags:
            flag = next(f for f, field in SLURM_FLAGS.items() if field in slurm_flags)
            raise SuiteError(f"--{flag.replace('_', '-')} needs --executor slurm")
        if kind == "inline" and jobs != 1:
            raise SuiteError("--executor inline runs one run at a time in this process; --jobs needs local")
        return InProcess() if kind == "inline" else Workers(jobs)
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
    _check_int(default_seeds, 1, MAX_SEEDS, f"{where}: field 'seeds'")
    _check_int(root_seed, 0, MAX_ROOT_SEED, f"{where}: field 'root_seed'")
    if "executor" in doc:  # checked now, whichever executor this invocation uses
        if not isinstance(doc["executor"], dict):
            raise SuiteError(f"{where}: field 'executor' must be a table ([executor])")
        try:
            SlurmOptions.from_table(doc["executor"], where=f"{where}: executor")
        except ConfigError as e:
            raise SuiteError(str(e)) from None
    suite_limit = _time_limit(doc.get("time_limit_min"), where)
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
        _check_int(run_seeds, 1, MAX_SEEDS, f"{at}.seeds:")
        vmap_seeds = run.get("vmap_seeds")
        if vmap_seeds is not None and not isinstance(vmap_seeds, bool):
            raise SuiteError(f"{at}.vmap_seeds: must be true or false, got {vmap_seeds!r}")
        for d in datasets:
            for j, budget in enumerate(budgets):
                if problem := _too_many_examples(task, d, budget):
                    raise SuiteError(f"{at}.budget{f'[{j}]' if len(budgets) > 1 else ''}: {problem}")
        run_limit = _time_limit(run.get("time_limit_min"), at)
        time_limit_min = suite_limit if run_limit is None else run_limit
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
                                time_limit_min=time_limit_min,
                            )
                        )
    seen = {}
    for r in out:
        if r.config_hash in seen:
            raise SuiteError(f"{where}: run {r.run_id} is listed twice")
        seen[r.config_hash] = r
    return out


def select(runs: list[RunSpec], only: str | None = None, shard: str | None = None) -> list[RunSpec]:
    """Filter by `--only GLOB` (matched against task/dataset/method/hash) and `--shard I/N`, after
    keeping one of each run (by config hash) listed in several suites: the first one.

    Shards are 0-based (I in 0..N-1, as Slurm array ids usually are) and assigned by config hash,
    so the split is deterministic and independent of suite order.
    """
    first: dict[str, RunSpec] = {}
    for r in runs:  # a run listed in several suites runs once: the first
        first.setdefault(r.config_hash, r)
    runs = list(first.values())
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
