"""`claims.html`: one section per claim, with its statement, verdict, statistic and evidence.

    html = claims_page(results, Path("results"), Path("leaderboard"), page_sections)

The evidence of a claim is what `ntkbench.orchestration.claims` read: each result file, linked to
its run's row on the task page (`pages.run_anchor`), with the per-seed values of each side as the
evaluator saw them. A censored value is shown as censored ("> 10 000", "≤ 32", "not reached"),
never as a number. A claim also links the task page's figures that show its metric (`RELATED`).
Every link is checked against the ids of the task pages already written: a row or figure that is
not on its page is named without a link.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from ntkbench.charts import Chart, as_dict, is_number
from ntkbench.leaderboard.pages import figure_anchor, render, run_anchor
from ntkbench.leaderboard.tables import fmt_num, grid_of, is_n_star, metric_cell
from ntkbench.leaderboard.verdicts import claim_anchor, claim_row, num, page_of
from ntkbench.orchestration.claims import ClaimResult
from ntkbench.results import (
    bound_text,  # the bound as `censored_text` writes it
    read_result,
)
from ntkbench.tasks.claims import Claim

__all__ = ["RELATED", "claims_page"]

# The charts that show a claim's metric: (task, metric prefix) -> words of the chart's title. A
# metric is matched by its longest prefix, so `test_acc@n=` (a learning curve) is not `test_acc@`.
RELATED: dict[tuple[str, str], tuple[str, ...]] = {
    ("sample_complexity", "n_star@"): ("test accuracy vs n", "n* against input dimension"),
    ("sample_complexity", "test_acc@n="): ("test accuracy vs n",),
    ("training_dynamics", "steps_to@"): ("test accuracy along full-batch GD",),
    ("training_dynamics", "steps_to_fit@"): ("steps to fit each",),
    ("training_dynamics", "spearman_speed"): ("decay time per eigenvalue band",),
    ("training_dynamics", "linearisation_gap@"): ("linearisation gap",),
    ("distillation", "test_acc@"): ("ConvNet vs kernel accuracy",),  # and "<metric> vs images per class"
    ("forgetting", "ntk.pairs"): ("predicted vs measured drop",),
    ("adversarial", "robust_acc"): ("robust accuracy vs eps",),
    ("adversarial", "ntk.eigen_features"): ("eigen-feature usefulness and robustness",),
}

SIDE_NAMES = ("a", "b")
DIRECTION = {"greater": "> 0", "less": "< 0"}


def claims_page(results: list[ClaimResult], results_dir: Path, out: Path, page_sections: dict[str, list[dict]]) -> str:
    """The page of `results` (evaluated on `results_dir`); `out` holds the task pages written,
    `page_sections` their sections (`sections_of`: records and `Chart`s) by page file name."""
    ids = PageIds(out)
    views = [claim_view(r, Path(results_dir), ids, page_sections) for r in results]
    counts = {v: sum(1 for r in results if r.verdict == v) for v in ("supported", "contradicted", "inconclusive")}
    return render("claims.html", title="claims — ntkbench", claims=views, counts=counts)


class PageIds:
    """The element ids of the written task pages, read once per page."""

    def __init__(self, out: Path):
        self.out = out
        self.seen: dict[str, set[str]] = {}

    def has(self, page: str, anchor: str) -> bool:
        if page not in self.seen:
            path = self.out / page
            text = path.read_text(encoding="utf-8") if path.is_file() else ""
            self.seen[page] = set(re.findall(r'\bid="([^"]+)"', text))
        return anchor in self.seen[page]

    def href(self, page: str, anchor: str) -> str | None:
        return f"{page}#{anchor}" if self.has(page, anchor) else None


def claim_view(r: ClaimResult, results_dir: Path, ids: PageIds, page_sections: dict[str, list[dict]]) -> dict:
    c = r.claim
    page = page_of(c)
    files = [(Path(f), read_result(Path(f))) for f in r.files]
    return {
        **claim_row(r),
        "id": claim_anchor(c.name),
        "href": page if (ids.out / page).is_file() else None,
        "kind_text": KIND_TEXT[c.kind],
        "rule": f"supported when the 95 % interval of the statistic lies {DIRECTION[c.direction]}, "
        f"contradicted when it lies on the other side; inconclusive with fewer than {c.min_seeds} seeds "
        "a side, a censored value, or an interval that contains 0",
        "effect": effect_text(r),
        "sides": sides_text(r),
        "evidence": evidence_view(c, files, results_dir, ids, page),
        "pairs": pairs_view(c, files[0][1]) if c.kind == "pairs" and files else None,
        "figures": figures_of(c, [rec for _, rec in files], page, page_sections, ids),
    }


KIND_TEXT = {
    "difference": "the difference of the means over seeds of two methods (paired by seed where both ran the same"
    " seeds, else Welch's t)",
    "mean": "the mean over seeds of one metric, one-sample t interval",
    "trend": "per seed, Spearman's ρ between x and the metric; the mean ρ over seeds, one-sample t interval",
    "pairs": "Spearman's ρ between two fields of the rows of the result's NTK view, Fisher interval",
}


def effect_text(r: ClaimResult) -> str:
    return f"{r.effect_name} = {num(r.effect)}" if r.effect_name else "—"


def sides_text(r: ClaimResult) -> str:
    """Seeds per side: "cnn 3, mlp 3" (a difference), "mlp-gd 3" (one method)."""
    c = r.claim
    if not r.n:
        return "0"
    if c.kind == "pairs":
        return f"{r.n[0]} (the seeds the NTK view ran on)"
    return ", ".join(f"{m} {n}" for m, n in zip(c.methods, r.n, strict=False))


# -- the evidence ---------------------------------------------------------------------------------


def evidence_view(c: Claim, files: list[tuple[Path, dict]], results_dir: Path, ids: PageIds, page: str) -> list[dict]:
    """One row per (result file, metric): its side, the file (linked to its run's row), the
    per-seed values and the value as the task page shows it."""
    rows = []
    for i, (path, rec) in enumerate(files):
        side = SIDE_NAMES[i] if c.kind == "difference" else ""
        link = {"file": inner_path(path, results_dir), "href": ids.href(page, run_anchor(rec))}
        for metric in metrics_of(c, rec):
            m = as_dict(as_dict(rec.get("metrics")).get(metric))
            per_seed = m.get("per_seed")
            values: list = per_seed if isinstance(per_seed, list) else []
            rows.append(
                {
                    **link,
                    "side": f"{side}: {rec.get('method')}" if side else str(rec.get("method")),
                    "metric": metric,
                    "seeds": [seed_cell(v, m, rec, metric) for v in values],
                    "shown": metric_cell(metric, m, c.task, rec)[0] or "—",
                }
            )
        if c.kind == "pairs":
            rows.append({**link, "side": str(rec.get("method")), "metric": f"ntk.{c.rows}", "seeds": [], "shown": ""})
    return rows


def inner_path(path: Path, results_dir: Path) -> str:
    """The file's path inside the result folder, as the task page's details show it."""
    try:
        return path.relative_to(results_dir).as_posix()
    except ValueError:
        return path.as_posix()


def metrics_of(c: Claim, rec: dict) -> list[str]:
    """The metrics of `rec` the claim reads: its metric, or each x's (a trend); none (pairs)."""
    present = as_dict(rec.get("metrics"))
    if c.kind == "trend":
        return [name for x in c.xs if (name := c.metric.format(x=x)) in present]
    if c.kind == "pairs":
        return []
    return [c.metric] if c.metric in present else []


def seed_cell(value: Any, m: dict, rec: dict, metric: str) -> dict:
    """One seed's value: a number, or censored ("> bound" not reached within the run's reach, "≤
    floor" at the grid's smallest n or below the metric's floor, "not reached" with no known bound)."""
    censoring = as_dict(m.get("censored"))
    grid = grid_of(rec) if is_n_star(metric) else []
    bound = censoring.get("bound")
    if not is_number(value):
        above = bound if censoring.get("side") == "above" and is_number(bound) else (grid[-1] if grid else None)
        text = f"> {bound_text(above)}" if above is not None else "not reached"
        return {"text": text, "censored": True, "title": "censored: not reached within the run's reach"}
    floor = bound if censoring.get("side") == "below" and is_number(bound) else (grid[0] if grid else None)
    if floor is not None and value <= floor:
        return {"text": f"≤ {bound_text(floor)}", "censored": True, "title": "censored: at or below the floor"}
    return {"text": fmt_num(value), "censored": False, "title": ""}


def pairs_view(c: Claim, rec: dict) -> dict | None:
    """The rows of the NTK view a "pairs" claim correlates (x, y and the seed it ran on)."""
    rows: Any = rec.get("ntk")
    for key in c.rows.split("."):
        rows = rows.get(key) if isinstance(rows, dict) else None
    if not isinstance(rows, list) or not rows:
        return None
    found = [as_dict(r) for r in rows]
    cells = [(fmt_num(r.get(c.x)), fmt_num(r.get(c.y)), str(r.get("seed", 0))) for r in found]
    return {"columns": (c.x, c.y, "seed"), "rows": cells, "used": sum(1 for r in found if _pair(r, c))}


def _pair(row: dict, c: Claim) -> bool:
    return is_number(row.get(c.x)) and is_number(row.get(c.y))


# -- figures --------------------------------------------------------------------------------------


def related(c: Claim, chart: Chart) -> bool:
    """Whether `chart` shows the claim's metric: its title names the metric, or `RELATED` says so."""
    metric = c.metric.split("{")[0]
    if metric and metric in chart.title:
        return True
    keys = [p for t, p in RELATED if t == c.task and c.metric.startswith(p)]
    if not keys:
        return False
    words = RELATED[(c.task, max(keys, key=len))]
    return any(w in chart.title for w in words)


def figures_of(
    c: Claim, records: list[dict], page: str, page_sections: dict[str, list[dict]], ids: PageIds
) -> list[dict]:
    """The task page's charts of the section holding the claim's results that show its metric,
    each linked (only where its anchor is on the page)."""
    hashes = {rec.get("config_hash") for rec in records}
    out = []
    for i, section in enumerate(page_sections.get(page, [])):
        if not hashes & {rec.get("config_hash") for rec in section["records"]}:
            continue
        for j, chart in enumerate(section["figures"]):
            if related(c, chart) and (href := ids.href(page, figure_anchor(i, j))):
                out.append({"title": chart.title, "href": href, "section": section["title"]})
    return out
