"""Method pages and the index's "who is best where" matrix, from the ranked sections.

    placed = placements(task, dataset, "task--dataset.html", sections)  # one per run
    matrix(placed)                  # per task: methods x datasets, rank and headline
    method_view("dm", placed, published)  # what one method page shows

A placement is one run as a ranked table shows it: its rank among the full-protocol runs of its
section (None where unranked: failed, invalid, or at a reduced budget), its headline value, how it
is known (reference, verified, not re-run) and its NTK numbers.
"""

from __future__ import annotations

import inspect

from ntkbench.charts import is_number, series_labels
from ntkbench.leaderboard.sources import method_href
from ntkbench.leaderboard.tables import (
    as_dict,
    deviations_text,
    fmt_num,
    is_scalar_metric,
    metric_cell,
    natural_key,
    params_summary,
    ranking,
)
from ntkbench.registry import get_method, load_plugins

__all__ = ["headline_section", "matrix", "method_view", "placements"]


def _version_rank(v) -> tuple:
    return (0, -v, "") if isinstance(v, (int, float)) else (1, 0, str(v))


def headline_section(sections: list[dict]) -> dict | None:
    """The section the index summarises: the newest task version of runs (of derived results where
    there are no runs)."""
    ordered = sorted(sections, key=lambda s: (s["title"].startswith("Derived"), _version_rank(s["version"])))
    return ordered[0] if ordered else None


def placements(task: str, dataset: str, href: str, sections: list[dict]) -> list[dict]:
    """One dict per run of the page, with its rank in its section's ranked table."""
    top = headline_section(sections)
    out = []
    for s in sections:
        r = ranking(task, s["records"])
        name = r["metric"]
        ranked = [row["rec"] for row in r["rows"] if not row["reduced"]]
        reduced = [row["rec"] for row in r["rows"] if row["reduced"]]
        labels = series_labels(ranked) + series_labels(reduced)
        n_ranked = sum(1 for row in r["rows"] if row["rank"] is not None)
        for row, label in zip(r["rows"], labels):
            rec = row["rec"]
            m = as_dict(rec.get("metrics")).get(name) if name else None
            value = metric_cell(name, m, task, rec)[0] if name else ""
            failed = rec.get("status") != "ok"
            out.append(
                {
                    "task": task,
                    "dataset": dataset,
                    "href": href,
                    "section": s["title"],
                    "headline": s is top,
                    "method": str(rec.get("method")),
                    "label": label,
                    "params": params_summary(rec.get("params")),
                    "rank": row["rank"],
                    "n_ranked": n_ranked,
                    "best": row["rank"] == 1,
                    "reduced": row["reduced"],
                    "censored": bool(name) and not failed and is_scalar_metric(m) and as_dict(m).get("mean") is None,
                    "failed": failed,
                    "metric": name or "",
                    "value": "failed" if failed else (value or "—"),
                    "protocol": deviations_text(rec),
                    "known": rec.get("_known") or {"text": "", "kind": "neutral"},
                    "ntk": ntk_numbers(rec),
                    "file": rec.get("_path"),
                }
            )
    return out


# Fields of a result's `ntk` view that are settings or bulk data, not numbers to summarise.
NTK_SKIP = {"available", "seconds", "seeds", "ridge", "arch", "checkpoints", "bands", "top_eigenvalues", "pairs", "lr"}
NTK_SKIP |= {"probe_per_task", "train_points", "features", "per_seed", "std", "ci95", "probe_points", "classes"}


def ntk_numbers(rec: dict, limit: int = 8) -> list[tuple[str, str]]:
    """The run's NTK views as numbers, at most `limit`: its scalar metrics that come from a kernel
    (names with `ntk` or `kernel`; per-band values left to the task page), then the numbers of its
    `ntk` view (`ntk.kernel` named; a family of means, e.g. `infinite.test_acc@n=<n>`, at its
    largest key)."""
    metrics = as_dict(rec.get("metrics"))
    names = [
        k
        for k, m in metrics.items()
        if ("ntk" in k or "kernel" in k) and "@band=" not in k and is_scalar_metric(m) and m.get("mean") is not None
    ]
    out = [(k, metric_cell(k, metrics[k], rec.get("task"), rec)[0]) for k in sorted(names, key=natural_key)]
    ntk = as_dict(rec.get("ntk"))
    if isinstance(ntk.get("kernel"), str):
        out.insert(0, ("kernel", ntk["kernel"]))
    for key in sorted(ntk, key=natural_key):
        if key not in NTK_SKIP and key != "kernel":
            out += _view_numbers(f"ntk.{key}", ntk[key])
    return out[:limit]


def _view_numbers(path: str, v) -> list[tuple[str, str]]:
    if is_number(v):
        return [(path, fmt_num(v))]
    if not isinstance(v, dict):
        return []
    if is_number(v.get("mean")):
        return [(path, fmt_num(v["mean"]))]
    means = [k for k, x in v.items() if isinstance(x, dict) and is_number(x.get("mean"))]
    if means:  # a family (one mean per n): its largest key
        last = max(means, key=natural_key)
        return [(f"{path}.{last}", fmt_num(v[last]["mean"]))]
    return [(f"{path}.{k}", fmt_num(x)) for k, x in v.items() if k not in NTK_SKIP and is_number(x)]


