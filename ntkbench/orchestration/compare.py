"""`ntkbench run --out runs --reference results`: fresh result files against committed reference ones.

Files pair up by path (`<task>/<dataset>/<method>/<config hash>.json`), so only the same
configuration is compared. Each pair is `identical` (every metric equal), `within tolerance`
(every mean within `tolerance` of the reference: another platform or library version rounds
differently) or `differs` (the metrics that moved are named); a run without a reference is
`new`. Nothing is judged a failure: the table says what a newcomer's machine reproduced.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path
from typing import TextIO

from ntkbench.results import read_result


def _means(metrics: dict) -> dict[str, float | None]:
    return {k: v.get("mean") for k, v in metrics.items() if isinstance(v, dict) and not isinstance(v.get("mean"), list)}


def compare_record(run: dict, ref: dict, tolerance: float) -> tuple[str, list[str]]:
    """(verdict, names of the metrics whose means differ by more than `tolerance`)."""
    if run.get("status") != "ok" or ref.get("status") != "ok":
        return f"status {run.get('status')} (reference {ref.get('status')})", []
    if run.get("metrics") == ref.get("metrics"):
        return "identical", []
    a, b = _means(run.get("metrics") or {}), _means(ref.get("metrics") or {})
    moved = sorted(
        k
        for k in set(a) | set(b)
        if not (
            isinstance(a.get(k), float | int)
            and isinstance(b.get(k), float | int)
            and math.isclose(a[k], b[k], abs_tol=tolerance)  # type: ignore[arg-type]
        )
        and not (a.get(k) is None and b.get(k) is None)
    )
    return ("differs", moved) if moved else ("within tolerance", [])


def stack_difference(run: dict, ref: dict) -> str:
    """Why two results of one configuration may differ: the first difference in what made them
    (CPU instruction set, library versions, device, XLA flags), or that none is recorded."""
    a, b = run.get("provenance") or {}, ref.get("provenance") or {}
    cpu_a, cpu_b = a.get("cpu") or {}, b.get("cpu") or {}
    if not cpu_b or not cpu_a:
        return "the reference records no CPU" if not cpu_b else "this run records no CPU"
    if cpu_a.get("isa") != cpu_b.get("isa"):
        return f"different CPU ISA: {cpu_a.get('isa')} vs {cpu_b.get('isa')}"
    va, vb = a.get("versions") or {}, b.get("versions") or {}
    moved = [f"{d} {va.get(d)} vs {vb.get(d)}" for d in sorted(set(va) | set(vb)) if va.get(d) != vb.get(d)]
    if moved:
        return "different versions: " + ", ".join(moved)
    for field, what in (("device", "device"), ("xla_flags", "XLA flags")):
        if a.get(field) != b.get(field):
            return f"different {what}: {a.get(field)} vs {b.get(field)}"
    if cpu_a.get("flags") != cpu_b.get("flags") or cpu_a.get("model") != cpu_b.get("model"):
        return f"different CPU: {cpu_a.get('model')} vs {cpu_b.get('model')}"
    return "same recorded stack"


def compare_dirs(
    runs: Path, reference: Path, *, tolerance: float = 0.5, only: list[Path] | None = None, stream: TextIO | None = None
) -> dict[str, int]:
    """Print one line per result file of `runs` (or of `only`, files under `runs`); returns the
    count of each verdict."""
    stream = stream or sys.stdout
    counts: dict[str, int] = {}
    paths = only if only is not None else [p for p in Path(runs).rglob("*.json") if not p.name.startswith(".")]
    for path in sorted(set(paths)):
        rel = path.relative_to(runs)
        if rel.parts and rel.parts[0] == "leaderboard":
            continue
        ref_path = Path(reference) / rel
        run = read_result(path)
        moved: list[str] = []
        if not ref_path.exists():
            verdict = "new (no reference)"
        else:
            ref = read_result(ref_path)
            verdict, moved = compare_record(run, ref, tolerance)
        counts[verdict.split(" (")[0]] = counts.get(verdict.split(" (")[0], 0) + 1
        detail = f": {', '.join(moved[:6])}{' …' if len(moved) > 6 else ''}" if moved else ""
        why = f" ({stack_difference(run, ref)})" if verdict in ("within tolerance", "differs") else ""
        print(f"{str(rel.parent):<48} {verdict}{detail}{why}", file=stream)
    summary = ", ".join(f"{n} {v}" for v, n in sorted(counts.items()))
    print(f"compared with {reference} (tolerance ±{tolerance} on means): {summary or 'no result files'}", file=stream)
    return counts
