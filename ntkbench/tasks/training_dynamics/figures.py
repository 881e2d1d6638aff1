"""The leaderboard's charts for this task: measured against NTK-predicted decay time per eigenvalue
band, the residual per band along training, test accuracy along training beside the infinite-width
GD prediction, and the steps to fit each Fourier mode against its frequency.

Charts are data (`ntkbench.charts`); the leaderboard draws them.
"""

from __future__ import annotations

import re

from ntkbench.charts import (
    Chart,
    Point,
    Series,
    Table,
    as_dict,
    curve,
    is_number,
    is_reduced,
    ok_records,
    run_name,
    series_labels,
)

TAU = re.compile(r"^tau@band=(\d+)$")
NTK_TAU = re.compile(r"^ntk_tau@band=(\d+)$")
ENTK_TAU = re.compile(r"^entk_tau@band=(\d+)$")
ENTK_PRED_TAU = re.compile(r"^entk_pred_tau@band=(\d+)$")
FIT = re.compile(r"^steps_to_fit@k=(\d+)$")
NTK_FIT = re.compile(r"^ntk_steps_to_fit@k=(\d+)$")
GAP = re.compile(r"^linearisation_gap@width=(\d+)$")


def figures(records: list[dict]) -> list[Chart]:
    records = ok_records(records)
    return decay_times(records) + accuracy_curves(records) + mode_fits(records) + gaps(records)


def decay_times(records: list[dict]) -> list[Chart]:
    series = []
    for i, (rec, label) in enumerate(zip(records, series_labels(records))):
        metrics = as_dict(rec.get("metrics"))
        # the infinite-width NTK's bands, then (dashed) each seed's empirical NTK at init's own bands
        for measured_re, predicted_re, suffix, dashed in (
            (TAU, NTK_TAU, "", False),
            (ENTK_TAU, ENTK_PRED_TAU, " eNTK", True),
        ):
            measured = {int(x): (m, s) for x, m, s in curve(metrics, measured_re)}
            predicted = {int(x): m for x, m, _ in curve(metrics, predicted_re)}
            pts = tuple(sorted((predicted[b], m, s) for b, (m, s) in measured.items() if b in predicted and m > 0))
            if pts:
                series.append(Series(label + suffix, pts, dashed=dashed, group=i, reduced=is_reduced(rec)))
    if not series:
        return []
    return [
        Chart(
            "decay time per eigenvalue band: measured vs NTK-predicted (log-log)",
            "predicted τ (steps, linearised GD with the infinite-width NTK; “eNTK”: the empirical NTK at init)",
            "measured τ (steps; mean ± std over seeds)",
            tuple(series),
            kind="scatter",
            log_x=True,
            log_y=True,
            caption="One point per log-spaced band of the NTK's eigenvalues (1, 2, 4, ... directions from the top):"
            " the step at which the training residual inside the band falls to 1/e of its start. On the diagonal"
            " the network follows its infinite-width linearisation; above it, it is slower. “eNTK”: the same"
            " with each seed's empirical NTK at initialisation (its own eigenbasis and bands), on the diagonal"
            " when the network moves as its own linearisation. Bands not decayed by the last step are left out.",
        )
    ]


def accuracy_curves(records: list[dict]) -> list[Chart]:
    series = []
    for i, (rec, label) in enumerate(zip(records, series_labels(records))):
        steps = rec.get("checkpoints")
        acc = as_dict(rec.get("curves")).get("test_acc")
        if isinstance(steps, list) and isinstance(acc, list):
            pts = tuple((float(s), float(a), None) for s, a in zip(steps, acc) if is_number(s) and is_number(a) and s)
            if pts:
                series.append(Series(label, pts, group=i, reduced=is_reduced(rec)))
        for key, suffix in (("ntk_test_acc", "∞"), ("ntk_from_init_test_acc", "∞ from f_0")):
            ntk = as_dict(as_dict(rec.get("curves")).get(key))
            if isinstance(ntk.get("steps"), list) and isinstance(ntk.get("acc"), list):
                pts = tuple(
                    (float(s), float(a), None)
                    for s, a in zip(ntk["steps"], ntk["acc"])
                    if is_number(s) and is_number(a) and s
                )
                if pts:
                    series.append(Series(f"{label} {suffix}", pts, dashed=True, group=i, reduced=is_reduced(rec)))
    if not series:
        return []
    return [
        Chart(
            "test accuracy along full-batch GD — dashed: infinite-width NTK dynamics",
            "gradient steps",
            "test accuracy (%)",
            tuple(series),
            log_x=True,
            caption="Solid: the trained network at the recorded checkpoints (mean over seeds). Dashed (“∞”): the"
            " infinite-width NTK of the same architecture, f_t = Θ(x, X) Θ⁻¹ (I − (I − ηΘ/n)^t) Y, at the same η"
            " (the mean over initialisations, f_0 = 0); “∞ from f_0”: the same linearised dynamics started from the"
            " network's own initial outputs, whose noise on the test points the network carries along.",
        )
    ]


def mode_fits(records: list[dict]) -> list[Chart]:
    series = []
    for i, (rec, label) in enumerate(zip(records, series_labels(records))):
        metrics = as_dict(rec.get("metrics"))
        pts: list[Point] = curve(metrics, FIT)
        if pts:
            series.append(Series(label, tuple(pts), group=i, reduced=is_reduced(rec)))
        ntk_pts = curve(metrics, NTK_FIT)
        if ntk_pts:
            series.append(Series(f"{label} ∞", tuple(ntk_pts), dashed=True, group=i, reduced=is_reduced(rec)))
    if not series:
        return []
    return [
        Chart(
            "steps to fit each Fourier mode (log-log) — dashed: infinite-width NTK",
            "frequency k",
            "steps until the mode's residual < threshold",
            tuple(series),
            log_x=True,
            log_y=True,
            caption="A mode never fitted within the run is left out. Basri et al. (2019): on the circle the time"
            " grows as k² (slope 2).",
        )
    ]


def gaps(records: list[dict]) -> list[Chart]:
    rows = []
    widths: set[int] = set()
    per: list[tuple[str, dict[int, float]]] = []
    for rec, label in zip(records, series_labels(records)):
        found = {int(x): m for x, m, _ in curve(as_dict(rec.get("metrics")), GAP)}
        if found:
            widths |= set(found)
            per.append((run_name(label, rec), found))
    if not per:
        return []
    cols = sorted(widths)
    for label, found in per:
        rows.append((label, *(f"{found[w]:.3g}" if w in found else "—" for w in cols)))
    return [
        Chart(
            "linearisation gap ‖f_T − f_T^lin‖ / ‖f_T^lin‖ by hidden width",
            "",
            "",
            kind="table",
            table=Table(("method", *(f"width {w}" for w in cols)), tuple(rows)),
            caption="The method's architecture at each width and its first-order Taylor expansion around the same"
            " initialisation, both trained by the protocol's full-batch GD; the gap shrinks as the width grows"
            " when the network approaches its linearisation.",
        )
    ]
