"""HTML page templates. Every value that came from a result file passes through `esc`.

Pages are self-contained: inline CSS, one small inline sorter script allowed by its hash in a
Content-Security-Policy, inline SVG; no external assets.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
from pathlib import Path

from ntkbench.leaderboard.tables import (as_dict, budget_summary, flags_of, fmt_num, metric_cell,
                                        metric_names, params_summary, reproduce_entries, reproduce_text,
                                        row_key)

CSS = Path(__file__).with_name("style.css").read_text()

# Click a header (or open page.html#sort=<table id>:<column>[:desc]) to sort; each record is one
# <tbody>, so its row and its details row move together.
SORTER_JS = """
(function () {
  function key(tbody, i) {
    var cell = tbody.rows[0].cells[i];
    var v = cell ? (cell.getAttribute('data-sort') !== null ? cell.getAttribute('data-sort') : cell.textContent.trim()) : '';
    var n = Number(v);
    return v === '' ? null : (isNaN(n) ? v.toLowerCase() : n);
  }
  function sortBy(table, i, th) {
    var asc = th.getAttribute('aria-sort') !== 'ascending';
    var bodies = Array.prototype.slice.call(table.tBodies);
    bodies.sort(function (a, b) {
      var x = key(a, i), y = key(b, i);
      if (x === null || y === null) { return x === y ? 0 : (x === null ? 1 : -1); }
      if (typeof x !== typeof y) { x = String(x); y = String(y); }
      return (x < y ? -1 : x > y ? 1 : 0) * (asc ? 1 : -1);
    });
    bodies.forEach(function (b) { table.appendChild(b); });
    Array.prototype.forEach.call(th.parentNode.cells, function (c) { c.setAttribute('aria-sort', 'none'); });
    th.setAttribute('aria-sort', asc ? 'ascending' : 'descending');
    try { history.replaceState(null, '', '#sort=' + table.id + ':' + i + (asc ? '' : ':desc')); } catch (e) {}
  }
  Array.prototype.forEach.call(document.querySelectorAll('table.sortable'), function (table) {
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th, i) {
      th.setAttribute('aria-sort', 'none');
      th.tabIndex = 0;
      th.addEventListener('click', function () { sortBy(table, i, th); });
      th.addEventListener('keydown', function (e) { if (e.key === 'Enter') { sortBy(table, i, th); } });
    });
    table.setAttribute('data-sorter', 'ready');
  });
  // a link may carry the sort state: page.html#sort=<table id>:<column>[:desc]
  var m = /^#sort=([A-Za-z0-9_-]+):([0-9]+)(:desc)?$/.exec(location.hash);
  var t = m && document.getElementById(m[1]);
  var th = t && t.tHead && t.tHead.rows[0].cells[Number(m[2])];
  if (th) { sortBy(t, Number(m[2]), th); if (m[3]) { sortBy(t, Number(m[2]), th); } }
})();
"""
_SCRIPT_HASH = base64.b64encode(hashlib.sha256(SORTER_JS.encode()).digest()).decode()
CSP = f"default-src 'none'; img-src data:; style-src 'unsafe-inline'; script-src 'sha256-{_SCRIPT_HASH}'; base-uri 'none'; form-action 'none'"


def esc(x) -> str:
    return html.escape("" if x is None else str(x), quote=True)


def page(title: str, body: str, *, crumbs: str = "") -> str:
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f'<meta http-equiv="Content-Security-Policy" content="{esc(CSP)}">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{esc(title)}</title><style>{CSS}</style></head>\n<body>"
            f"<nav>{crumbs}</nav>\n{body}\n<script>{SORTER_JS}</script>\n</body></html>\n")


def notes_html(notes: list[str]) -> str:
    return "".join(f'<div class="note">{esc(n)}</div>' for n in notes)


def badge(text: str, kind: str, title: str = "") -> str:
    t = f' title="{esc(title)}"' if title else ""
    return f'<span class="badge {kind}"{t}>{esc(text)}</span>'


_GOOD = ("pass", "passed", "ok", "reproduced", "match", "matches", "within", "agree", "agrees")
_BAD = ("fail", "failed", "not reproduced", "mismatch", "outside", "differs", "disagree")


def verdict_badge(verdict) -> str:
    v = str(verdict).strip().lower()
    kind = "good" if v in _GOOD else "bad" if v in _BAD else "neutral"
    return badge(str(verdict), kind)


# -- index ----------------------------------------------------------------------------------------

def index_page(groups: list[dict], notes: list[str], n_files: int) -> str:
    """groups: dicts with task, dataset, href, versions, ok, failed, derived, methods, last_run."""
    body = [f"<h1>ntkbench leaderboard</h1><p class='muted'>{n_files} result file(s); "
            f"one page per task and dataset, tables split by task version.</p>", notes_html(notes)]
    if not groups:
        body.append("<p>No results found.</p>")
    for task in sorted({g["task"] for g in groups}):
        body.append(f'<h2 id="{esc(task)}">{esc(task)}</h2><table class="sortable"><thead><tr>'
                    "<th>dataset</th><th>task versions</th><th>results</th><th>ok</th><th>failed</th>"
                    "<th>derived</th><th>methods</th><th>last run</th></tr></thead>")
        for g in (g for g in groups if g["task"] == task):
            body.append(
                f'<tbody><tr><td><a href="{esc(g["href"])}">{esc(g["dataset"])}</a></td>'
                f'<td>{esc(", ".join(map(str, g["versions"])))}</td><td class="num">{g["ok"] + g["failed"] + g["derived"]}</td>'
                f'<td class="num">{g["ok"]}</td><td class="num">{g["failed"]}</td><td class="num">{g["derived"]}</td>'
                f'<td class="small">{esc(", ".join(g["methods"]))}</td><td>{esc(g["last_run"] or "—")}</td></tr></tbody>')
        body.append("</table>")
    return page("ntkbench leaderboard", "\n".join(body), crumbs="ntkbench leaderboard")


# -- task/dataset page ----------------------------------------------------------------------------

def task_page(task: str, dataset: str, sections: list[dict], notes: list[str], twins: tuple[str, str]) -> str:
    """sections: dicts with title, version, records, figures (SVG strings, already escaped)."""
    csv_name, md_name = twins
    body = [f"<h1>{esc(task)} <span class='version'>on</span> {esc(dataset)}</h1>",
            f'<p>Download: <a href="{esc(csv_name)}">CSV</a> · <a href="{esc(md_name)}">Markdown</a>. '
            "Metrics are mean ± std over seeds (accuracies in %); hover a cell for the per-seed values, "
            "click a header to sort, open a row's details for provenance and full parameters.</p>",
            notes_html(notes)]
    for i, s in enumerate(sections):
        body.append(f'<h2>{esc(s["title"])}</h2>')
        if s["figures"]:
            body.append('<div class="figs">' + "".join(s["figures"]) + "</div>")
        body.append(f'<div class="scroll">{record_table(s["records"], f"t{i}")}</div>')
    crumbs = f'<a href="index.html">leaderboard</a> › {esc(task)} › {esc(dataset)}'
    return page(f"{task} — {dataset} — ntkbench", "\n".join(body), crumbs=crumbs)


HEAD = ("method", "status", "origin", "method version", "seeds", "params", "budget")


def record_table(records: list[dict], table_id: str) -> str:
    names = metric_names(records)
    heads = [*HEAD, *names, "published"]
    out = [f'<table class="sortable" id="{table_id}"><thead><tr>'
           + "".join(f"<th>{esc(h)}</th>" for h in heads) + "</tr></thead>"]
    for rec in sorted(records, key=row_key):
        out.append(record_rows(rec, names, len(heads)))
    out.append("</table>")
    return "\n".join(out)


def record_rows(rec: dict, names: list[str], ncols: int) -> str:
    metrics = as_dict(rec.get("metrics"))
    status = str(rec.get("status"))
    badges = "".join(badge("⚠ " + f, "warn", "reliability flag: " + f) for f in flags_of(rec))
    badges += "".join(badge("⚠ invalid", "warn", p) for p in rec.get("_problems", [])[:1])
    if rec.get("_problems"):
        badges += f'<div class="err">{esc("; ".join(rec["_problems"]))}</div>'
    error = str(rec.get("error") or "")
    error = error if len(error) <= 300 else error[:299] + "… (full text in details)"
    err = f'<div class="err">{esc(error)}</div>' if status != "ok" and error else ""
    cells = [f"<td>{esc(rec.get('method'))}{badges}</td>",
             f'<td data-sort="{esc(status)}">{badge(status, "ok" if status == "ok" else "failed")}{err}</td>',
             f"<td>{esc(rec.get('method_origin'))}</td>",
             f"<td>{esc(rec.get('method_version'))}</td>",
             f'<td class="num">{esc(rec.get("seeds"))}</td>',
             f'<td class="small">{esc(params_summary(rec.get("params")))}</td>',
             f'<td class="small">{esc(budget_summary(rec.get("budget")))}</td>']
    for n in names:
        text, sort = metric_cell(n, metrics.get(n))
        per_seed = as_dict(metrics.get(n)).get("per_seed")
        tip = f' title="per seed: {esc(", ".join(fmt_num(v) for v in per_seed))}"' if isinstance(per_seed, list) else ""
        cells.append(f'<td class="num" data-sort="{"" if sort is None else sort!r}"{tip}>{esc(text)}</td>')
    pub = "".join(f"<div>{esc(reproduce_text(e))} {verdict_badge(e.get('verdict'))}"
                  + (f' <span class="muted">({esc(e.get("source"))})</span>' if e.get("source") else "")
                  + "</div>" for e in reproduce_entries(rec))
    cells.append(f'<td class="small">{pub}</td>')
    cls = "rec" + ("" if status == "ok" else " failed")
    return (f'<tbody class="{cls}"><tr>{"".join(cells)}</tr>'
            f'<tr class="details"><td colspan="{ncols}">{details(rec)}</td></tr></tbody>')


PROV_FIRST = ("backend", "device", "versions", "git_commit", "ntkbench_version", "wall_seconds",
              "compile_seconds", "start_time")


def details(rec: dict) -> str:
    prov = as_dict(rec.get("provenance"))
    keys = [k for k in PROV_FIRST if k in prov] + sorted((k for k in prov if k not in PROV_FIRST), key=str)
    items = []
    for k in keys:
        v = prov[k]
        if isinstance(v, dict):
            v = ", ".join(f"{a} {b}" for a, b in v.items())
        items.append((k, v))
    items += [("config_hash", rec.get("config_hash")), ("dataset_fingerprint", rec.get("dataset_fingerprint")),
              ("root_seed", rec.get("root_seed")), ("suite", rec.get("suite")), ("file", rec.get("_path"))]
    dl = "".join(f"<dt>{esc(k)}</dt><dd>{esc(v)}</dd>" for k, v in items if v is not None)
    blocks = [("params", rec.get("params")), ("budget", rec.get("budget"))]
    if rec.get("status") != "ok" and rec.get("error"):
        blocks.append(("error", rec.get("error")))
    if flags_of(rec):
        blocks.append(("flags", flags_of(rec)))
    pre = "".join(f"<div><b>{esc(t)}</b><pre>{esc(v if isinstance(v, str) else _pretty(v))}</pre></div>"
                  for t, v in blocks)
    return f"<details><summary>provenance &amp; full params</summary><dl>{dl}</dl>{pre}</details>"


def _pretty(v) -> str:
    return json.dumps(v, indent=1, sort_keys=True, default=str)
