"""One suite executed four ways, measured in one run of this script (ratios printed, nothing asserted):

1. one process, one run after another (`ntkbench run`, the default), cold; then again with
   `--force`, warm (every program in the persistent compile cache the cold run filled).
   Goals (the quick suite, 2 CPU cores): cold ≤ 5 min, warm ≤ 2.5 min; compile share (the runs'
   compile seconds ÷ their wall seconds, from the result files) cold ≤ 25 %, warm ≤ 10 %; peak
   resident memory ≤ 4 GiB;
2. two worker processes (`--jobs 2`): on 2 CPU cores one worker's compile (XLA:CPU compiles on
   one thread) overlaps the other's execution. Goal: jobs 2 ÷ jobs 1 ≤ 0.75;
3. the Slurm cluster this machine submits to (`--executor slurm`, one CPU per job; `.ci/slurm.sh
   start` makes a one-node cluster), one run per job ("slurm") and the runs in two jobs of
   consecutive runs ("slurm grouped", `--slurm-runs-per-job`: two jobs for the two CPUs of the
   one-node cluster). Goal: Slurm ÷ local ≤ 1.3. Skipped, saying why, without one.

Each but the warm one starts cold: an empty persistent compile cache of its own, and a fresh output
folder. Every metric of all four must be identical (printed: the count of runs that differ).

    python benchmarks/scaleout.py [--suite ntkbench/suites/quick.toml] [--only GLOB] [--out DIR]
                                  [--ways "jobs 1,slurm grouped"] [--runs-per-job 11]
"""

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def slurm_missing() -> str | None:
    if shutil.which("sbatch") is None:
        return "no sbatch on this machine"
    info = subprocess.run(["sinfo", "-h", "-o", "%T"], capture_output=True, text=True)
    if info.returncode or not any(s.rstrip("*") in ("idle", "mixed") for s in info.stdout.split()):
        return f"no idle Slurm node (sinfo: {(info.stdout + info.stderr).strip()})"
    return None


def records(out: Path) -> dict:
    found = {}
    for path in sorted(out.rglob("*.json")):
        if path.name.startswith("."):
            continue
        rec = json.loads(path.read_text())
        if not rec.get("derived"):
            found[path.relative_to(out).as_posix()] = rec
    return found


def compile_share(recs: dict) -> float:
    wall = sum(r["provenance"]["wall_seconds"] for r in recs.values())
    return sum(r["provenance"]["compile_seconds"] for r in recs.values()) / wall if wall else float("nan")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--suite", default=str(ROOT / "ntkbench" / "suites" / "quick.toml"))
    p.add_argument("--only", help="a slice of the suite (ntkbench run --only)")
    p.add_argument("--out", type=Path, help="keep the three output folders here (default: a temporary folder)")
    p.add_argument("--ways", help="a comma-separated subset of the ways (default: all; `jobs 1` always runs)")
    p.add_argument(
        "--runs-per-job", type=int, default=11, help="slurm grouped: runs per job (default 11: the quick suite in 2)"
    )
    args = p.parse_args()
    base = args.out or Path(tempfile.mkdtemp(prefix="ntkbench-scaleout-"))
    ways = {
        "jobs 1": ("jobs1", []),
        "warm": ("jobs1", ["--force"]),  # the same output folder and compile cache, rerun
        "jobs 2": ("jobs2", ["--jobs", "2"]),
        "slurm": ("slurm", ["--executor", "slurm"]),
        "slurm grouped": ("slurm-grouped", ["--executor", "slurm", "--slurm-runs-per-job", str(args.runs_per_job)]),
    }
    if args.ways:
        chosen = {"jobs 1", *(w.strip() for w in args.ways.split(","))}
        if unknown := chosen - set(ways):
            p.error(f"unknown ways {sorted(unknown)}; choose from {list(ways)}")
        ways = {k: v for k, v in ways.items() if k in chosen}
    missing = slurm_missing()
    for name in [w for w in ways if w.startswith("slurm") and missing]:
        print(f"{name}: skipped ({missing})")
        del ways[name]
    walls, results = {}, {}
    for name, (folder, flags) in ways.items():
        out, cache = base / folder, base / f"{folder}-compile-cache"
        if name != "warm":
            for f in (out, cache):
                shutil.rmtree(f, ignore_errors=True)
        cmd = [sys.executable, "-m", "ntkbench.cli", "run", args.suite, "--out", str(out), *flags]
        cmd += ["--only", args.only] if args.only else []
        env = {**os.environ, "NTKBENCH_COMPILE_CACHE": str(cache)}
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
        walls[name] = time.perf_counter() - t0
        summary = [line for line in proc.stdout.splitlines() if " ok, " in line and " failed, " in line]
        last = summary[-1] if summary else proc.stderr[-300:]
        results[name] = records(out)
        share = compile_share(results[name])
        print(
            f"{name:13s} {walls[name]:7.1f} s  compile share {share:5.1%}  exit {proc.returncode}  {last}", flush=True
        )
    # ru_maxrss of the children waited for: the largest process (kilobytes on Linux); Slurm's jobs
    # are not our children and are not counted.
    rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 2**20
    print(f"peak resident memory of one process: {rss:.2f} GiB (goal ≤ 4)")
    base_wall = walls["jobs 1"]
    goals = {"warm": 0.5, "jobs 2": 0.75, "slurm": 1.3, "slurm grouped": 1.3}
    for name in walls:
        if name != "jobs 1":
            print(f"{name} ÷ jobs 1: {walls[name] / base_wall:.2f}  (goal ≤ {goals[name]})")
    ref = {k: (r["status"], r["metrics"]) for k, r in results["jobs 1"].items()}
    for name, found in results.items():
        differ = sorted(k for k in ref if (found[k]["status"], found[k]["metrics"]) != ref[k] if k in found)
        differ += sorted(k for k in ref if k not in found)
        print(
            f"{name}: {len(found)} result files, {len(differ)} differ from jobs 1" + (f": {differ}" if differ else "")
        )
    print(f"output folders: {base}")


if __name__ == "__main__":
    main()
