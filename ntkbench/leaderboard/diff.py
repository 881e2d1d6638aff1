"""`ntkbench leaderboard --diff BASE`: what a change of result files does to the board, in Markdown.

    report = diff_report([Path("results")], [Path("base/results")])

Both sides are read as the board reads them (`load_many`: the folders given and the
`submissions/*/results` beside the first) and ranked by the board's own `tables.ranking`, one table
per (task, dataset, task_version). The report lists the rows that are new (with their rank), the
rows whose rank or headline value moved, and the rows that are gone, each with how it is known (the
board's `_known`: reference, or its submission's verification.json) and its protocol (full or
reduced, with the deviations).
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ntkbench.leaderboard import load_many, load_results
from ntkbench.leaderboard.tables import (
    as_dict,
    deviations_text,
    headline_name,
    md_cell,
    metric_cell,
    params_summary,
    ranking,
)

TableKey = tuple[str, str, Any]  # (task, dataset, task_version)


def board(records: list[dict]) -> dict[TableKey, dict[str, dict]]:
    """{table: {row (its file's `_path`): {"rec", "rank", "value", "text", "metric"}}}, ranked by
    `tables.ranking` (derived results stay off: they are not ranked on the board either)."""
    tables: dict[TableKey, list[dict]] = {}
    for rec in records:
        if not rec.get("derived"):
            tables.setdefault((str(rec["task"]), str(rec["dataset"]), rec.get("task_version")), []).append(rec)
    out: dict[TableKey, dict[str, dict]] = {}
    for key, recs in tables.items():
        ranked = ranking(key[0], recs)
        name = ranked["metric"]
        rows = {}
        for row in ranked["rows"]:
            rec = row["rec"]
            text, value = metric_cell(name, as_dict(rec.get("metrics")).get(name), key[0], rec) if name else ("", None)
            rows[_row_id(rec)] = {"rec": rec, "rank": row["rank"], "value": value, "text": text, "metric": name}
            if not text and row["reduced"]:  # a reduced run may lack the table's metric: show its own
                own = headline_name(key[0], [rec])
                own_text = metric_cell(own, as_dict(rec.get("metrics")).get(own), key[0], rec)[0] if own else ""
                rows[_row_id(rec)]["shown"] = f"{own} {own_text}" if own_text else ""
        out[key] = rows
    return out


def _row_id(rec: dict) -> str:
    return str(rec.get("_path"))  # the board shows one row per file (submissions/<name>/results/... apart)


def diff_report(
    new_folders: Sequence[Path], base_folders: Sequence[Path], *, rank_reduced: bool = False, discover: bool = True
) -> str:
    """The Markdown report of the board built from `new_folders` against the one from `base_folders`
    (with `discover`, each side also reads the `submissions/*/results` beside its first folder)."""
    new, _ = load_many(list(new_folders), rank_reduced=rank_reduced, discover=discover)
    base, _ = load_many(list(base_folders), rank_reduced=rank_reduced, discover=discover)
    return diff_records(new, base)


def submission_report(board_folders: Sequence[Path], folder: Path, runs: set[str]) -> str:
    """The report of what the submission `folder` adds to the board of `board_folders` (and the
    submissions beside them). Its own runs (config hashes `runs`) are left out of the board it is
    compared with, wherever they lie: in another copy of this submission, or in the submitter's
    `results/`, where `ntkbench run` wrote them."""
    base, _ = load_many([Path(f) for f in board_folders if Path(f).is_dir()], discover=True)
    base = [
        rec
        for rec in base
        if rec.get("_submission") != folder.name
        and not (rec.get("_submission") is None and rec.get("config_hash") in runs)
    ]
    added, _ = load_results(folder / "results", prefix=f"submissions/{folder.name}/results/")
    return diff_records(base + added, base)


def diff_records(new: list[dict], base: list[dict]) -> str:
    """The report of two boards' records (as `load_many` gives them)."""
    new_board, base_board = board(new), board(base)
    added, moved, removed = [], [], []
    for key in sorted(set(new_board) | set(base_board), key=lambda k: (k[0], k[1], str(k[2]))):
        after, before = new_board.get(key, {}), base_board.get(key, {})
        for rid, row in after.items():
            if rid not in before:
                added.append((key, row))
            elif _moved(before[rid], row):
                moved.append((key, before[rid], row))
        removed += [(key, row) for rid, row in before.items() if rid not in after]
    lines = ["## Leaderboard changes", ""]
    lines.append(f"{len(added)} new row{'' if len(added) == 1 else 's'}, {len(moved)} moved, {len(removed)} removed.")
    if added:
        lines += ["", "### New rows", ""]
        lines += _grid(
            ["table", "row", "rank", "headline", "protocol", "verification"],
            [[_table(k), _label(r), _rank(r), _value(r), _protocol(r), _verification(r)] for k, r in added],
        )
    if moved:
        lines += ["", "### Moved rows", ""]
        lines += _grid(
            ["table", "row", "rank", "headline", "protocol", "verification"],
            [
                [
                    _table(k),
                    _label(a),
                    f"{_rank(b)} → {_rank(a)}",
                    f"{_value(b)} → {_value(a)}",
                    _protocol(a),
                    _verification(a),
                ]
                for k, b, a in moved
            ],
        )
    if removed:
        lines += ["", "### Removed rows", ""]
        lines += _grid(
            ["table", "row", "rank before", "headline before", "protocol"],
            [[_table(k), _label(r), _rank(r), _value(r), _protocol(r)] for k, r in removed],
        )
    return "\n".join(lines) + "\n"


def _moved(before: dict, after: dict) -> bool:
    if (before["rank"], before["metric"]) != (after["rank"], after["metric"]):
        return True
    return before["value"] != after["value"] and not _both_nan(before["value"], after["value"])


def _both_nan(a: float | None, b: float | None) -> bool:
    return a is not None and b is not None and math.isnan(a) and math.isnan(b)


def _table(key: TableKey) -> str:
    return f"{key[0]} / {key[1]} / v{key[2]}"


def _label(row: dict) -> str:
    rec = row["rec"]
    params = params_summary(rec.get("params"))
    return f"{rec.get('method')} ({params})" if params else str(rec.get("method"))


def _rank(row: dict) -> str:
    if row["rank"] is not None:
        return str(row["rank"])
    return "unranked (reduced)" if row["rec"].get("_reduced") else "unranked"


def _value(row: dict) -> str:
    if row["metric"] and row["text"]:
        return f"{row['metric']} {row['text']}"
    return row.get("shown") or "—"


def _protocol(row: dict) -> str:
    return deviations_text(row["rec"]) or "—"


def _verification(row: dict) -> str:
    return str(as_dict(row["rec"].get("_known")).get("text") or "not verified")


def _grid(columns: list[str], cells: list[list[str]]) -> list[str]:
    head = "| " + " | ".join(columns) + " |"
    rule = "|" + "|".join(" --- " for _ in columns) + "|"
    return [head, rule, *("| " + " | ".join(md_cell(c) for c in row) + " |" for row in cells)]


def write_step_summary(report: str) -> None:
    """Append the report to the GitHub Actions job summary when the job has one."""
    summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if summary:
        with open(summary, "a", encoding="utf-8") as f:
            f.write(report)
