"""The leaderboard's charts for this task (data): robust accuracy against eps, and the NTK view
(eigen-feature usefulness and robustness; kernel distance between the initial and trained NTK)."""

from __future__ import annotations

import re

from ntkbench.charts import (
    Chart,
    Series,
    Table,
    as_dict,
    compact,
    grouped,
    is_number,
    is_reduced,
    ok_records,
    point,
    run_name,
    series_labels,
    x_of,
)

ROBUST_AT_EPS = re.compile(r"^robust_acc@eps=([0-9.eE+-]+)$")


def figures(records: list[dict]) -> list[Chart]:
    """Each run's own eps sweep (`robust_acc@eps=<e>` metrics, plus its `robust_acc` at the
    budget's eps), else one point per run at its budget eps; then the NTK view."""
    records = ok_records(records)
    series = []
    for i, (rec, label) in enumerate(zip(records, series_labels(records))):
        metrics = as_dict(rec.get("metrics"))
        pts = [point(float(m.group(1)), v) for k, v in metrics.items() if (m := ROBUST_AT_EPS.match(str(k)))]
        eps = x_of(rec, ("eps", "epsilon"))
        threat_eps = as_dict(rec.get("threat")).get("eps")
        eps = float(threat_eps) if eps is None and is_number(threat_eps) else eps
        if pts and eps is not None:
            pts.append(point(eps, metrics.get("robust_acc")))
        curve = sorted({p for p in pts if p})
        if len(curve) > 1:
            series.append(Series(label, tuple(curve), group=i, reduced=is_reduced(rec)))
    if not series:
        series = grouped(records, ("eps", "epsilon"), "robust_acc")
    charts = (
        [Chart("robust accuracy vs eps (worst case over attacks)", "eps", "robust accuracy (%)", tuple(series))]
        if series
        else []
    )
    return charts + eigen_features(records) + kernel_distances(records)


def eigen_features(records: list[dict]) -> list[Chart]:
    """Usefulness and robustness of the top NTK eigen-features: a property of the dataset and the
    kernel, the same for every run of one budget, so drawn once per distinct view."""
    views: dict[str, tuple[str, dict]] = {}
    for rec, label in zip(records, series_labels(records)):
        ef = as_dict(as_dict(rec.get("ntk")).get("eigen_features"))
        if isinstance(ef.get("features"), list):
            key, name = compact(ef), run_name(label, rec)
            views[key] = (views[key][0] + ", " + name, ef) if key in views else (name, ef)
    out = []
    for who, ef in views.values():
        feats = [f for f in ef["features"] if isinstance(f, dict) and is_number(f.get("index"))]
        series = tuple(
            Series(name, pts, dashed=dashed, group=g)
            for name, key, dashed, g in (
                ("robustness (accuracy under attack)", "robustness", False, 1),
                ("usefulness (clean accuracy)", "usefulness", True, 0),
            )
            if (pts := tuple(sorted(p for f in feats if (p := point(f["index"], f.get(key))))))
        )
        if not series:
            continue
        krr = as_dict(ef.get("krr"))
        caption = (
            f"Sign of the i-th eigen-feature φ_i(x) = Θ(x, X) λ_i⁻¹ v_i v_iᵀY of the {ef.get('kernel', 'NTK')} as a"
            f" binary classifier of classes {ef.get('classes')}; robustness under {ef.get('attack', 'PGD')}; 50% is"
            f" chance. Kernel ridge predictor: clean {_pct(krr.get('clean_acc'))},"
            f" robust {_pct(krr.get('robust_acc'))}."
            f" The same for every method of this budget ({who})."
        )
        out.append(
            Chart(
                "NTK view: eigen-feature usefulness and robustness",
                "eigen-feature i (by eigenvalue, largest first)",
                "accuracy (%)",
                series,
                caption=caption,
            )
        )
    return out


def _pct(v: object) -> str:
    return f"{v:.1f}%" if is_number(v) else "—"


def kernel_distances(records: list[dict]) -> list[Chart]:
    rows = []
    for rec, label in zip(records, series_labels(records)):
        kd = as_dict(as_dict(rec.get("ntk")).get("kernel_distance"))
        if not kd:
            continue
        robust = as_dict(as_dict(rec.get("metrics")).get("robust_acc")).get("mean")
        if kd.get("available") and is_number(kd.get("mean")):
            seeds = [v for v in kd.get("per_seed") or [] if is_number(v)]
            spread = " (1 seed)" if len(seeds) == 1 else (f" ± {kd['std']:.3f}" if is_number(kd.get("std")) else "")
            rows.append(
                (run_name(label, rec), f"{kd['mean']:.3f}{spread}", _pct(robust), str(kd.get("probe_points", "—")))
            )
        else:
            rows.append((run_name(label, rec), "n/a: " + str(kd.get("reason") or "unavailable"), _pct(robust), "—"))
    if not rows:
        return []
    return [
        Chart(
            "NTK view: kernel distance between the NTK at init and after training",
            "",
            "",
            kind="table",
            table=Table(("method", "1 − cos(Θ₀, Θ_T)", "robust acc", "probe points"), tuple(rows)),
            caption="Fort et al. (2020): 1 − ⟨Θ₀, Θ_T⟩_F / (‖Θ₀‖ ‖Θ_T‖) of the empirical NTK on a probe of test"
            " points; 0 means the kernel did not move during training (the lazy, NTK regime).",
        )
    ]