def cell_text(p: dict) -> str:
    """A matrix cell: "#1 of 5 · 70.9 ± 0.4"; a reduced run says so and has no rank."""
    if p["failed"]:
        return "failed"
    if p["reduced"]:
        return f"reduced · {p['value']}"
    if p["rank"] is None:
        return f"unranked · {p['value']}"
    return f"#{p['rank']} of {p['n_ranked']} · {p['value']}" + (" (censored)" if p["censored"] else "")


def _better(p: dict) -> tuple:
    """Order of a method's runs in one cell: ranked (best first), then reduced, then the rest."""
    return (p["rank"] is None, p["rank"] or 0, not p["reduced"], p["failed"])


def matrix(placed: list[dict]) -> list[dict]:
    """Per task: {"task", "datasets": [(dataset, href, metric)], "rows": [{"method", "href", "cells"}]}
    over each page's headline section; a cell is the method's best run there (rank of the
    full-protocol runs and its headline), reduced and censored runs marked, "" where not run."""
    out = []
    for task in sorted({p["task"] for p in placed}):
        here = [p for p in placed if p["task"] == task and p["headline"]]
        datasets = sorted({p["dataset"] for p in here}, key=natural_key)
        heads = []
        for d in datasets:
            first = next(p for p in here if p["dataset"] == d)
            heads.append({"dataset": d, "href": first["href"], "metric": first["metric"]})
        rows = []
        for m in sorted({p["method"] for p in here}, key=natural_key):
            cells = []
            for d in datasets:
                runs = sorted((p for p in here if p["method"] == m and p["dataset"] == d), key=_better)
                if not runs:
                    cells.append({"text": "", "kind": "none", "title": "not run"})
                    continue
                p = runs[0]
                kind = "best" if p["best"] else "reduced" if p["reduced"] else "censored" if p["censored"] else ""
                more = f" (+{len(runs) - 1} more runs)" if len(runs) > 1 else ""
                cells.append({"text": cell_text(p), "kind": kind, "title": f"{p['label']}{more}; {p['known']['text']}"})
            rows.append({"method": m, "href": method_href(m), "cells": cells})
        out.append({"task": task, "datasets": heads, "rows": rows})
    return out


def spec_view(name: str, task: str) -> dict:
    """What the method is, from the installed registry: docstring, package, version, module and
    source hash (a method this machine does not have says so)."""
    try:
        load_plugins()
        spec = get_method(name, task)
    except Exception as e:  # a submitted or published-only method need not be installed here
        return {"task": task, "installed": False, "why": str(e).split(";")[0][:200]}
    return {
        "task": task,
        "installed": True,
        "doc": inspect.getdoc(spec.fn) or spec.description or "",
        "package": spec.origin,
        "version": spec.version,
        "module": spec.where,
        "source_hash": spec.source_hash or "—",
        "params": params_summary(spec.params),
    }


def method_view(name: str, placed: list[dict], published: list[dict]) -> dict:
    """One method page: per task, what it is, every (dataset, section) run with its rank and how it
    is known, its NTK numbers; and the published numbers of that method."""
    mine = [p for p in placed if p["method"] == name]
    pubs = [e for e in published if str(e.get("method")) == name]
    tasks = sorted({p["task"] for p in mine} | {str(e["task"]) for e in pubs})
    views = []
    for task in tasks:
        runs = sorted(
            (p for p in mine if p["task"] == task),
            key=lambda p: (natural_key(p["dataset"]), p["section"], *_better(p)),
        )
        views.append(
            {
                "spec": spec_view(name, task),
                "runs": [dict(p, where=cell_text(p)) for p in runs],
                "ntk": [p for p in runs if p["ntk"]],
                "published": [
                    {
                        "dataset": e.get("dataset"),
                        "metric": e.get("metric"),
                        "value": published_value(e),
                        "source": e.get("source"),
                        "protocol": protocol_line(e),
                    }
                    for e in pubs
                    if e["task"] == task
                ],
            }
        )
    return {"name": name, "tasks": views}


def published_value(entry: dict) -> str:
    """A published value, or its interval ("bounds", e.g. a robust accuracy) as "[lo, hi]"."""
    bounds = entry.get("bounds")
    if isinstance(bounds, (list, tuple)) and len(bounds) == 2:
        return f"[{fmt_num(bounds[0])}, {fmt_num(bounds[1])}]"
    return fmt_num(entry.get("value"))


def protocol_line(entry: dict) -> str:
    """A published number's protocol in one line: its budget and params."""
    parts = [
        f"budget {params_summary(entry.get('budget'))}" if entry.get("budget") else "",
        f"params {params_summary(entry.get('params'))}" if entry.get("params") else "method defaults",
    ]
    return "; ".join(p for p in parts if p)
