"""The leaderboard's chart for this task (data): robust accuracy against eps."""

from __future__ import annotations

import re

from ntkbench.charts import Chart, Series, as_dict, grouped, is_number, labels, ok_records, point, x_of

ROBUST_AT_EPS = re.compile(r"^robust_acc@eps=([0-9.eE+-]+)$")


def figures(records: list[dict]) -> list[Chart]:
    """Each run's own eps sweep (`robust_acc@eps=<e>` metrics, plus its `robust_acc` at the
    budget's eps), else one point per run at its budget eps."""
    records = ok_records(records)
    series = []
    for i, (rec, label) in enumerate(zip(records, labels(records))):
        metrics = as_dict(rec.get("metrics"))
        pts = [point(float(m.group(1)), v) for k, v in metrics.items() if (m := ROBUST_AT_EPS.match(str(k)))]
        eps = x_of(rec, ("eps", "epsilon"))
        threat_eps = as_dict(rec.get("threat")).get("eps")
        eps = float(threat_eps) if eps is None and is_number(threat_eps) else eps
        if pts and eps is not None:
            pts.append(point(eps, metrics.get("robust_acc")))
        curve = sorted({p for p in pts if p})
        if len(curve) > 1:
            series.append(Series(label, tuple(curve), group=i))
    if not series:
        series = grouped(records, ("eps", "epsilon"), "robust_acc")
    return (
        [Chart("robust accuracy vs eps (worst case over attacks)", "eps", "robust accuracy (%)", tuple(series))]
        if series
        else []
    )
