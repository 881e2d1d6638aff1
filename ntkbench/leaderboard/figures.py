"""Per-task figures: which numbers of which records become which chart — as data (`Chart`).

Called with the records of one (task, dataset, task_version) so versions never share a plot.
Nothing here draws: `plots.render` turns a `Chart` into SVG, so a task could own its figures later.
"""

from __future__ import annotations

import re

from ntkbench.charts import Chart, Heatmap, Image, Series
from ntkbench.leaderboard.tables import as_dict, compact, is_number
from ntkbench.preview import decode_preview

_N = re.compile(r"^test_acc@n=(\d+(?:\.\d+)?)$")


def figures(task: str, records: list[dict]) -> list[Chart]:
    recs = [r for r in records if r.get("status") == "ok" and not r.get("derived")]
    make = {"sample_complexity": sample_complexity, "forgetting": forgetting,
            "distillation": distillation, "adversarial": adversarial}.get(task)
    return make(recs) if make and recs else []


def labels(records: list[dict]) -> list[str]:
    """Method name, plus the config hash where one method has several configurations."""
    methods = [str(r.get("method")) for r in records]
    return [m if methods.count(m) == 1 else f"{m} [{str(r.get('config_hash'))[:6]}]"
            for m, r in zip(methods, records)]


def _point(x, m) -> tuple | None:
    if isinstance(m, dict):
        mean, std = m.get("mean"), m.get("std")
    else:
        mean, std = m, None
    if not (is_number(x) and is_number(mean)):
        return None
    return (float(x), float(mean), float(std) if is_number(std) else None)


def metric_curve(metrics: dict) -> list[tuple]:
    pts = [_point(float(mt.group(1)), v) for k, v in as_dict(metrics).items() if (mt := _N.match(str(k)))]
    return sorted(p for p in pts if p)


def infinite_curves(ntk) -> dict[str, list[tuple]]:
    """Infinite-width points from a result's `ntk` field, in any of the shapes tasks write:
    ntk["infinite"]["test_acc@n=500"], ntk["infinite"][<kernel>]["test_acc@n=500"],
    ntk["test_acc@n=500"]["infinite"], ntk["curves"]["infinite"] = {"n": [...], "mean": [...], "std": [...]}
    (or a list of {"n", "mean", "std"}). Values are numbers or {mean, std}. Anything else is ignored."""
    ntk = as_dict(ntk)
    out: dict[str, list[tuple]] = {}
    inf = as_dict(ntk.get("infinite"))
    out[""] = metric_curve(inf)
    for name, sub in inf.items():
        if isinstance(sub, dict) and not _N.match(str(name)):
            out[str(name)] = metric_curve(sub)
    out[""] += metric_curve({k: v["infinite"] for k, v in ntk.items() if isinstance(v, dict) and "infinite" in v})
    curves = ntk.get("curves")
    curve = as_dict(curves).get("infinite") if isinstance(curves, dict) else None
    if isinstance(curve, dict) and isinstance(curve.get("n"), list) and isinstance(curve.get("mean"), list):
        std = curve.get("std") if isinstance(curve.get("std"), list) else [None] * len(curve["n"])
        out[""] += [p for p in map(_point, curve["n"], [{"mean": m, "std": s} for m, s in zip(curve["mean"], std)]) if p]
    elif isinstance(curve, list):
        out[""] += [p for c in curve if isinstance(c, dict) and (p := _point(c.get("n"), c))]
    return {k: sorted(set(v)) for k, v in out.items() if v}


def sample_complexity(records: list[dict]) -> list[Chart]:
    series = []
    for i, (rec, label) in enumerate(zip(records, labels(records))):
        pts = metric_curve(rec.get("metrics"))
        if pts:
            series.append(Series(label, tuple(pts), group=i))
        for kernel, ipts in infinite_curves(rec.get("ntk")).items():
            series.append(Series(f"{label} ∞{' ' + kernel if kernel else ''}", tuple(ipts), dashed=True, group=i))
    if not series:
        return []
    note = " — dashed: infinite width" if any(s.dashed for s in series) else ""
    return [Chart(f"test accuracy vs n (mean ± std over seeds){note}", "training examples n",
                  "test accuracy (%)", tuple(series), log_x=True)]


