"""The leaderboard's charts for this task (data): accuracy vs images per class for each evaluation
model, the NTK view (kernel regression vs trained networks on the synthetic set and on the random
real subset), and the first synthetic example of each class."""

from __future__ import annotations

from ntkbench.charts import (
    Chart,
    Image,
    Point,
    Series,
    Table,
    as_dict,
    compact,
    grouped,
    is_number,
    is_reduced,
    ok_records,
    run_name,
    series_labels,
)
from ntkbench.tasks.distillation.preview import decode_preview

COLUMNS = ("krr-ntk", "krr-nngp", "convnet", "mlp")


def figures(records: list[dict]) -> list[Chart]:
    records = ok_records(records)
    names = sorted({k for r in records for k in as_dict(r.get("metrics")) if str(k).startswith("test_acc@")})
    charts = [
        Chart(f"{name} vs images per class", "images per class (ipc)", "test accuracy (%)", tuple(s), log_x=True)
        for name in names
        if (s := grouped(records, ("ipc",), name))
    ]
    charts += ntk_view(records)
    for rec, label in zip(records, series_labels(records)):
        p = decode_preview(rec.get("synthetic_preview"))  # untrusted: checked, or None
        if p is not None:
            images = tuple(
                Image("" if c is None else f"class {c}", p.shape, img.tobytes()) for img, c in zip(p.images, p.classes)
            )
            charts.append(
                Chart(
                    f"{run_name(label, rec)}, ipc {as_dict(rec.get('budget')).get('ipc')}:"
                    " first synthetic example per class (seed 0)",
                    "",
                    "",
                    kind="images",
                    images=images,
                )
            )
    return charts


def _acc(v: object) -> str:
    return f"{v:.2f}" if is_number(v) else "—"


def ntk_view(records: list[dict]) -> list[Chart]:
    """One table row per run's synthetic set and one per distinct random real subset (the baseline,
    shared by the runs of one budget); a scatter of ConvNet against KRR-NTK accuracy."""
    rows, seen, kernels, missing = [], set(), set(), []
    synth: list[tuple[str, Point, bool]] = []  # label, point, reduced
    base: list[tuple[str, Point, bool]] = []
    for rec, label in zip(records, series_labels(records)):
        ntk = as_dict(rec.get("ntk"))
        if not ntk.get("available"):
            if ntk:
                missing.append(f"{run_name(label, rec)} ({ntk.get('reason') or 'unavailable'})")
            continue
        kernels.add(str(ntk.get("kernel")))
        ipc = as_dict(rec.get("budget")).get("ipc")
        # Runs of one method at several ipc: the label may have spent its three fields on others.
        mine = run_name(label if f"ipc {ipc}" in label else f"{label}, ipc {ipc}", rec)
        subset = run_name(f"random real subset, ipc {ipc}", rec)
        for which, what in (("synthetic", f"{mine}: its set"), ("random_subset", subset)):
            v = as_dict(ntk.get(which))
            if not v or (which == "random_subset" and (compact(v), is_reduced(rec)) in seen):
                continue
            seen.add((compact(v), is_reduced(rec)))
            diff = as_dict(v.get("finite_minus_krr_ntk"))
            rows.append((what, *(_acc(v.get(c)) for c in COLUMNS), _acc(diff.get("convnet")), _acc(diff.get("mlp"))))
            if is_number(v.get("krr-ntk")) and is_number(v.get("convnet")):
                pt = (float(v["krr-ntk"]), float(v["convnet"]), None)
                (synth if which == "synthetic" else base).append((label, pt, is_reduced(rec)))
    if not rows:
        return []
    caption = (
        f"Kernel ridge regression with the infinite-width kernel ({'; '.join(sorted(kernels))}) fitted on the set"
        " itself, against networks trained from scratch on it (test accuracy, %, mean over seeds). The random real"
        " subset is the class-balanced baseline of the same size."
        + (f" No NTK view: {'; '.join(missing)}." if missing else "")
    )
    table = Table(("set", "KRR-NTK", "KRR-NNGP", "ConvNet", "MLP", "ConvNet − KRR-NTK", "MLP − KRR-NTK"), tuple(rows))
    out = [Chart("NTK view: kernel (KRR) vs trained networks", "", "", kind="table", table=table, caption=caption)]
    series = [Series(f"{label} (synthetic)", (pt,), group=i, reduced=r) for i, (label, pt, r) in enumerate(synth)]
    for reduced in (False, True):  # the baselines of full-protocol and of reduced runs: two point sets
        if pts := tuple(pt for _, pt, r in base if r == reduced):
            series.append(Series("random real subset", pts, dashed=True, group=len(synth), reduced=reduced))
    if len(series) > 1:
        out.append(
            Chart(
                "NTK view: ConvNet vs kernel accuracy",
                "KRR-NTK test accuracy (%)",
                "ConvNet test accuracy (%)",
                tuple(series),
                kind="scatter",
                caption="One point per set; open squares: the random real subset. Above the diagonal the network"
                " beats the kernel on the same data.",
            )
        )
    return out
