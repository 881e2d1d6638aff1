"""Result records -> table rows, pandas frames (CSV) and Markdown.

Nothing here escapes for HTML; `pages.py` does that at the point of output. Markdown cells are
escaped here (HTML entities and pipes), since Markdown renderers pass raw HTML through.
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Sequence
from typing import Any

import pandas as pd

from ntkbench.charts import as_dict, compact, is_number
from ntkbench.results import censored_text
from ntkbench.tasks import TASKS
from ntkbench.tasks.conformance import deviation_line


def natural_key(s: str) -> list:
    return [
        (0, float(t), "") if re.fullmatch(r"\d+(\.\d+)?", t) else (1, 0.0, t)
        for t in re.split(r"(\d+(?:\.\d+)?)", s)
        if t
    ]


def decimals(x: float) -> int:
    a = abs(x)
    return 0 if a >= 1000 else 2 if a >= 0.1 or a < 1e-9 else min(6, 1 - math.floor(math.log10(a)) + 1)


def fmt_num(x: Any, digits: int | None = None) -> str:
    if not is_number(x):
        return "—"
    d = decimals(x) if digits is None else digits
    return f"{round(x, d) + 0.0:.{d}f}"  # + 0.0: no "-0.00"


def is_scalar_metric(m: Any) -> bool:
    return isinstance(m, dict) and (m.get("mean") is None or is_number(m.get("mean")))


def metric_names(records: list[dict]) -> list[str]:
    """Scalar metrics (mean is a number or missing) over `records`, in natural order."""
    names = {k for r in records for k, m in as_dict(r.get("metrics")).items() if is_scalar_metric(m)}
    return sorted(names, key=natural_key)


def missing_text(task: str | None, name: str) -> str:
    """What a null mean reads as, from the task's metric spec (e.g. n* not reached: "> n_max")."""
    spec = TASKS.get(task).metric_spec(name) if task is not None and task in TASKS else None
    return spec.missing if spec else "—"


def spec_of(task: object, name: str):
    return TASKS.get(task).metric_spec(name) if isinstance(task, str) and task in TASKS else None


def grid_of(rec: dict | None) -> list[float]:
    """The record's grid of training-set sizes: its `grid`, else its budget's `n`."""
    rec = rec or {}
    for g in (rec.get("grid"), as_dict(rec.get("budget")).get("n")):
        if isinstance(g, list) and g and all(is_number(v) for v in g):
            return sorted(float(v) for v in g)
    return []


def is_n_star(name: str) -> bool:
    return str(name).startswith("n_star@")


def n_seeds(m: Any, rec: dict | None = None) -> int | None:
    """How many seeds a metric's mean is over: its finite per-seed values, else the record's seeds."""
    per_seed = as_dict(m).get("per_seed")
    if isinstance(per_seed, list) and per_seed and not any(isinstance(v, list) for v in per_seed):
        return sum(1 for v in per_seed if is_number(v))
    seeds = (rec or {}).get("seeds")
    return seeds if isinstance(seeds, int) and not isinstance(seeds, bool) else None


