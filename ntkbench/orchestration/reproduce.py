"""`ntkbench reproduce`: published numbers vs what this protocol measures.

`--claims` tests each task's claims instead (`orchestration/claims.py`); `--list` shows their
verdicts beside the published numbers.

The registry is the union of each task's `published` numbers (`Task.published`). An entry names the task,
dataset, method, params, budget and metric of a published number, its value, source, tolerance
(absolute, in the metric's unit) and the hardware it needs. A number published as an interval (robust
accuracy between a certified lower and an attacked upper bound) gives `bounds: [lo, hi]` and value
None: reproduced when the measured value lies in [lo - tolerance, hi + tolerance]. `reproduce NAME`
runs that protocol through the ordinary engine (an existing result file is reused unless --force), compares, and
stores the verdict in the result file (`reproduce` field, outside the config hash), where the
leaderboard shows it beside the row.
"""

from __future__ import annotations

import argparse
import fnmatch
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

from ntkbench.orchestration import claims
from ntkbench.orchestration.executors import InProcess
from ntkbench.orchestration.one_run import Record, RunSpec
from ntkbench.orchestration.runner import execute
from ntkbench.orchestration.suites import expand_suite
from ntkbench.registry import Registry, did_you_mean
from ntkbench.results import read_result, result_path, write_json_atomic
from ntkbench.tasks import all_tasks

Entry = dict[str, Any]  # one published number (ENTRY_FIELDS, and seeds)

ENTRY_FIELDS = (
    "name",
    "task",
    "dataset",
    "method",
    "params",
    "budget",
    "metric",
    "value",
    "tolerance",
    "source",
    "hardware",
)


def registry() -> list[Entry]:
    """Every task's published numbers, by name (a name used twice is an error naming both tasks)."""
    numbers: Registry[str, Entry] = Registry("published number", error=ValueError)
    for task in all_tasks():
        for e in task.published:
            missing = [f for f in ENTRY_FIELDS if f not in e]
            if missing:
                raise ValueError(f"task {task.name!r}: published entry {e.get('name')!r} lacks {missing}")
            _check_bounds(task.name, e)
            numbers.add(e["name"], {"seeds": 1, **e}, describe=lambda e: f"task {e['task']!r} ({e['source']})")
    return numbers.values()


def _check_bounds(task: str, e: Entry) -> None:
    """A published interval is two numbers lo <= hi, and then no point value (value None)."""
    bounds = e.get("bounds")
    if bounds is None:
        return
    ok = (
        isinstance(bounds, (list, tuple))
        and len(bounds) == 2
        and all(isinstance(b, (int, float)) and not isinstance(b, bool) for b in bounds)
        and bounds[0] <= bounds[1]
    )
    if not ok or e["value"] is not None:
        raise ValueError(
            f"task {task!r}: published entry {e.get('name')!r}: 'bounds' must be [lo, hi] with lo <= hi and "
            f"'value' None, got bounds {bounds!r}, value {e['value']!r}"
        )


def published_text(entry: Entry) -> str:
    """The published number as the listing shows it: "= 90.3" or "in [8.2, 57.2]"."""
    bounds = entry.get("bounds")
    return f"= {entry['value']}" if bounds is None else f"in [{bounds[0]}, {bounds[1]}]"


def run_spec(entry: Entry) -> RunSpec:
    (run,) = expand_suite(
        {
            "seeds": entry["seeds"],
            "runs": [
                {
                    "task": entry["task"],
                    "datasets": entry["dataset"],
                    "methods": entry["method"],
                    "budget": entry["budget"],
                    "params": {entry["method"]: entry["params"]},
                }
            ],
        },
        where=f"published entry {entry['name']!r}",
        name=f"reproduce:{entry['name']}",
    )
    return run


_EDGE = 1e-9  # a value exactly at an edge is inside, whatever the rounding of 8.2 - 3.2 (4.999999999999999)


def verdict(entry: Entry, record: Record) -> dict[str, Any]:
    """Reproduced when |measured - value| <= tolerance, or for `bounds` [lo, hi] when
    lo - tolerance <= measured <= hi + tolerance (the mean over the run's seeds)."""
    measured = (record.get("metrics", {}).get(entry["metric"]) or {}).get("mean")
    tol, bounds = entry["tolerance"], entry.get("bounds")
    if measured is None:
        ok = False
    elif bounds is None:
        ok = abs(measured - entry["value"]) <= tol + _EDGE
    else:
        ok = bounds[0] - tol - _EDGE <= measured <= bounds[1] + tol + _EDGE
    result = {
        "name": entry["name"],
        "metric": entry["metric"],
        "published": entry["value"],
        "measured": measured,
        "tolerance": tol,
        "source": entry["source"],
        "verdict": "reproduced" if ok else ("not reproduced" if measured is not None else "failed"),
    }
    if bounds is not None:
        result["bounds"] = list(bounds)
    return result


def attach(path: Path, result: dict[str, Any]) -> Record:
    """Add (or replace) one verdict in a result file, atomically."""
    record = read_result(path)
    entries = [e for e in record.get("reproduce", []) if e.get("name") != result["name"]] + [result]
    record["reproduce"] = entries
    write_json_atomic(path, record)
    return record


