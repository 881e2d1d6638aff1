"""Static leaderboard: result files -> `index.html` and one page per (task, dataset).

    build_site("results", "leaderboard")  # -> Path("leaderboard/index.html")

Each page `<task>--<dataset>.html` has one table per task_version (never mixed), a separate table
for derived results, inline SVG plots, and CSV / Markdown twins (`.csv`, `.md`). Unreadable or
invalid result files are listed as notes instead of stopping the build. Modules: `tables`
(rows, CSV, Markdown); each task's `figures` hook says which numbers become which chart (`ntkbench.charts.Chart` data);
`plots` (a Chart -> SVG, with matplotlib), `pages` (HTML from the Jinja2 templates in `templates/`).
"""

from __future__ import annotations

from pathlib import Path

from ntkbench.leaderboard import methods, pages, published, verdicts
from ntkbench.leaderboard.claims_page import claims_page
from ntkbench.leaderboard.sources import (
    how_known,
    method_href,
    result_dirs,
    safe_name,
    submission_name,
    verification_runs,
)
from ntkbench.leaderboard.tables import as_dict, csv_frame, markdown_grid, markdown_table, md_cell
from ntkbench.orchestration.reproduce import published_for, registry
from ntkbench.results import iter_results, read_result, validate_record, write_bytes_atomic, write_text_atomic
from ntkbench.tasks import TASKS
from ntkbench.tasks.conformance import conformance, protocol_errors

__all__ = ["build_site", "load_many", "load_results", "safe_name"]


def load_many(dirs, *, rank_reduced: bool = False, discover: bool = True) -> tuple[list[dict], list[str]]:
    """(records, notes) of several result folders (`sources.result_dirs`: `dirs`, then, where
    `discover`, the `submissions/*/results` beside the first). A submission's rows carry its name
    in `_path` (`submissions/<name>/results/...`) and their verification status in `_known`."""
    records: list[dict] = []
    notes: list[str] = []
    for d in result_dirs(dirs, discover=discover):
        name = submission_name(d)
        recs, more = load_results(d, rank_reduced=rank_reduced, prefix=f"submissions/{name}/results/" if name else "")
        records += recs
        notes += more
    return records, notes


def load_results(results_dir, *, rank_reduced: bool = False, prefix: str = "") -> tuple[list[dict], list[str]]:
    """(records, notes) of one result folder. Each record gets `_path` (`prefix` + its path in the
    folder), `_problems` (validation), `_protocol` (full protocol or its deviations, recomputed from
    its config), `_reduced` (kept out of the ranking and shown apart, unless `rank_reduced`),
    `_submission` (the submission's name, None for reference runs) and `_known` (how the row is
    known: reference, or the submission's verification status)."""
    root = Path(results_dir)
    notes: list[str] = []
    if not root.is_dir():
        return [], [f"results directory {root} does not exist"]
    submission = submission_name(root)
    runs, problem = verification_runs(root) if submission else ({}, None)
    try:
        found = list(iter_results(root))
    except (OSError, ValueError):  # one bad file ends iter_results; read them one by one to find it
        found = []
        for path in sorted(p for p in root.rglob("*.json") if not p.name.startswith(".")):
            try:
                found.append((path, read_result(path)))
            except (OSError, ValueError) as e:
                where = prefix + path.relative_to(root).as_posix()
                notes.append(f"skipped unreadable result file {where}: {type(e).__name__}: {e}")
    records: list[dict] = []
    seen: dict[object, dict] = {}  # config_hash -> record
    for path, rec in found:
        inner = path.relative_to(root).as_posix()
        rel = prefix + inner
        if not isinstance(rec, dict) or not all(
            isinstance(rec.get(k), (str, int)) for k in ("task", "dataset", "method")
        ):
            notes.append(f"skipped {rel}: not a result record (needs task, dataset and method)")
            continue
        rec = dict(rec, _path=rel, _problems=validate_record(rec, rel) + protocol_errors(rec, rel))
        rec["_submission"] = submission
        rec["_known"] = how_known(submission, inner, runs, problem)
        if rec["_known"]["kind"] == "bad":  # a mismatch never reaches the board
            notes.append(f"{rel}: kept off the board: {rec['_known']['text']}")
            continue
        rec["_protocol"] = None if rec.get("derived") else conformance(rec)
        rec["_reduced"] = not rank_reduced and bool(rec["_protocol"]) and not rec["_protocol"]["full"]
        if "reproduce" not in rec:  # published numbers side by side, where the registry knows them
            rec["reproduce"] = _published_for(rec)
        if rec["_problems"]:
            notes.append(f"{rel}: " + "; ".join(p.removeprefix(f"{rel}: ") for p in rec["_problems"]))
        h = rec.get("config_hash")
        if isinstance(h, str) and h in seen:  # the same run twice (merged shards): keep the latest
            other = seen[h]
            notes.append(f"{rel} and {other['_path']} are the same run (config_hash {h}); showing the later one")
            if _start(rec) < _start(other):
                continue
            records.remove(other)
        seen[h] = rec
        records.append(rec)
    return records, notes


