"""The claims' verdicts for the index, recomputed from the reference result files each build.

    claims_view("results")  # [{"name", "statement", "href", "verdict", "kind", "estimate", ...}]

A claim (`ntkbench.tasks.claims`) is a statement about what the NTK explains, tested on the
results (`ntkbench.orchestration.claims`): supported, contradicted or inconclusive (and why).
"""

from __future__ import annotations

from pathlib import Path

from ntkbench.leaderboard.sources import safe_name
from ntkbench.orchestration.claims import ClaimResult, evaluate_claims

__all__ = ["claims_view"]

KIND = {"supported": "good", "contradicted": "bad"}


def _num(v: float | None) -> str:
    if v is None:
        return "—"
    return f"{v:.3g}" if abs(v) < 100 else f"{v:.0f}"


def claim_row(r: ClaimResult) -> dict:
    c = r.claim
    interval = "—" if r.interval is None else f"[{_num(r.interval[0])}, {_num(r.interval[1])}]"
    return {
        "name": c.name,
        "statement": c.statement,
        "where": f"{c.task} on {c.dataset}",
        "href": f"{safe_name(c.task)}--{safe_name(c.dataset)}.html",
        "verdict": r.verdict,
        "kind": KIND.get(r.verdict, "neutral"),
        "statistic": r.statistic or c.metric,
        "estimate": _num(r.estimate),
        "interval": interval,
        "n": "/".join(map(str, r.n)) or "0",
        "reason": r.reason,
    }


def claims_view(results_dir: Path | str, pages: set[str]) -> tuple[list[dict], str | None]:
    """(rows, problem): every claim's verdict on `results_dir`; a row links to its task page where
    `pages` (the written page files) has it. A claim registry that fails to load is reported, not raised."""
    try:
        results = evaluate_claims(results_dir)
    except Exception as e:  # the index must still be written
        return [], f"claims not evaluated: {type(e).__name__}: {e}"
    rows = [claim_row(r) for r in results]
    for row in rows:
        row["href"] = row["href"] if row["href"] in pages else None
    return rows, None
