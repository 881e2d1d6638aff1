"""The leaderboard's charts for this task (data): the NTK view (predicted vs measured forgetting per
task pair, with the Spearman rank correlations) and each run's T×T accuracy matrix as a heatmap."""

from __future__ import annotations

from ntkbench.charts import (
    Chart,
    Heatmap,
    Series,
    Table,
    as_dict,
    is_number,
    is_reduced,
    ok_records,
    run_name,
    series_labels,
)

PREDICTED, MEASURED, MEASURED_TEST = "predicted_drop@logits", "measured_drop_probe", "measured_drop_test"


def figures(records: list[dict]) -> list[Chart]:
    records = ok_records(records)
    return ntk_view(records) + matrices(records)


PREDICTORS = (("logit residual", PREDICTED), ("softmax residual", "predicted_drop@softmax"))


def _rho(corr: dict, a: str, b: str) -> str:
    v = corr.get(f"spearman({a},{b})")
    return f"{v:.2f}" if is_number(v) else "n/a"


def ntk_view(records: list[dict]) -> list[Chart]:
    """Per task pair (k, j): the linearised (empirical NTK) prediction of the drop on old task j
    after training task k against the measured drop on the same probe, one series per run; and a
    table of each run's Spearman ρ (per predictor, against the drop on the probe and on the test split)."""
    series, rhos, missing = [], [], []
    for i, (rec, label) in enumerate(zip(records, series_labels(records))):
        ntk = as_dict(rec.get("ntk"))
        pairs = ntk.get("pairs")
        pairs = pairs if isinstance(pairs, list) else []
        pts = tuple(
            (float(p[PREDICTED]), float(p[MEASURED]), None)
            for p in pairs
            if isinstance(p, dict) and is_number(p.get(PREDICTED)) and is_number(p.get(MEASURED))
        )
        if not pts:
            if ntk:
                missing.append(f"{run_name(label, rec)} ({ntk.get('reason') or 'no task pairs'})")
            continue
        series.append(Series(label, pts, group=i, reduced=is_reduced(rec)))
        corr = as_dict(ntk.get("rank_correlation"))
        rhos += [
            (run_name(label, rec), name, _rho(corr, predicted, MEASURED), _rho(corr, predicted, MEASURED_TEST))
            for name, predicted in PREDICTORS
        ]
    if not series:
        return []
    predicted = (
        "Predicted: accuracy change of the linearised network f + Δf, Δf = Θ(P, X_k)(Θ + λI)⁻¹ r_k with the"
        " empirical NTK at the start of task k (first seed)."
    )
    no_view = f" No NTK view: {'; '.join(missing)}." if missing else ""
    scatter = Chart(
        "NTK view: predicted vs measured drop per task pair (k, j)",
        "predicted drop on old task j (points, linearised NTK)",
        "measured drop on the probe (points)",
        tuple(series),
        kind="scatter",
        caption=f"{predicted} Spearman ρ of each run in the table below.{no_view}",
    )
    table = Table(("method", "predictor", "Spearman ρ, probe", "Spearman ρ, test split"), tuple(rhos))
    ranks = Chart(
        "NTK view: Spearman ρ, predicted vs measured drop over all task pairs",
        "",
        "",
        kind="table",
        table=table,
        caption="Rank correlation over all task pairs (k, j) of the predicted drop (from the logit residual"
        " r_k, or from the softmax residual) with the measured drop on the probe points and on the whole"
        " test split; n/a where it is undefined (fewer than three pairs, or a constant side).",
    )
    return [scatter, ranks]


def matrices(records: list[dict]) -> list[Chart]:
    """R[i][j]: row i = after training task i, column j = evaluated on task j."""
    out = []
    for rec, label in zip(records, series_labels(records)):
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
                    f"{run_name(label, rec)}: accuracy matrix R (mean over seeds, %)",
                    "evaluated on task j",
                    "after training task i",
                    kind="heatmap",
                    heatmap=hm,
                )
            )
    return out