def metric_cell(name: str, m: Any, task: str | None = None, rec: dict | None = None) -> tuple[str, float | None]:
    """('mean ± std', sort value) for one metric of one record. A schema-3 censored metric reads as
    `censored_text` ("> 10 000 (1 of 3 seeds)"), a deterministic one without a spread. Older files,
    censored n*: a null mean reads
    "> n_max" (with the grid's largest n where the record has a grid), a mean at the grid's smallest
    n "≤ n_min"; a mean over one seed reads "(1 seed)" instead of "± 0.00"."""
    if not is_scalar_metric(m):
        return "", None
    mean, std = m.get("mean"), m.get("std")
    grid = grid_of(rec) if is_n_star(name) else []
    censoring = as_dict(m.get("censored"))
    if censoring:  # schema 3 says how: never a mean of the seeds that got there
        if censoring.get("bound") is None and grid and censoring.get("side") == "above":
            m = {**m, "censored": {**censoring, "bound": grid[-1]}}  # n* not reached: by the grid's n_max
        return censored_text(m, missing_text(task, name)) or "", (float(mean) if is_number(mean) else None)
    if m.get("deterministic") and is_number(mean):
        return f"{fmt_num(mean, decimals(mean))} (deterministic)", float(mean)
    spec = spec_of(task, name)
    if spec is not None and spec.per_run and is_number(mean):  # not a seed statistic: no spread
        return f"{fmt_num(mean, decimals(mean))} (once per run)", float(mean)
    if not is_number(mean):
        if grid:
            return f"> {compact_num(grid[-1])}", None
        return missing_text(task, name), None
    if grid and mean <= grid[0] * (1 + 1e-9):
        return f"≤ {compact_num(grid[0])}", float(mean)
    d = decimals(mean)
    if n_seeds(m, rec) == 1:
        return f"{fmt_num(mean, d)} (1 seed)", float(mean)
    text = fmt_num(mean, d) + (f" ± {fmt_num(std, d)}" if is_number(std) else "")
    return text, float(mean)


def compact_num(x: float) -> str:
    return f"{x:g}" if abs(x) < 1e6 else f"{x:.3g}"


def metric_tip(m: Any) -> str | None:
    """Hover text: the per-seed values, and the 95% confidence half-width where the file has `ci95`."""
    m = as_dict(m)
    per_seed, ci = m.get("per_seed"), m.get("ci95")
    parts = []
    if isinstance(per_seed, list) and not any(isinstance(v, list) for v in per_seed):
        parts.append("per seed: " + ", ".join(fmt_num(v) for v in per_seed))
    if is_number(ci):
        parts.append(f"95% CI ± {fmt_num(ci)}")
    elif isinstance(ci, list) and len(ci) == 2 and all(is_number(v) for v in ci):
        parts.append(f"95% CI [{fmt_num(ci[0])}, {fmt_num(ci[1])}]")
    return "; ".join(parts) or None


# -- ranking --------------------------------------------------------------------------------------


def metrics_of(rec: dict) -> dict:
    return as_dict(rec.get("metrics"))


def headline_name(task: object, records: list[dict]) -> str | None:
    """The metric a section is ranked by: among the metrics matching a headline spec of the task,
    the one present in all finished rows (else in the most), then measured (not censored) in the
    most, then with the largest parameter (e.g. `test_acc@n=<n>` at the largest n every row has,
    `steps_to@<target>` at the highest target most rows reached)."""
    rows = [r for r in records if r.get("status") == "ok"]
    names = {
        k
        for r in rows
        for k, m in metrics_of(r).items()
        if is_scalar_metric(m) and (spec := spec_of(task, k)) is not None and spec.headline
    }
    if not names:
        return None
    count = {n: sum(1 for r in rows if n in metrics_of(r)) for n in names}
    valued = {n: sum(1 for r in rows if is_number(as_dict(metrics_of(r).get(n)).get("mean"))) for n in names}
    return max(names, key=lambda n: (count[n], valued[n], natural_key(n)))


def is_reduced(rec: dict) -> bool:
    """Not ranked with full-protocol runs (`load_results` sets `_reduced` from the conformance)."""
    return bool(rec.get("_reduced"))


def deviations_text(rec: dict) -> str:
    """ "full protocol", "reduced: eval_epochs 50 of 300, seeds 1 of 3", or "" (not known here)."""
    protocol = rec.get("_protocol")
    return deviation_line(protocol) if isinstance(protocol, dict) else ""