def forgetting(records: list[dict]) -> list[Chart]:
    """T×T accuracy matrix R[i][j]: row i = after training task i, column j = evaluated on task j."""
    out = []
    for rec, label in zip(records, labels(records)):
        m = as_dict(as_dict(rec.get("metrics")).get("acc_matrix")).get("mean")
        if isinstance(m, list) and m and all(isinstance(r, list) for r in m):
            values = tuple(tuple(float(v) if is_number(v) else None for v in r) for r in m)
            n_cols = max(len(r) for r in values)
            if not n_cols:
                continue
            hm = Heatmap(rows=tuple(str(i + 1) for i in range(len(values))),
                         cols=tuple(str(j + 1) for j in range(n_cols)), values=values)
            out.append(Chart(f"{label}: accuracy matrix R (mean over seeds, %)", "evaluated on task j",
                             "after training task i", kind="heatmap", heatmap=hm))
    return out


def _find(d, key):
    """First value under `key` in nested dicts (budget/params may nest a threat model)."""
    if isinstance(d, dict):
        if key in d:
            return d[key]
        for v in d.values():
            if (found := _find(v, key)) is not None:
                return found
    return None


def _x_of(rec: dict, keys: tuple[str, ...]):
    for k in keys:
        for where in ("budget", "params"):
            v = _find(rec.get(where), k)
            if is_number(v):
                return float(v)
    return None


def _grouped(records, keys, metric) -> list[Series]:
    """One series per method (and params other than the x variable), x taken from budget/params."""
    groups: dict[str, list[tuple]] = {}
    for rec in records:
        x = _x_of(rec, keys)
        p = _point(x, as_dict(rec.get("metrics")).get(metric)) if x is not None else None
        if p:
            params = {k: v for k, v in as_dict(rec.get("params")).items() if k not in keys}
            groups.setdefault(str(rec.get("method")) + "\0" + compact(params), []).append(p)
    methods = [k.split("\0")[0] for k in groups]
    return [Series(m if methods.count(m) == 1 else f"{m} ({k.split(chr(0))[1]})", tuple(sorted(v)), group=i)
            for i, (m, (k, v)) in enumerate(zip(methods, groups.items()))]


def distillation(records: list[dict]) -> list[Chart]:
    names = sorted({k for r in records for k in as_dict(r.get("metrics")) if str(k).startswith("test_acc@")})
    charts = [Chart(f"{name} vs images per class", "images per class (ipc)", "test accuracy (%)",
                    tuple(s), log_x=True)
              for name in names if (s := _grouped(records, ("ipc",), name))]
    for rec, label in zip(records, labels(records)):
        p = decode_preview(rec.get("synthetic_preview"))  # untrusted: checked, or None
        if p is not None:
            images = tuple(Image("" if c is None else f"class {c}", p.shape, img.tobytes())
                           for img, c in zip(p.images, p.classes))
            charts.append(Chart(f"{label}, ipc {as_dict(rec.get('budget')).get('ipc')}: "
                                "first synthetic example per class (seed 0)", "", "", kind="images", images=images))
    return charts


_EPS = re.compile(r"^robust_acc@eps=([0-9.eE+-]+)$")


def adversarial(records: list[dict]) -> list[Chart]:
    """Robust accuracy vs eps: each run's own eps sweep (`robust_acc@eps=<e>` metrics, plus its
    `robust_acc` at the budget's eps), else one point per run at its budget eps."""
    series = []
    for i, (rec, label) in enumerate(zip(records, labels(records))):
        metrics = as_dict(rec.get("metrics"))
        pts = [_point(float(m.group(1)), v) for k, v in metrics.items() if (m := _EPS.match(str(k)))]
        eps = _x_of(rec, ("eps", "epsilon"))
        threat_eps = as_dict(rec.get("threat")).get("eps")
        eps = float(threat_eps) if eps is None and is_number(threat_eps) else eps
        if pts and eps is not None:
            pts.append(_point(eps, metrics.get("robust_acc")))
        curve = sorted({p for p in pts if p})
        if len(curve) > 1:
            series.append(Series(label, tuple(curve), group=i))
    if not series:
        series = _grouped(records, ("eps", "epsilon"), "robust_acc")
    return [Chart("robust accuracy vs eps (worst case over attacks)", "eps", "robust accuracy (%)",
                  tuple(series))] if series else []
