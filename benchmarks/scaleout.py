"""One suite executed three ways, measured in one run of this script (ratios printed, nothing asserted):

1. one process, one run after another (`ntkbench run`, the default);
2. two worker processes (`--jobs 2`): on 2 CPU cores one worker's compile (XLA:CPU compiles on
   one thread) overlaps the other's execution. Goal: jobs 2 ÷ jobs 1 ≤ 0.75;
3. the Slurm cluster this machine submits to (`--executor slurm`, one CPU per job; `.ci/slurm.sh
   start` makes a one-node cluster). Goal: Slurm ÷ local ≤ 1.3. Skipped, saying why, without one.

Each starts cold: an empty persistent compile cache of its own, and a fresh output folder. Every
metric of the three must be identical (printed: the count of runs that differ).

    python benchmarks/scaleout.py [--suite ntkbench/suites/quick.toml] [--only GLOB] [--out DIR]
"""

import argparse
import json
import os
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


def metrics(out: Path) -> dict:
    found = {}
    for path in sorted(out.rglob("*.json")):
        if path.name.startswith("."):
            continue
        rec = json.loads(path.read_text())
        if not rec.get("derived"):
            found[path.relative_to(out).as_posix()] = (rec["status"], rec["metrics"])
    return found


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--suite", default=str(ROOT / "ntkbench" / "suites" / "quick.toml"))
    p.add_argument("--only", help="a slice of the suite (ntkbench run --only)")
    p.add_argument("--out", type=Path, help="keep the three output folders here (default: a temporary folder)")
    args = p.parse_args()
    base = args.out or Path(tempfile.mkdtemp(prefix="ntkbench-scaleout-"))
    ways = {"jobs 1": [], "jobs 2": ["--jobs", "2"], "slurm": ["--executor", "slurm"]}
    missing = slurm_missing()
    if missing:
        print(f"slurm: skipped ({missing})")
        del ways["slurm"]
    walls, results = {}, {}
    for name, flags in ways.items():
        out, cache = base / name.replace(" ", ""), base / (name.replace(" ", "") + "-compile-cache")
        for folder in (out, cache):
            shutil.rmtree(folder, ignore_errors=True)
        cmd = [sys.executable, "-m", "ntkbench.cli", "run", args.suite, "--out", str(out), *flags]
        cmd += ["--only", args.only] if args.only else []
        env = {**os.environ, "NTKBENCH_COMPILE_CACHE": str(cache)}
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
        walls[name] = time.perf_counter() - t0
        summary = [line for line in proc.stdout.splitlines() if line.startswith(("1 run", *map(str, range(1, 10))))]
        print(
            f"{name:7s} {walls[name]:7.1f} s  exit {proc.returncode}  {summary[-1] if summary else proc.stderr[-300:]}"
        )
        results[name] = metrics(out)
    base_wall = walls["jobs 1"]
    for name in walls:
        if name != "jobs 1":
            goal = {"jobs 2": 0.75, "slurm": 1.3}[name]
            print(f"{name} ÷ jobs 1: {walls[name] / base_wall:.2f}  (goal ≤ {goal})")
    ref = results["jobs 1"]
    for name, found in results.items():
        differ = sorted(k for k in ref if found.get(k) != ref[k])
        print(
            f"{name}: {len(found)} result files, {len(differ)} differ from jobs 1" + (f": {differ}" if differ else "")
        )
    print(f"output folders: {base}")


if __name__ == "__main__":
    main()