def ranking(task: object, records: list[dict]) -> dict:
    """{"metric", "higher" (True/False/None), "rows": [{"rec", "rank", "best", "reduced"}]}:
    finished, valid, full-protocol runs with a value ranked by the headline metric in its direction
    (ties share a rank); censored values ("> n_max") after them; failed, invalid or unmeasured runs
    unranked; then, unranked and apart, the runs at a reduced budget (`is_reduced`)."""
    reduced = sorted((r for r in records if is_reduced(r)), key=row_key)
    records = [r for r in records if not is_reduced(r)]
    name = headline_name(task, records or reduced)
    spec = spec_of(task, name) if name else None
    higher = spec.higher_is_better if spec else None
    valued: list[tuple[float, dict]] = []
    censored: list[dict] = []
    rest: list[dict] = []
    for rec in sorted(records, key=row_key):
        m = metrics_of(rec).get(name) if name else None
        ok = rec.get("status") == "ok" and not rec.get("_problems") and is_scalar_metric(m)
        if ok and is_number(as_dict(m).get("mean")):
            valued.append((float(as_dict(m)["mean"]), rec))
        elif ok and (
            "censored" in as_dict(m) or is_n_star(str(name)) or (spec is not None and spec.missing not in ("", "—"))
        ):
            censored.append(rec)
        else:
            rest.append(rec)
    valued.sort(key=lambda t: -t[0] if higher in (True, None) else t[0])
    rows, prev, rank = [], None, 0
    for i, (v, rec) in enumerate(valued):
        rank = rank if v == prev else i + 1
        prev = v
        rows.append({"rec": rec, "rank": rank, "best": rank == 1 and higher is not None, "reduced": False})
    rows += [{"rec": rec, "rank": len(valued) + 1, "best": False, "reduced": False} for rec in censored]
    rows += [{"rec": rec, "rank": None, "best": False, "reduced": False} for rec in rest]

    # reduced runs: unranked, but in the headline's order (runs without a value last)
    def order(rec: dict) -> tuple:
        m = as_dict(metrics_of(rec).get(name)) if name else {}
        v = m.get("mean") if rec.get("status") == "ok" else None
        return (not is_number(v), -v if is_number(v) and higher in (True, None) else (v if is_number(v) else 0))

    rows += [{"rec": rec, "rank": None, "best": False, "reduced": True} for rec in sorted(reduced, key=order)]
    return {"metric": name, "higher": higher, "rows": rows}


def budget_summary(budget: Any) -> str:
    if not isinstance(budget, dict):
        return "" if budget is None else compact(budget)
    parts = []
    for k in sorted(budget, key=str):
        v = budget[k]
        if v is None:
            continue
        if isinstance(v, list) and len(v) > 3 and all(is_number(t) for t in v):
            parts.append(f"{k}={compact(v[0])}…{compact(v[-1])} ({len(v)})")
        elif isinstance(v, list):
            parts.append(f"{k}=" + ",".join(compact(t) for t in v))
        else:
            parts.append(f"{k}={compact(v)}")
    return ", ".join(parts)


def params_summary(params: Any) -> str:
    if not isinstance(params, dict):
        return "" if params is None else compact(params)
    return ", ".join(f"{k}={compact(params[k])}" for k in sorted(params, key=str))


def reproduce_entries(rec: dict) -> list[dict]:
    r = rec.get("reproduce")
    items = r if isinstance(r, list) else [r]
    return [x for x in items if isinstance(x, dict)]


def reproduce_text(entry: dict) -> str:
    tol = entry.get("tolerance")
    name = f"{entry['name']}: " if entry.get("name") not in (None, "") else ""
    text = f"{name}published {fmt_num(entry.get('published'))} vs measured {fmt_num(entry.get('measured'))}" + (
        f" (tol ±{fmt_num(tol)})" if is_number(tol) else ""
    )
    return text


def flags_of(rec: dict) -> list[str]:
    f = rec.get("flags")
    return [str(x) for x in f] if isinstance(f, list) else ([str(f)] if f else [])


def row_key(rec: dict) -> tuple:
    return (
        str(rec.get("method")),
        compact(rec.get("params")),
        compact(rec.get("budget")),
        str(rec.get("method_version")),
        str(rec.get("config_hash")),
    )


