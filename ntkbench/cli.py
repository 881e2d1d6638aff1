"""The `ntkbench` command line (the commands listed in README.md)."""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import os
import shutil
import sys
import tempfile
import threading
from pathlib import Path

from ntkbench.data import dataset_names, default_data_dir, importer
from ntkbench.engine import compiler
from ntkbench.orchestration import compare, pairs, reproduce, runner, submit, suites, validate, verify
from ntkbench.orchestration.interrupts import INTERRUPTED, Interrupts
from ntkbench.orchestration.submissions import SubmissionError, load_submission
from ntkbench.registry import PluginError, all_methods, plugin_load_errors
from ntkbench.tasks import TASKS, get_task

# The suites ship inside the package (ntkbench/suites; `suites/` at the repository root links to it).
SUITES_DIR = Path(__file__).resolve().parent / "suites"
DEFAULT_SUITE = SUITES_DIR / "quick.toml"


class UsageError(Exception):
    """A command-line argument that is wrong before anything runs (exit 2)."""


def _data_dir(args) -> Path:
    given = getattr(args, "data_dir", None) or os.environ.get("NTKBENCH_DATA_DIR")
    return Path(given) if given else default_data_dir()


def check_suite_paths(paths) -> None:
    for p in paths:
        p = Path(p)
        if p.is_dir():
            raise UsageError(f"suite {p} is a folder; name a suite file (.toml) in it")
        if not p.is_file():
            raise UsageError(f"suite {p}: no such file")


def check_out_dir(out) -> None:
    """--out must be a folder (or not exist yet, under a folder) that we may write: a temporary
    file is created and deleted there (in its closest existing ancestor when it does not exist)."""
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {out} is a file, not a folder")
    probe = out
    while not probe.exists():
        if probe.parent == probe:
            break
        probe = probe.parent
    if not probe.is_dir():
        raise UsageError(f"--out {out}: {probe} is a file, not a folder")
    try:
        with tempfile.TemporaryFile(dir=probe, prefix=".ntkbench-write-test"):
            pass
    except OSError as e:
        raise UsageError(f"--out {out}: cannot write to {probe} ({e.strerror or e})") from None


def cmd_list(args) -> int:
    if args.task:
        return list_task(args.task)
    methods = all_methods()
    info: dict[str, list] = {
        "tasks": [
            {
                "name": t.name,
                "version": t.version,
                "budget": t.budget_defaults,
                "summary": t.protocol.split("\n")[0],
                "metrics": [dataclasses.asdict(m) for m in t.metrics],
            }
            for t in TASKS.values()
        ],
        "datasets": [{"name": n, "description": d} for n, d in dataset_names()],
        "methods": [
            {
                "name": m.name,
                "task": m.task,
                "version": m.version,
                "origin": m.origin,
                "module": m.module,
                "vmappable": m.vmappable,
                "params": m.params,
                "description": m.description,
            }
            for m in methods
        ],
        "plugin_errors": plugin_load_errors(),
    }
    if args.json:
        print(json.dumps(info, indent=1, default=str))
        return 0
    print("Tasks:")
    print(_columns([[t["name"], f"(v{t['version']})", t["summary"]] for t in info["tasks"]]))
    print("Datasets:")
    print(_columns([[d["name"], d["description"]] for d in info["datasets"]]))
    print("Methods:")
    rows = [
        [m["name"], m["task"], f"v{m['version']}", f"from {m['origin']}", m["description"]] for m in info["methods"]
    ]
    print(_columns(rows))
    for e in info["plugin_errors"]:
        print(f"warning: {e}", file=sys.stderr)
    return 0


def _columns(rows: list[list[str]], indent: str = "  ") -> str:
    """Rows aligned in columns as wide as their widest cell (the last column is not padded)."""
    if not rows:
        return ""
    n = max(len(r) for r in rows)
    widths = [max(len(str(r[c])) for r in rows if c < len(r)) for c in range(n)]
    out = []
    for r in rows:
        cells = [str(v).ljust(widths[c]) if c < len(r) - 1 else str(v) for c, v in enumerate(r)]
        out.append((indent + " ".join(cells)).rstrip())
    return "\n".join(out)


