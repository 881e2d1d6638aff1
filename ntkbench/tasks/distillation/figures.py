"""The leaderboard's charts for this task (data): accuracy vs images per class for each evaluation
model, and the first synthetic example of each class."""

from __future__ import annotations

from ntkbench.charts import Chart, Image, as_dict, grouped, labels, ok_records
from ntkbench.preview import decode_preview


def figures(records: list[dict]) -> list[Chart]:
    records = ok_records(records)
    names = sorted({k for r in records for k in as_dict(r.get("metrics")) if str(k).startswith("test_acc@")})
    charts = [
        Chart(f"{name} vs images per class", "images per class (ipc)", "test accuracy (%)", tuple(s), log_x=True)
        for name in names
        if (s := grouped(records, ("ipc",), name))
    ]
    for rec, label in zip(records, labels(records)):
        p = decode_preview(rec.get("synthetic_preview"))  # untrusted: checked, or None
        if p is not None:
            images = tuple(
                Image("" if c is None else f"class {c}", p.shape, img.tobytes()) for img, c in zip(p.images, p.classes)
            )
            charts.append(
                Chart(
                    f"{label}, ipc {as_dict(rec.get('budget')).get('ipc')}: first synthetic example per class (seed 0)",
                    "",
                    "",
                    kind="images",
                    images=images,
                )
            )
    return charts
