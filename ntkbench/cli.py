"""The `ntkbench` command line: what each subcommand does (its arguments: `ntkbench.cli_args`;
the commands are described in docs/commands.md)."""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import sys
import tempfile
import threading
from pathlib import Path

from ntkbench.cli_args import DEFAULT_SUITE, build_parser
from ntkbench.data import dataset_names, default_data_dir, importer
from ntkbench.engine import compiler
from ntkbench.orchestration import compare, pairs, reproduce, runner, submit, suites, upgrade, validate, verify
from ntkbench.orchestration.interrupts import INTERRUPTED, Interrupts
from ntkbench.orchestration.submissions import SubmissionError, load_submission
from ntkbench.registry import PluginError, all_methods, plugin_load_errors
from ntkbench.results import SCHEMA
from ntkbench.tasks import TASKS, get_task


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


def cmd_upgrade(args) -> int:
    """Older result files in place to today's schema: summaries recomputed from per_seed, the
    derived results made again; exit 1 if the folder is not there."""
    if not args.folder.is_dir():
        print(f"error: {args.folder}: no such folder of result files", file=sys.stderr)
        return 1
    changed = upgrade.upgrade_folder(args.folder)
    for path, metrics in changed:
        print(f"{path}: {len(metrics)} summaries changed" + (f" ({', '.join(metrics[:4])}, ...)" if metrics else ""))
    tasks = sorted({p.relative_to(args.folder).parts[0] for p, _ in changed})
    runner.aggregate(tasks, args.folder)
    print(f"{len(changed)} files upgraded to {SCHEMA}")
    return 0


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


COMMANDS = {
    "list": cmd_list,
    "run": cmd_run,
    "reproduce": cmd_reproduce,
    "leaderboard": cmd_leaderboard,
    "submit": cmd_submit,
    "validate": cmd_validate,
    "upgrade": cmd_upgrade,
    "compare": cmd_compare,
    "verify": cmd_verify,
    "data": cmd_data,
}


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    interrupts = None
    if args.command == "run" and threading.current_thread() is threading.main_thread():
        interrupts = Interrupts()
    try:
        return COMMANDS[args.command](args)
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
