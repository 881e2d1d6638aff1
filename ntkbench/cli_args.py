"""The `ntkbench` command line's arguments: every subcommand, flag and check of a flag's value.

`ntkbench.cli` runs what they ask for; `args.command` names the subcommand.
"""

from __future__ import annotations

import argparse
import math
import os
from pathlib import Path

DESCRIPTION = "The ntkbench command line (the commands are in docs/commands.md)."
# The suites ship inside the package (ntkbench/suites; `suites/` at the repository root links to it).
SUITES_DIR = Path(__file__).resolve().parent / "suites"
DEFAULT_SUITE = SUITES_DIR / "quick.toml"


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
    p = argparse.ArgumentParser(prog="ntkbench", description=DESCRIPTION)
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

    s = sub.add_parser("validate", parents=[common], help="check result files and suites")
    s.add_argument(
        "paths", nargs="*", help="result files (.json), folders of them, or suites (.toml); default: results"
    )
    s.add_argument("--rerun", action="store_true", help="re-execute each result's run and compare metrics")

    s = sub.add_parser(
        "upgrade",
        parents=[common],
        help="re-summarise older result files by today's schema (per-seed values untouched)",
    )
    s.add_argument("folder", nargs="?", type=Path, default=Path("results"), help="default: results")

    s = sub.add_parser("compare", parents=[common], help="two methods' results seed by seed: B − A and a paired t-test")
    s.add_argument("a", metavar="A", help="a result file, or a task/dataset/method glob under --results")
    s.add_argument("b", metavar="B", help="the same for the other method")
    s.add_argument("--results", type=Path, default=Path("results"), help="where patterns are resolved")

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

    s = sub.add_parser("data", parents=[common], help="local datasets")
    dsub = s.add_subparsers(dest="data_command", required=True)
    d = dsub.add_parser("list", parents=[common], help="named datasets and where each comes from")
    d = dsub.add_parser("import", parents=[common], help="import a dataset from local files")
    d.add_argument("name", help="the dataset name (see `ntkbench data list`)")
    d.add_argument("--from", dest="source", required=True, type=Path, help="the file or folder to import from")
    return p