def status(entry: Entry, out_dir: Path) -> str:
    """Where an entry stands in `out_dir`: "reproduced: measured 68.31", "not reproduced:
    measured 61.20", "failed: <error>", or "not run" — recomputed from the result file of exactly
    the entry's protocol (never from a stored verdict)."""
    try:
        run = run_spec(entry)
    except Exception as e:  # a method or dataset this machine lacks
        return f"not runnable here: {str(e).splitlines()[0]}"
    path = result_path(out_dir, run.task, run.dataset, run.method, run.config_hash)
    try:
        record = read_result(path)
    except (OSError, ValueError):
        return "not run"
    if record.get("status") != "ok":
        return f"failed: {str(record.get('error') or '')[:120]}"
    result = verdict(entry, record)
    measured = "-" if result["measured"] is None else f"{result['measured']:.2f}"
    return f"{result['verdict']}: measured {measured}"


def print_registry(entries: Sequence[Entry], stream: TextIO | None = None, out_dir: Path | None = None) -> None:
    stream = sys.stdout if stream is None else stream  # the current stdout, not the one at import
    counts: dict[str, int] = {}
    for e in entries:
        where = f"\n    status ({out_dir}): {status(e, out_dir)}" if out_dir is not None else ""
        if out_dir is not None:
            kind = status(e, out_dir).split(":")[0]
            counts[kind] = counts.get(kind, 0) + 1
        print(
            f"{e['name']}\n    {e['task']}/{e['dataset']}/{e['method']}  {e['metric']} {published_text(e)} "
            f"± {e['tolerance']}\n    source: {e['source']}\n    protocol: params {e['params']}, budget {e['budget']}, "
            f"{e['seeds']} seed(s)\n    hardware: {e['hardware']}{where}",
            file=stream,
        )
    if counts:
        print(
            f"\n{len(entries)} published numbers: " + ", ".join(f"{v} {k}" for k, v in sorted(counts.items())),
            file=stream,
        )


def print_claim_statuses(results: Sequence[claims.ClaimResult], stream: TextIO | None = None) -> None:
    """The claims beside the published numbers: name, task/dataset, verdict (and why)."""
    stream = sys.stdout if stream is None else stream
    counts: dict[str, int] = {}
    for r in results:
        counts[r.verdict] = counts.get(r.verdict, 0) + 1
        why = f" ({r.reason})" if r.reason else ""
        print(f"{r.claim.name}\n    {r.claim.task}/{r.claim.dataset}  status: {r.verdict}{why}", file=stream)
    print(f"\n{len(results)} claims: " + ", ".join(f"{v} {k}" for k, v in sorted(counts.items())), file=stream)


def main(args: argparse.Namespace, data_dir: Path | None = None) -> int:
    entries = registry()
    if getattr(args, "claims", False):  # verdicts are findings, not failures: exit 0
        claims.print_claims(claims.evaluate_claims(Path(args.out)))
        return 0
    if args.list or not args.names:
        print_registry(entries, out_dir=Path(args.out))
        print(f"\nClaims, tested on {args.out} (`ntkbench reproduce --claims` for the statistics):")
        print_claim_statuses(claims.evaluate_claims(Path(args.out)))
        return 0
    chosen = [e for e in entries if any(fnmatch.fnmatch(e["name"], pat) for pat in args.names)]
    unknown = [p for p in args.names if not any(fnmatch.fnmatch(e["name"], p) for e in entries)]
    if unknown:
        hint = did_you_mean(unknown[0], [e["name"] for e in entries], list_known=False)
        print(f"error: no published entry {unknown[0]!r}{hint}", file=sys.stderr)
        return 2
    rows, failed = [], False
    for entry in chosen:
        (outcome,) = execute([run_spec(entry)], args.out, InProcess(), data_dir=data_dir, force=args.force)
        record = read_result(outcome.path)
        result = verdict(entry, record)
        attach(outcome.path, result)
        failed |= result["verdict"] != "reproduced"
        rows.append(result)
    print()
    for r in rows:
        measured = "-" if r["measured"] is None else f"{r['measured']:.2f}"
        print(
            f"{r['name']:<48} {r['metric']:<16} published {published_text({'value': r['published'], **r}):>9}  "
            f"measured {measured:>7}  "
            f"tol ±{r['tolerance']}  {r['verdict'].upper()}"
        )
    return 1 if failed else 0


def published_for(record: Record) -> list[dict[str, Any]]:
    """Published numbers for a result's (task, dataset, method), for the leaderboard's side-by-side
    column. The verdict is computed only when the result ran exactly the entry's protocol;
    otherwise it says so."""
    out = []
    for entry in registry():
        if (entry["task"], entry["dataset"], entry["method"]) != (
            record.get("task"),
            record.get("dataset"),
            record.get("method"),
        ):
            continue
        if entry["metric"] not in (record.get("metrics") or {}):
            continue
        result = verdict(entry, record)
        try:
            same = run_spec(entry).config_hash == record.get("config_hash")
        except Exception:  # a plugin or dataset this machine lacks: compare nothing
            same = False
        if not same:
            result["verdict"] = "different protocol"
        out.append(result)
    return out
