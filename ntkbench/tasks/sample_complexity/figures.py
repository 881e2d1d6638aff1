"""The leaderboard's charts for this task: learning curves, with the infinite-width NTK dashed beside,
and (derived `lza` results) n* against the dimension d on log-log axes with the fitted exponent.

Charts are data (`ntkbench.charts`); the leaderboard draws them.
"""

from __future__ import annotations

import re

from ntkbench.charts import (
    Chart,
    Point,
    Series,
    as_dict,
    curve,
    is_number,
    is_reduced,
    ok_records,
    point,
    series_labels,
)

ACC_AT_N = re.compile(r"^test_acc@n=(\d+(?:\.\d+)?)$")
N_STAR_AT_D = re.compile(r"^n_star@(.+)@d=(\d+(?:\.\d+)?)$")


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
    return learning_curves(ok_records(records)) + lza_exponents(
        [r for r in records if r.get("derived") and r.get("status") == "ok"]
    )


def learning_curves(records: list[dict]) -> list[Chart]:
    series = []
    kernels = set()
    for i, (rec, label) in enumerate(zip(records, series_labels(records))):
        pts = curve(rec.get("metrics"), ACC_AT_N)
        if pts:
            series.append(Series(label, tuple(pts), group=i, reduced=is_reduced(rec)))
        for kernel, ipts in infinite_curves(rec.get("ntk")).items():
            name = f"{label} ∞{' ' + kernel if kernel else ''}"
            series.append(Series(name, tuple(ipts), dashed=True, group=i, reduced=is_reduced(rec)))
            kernels.add(str(as_dict(rec.get("ntk")).get("kernel") or kernel or "ntk"))
    if not series:
        return []
    dashed = any(s.dashed for s in series)
    caption = "Solid lines: trained networks, mean over seeds with a ±std band."
    if dashed:
        caption += (
            " Dashed lines with open squares (legend “∞”): the same architecture at infinite width — kernel"
            f" regression with its {'/'.join(sorted(kernels)).upper()} kernel on the same training sets, same colour"
            " as the network it belongs to."
        )
    return [
        Chart(
            "test accuracy vs n (mean ± std over seeds)" + (" — dashed: infinite width" if dashed else ""),
            "training examples n",
            "test accuracy (%)",
            tuple(series),
            log_x=True,
            caption=caption,
        )
    ]


def lza_exponents(records: list[dict]) -> list[Chart]:
    """n*(target) against d, one series per method and target, from the derived results'
    `n_star@<t>@d=<d>` metrics; the fitted exponent `alpha@<t>` in the legend and caption."""
    series, fits = [], []
    for i, (rec, label) in enumerate(zip(records, series_labels(records))):
        metrics = as_dict(rec.get("metrics"))
        by_target: dict[str, list[Point]] = {}
        for k, v in metrics.items():
            if (m := N_STAR_AT_D.match(str(k))) and (p := point(float(m.group(2)), v)):
                by_target.setdefault(m.group(1), []).append(p)
        for j, (target, pts) in enumerate(sorted(by_target.items())):
            alpha = as_dict(metrics.get(f"alpha@{target}")).get("mean")
            fit = f"α={round(alpha, 2) + 0.0:.2f}" if is_number(alpha) else "α: too few points"
            series.append(Series(f"{label} n*({target}) {fit}", tuple(sorted(pts)), group=2 * i + j))
        alphas = [
            f"α({k.split('@', 1)[1]}) = {round(v['mean'], 2) + 0.0:.2f}"
            + (f" ± {v['std']:.2f}" if is_number(v.get("std")) else "")
            for k, v in sorted(metrics.items())
            if str(k).startswith("alpha@") and isinstance(v, dict) and is_number(v.get("mean"))
        ]
        if alphas:
            fits.append(f"{label}: {', '.join(alphas)}")
    if not series:
        return []
    caption = (
        "Fitted exponent of n* ∝ d^α (least squares in log–log, std over seeds): "
        + ("; ".join(fits) or "none")
        + ". A target not reached within the grid (n* > n_max) is left out; n* at the grid's smallest n is"
        " only a ceiling (≤ n_min) and is drawn there."
    )
    return [
        Chart(
            "n* against input dimension d (log-log)",
            "input dimension d",
            "n* (training examples)",
            tuple(series),
            log_x=True,
            log_y=True,
            caption=caption,
        )
    ]