def figures(task: str, records: list[dict]) -> list:
    """The task's own charts (its `figures` hook) of the records without validation problems
    (those are listed in the tables, marked, but never plotted); none for a task this machine
    does not have."""
    valid = [r for r in records if not r.get("_problems")]
    return TASKS.get(task).figures(valid) if task in TASKS and valid else []


def _published_for(rec: dict) -> list[dict]:
    try:
        return published_for(rec)
    except Exception:  # the side-by-side column must never stop the build
        return []


def _start(rec: dict) -> str:
    return str(as_dict(rec.get("provenance")).get("start_time") or "")


def _version_key(v):
    return (0, v, "") if isinstance(v, (int, float)) else (1, 0, str(v))


def sections_of(task: str, records: list[dict]) -> list[dict]:
    """One section per task_version, then one per version of derived results."""
    out = []
    for derived in (False, True):
        recs = [r for r in records if bool(r.get("derived")) == derived]
        for v in sorted({r.get("task_version") for r in recs}, key=_version_key):
            vrecs = [r for r in recs if r.get("task_version") == v]
            title = f"{'Derived results — ' if derived else ''}{task} task_version {v}"
            unplotted = [str(r.get("method")) for r in vrecs if r.get("_problems")]
            out.append(
                {
                    "title": title,
                    "version": v,
                    "records": vrecs,
                    "figures": figures(task, vrecs),
                    "unplotted": unplotted,
                }
            )
    return out


def markdown_section(section: dict) -> str:
    """A section of the Markdown twin: its results table, then the charts the page shows as tables
    (each with its caption)."""
    out = f"## {section['title']}\n\n{markdown_table(section['records'])}\n"
    if section.get("published"):
        out += (
            "\n### Published numbers (not runs of ours, not ranked)\n\n"
            + published.markdown_rows(section["published"])
            + "\n"
        )
    for chart in map(pages.single_x_as_table, section["figures"]):
        if chart.kind == "table" and chart.table is not None and chart.table.rows:
            grid = markdown_grid(chart.table.columns, chart.table.rows)
            out += f"\n### {md_cell(chart.title)}\n\n{grid}\n" + (
                f"\n{md_cell(chart.caption)}\n" if chart.caption else ""
            )
    return out


def _best(task: str, sections: list[dict]) -> dict | None:
    """The best run of the newest task version (runs first, derived results where there are none)."""
    for s in sorted(sections, key=lambda s: (s["title"].startswith("Derived"), _neg(_version_key(s["version"])))):
        if (best := pages.best_of(task, s["records"])) is not None:
            return best
    return None


def _neg(key: tuple) -> tuple:
    kind, num, text = key
    return (kind, -num if isinstance(num, (int, float)) else 0, text)


