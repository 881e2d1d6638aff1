"""HTML pages, rendered from the Jinja2 templates in `templates/` with autoescaping on.

Pages are self-contained: inline CSS, one small inline sorter script allowed by its hash in a
Content-Security-Policy, inline SVG charts; no external assets, and every page reads fully
without JavaScript. This module turns records into plain view data (strings and numbers, no
markup); the templates escape all of it. The only markup passed through is ours: the CSS, the
sorter script and SVG from `plots.render`.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
from pathlib import Path

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup

from ntkbench.charts import REDUCED_NOTE, Chart, Table, common, is_number, series_labels
from ntkbench.leaderboard import plots
from ntkbench.leaderboard.published import published_view, reference_rows, verdict_kind
from ntkbench.leaderboard.sorter import SORTER_JS
from ntkbench.leaderboard.sources import REFERENCE, method_href, safe_name
from ntkbench.leaderboard.tables import (
    as_dict,
    budget_summary,
    deviations_text,
    flags_of,
    fmt_num,
    is_reduced,
    metric_cell,
    metric_names,
    metric_tip,
    params_summary,
    ranking,
    reproduce_entries,
    reproduce_text,
    row_key,
)
from ntkbench.tasks import TASKS

CSS = Path(__file__).with_name("style.css").read_text()

_SCRIPT_HASH = base64.b64encode(hashlib.sha256(SORTER_JS.encode()).digest()).decode()
# style-src 'unsafe-inline': the page's own <style>, and matplotlib's SVG, which writes its styling
# as `style="…"` attributes (and a <style> element per chart); a hash cannot allow style attributes
# short of 'unsafe-hashes' plus one hash per distinct attribute value, so inline styles stay allowed.
# They cannot run code or fetch anything: default-src 'none' still blocks every URL but data:
# images (the PNG previews). Scripts stay hash-only.
CSP = (
    f"default-src 'none'; img-src data:; style-src 'unsafe-inline'; script-src 'sha256-{_SCRIPT_HASH}'; "
    "base-uri 'none'; form-action 'none'"
)


def _finalize(v):
    """Every `{{ value }}`: None prints as nothing; plain values are escaped with `html.escape`
    (the same entities as before the templates: &quot; &#x27;, where markupsafe writes &#34; &#39;);
    Markup (macros, the CSS, the script, chart SVG) passes through. Autoescape stays on as well."""
    if v is None:
        return ""
    return v if hasattr(v, "__html__") else Markup(html.escape(str(v), quote=True))


ENV = Environment(
    loader=PackageLoader("ntkbench.leaderboard", "templates"),
    autoescape=True,
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    finalize=_finalize,
    keep_trailing_newline=True,
)
ENV.globals.update(csp=CSP, css=Markup(CSS), sorter_js=Markup(SORTER_JS), method_href=method_href)


def render(template: str, **context) -> str:
    return ENV.get_template(template).render(**context)


# -- index ----------------------------------------------------------------------------------------


def index_page(
    groups: list[dict],
    notes: list[str],
    n_files: int,
    matrix: list[dict] | None = None,
    claims: list[dict] | None = None,
) -> str:
    """groups: dicts with task, dataset, href, versions, ok, failed, derived, methods, last_run;
    matrix: `methods.matrix`, the methods x datasets table of ranks; claims: `verdicts.claims_view`."""
    tasks = [(t, [g for g in groups if g["task"] == t]) for t in sorted({g["task"] for g in groups})]
    return render(
        "index.html",
        title="ntkbench leaderboard",
        groups=groups,
        tasks=tasks,
        notes=notes,
        n_files=n_files,
        matrix=matrix or [],
        claims=claims or [],
    )


def method_page(view: dict) -> str:
    """One method's page (`methods.method_view`)."""
    return render("method.html", title=f"{view['name']} — method — ntkbench", m=view)


# -- task/dataset page ----------------------------------------------------------------------------


def task_page(
    task: str,
    dataset: str,
    sections: list[dict],
    notes: list[str],
    twins: tuple[str, str],
    claims: list[dict] | None = None,
) -> str:
    """sections: dicts with title, version, records, figures (`Chart`s); claims: the rows
    (`verdicts.claim_row`) of the claims tested on this page's results, linked to `claims.html`.
    Each run's row is anchored at `run_anchor`, each figure at `figure_anchor` (the claims link there)."""
    views = [
        {
            "title": s["title"],
            "common": common_view(s["records"]),
            "unplotted": s.get("unplotted", []),
            "ranked": ranked_view(task, s["records"], f"r{i}", s.get("published", [])),
            "figures": [{**f, "id": figure_anchor(i, j)} for j, c in enumerate(s["figures"]) if (f := figure_view(c))],
            "table": table_view(s["records"], f"t{i}"),
        }
        for i, s in enumerate(sections)
    ]
    return render(
        "task.html",
        title=f"{task} — {dataset} — ntkbench",
        task=task,
        dataset=dataset,
        sections=views,
        notes=notes,
        csv_name=twins[0],
        md_name=twins[1],
        claims=claims or [],
    )


def run_anchor(rec: dict) -> str:
    """The id of a run's row on its task page: its config hash (a submission's runs: with its name)."""
    sub = rec.get("_submission")
    return "run-" + (f"{safe_name(str(sub))}-" if sub else "") + safe_name(str(rec.get("config_hash")))


def figure_anchor(section: int, chart: int) -> str:
    """The id of chart `chart` (its index in the task's `figures`) of section `section` of a task page."""
    return f"fig-{section}-{chart}"


def figure_view(chart: Chart) -> dict | None:
    """What the template draws for one chart: PNG pictures, a table (a `table` chart, or a line
    chart whose series all sit at one x: no line through a single x), or SVG; with its caption."""
    pictures = plots.pictures(chart)
    chart = single_x_as_table(chart)
    reduced = chart.kind in ("line", "scatter") and any(se.reduced for se in chart.series)
    caption = chart.caption + (REDUCED_NOTE if reduced else "")
    base = {"title": chart.title, "caption": caption.strip(), "pictures": None, "svg": "", "table": None}
    if pictures:
        return {**base, "pictures": pictures}
    if chart.kind == "table":
        t = chart.table
        return {**base, "table": {"columns": t.columns, "rows": t.rows}} if t is not None and t.rows else None
    svg = plots.render(chart)  # escaped by matplotlib's XML writer
    return {**base, "svg": Markup(svg)} if svg else None


def single_x_as_table(chart: Chart) -> Chart:
    """A line chart whose points all share one x becomes a table (series, y ± error)."""
    xs = {p[0] for se in chart.series for p in se.points if is_number(p[0]) and is_number(p[1])}
    if chart.kind != "line" or len(xs) != 1:
        return chart
    (x,) = xs
    rows = tuple(
        (se.legend, fmt_num(p[1]) + (f" ± {fmt_num(p[2])}" if is_number(p[2]) and p[2] else ""))
        for se in chart.series
        for p in se.points
        if is_number(p[1])
    )
    return Chart(
        chart.title + f" (all at {chart.xlabel} = {x:g})",
        chart.xlabel,
        chart.ylabel,
        kind="table",
        table=Table(("run", chart.ylabel), rows),
        caption=chart.caption,
    )


def common_view(records: list[dict]) -> dict:
    """The params and budget every run of a section shares, shown once above its tables."""
    return {
        "params": params_summary(common(records, "params")),
        "budget": budget_summary(common(records, "budget")),
    }


def ranked_view(task: str, records: list[dict], table_id: str, published: list[dict] | None = None) -> dict:
    """The compact ranked table a section leads with: rank, method (+ differing params), the
    headline metric, seeds, how the row is known and the published number; then, unranked, the
    `published` numbers (registry entries) for this task and dataset as reference rows."""
    r = ranking(task, records)
    name = r["metric"]
    head = metric_head(task, name) if name else {"text": "—", "title": ""}
    direction = {True: "higher is better", False: "lower is better", None: "no direction"}[r["higher"]]
    # labels tell apart the runs of one table: the ranked ones among themselves, the reduced ones
    ranked = [row["rec"] for row in r["rows"] if not row["reduced"]]
    reduced = [row["rec"] for row in r["rows"] if row["reduced"]]
    present = {k for rec in records for k in as_dict(rec.get("metrics"))}
    beside = [n for n in BESIDE_HEADLINE.get(task, ()) if n in present and n != name]
    rows = []
    for row, label in zip(r["rows"], series_labels(ranked) + series_labels(reduced)):
        rec = row["rec"]
        m = as_dict(rec.get("metrics")).get(name) if name else None
        text, sort = metric_cell(name, m, task, rec) if name else ("", None)
        if rec.get("status") != "ok":
            text = "failed"
        rows.append(
            {
                "rank": row["rank"],
                "best": row["best"],
                "label": label,
                "href": method_href(rec.get("method")),
                "known": rec.get("_known") or REFERENCE,
                "full_label": label + (f" — {params_summary(rec.get('params'))}" if rec.get("params") else ""),
                "flags": flags_of(rec),
                "problems": list(rec.get("_problems", [])),
                "failed": rec.get("status") != "ok",
                "value": text or "—",
                "sort": "" if sort is None else repr(sort),
                "tip": metric_tip(m),
                "seeds": rec.get("seeds"),
                "published": published_view(rec, name),
                "reduced": row["reduced"],
                "deviations": deviations_text(rec),
                "beside": [_cell(task, n, rec) for n in beside],
            }
        )
    return {
        "id": table_id,
        "metric": name,
        "head": head,
        "direction": direction,
        "rows": [row for row in rows if not row["reduced"]],
        "reduced": [row for row in rows if row["reduced"]],
        "beside": [metric_head(task, n) for n in beside],
        "published": reference_rows(published or [], name, {str(rec.get("method")) for rec in records}),
    }


# Metrics a ranked table shows beside its headline: a former headline that ties rather than ranks
# (training_dynamics' Spearman ρ is 1.00 for every method on most datasets) stays in sight.
BESIDE_HEADLINE: dict[str, tuple[str, ...]] = {"training_dynamics": ("spearman_speed",)}


def _cell(task: str, name: str, rec: dict) -> dict:
    m = as_dict(rec.get("metrics")).get(name)
    text, sort = metric_cell(name, m, task, rec)
    return {"text": text or "—", "sort": "" if sort is None else repr(sort), "tip": metric_tip(m)}


def best_of(task: str, records: list[dict]) -> dict | None:
    """The index's summary of a section: the best run's label, its headline value and metric."""
    r = ranking(task, records)
    best = [row for row in r["rows"] if row["rank"] == 1]
    if not best and any(is_reduced(rec) for rec in records):  # only reduced runs: say so
        found = best_of(task, [dict(rec, _reduced=False) for rec in records])
        return found and {**found, "label": found["label"] + " (reduced budget)"}
    if not best or not r["metric"]:
        return None
    recs = [row["rec"] for row in r["rows"] if not row["reduced"]]
    label = series_labels(recs)[recs.index(best[0]["rec"])]
    value = metric_cell(r["metric"], as_dict(best[0]["rec"].get("metrics")).get(r["metric"]), task, best[0]["rec"])[0]
    arrow = {True: " ↑", False: " ↓", None: ""}[r["higher"]]
    return {
        "label": label + (f" (+{len(best) - 1} tied)" if len(best) > 1 else ""),
        "value": value,
        "metric": r["metric"] + arrow,
    }


HEAD = ("method", "status", "origin", "method version", "seeds", "params", "budget", "protocol")


def metric_head(task: object, name: str) -> dict:
    """A metric's column head: its name, ↑/↓ where the task says which way is better, and the
    task's description and unit as the tooltip."""
    spec = TASKS.get(task).metric_spec(name) if isinstance(task, str) and task in TASKS else None
    if spec is None:
        return {"text": name, "title": ""}
    arrow = {True: " ↑", False: " ↓", None: ""}[spec.higher_is_better]
    better = {True: "higher is better", False: "lower is better", None: ""}[spec.higher_is_better]
    title = "; ".join(p for p in (spec.description, spec.unit and f"unit: {spec.unit}", better) if p)
    return {"text": name + arrow, "title": title}


def table_view(records: list[dict], table_id: str) -> dict:
    names = metric_names(records)
    task = records[0].get("task") if records else None
    heads = (
        [{"text": h, "title": ""} for h in HEAD]
        + [metric_head(task, n) for n in names]
        + [{"text": "published", "title": "published numbers for this configuration, with the verdict"}]
    )
    return {"id": table_id, "heads": heads, "rows": [record_view(rec, names) for rec in sorted(records, key=row_key)]}


def record_view(rec: dict, names: list[str]) -> dict:
    metrics = as_dict(rec.get("metrics"))
    status = str(rec.get("status"))
    error = str(rec.get("error") or "")
    error = error if len(error) <= 300 else error[:299] + "… (full text in details)"
    cells = []
    for n in names:
        text, sort = metric_cell(n, metrics.get(n), rec.get("task"), rec)
        cells.append({"text": text, "sort": "" if sort is None else repr(sort), "tip": metric_tip(metrics.get(n))})
    return {
        "anchor": run_anchor(rec),
        "cls": "rec" + ("" if status == "ok" else " failed"),
        "method": rec.get("method"),
        "href": method_href(rec.get("method")),
        "flags": flags_of(rec),
        "problems": list(rec.get("_problems", [])),
        "status": status,
        "error": error if status != "ok" else "",
        "origin": rec.get("method_origin"),
        "method_version": rec.get("method_version"),
        "seeds": rec.get("seeds"),
        "params": params_summary(rec.get("params")),
        "budget": budget_summary(rec.get("budget")),
        "protocol": deviations_text(rec),
        "metrics": cells,
        "details": details_view(rec),
        "published": [
            {
                "text": reproduce_text(e),
                "verdict": str(e.get("verdict")),
                "kind": verdict_kind(e.get("verdict")),
                "source": e.get("source"),
            }
            for e in reproduce_entries(rec)
        ],
    }


PROV_FIRST = (
    "backend",
    "device",
    "versions",
    "git_commit",
    "ntkbench_version",
    "wall_seconds",
    "compile_seconds",
    "start_time",
)


def details_view(rec: dict) -> dict:
    prov = as_dict(rec.get("provenance"))
    keys = [k for k in PROV_FIRST if k in prov] + sorted((k for k in prov if k not in PROV_FIRST), key=str)
    items = []
    for k in keys:
        v = prov[k]
        if isinstance(v, dict):
            v = ", ".join(f"{a} {b}" for a, b in v.items())
        items.append((k, v))
    items += [
        ("config_hash", rec.get("config_hash")),
        ("dataset_fingerprint", rec.get("dataset_fingerprint")),
        ("root_seed", rec.get("root_seed")),
        ("suite", rec.get("suite")),
        ("file", rec.get("_path")),
        ("how known", as_dict(rec.get("_known")).get("text")),
    ]
    blocks = [("params", rec.get("params")), ("budget", rec.get("budget"))]
    if rec.get("status") != "ok" and rec.get("error"):
        blocks.append(("error", rec.get("error")))
    if flags_of(rec):
        blocks.append(("flags", flags_of(rec)))
    return {
        "entries": [(k, v) for k, v in items if v is not None],
        "blocks": [(t, v if isinstance(v, str) else _pretty(v)) for t, v in blocks],
    }


def _pretty(v) -> str:
    return json.dumps(v, indent=1, sort_keys=True, default=str)
