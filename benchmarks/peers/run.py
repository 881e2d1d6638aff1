"""`make bench-peers`: every peer comparison script in this folder, one process each, in turn.

Each script runs ntkbench and its peer in ONE process (same machine, same data, interleaved) and
prints lines starting with `_common.PREFIX`; this runner passes each script's output through and
ends with one summary line per comparison: work, peer time, ntkbench time, ratio, the numbers
side by side. Nothing is asserted (the machine may be shared: each line carries the load).

    .venv-peers/bin/python benchmarks/peers/run.py [--only avalanche] [--json results.jsonl]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

from _common import PREFIX, machine

HERE = Path(__file__).resolve().parent
NOISE = ("I0000", "W0000", "WARNING: All log messages", "oneDNN", "cuda_", "cudart", "To enable the following")


def scripts(only: str | None) -> list[Path]:
    found = sorted(p for p in HERE.glob("*.py") if p.name != "run.py" and not p.name.startswith("_"))
    return [p for p in found if only is None or only in p.stem]


def run_one(script: Path) -> tuple[int, list[str]]:
    """Run a script, echo its output (less TensorFlow/XLA start-up noise), return its summary lines."""
    lines = []
    proc = subprocess.Popen(
        [sys.executable, str(script)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=HERE
    )
    assert proc.stdout is not None
    for line in proc.stdout:
        if line.startswith(PREFIX):
            lines.append(line[len(PREFIX) :].rstrip("\n"))
        elif not line.startswith(NOISE):
            print(f"  {line}", end="", flush=True)
    return proc.wait(), lines


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--only", help="run only the scripts whose name contains this")
    ap.add_argument("--json", type=Path, help="also append each comparison's JSON line to this file")
    args = ap.parse_args()
    print(f"machine: {machine()}")
    summary, failed = [], []
    for script in scripts(args.only):
        print(f"== {script.name}", flush=True)
        rc, lines = run_one(script)
        if rc != 0:
            failed.append(f"{script.name} (exit {rc})")
        summary += [(script.stem, line) for line in lines]
    print("\n== peer comparisons (peer time ÷ ntkbench time; > 1: ntkbench faster)")
    for stem, line in summary:
        if line.startswith("JSON "):
            if args.json:
                with args.json.open("a") as f:
                    f.write(line[len("JSON ") :] + "\n")
            continue
        print(f"{stem}: {line}")
    if failed:
        print("failed:", ", ".join(failed))
        sys.exit(1)


if __name__ == "__main__":
    main()