def build_site(results_dir, out_dir, *, rank_reduced: bool = False, submissions: bool = True) -> Path:
    """The static site of one result folder or several (`results_dir`: a path or a list; with
    `submissions`, also every `submissions/*/results` beside the first, see `load_many`); each
    section ranks its full-protocol runs and lists the runs at a reduced budget apart, each with
    its deviations (`rank_reduced`: rank them all together). One page per method as well."""
    records, notes = load_many(results_dir, rank_reduced=rank_reduced, discover=submissions)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    groups: dict[tuple[str, str], list[dict]] = {}
    for rec in records:
        groups.setdefault((str(rec["task"]), str(rec["dataset"])), []).append(rec)
    summary = []
    placed: list[dict] = []
    entries = _published_entries()
    shown: list[dict] = []  # the published numbers some page shows
    # the claims about the pages shown, tested on the reference results (the first folder given)
    reference = result_dirs(results_dir, discover=False)[0]
    hrefs = {f"{safe_name(t)}--{safe_name(d)}.html" for t, d in groups}
    tested, problem = verdicts.evaluated_claims(reference, hrefs)
    claims = [verdicts.claim_row(r) for r in tested]
    page_sections: dict[str, list[dict]] = {}
    for (task, dataset), recs in sorted(groups.items()):
        stem = f"{safe_name(task)}--{safe_name(dataset)}"
        sections = sections_of(task, recs)
        page_sections[f"{stem}.html"] = sections
        top = methods.headline_section(sections)
        if top is not None and not top["title"].startswith("Derived"):  # published rows: in the newest runs' table
            top["published"] = published.applicable(entries, task, dataset)
            shown += top["published"]
        page_notes = [n for n in notes if any(n.startswith(r["_path"]) or f" {r['_path']}" in n for r in recs)]
        # Every file is written whole or not at all (a full disk keeps the previous page intact).
        write_text_atomic(
            out / f"{stem}.html",
            pages.task_page(
                task,
                dataset,
                sections,
                page_notes,
                (f"{stem}.csv", f"{stem}.md"),
                [c for c in claims if c["href"] == f"{stem}.html"],
            ),
        )
        csv_text = csv_frame([(s["title"], s["records"]) for s in sections]).to_csv(index=False)
        write_bytes_atomic(out / f"{stem}.csv", csv_text.encode("utf-8"))  # bytes: as to_csv(path) wrote them
        md = [f"# {task} on {dataset}\n"] + [markdown_section(s) for s in sections]
        write_text_atomic(out / f"{stem}.md", "\n".join(md))
        placed += methods.placements(task, dataset, f"{stem}.html", sections)
        summary.append(
            {
                "task": task,
                "dataset": dataset,
                "href": f"{stem}.html",
                "versions": sorted({r.get("task_version") for r in recs}, key=_version_key),
                "ok": sum(1 for r in recs if r.get("status") == "ok" and not r.get("derived")),
                "failed": sum(1 for r in recs if r.get("status") != "ok" and not r.get("derived")),
                "derived": sum(1 for r in recs if r.get("derived")),
                "methods": sorted({str(r.get("method")) for r in recs}),
                "last_run": max((_start(r) for r in recs), default="") or None,
                "best": _best(task, sections),
            }
        )
    for name in sorted({p["method"] for p in placed} | {str(e["method"]) for e in shown}):
        write_text_atomic(out / method_href(name), pages.method_page(methods.method_view(name, placed, entries)))
    index = out / "index.html"
    n_files = len(records) + sum(1 for n in notes if n.startswith("skipped"))
    notes += [problem] if problem else []
    if tested:  # each claim's statistic and evidence, linked to the task pages just written
        write_text_atomic(out / verdicts.CLAIMS_PAGE, claims_page(tested, reference, out, page_sections))
    write_text_atomic(index, pages.index_page(summary, notes, n_files, methods.matrix(placed), claims))
    return index


def _published_entries() -> list[dict]:
    try:
        return registry()
    except Exception:  # a registry that fails to load must not stop the build
        return []
