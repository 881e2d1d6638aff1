"""The leaderboard's chart for this task: learning curves, with the infinite-width NTK dashed beside.

Charts are data (`ntkbench.charts`); the leaderboard draws them.
"""

from __future__ import annotations

import re

from ntkbench.charts import Chart, Point, Series, as_dict, curve, labels, ok_records, point

ACC_AT_N = re.compile(r"^test_acc@n=(\d+(?:\.\d+)?)$")


def infinite_curves(ntk: object) -> dict[str, list[Point]]:
    """Infinite-width points from a result's `ntk` field: ntk["infinite"]["test_acc@n=500"], or per
    kernel ntk["infinite"][<kernel>]["test_acc@n=500"], or ntk["test_acc@n=500"]["infinite"], or
    ntk["curves"]["infinite"] = {"n": [...], "mean": [...], "std": [...]} (or a list of {n, mean, std}).
    Values are numbers or {mean, std}; anything else is ignored."""
    ntk = as_dict(ntk)
    out: dict[str, list[Point]] = {}
    inf = as_dict(ntk.get("infinite"))
    out[""] = curve(inf, ACC_AT_N)
    for name, sub in inf.items():
        if isinstance(sub, dict) and not ACC_AT_N.match(str(name)):
            out[str(name)] = curve(sub, ACC_AT_N)
    out[""] += curve({k: v["infinite"] for k, v in ntk.items() if isinstance(v, dict) and "infinite" in v}, ACC_AT_N)
    curves = ntk.get("curves")
    inf_curve = as_dict(curves).get("infinite") if isinstance(curves, dict) else None
    if isinstance(inf_curve, dict) and isinstance(inf_curve.get("n"), list) and isinstance(inf_curve.get("mean"), list):
        stds = inf_curve["std"] if isinstance(inf_curve.get("std"), list) else [None] * len(inf_curve["n"])
        out[""] += [
            p for n, m, s in zip(inf_curve["n"], inf_curve["mean"], stds) if (p := point(n, {"mean": m, "std": s}))
        ]
    elif isinstance(inf_curve, list):
        out[""] += [p for c in inf_curve if isinstance(c, dict) and (p := point(c.get("n"), c))]
    return {k: sorted(set(v)) for k, v in out.items() if v}


def figures(records: list[dict]) -> list[Chart]:
    records = ok_records(records)
    series = []
    for i, (rec, label) in enumerate(zip(records, labels(records))):
        pts = curve(rec.get("metrics"), ACC_AT_N)
        if pts:
            series.append(Series(label, tuple(pts), group=i))
        for kernel, ipts in infinite_curves(rec.get("ntk")).items():
            series.append(Series(f"{label} ∞{' ' + kernel if kernel else ''}", tuple(ipts), dashed=True, group=i))
    if not series:
        return []
    note = " — dashed: infinite width" if any(s.dashed for s in series) else ""
    return [
        Chart(
            f"test accuracy vs n (mean ± std over seeds){note}",
            "training examples n",
            "test accuracy (%)",
            tuple(series),
            log_x=True,
        )
    ]