def rows(records: list[dict], names: list[str]) -> list[dict]:
    """One flat row per record (sorted by method, params, budget); metrics as mean/std pairs; the
    rank and how the row is known as the page shows them, so the twins carry every number the
    page does."""
    task = records[0].get("task") if records else None
    rank_of = {id(r["rec"]): r["rank"] for r in ranking(task, records)["rows"]} if records else {}
    out = []
    for rec in sorted(records, key=row_key):
        prov = as_dict(rec.get("provenance"))
        metrics = as_dict(rec.get("metrics"))
        row = {
            "rank": rank_of.get(id(rec)),
            "known": str(as_dict(rec.get("_known")).get("text") or ""),
            "task_version": rec.get("task_version"),
            "method": str(rec.get("method")),
            "origin": str(rec.get("method_origin")),
            "method_version": str(rec.get("method_version")),
            "seeds": rec.get("seeds"),
            "params": params_summary(rec.get("params")),
            "budget": budget_summary(rec.get("budget")),
            "protocol": deviations_text(rec),
        }
        for n in names:
            m = metrics.get(n)
            row[n] = metric_cell(n, m, rec.get("task"), rec)[0]
            row[f"{n} mean"] = as_dict(m).get("mean") if is_scalar_metric(m) else None
            row[f"{n} std"] = as_dict(m).get("std") if is_scalar_metric(m) else None
        row["status"] = str(rec.get("status"))
        row["error"] = "" if rec.get("error") is None else str(rec.get("error"))
        row["flags"] = "; ".join(flags_of(rec))
        entries = reproduce_entries(rec)
        row["published"] = "; ".join(reproduce_text(e) for e in entries)
        row["published source"] = "; ".join(str(e.get("source") or "") for e in entries)
        row["verdict"] = "; ".join(str(e.get("verdict")) for e in entries)
        row["start_time"] = prov.get("start_time")
        row["git_commit"] = prov.get("git_commit")
        row["config_hash"] = rec.get("config_hash")
        out.append(row)
    return out


def csv_frame(sections: list[tuple[str, list[dict]]]) -> pd.DataFrame:
    """All sections of a page in one frame; `task_version` and `table` columns keep them apart."""
    frames = []
    for title, recs in sections:
        names = metric_names(recs)
        df = pd.DataFrame(rows(recs, names))
        df = df.drop(columns=names)  # the CSV carries numeric mean/std columns instead of text
        df.insert(0, "table", title)
        frames.append(df)
    frame = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    frame.columns = [csv_safe(c) for c in frame.columns]  # metric names come from result files too
    # Text (and mixed) columns cell by cell; numeric columns stay numeric, negative numbers included.
    return frame.apply(lambda col: col if pd.api.types.is_numeric_dtype(col) else col.map(csv_safe))


# A cell starting with one of these is a formula to a spreadsheet (OWASP, "CSV Injection").
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
PLAIN_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")


def csv_safe(x: Any) -> Any:
    """A text cell that a spreadsheet would run as a formula (from a method name, an error message,
    any text of a submitted result file), prefixed with a single quote, as OWASP advises; numbers,
    and text that is only a number ("-0.5", which a spreadsheet reads as that number), unchanged."""
    if isinstance(x, str) and x.startswith(FORMULA_START) and not PLAIN_NUMBER.fullmatch(x):
        return "'" + x
    return x


MD_COLUMNS = ("rank", "method", "status", "known", "origin", "method_version", "seeds", "params", "budget", "protocol")


def markdown_table(recs: list[dict]) -> str:
    names = metric_names(recs)
    cols = [*MD_COLUMNS, *names, "published", "published source", "verdict", "flags"]
    cells = []
    for row in rows(recs, names):
        if row["status"] != "ok":
            row["status"] = f"{row['status']}: {row['error']}"
        cells.append([row[c] for c in cols])
    return markdown_grid(cols, cells)


def markdown_grid(columns: Sequence[Any], cells: Sequence[Sequence[Any]]) -> str:
    """A Markdown table of escaped cells (a chart's `Table`, or the rows of the results table)."""
    lines = ["| " + " | ".join(md_cell(c) for c in columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(md_cell(c) for c in row) + " |" for row in cells]
    return "\n".join(lines)


def md_cell(x: Any) -> str:
    s = "" if x is None else str(x)
    s = html.escape(" ".join(s.split()), quote=True)
    return s.replace("|", "\\|").replace("`", "&#96;")