def list_task(name: str) -> int:
    """One task in full: its protocol, its budget fields (type and default) and its metrics."""
    try:
        task = get_task(name)
    except KeyError as e:
        print(f"error: {e.args[0]}", file=sys.stderr)
        return 2
    print(f"{task.name} (version {task.version})\n\n{task.protocol}\n\nBudget ({task.Budget.__module__}.Budget):")
    for f in dataclasses.fields(task.Budget):
        kind = getattr(f.type, "__name__", None) or str(f.type)
        print(f"  {f.name:<20} {kind:<40} default {task.budget_defaults[f.name]!r}")
    print("Metrics:")
    for m in task.metrics:
        better = {True: "higher is better", False: "lower is better", None: ""}[m.higher_is_better]
        print(f"  {m.name:<28} {m.unit:<9} {better:<17}{' headline' if m.headline else ''}  {m.description}")
    print("Methods: " + ", ".join(f"{m.name} ({m.origin})" for m in all_methods() if m.task == task.name))
    return 0


def _warn_plugin_problems() -> None:
    for e in plugin_load_errors():
        print(f"warning: {e}", file=sys.stderr)


def cmd_run(args) -> int:
    suite_paths = args.suites or [DEFAULT_SUITE]
    check_suite_paths(suite_paths)
    check_out_dir(args.out)
    if args.reference is not None and Path(args.reference).exists() and not Path(args.reference).is_dir():
        raise UsageError(f"--reference {args.reference} is a file, not a folder")
    _warn_plugin_problems()
    runs = []
    for s in suite_paths:
        runs += suites.load_suite(s, seeds=args.seeds)
    runs = suites.select(runs, args.only, args.shard)
    if args.time_limit is not None:
        runs = [dataclasses.replace(r, time_limit_min=args.time_limit) for r in runs]
    slurm_flags = {
        field: getattr(args, flag) for flag, field in suites.SLURM_FLAGS.items() if getattr(args, flag) is not None
    }
    executor = suites.make_executor(args.executor, args.jobs, suite_paths, slurm_flags)  # checked before anything runs
    if not runs:
        print("no runs selected", file=sys.stderr)
        return 1
    compiler.configure()  # compiled programs persist across runs ($NTKBENCH_COMPILE_CACHE=0: off)
    outcomes = runner.execute(runs, args.out, executor, data_dir=_data_dir(args), force=args.force)
    print()
    print(runner.summary_table(outcomes))
    if args.reference is not None:
        if Path(args.reference).resolve() == Path(args.out).resolve():
            print(f"note: --reference {args.reference} is the output folder itself; nothing to compare")
        elif Path(args.reference).is_dir():
            print()
            compare.compare_dirs(Path(args.out), Path(args.reference))
        else:
            print(f"note: no reference results in {args.reference}")
    return 1 if any(o.status == "failed" for o in outcomes) else 0


def cmd_validate(args) -> int:
    """Exit 0: all valid; 2: a suite's configuration is refused (as `run` would refuse it);
    1: a result file is invalid."""
    _warn_plugin_problems()
    suite_errors: list[str] = []
    errors = validate.validate_paths(
        args.paths or ["results"], rerun=args.rerun, data_dir=_data_dir(args), suite_errors=suite_errors
    )
    for e in suite_errors + errors:
        print(e, file=sys.stderr)
    if not errors and not suite_errors:
        print("ok")
    return 2 if suite_errors else 1 if errors else 0


def cmd_leaderboard(args) -> int:
    results = args.results or [Path("results")]
    for folder in results:
        if not Path(folder).is_dir():
            raise UsageError(f"--results {folder}: no such folder")
    if args.diff:
        return leaderboard_diff(results, args.diff, rank_reduced=args.rank_reduced, discover=not args.no_submissions)
    check_out_dir(args.out)
    # lazy: the leaderboard imports matplotlib, pandas and jinja2 (~0.7 s), which no other command needs
    from ntkbench.leaderboard import build_site

    index = build_site(results, args.out, rank_reduced=args.rank_reduced, submissions=not args.no_submissions)
    print(f"wrote {index}")
    return 0


