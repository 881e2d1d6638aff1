"""Published numbers as reference rows of a page's ranked table (not runs of ours, never ranked).

    entries = applicable(registry(), "distillation", "fashion_mnist")  # DC 70.5, DSA 70.6 at ipc 1, …
    reference_rows(entries, "test_acc@convnet")  # view rows for the ranked table

The entries are the tasks' `published` numbers (`ntkbench reproduce`'s registry): method, metric,
value, source (paper and table) and the protocol (budget and params) they were measured under.
Beside our own row of the same method the ranked table also shows the number, with a verdict
(`published_for`).
"""

from __future__ import annotations

from ntkbench.leaderboard.methods import protocol_line, published_value
from ntkbench.leaderboard.sources import method_href
from ntkbench.leaderboard.tables import (
    as_dict,
    compact,
    fmt_num,
    markdown_grid,
    natural_key,
    params_summary,
    reproduce_entries,
    reproduce_text,
)

__all__ = ["applicable", "markdown_rows", "published_view", "reference_rows", "verdict_kind"]


def applicable(entries: list[dict], task: str, dataset: str) -> list[dict]:
    """The published numbers for this task and dataset, by method, metric and budget."""
    mine = [e for e in entries if (e.get("task"), e.get("dataset")) == (task, dataset)]
    return sorted(mine, key=lambda e: (natural_key(str(e.get("method"))), str(e.get("metric")), *_order(e)))


def _order(entry: dict) -> tuple:
    return natural_key(params_summary(entry.get("params"))), natural_key(params_summary(entry.get("budget")))


def label(entry: dict, entries: list[dict]) -> str:
    """The method, and in words the budget values in which the page's published numbers differ
    and the params in which those of the same method differ ("dc (ipc 10)", "mlp (depth 0)")."""
    same = [e for e in entries if e.get("method") == entry.get("method")]
    words = []
    for field, among in (("budget", entries), ("params", same)):
        values = [as_dict(e.get(field)) for e in among]
        mine = as_dict(entry.get(field))
        words += [f"{k} {compact(mine[k])}" for k in mine if len({compact(v.get(k)) for v in values}) > 1]
    return str(entry.get("method")) + (f" ({', '.join(words)})" if words else "")


def reference_rows(entries: list[dict], headline: str | None, ran: set[str] | frozenset = frozenset()) -> list[dict]:
    """One row per published number: the value (with its metric's name where it is not the
    headline), its source and protocol in a line; `ran`: the methods we ran on this page."""
    rows = []
    for e in entries:
        metric = str(e.get("metric"))
        method = str(e.get("method"))
        rows.append(
            {
                "method": method,
                "label": label(e, entries),
                "href": method_href(method),
                "value": ("" if metric == headline else f"{metric}: ") + published_value(e),
                "sort": repr(float(e["value"])) if metric == headline and _number(e.get("value")) else "",
                "source": str(e.get("source") or ""),
                "protocol": protocol_line(e),
                "note": str(e.get("note") or ""),
                "ran": method in ran,
            }
        )
    return rows


def _verdict_text(e: dict) -> str:
    """`reproduce_text`, with a published interval written out."""
    if not e.get("bounds"):
        return reproduce_text(e)
    name = f"{e['name']}: " if e.get("name") else ""
    return (
        f"{name}published {published_value(e)} vs measured {fmt_num(e.get('measured'))} "
        f"(interval, tol ±{fmt_num(e.get('tolerance'))})"
    )


def _number(x) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def markdown_rows(entries: list[dict]) -> str:
    """The Markdown twin's table of the published reference rows."""
    cells = [
        [label(e, entries), e.get("metric"), published_value(e), protocol_line(e), e.get("source")] for e in entries
    ]
    return markdown_grid(("method", "metric", "published", "protocol", "source"), cells)


# -- beside our own row: the published numbers for its configuration, with the verdict ------------


def published_view(rec: dict, metric: str | None) -> list[dict]:
    """Published numbers for the ranked table: those for `metric` (or naming no metric) as the
    number alone, others with their metric's name."""
    out = []
    for e in reproduce_entries(rec):
        other = e.get("metric") not in (None, "", metric)
        out.append(
            {
                "text": (f"{e.get('metric')}: " if other else "") + published_value({**e, "value": e.get("published")}),
                "verdict": str(e.get("verdict")),
                "kind": verdict_kind(e.get("verdict")),
                "title": "; ".join(str(x) for x in (_verdict_text(e), e.get("source")) if x),
            }
        )
    return out


_GOOD = ("pass", "passed", "ok", "reproduced", "match", "matches", "within", "agree", "agrees")
_BAD = ("fail", "failed", "not reproduced", "mismatch", "outside", "differs", "disagree")


def verdict_kind(verdict) -> str:
    v = str(verdict).strip().lower()
    return "good" if v in _GOOD else "bad" if v in _BAD else "neutral"
