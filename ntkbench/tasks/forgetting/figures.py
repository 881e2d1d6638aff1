"""The leaderboard's charts for this task: each run's T×T accuracy matrix as a heatmap (data)."""

from __future__ import annotations

from ntkbench.charts import Chart, Heatmap, as_dict, is_number, labels, ok_records


def figures(records: list[dict]) -> list[Chart]:
    """R[i][j]: row i = after training task i, column j = evaluated on task j."""
    records = ok_records(records)
    out = []
    for rec, label in zip(records, labels(records)):
        m = as_dict(as_dict(rec.get("metrics")).get("acc_matrix")).get("mean")
        if isinstance(m, list) and m and all(isinstance(r, list) for r in m):
            values = tuple(tuple(float(v) if is_number(v) else None for v in r) for r in m)
            n_cols = max(len(r) for r in values)
            if not n_cols:
                continue
            hm = Heatmap(
                rows=tuple(str(i + 1) for i in range(len(values))),
                cols=tuple(str(j + 1) for j in range(n_cols)),
                values=values,
            )
            out.append(
                Chart(
                    f"{label}: accuracy matrix R (mean over seeds, %)",
                    "evaluated on task j",
                    "after training task i",
                    kind="heatmap",
                    heatmap=hm,
                )
            )
    return out