def cmd_submit(args) -> int:
    """Exit 0: the folder written and the pull request's text printed; 2: refused (one line naming
    the file and field), nothing written."""
    check_suite_paths(args.suites)
    _warn_plugin_problems()
    about = submit.About(args.author or [], args.contact or "", args.paper or "", args.description or "")
    try:
        prepared = submit.prepare(
            args.suites,
            package=args.package,
            name=args.name,
            results_dir=args.results,
            about=about,
            allow_local=args.allow_local_package,
        )
        folder = submit.write_submission(prepared, args.out_dir)
    except SubmissionError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    try:  # the folder as CI will first read it
        load_submission(folder, allow_local=args.allow_local_package)
    except SubmissionError as e:
        shutil.rmtree(folder)
        print(f"error: {e}", file=sys.stderr)
        return 2
    from ntkbench.leaderboard.diff import submission_report

    print(f"wrote {folder}; open a pull request that adds it, with this text:\n")
    print(submit.pull_request_text(prepared, folder))
    print(submission_report([Path("results")], folder, {run.config_hash for run, _ in prepared.runs}), end="")
    return 0


def leaderboard_diff(results: list[Path], base: list[Path], *, rank_reduced: bool, discover: bool) -> int:
    """`leaderboard --diff BASE`: the Markdown report of what `results` changes on the board of
    `base`, printed and appended to $GITHUB_STEP_SUMMARY when set."""
    for folder in base:
        if not Path(folder).is_dir():
            raise UsageError(f"--diff {folder}: no such folder")
    from ntkbench.leaderboard.diff import diff_report, write_step_summary

    report = diff_report(results, base, rank_reduced=rank_reduced, discover=discover)
    print(report, end="")
    write_step_summary(report)
    return 0


def cmd_compare(args) -> int:
    """Exit 0: the comparison printed; 2: a file or pattern that does not resolve, or two results
    that are not comparable (one line naming the field that differs)."""
    status, lines = pairs.compare_main(args.a, args.b, args.results)
    for line in lines:
        print(f"error: {line}" if status else line, file=sys.stderr if status else sys.stdout)
    return status


def cmd_reproduce(args) -> int:
    return reproduce.main(args, data_dir=_data_dir(args))


def cmd_verify(args) -> int:
    """Exit 0: every re-run verified; 1: a mismatch; 2: a submission that cannot be read or
    installed, or whose code is not the code of its results."""
    if (args.folder is None) == (args.reference is None):
        raise UsageError("name a submission folder, or --reference RESULTS (not both)")
    try:
        if args.reference is not None:
            if not args.reference.is_dir():
                raise UsageError(f"--reference {args.reference}: no such folder")
            return verify.verify_reference(
                args.reference, DEFAULT_SUITE, budget_minutes=args.budget_minutes or 3.0, data_dir=_data_dir(args)
            )
        return verify.verify_submission(
            args.folder,
            budget_minutes=args.budget_minutes or 30.0,
            take_all=args.all,
            executor=args.executor,
            allow_local=args.allow_local_package,
            data_dir=_data_dir(args),
        )
    except (SubmissionError, verify.VerifyRefused) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2


def cmd_data(args) -> int:
    data_dir = _data_dir(args)
    if args.data_command == "list":
        rows = [["name", "status", "source", "fingerprint"]]
        rows += [[str(r.get(k) or "-") for k in rows[0]] for r in importer.list_available(data_dir)]
        widths = [max(len(r[i]) for r in rows) for i in range(3)]
        for r in rows:
            print("  ".join(v.ljust(w) for v, w in zip(r, widths)) + "  " + r[3])
        print(f"data dir: {data_dir}")
        return 0
    try:
        path = importer.import_dataset(args.name, args.source, data_dir)
    except importer.DataImportError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    print(f"imported {args.name} into {path}")
    return 0


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value}")
    return value


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}") from None
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text}")
    return value


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("ntkbench")
    except PackageNotFoundError:
        return "unknown (not installed)"


