"""The claims' verdicts, recomputed from the reference result files each build.

    results, problem = evaluated_claims("results", pages)  # the claims about the pages shown
    [claim_row(r) for r in results]  # the index's rows: {"name", "statement", "verdict", ...}

A claim (`ntkbench.tasks.claims`) is a statement about what the NTK explains, tested on the
results (`ntkbench.orchestration.claims`): supported, contradicted or inconclusive (and why).
Each claim has a section on `claims.html` (`claims_page`), anchored at `claim_anchor(name)`.
"""

from __future__ import annotations

import math
from pathlib import Path

from ntkbench.leaderboard.sources import safe_name
from ntkbench.orchestration.claims import ClaimResult, evaluate_claims
from ntkbench.tasks.claims import Claim

__all__ = ["CLAIMS_PAGE", "claim_anchor", "claim_row", "evaluated_claims", "page_of"]

CLAIMS_PAGE = "claims.html"
KIND = {"supported": "good", "contradicted": "bad"}


def num(v: float | None) -> str:
    if v is None:
        return "—"
    if math.isinf(v):
        return "∞" if v > 0 else "−∞"
    return f"{v:.3g}" if abs(v) < 100 else f"{v:.0f}"


def page_of(claim: Claim) -> str:
    """The task page a claim's results are shown on."""
    return f"{safe_name(claim.task)}--{safe_name(claim.dataset)}.html"


def claim_anchor(name: str) -> str:
    """The id of a claim's section on `claims.html`."""
    return f"claim-{safe_name(name)}"


def interval_text(r: ClaimResult) -> str:
    return "—" if r.interval is None else f"[{num(r.interval[0])}, {num(r.interval[1])}]"


def claim_row(r: ClaimResult) -> dict:
    c = r.claim
    return {
        "name": c.name,
        "statement": c.statement,
        "where": f"{c.task} on {c.dataset}",
        "href": page_of(c),
        "claim_href": f"{CLAIMS_PAGE}#{claim_anchor(c.name)}",
        "verdict": r.verdict,
        "kind": KIND.get(r.verdict, "neutral"),
        "statistic": r.statistic or c.metric,
        "estimate": num(r.estimate),
        "interval": interval_text(r),
        "n": "/".join(map(str, r.n)) or "0",
        "reason": r.reason,
    }


def evaluated_claims(results_dir: Path | str, pages: set[str]) -> tuple[list[ClaimResult], str | None]:
    """(results, problem): the verdict of every claim about a page in `pages` (the task pages
    written), tested on `results_dir`. A claim registry that fails to load is reported, not raised."""
    try:
        results = evaluate_claims(results_dir)
    except Exception as e:  # the index must still be written
        return [], f"claims not evaluated: {type(e).__name__}: {e}"
    return [r for r in results if page_of(r.claim) in pages], None