def build_parser() -> argparse.ArgumentParser:
    data_help = "datasets directory (default: $NTKBENCH_DATA_DIR, else ~/.cache/ntkbench)"
    p = argparse.ArgumentParser(prog="ntkbench", description=__doc__)
    p.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    p.add_argument("--data-dir", default=os.environ.get("NTKBENCH_DATA_DIR"), help=data_help)
    # The subcommands accept --data-dir too; SUPPRESS: given there it wins, not given it leaves
    # the top-level value alone (a default here would overwrite `ntkbench --data-dir X cmd`).
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--data-dir", default=argparse.SUPPRESS, help=data_help)
    sub = p.add_subparsers(dest="command", required=True)

    s = sub.add_parser("list", parents=[common], help="tasks, datasets and methods; `list TASK`: one task in full")
    s.add_argument("task", nargs="?", help="show this task's protocol, budget fields and metrics")
    s.add_argument("--json", action="store_true", help="print everything as JSON")
    s.set_defaults(fn=cmd_list)

    s = sub.add_parser("run", parents=[common], help="run suites (default: the bundled quick suite)")
    s.add_argument("suites", nargs="*", type=Path, help=f"suite files (.toml; default: {DEFAULT_SUITE})")
    s.add_argument("--only", help="glob over task/dataset/method/hash")
    s.add_argument("--seeds", type=_positive_int, help="override the number of seeds")
    s.add_argument("--out", type=Path, default=Path("results"), help="folder of result files (default: results)")
    s.add_argument("--force", action="store_true", help="rerun runs whose result file exists (ok or failed)")
    s.add_argument(
        "--reference",
        type=Path,
        help="after the runs, compare them with the result files in this folder "
        "(same path = same configuration): identical / within tolerance / differs",
    )
    s.add_argument("--shard", help="I/N: run the I-th of N deterministic shards (0-based)")
    s.add_argument(
        "--jobs",
        type=_positive_int,
        default=1,
        help="runs at once: N worker processes (one per GPU when there are several); "
        "with --executor slurm, at most N jobs at once (default 1)",
    )
    s.add_argument(
        "--executor",
        choices=("local", "slurm", "inline"),
        default="local",
        help="local (default): worker processes on this machine, so a plugin that exits, crashes or "
        "hangs fails its own run alone; slurm: a Slurm job array through submitit, options from the "
        "suite's [executor] table and the --slurm-* flags; inline: in this process (for a debugger; "
        "no isolation, no time limit)",
    )
    s.add_argument(
        "--time-limit",
        type=_positive_float,
        metavar="MIN",
        help="minutes a run may take before its worker is stopped and the run fails (default: the "
        "suite's time_limit_min, else 120)",
    )
    g = s.add_argument_group("Slurm (with --executor slurm; each overrides the suite's [executor] field)")
    g.add_argument("--slurm-partition", help="partition (executor.partition)")
    g.add_argument("--slurm-time", type=_positive_int, metavar="MIN", help="time limit per job, minutes")
    g.add_argument("--slurm-gpus", type=int, metavar="N", help="GPUs per job")
    g.add_argument("--slurm-cpus", type=_positive_int, metavar="N", help="CPUs per job")
    g.add_argument("--slurm-mem", type=float, metavar="GB", help="memory per job, GB")
    g.add_argument("--slurm-runs-per-job", type=_positive_int, metavar="N", help="runs in one job (default 1)")
    g.add_argument("--slurm-account", help="account to charge")
    s.set_defaults(fn=cmd_run)

    s = sub.add_parser(
        "reproduce", parents=[common], help="published numbers vs measured; claims tested on the results"
    )
    s.add_argument("names", nargs="*", help="published results to reproduce (default: all; see --list)")
    s.add_argument("--list", action="store_true", help="list the published results that can be reproduced")
    s.add_argument(
        "--claims", action="store_true", help="test every claim on the result files in --out (a verdict each)"
    )
    s.add_argument("--out", type=Path, default=Path("results"), help="folder of result files (default: results)")
    s.add_argument("--force", action="store_true", help="rerun runs whose result file exists")
    s.set_defaults(fn=cmd_reproduce)

    s = sub.add_parser("leaderboard", parents=[common], help="build the static site from result files")
    s.add_argument(
        "--results",
        type=Path,
        action="append",
        help="folder of result files, repeatable (default: results); also reads submissions/*/results beside the first",
    )
    s.add_argument("--no-submissions", action="store_true", help="read only the --results folders given")
    s.add_argument("--out", type=Path, default=Path("leaderboard"), help="folder of the site (default: leaderboard)")
    s.add_argument("--rank-reduced", action="store_true", help="rank reduced-budget runs with the full-protocol ones")
    s.add_argument(
        "--diff",
        type=Path,
        action="append",
        metavar="BASE_DIR",
        help="instead of the site: a Markdown report of what --results changes on the board of BASE_DIR "
        "(repeatable; also appended to $GITHUB_STEP_SUMMARY)",
    )
    s.set_defaults(fn=cmd_leaderboard)

    s = sub.add_parser(
        "submit", parents=[common], help="check your results as CI will and write submissions/NAME for a pull request"
    )
    s.add_argument("suites", nargs="+", type=Path, help="the suite files (.toml) you ran")
    s.add_argument("--package", required=True, help="pinned pip requirement: pkg==1.2.0 or pkg @ git+URL@<commit>")
    s.add_argument("--name", required=True, help="the submission's name: lower case, digits, '-'")
    s.add_argument("--results", type=Path, default=Path("results"), help="where the runs wrote (default: results)")
    s.add_argument("--out-dir", type=Path, default=Path("submissions"), help="default: submissions")
    s.add_argument("--author", action="append", help="an author (repeatable; at least one)")
    s.add_argument("--contact", help="an e-mail address or page (required)")
    s.add_argument("--paper", default="", help="a link to the paper (optional)")
    s.add_argument("--description", help="one paragraph on the method (required)")
    s.add_argument("--allow-local-package", action="store_true", help=argparse.SUPPRESS)  # tests only
    s.set_defaults(fn=cmd_submit)

    s = sub.add_parser("validate", parents=[common], help="check result files and suites")
    s.add_argument(
        "paths", nargs="*", help="result files (.json), folders of them, or suites (.toml); default: results"
    )
    s.add_argument("--rerun", action="store_true", help="re-execute each result's run and compare metrics")
    s.set_defaults(fn=cmd_validate)

    s = sub.add_parser("compare", parents=[common], help="two methods' results seed by seed: B − A and a paired t-test")
    s.add_argument("a", metavar="A", help="a result file, or a task/dataset/method glob under --results")
    s.add_argument("b", metavar="B", help="the same for the other method")
    s.add_argument("--results", type=Path, default=Path("results"), help="where patterns are resolved")
    s.set_defaults(fn=cmd_compare)

    s = sub.add_parser("verify", parents=[common], help="re-run a sample of a submission's runs and compare")
    s.add_argument("folder", nargs="?", type=Path, help="submissions/NAME")
    s.add_argument(
        "--reference",
        type=Path,
        help="instead: re-run a sample of these committed reference results of the quick suite (default budget 3 min)",
    )
    s.add_argument("--budget-minutes", type=_positive_float, help="estimated re-run time to sample (default 30)")
    s.add_argument("--all", action="store_true", help="re-run every run, whatever the budget")
    s.add_argument("--executor", choices=("local", "slurm"), default="local", help="where the re-runs execute")
    s.add_argument(
        "--allow-local-package", action="store_true", help="accept a local path or file:// requirement (tests)"
    )
    s.set_defaults(fn=cmd_verify)

    s = sub.add_parser("data", parents=[common], help="local datasets")
    dsub = s.add_subparsers(dest="data_command", required=True)
    d = dsub.add_parser("list", parents=[common], help="named datasets and where each comes from")
    d.set_defaults(fn=cmd_data)
    d = dsub.add_parser("import", parents=[common], help="import a dataset from local files")
    d.add_argument("name", help="the dataset name (see `ntkbench data list`)")
    d.add_argument("--from", dest="source", required=True, type=Path, help="the file or folder to import from")
    d.set_defaults(fn=cmd_data)
    return p


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    interrupts = None
    if args.fn is cmd_run and threading.current_thread() is threading.main_thread():
        interrupts = Interrupts()
    try:
        return args.fn(args)
    except (suites.SuiteError, PluginError, UsageError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"\n{INTERRUPTED}", file=sys.stderr)
        return 130
    finally:
        if interrupts is not None:
            interrupts.close()


if __name__ == "__main__":
    sys.exit(main())
