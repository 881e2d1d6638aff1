"""The `synthetic_preview` of a distillation result: the first synthetic example of each class,
each min-max scaled to uint8 and base64-encoded:

    {"format": "uint8-base64", "shape": [28, 28, 1], "classes": [0, 1, ...],
     "lo": [-0.81, ...], "hi": [2.022, ...], "images": ["<base64 of H*W*C bytes>", ...]}

The format is this task's, so the codec lives with its users here: `encode_preview` writes it
(`task.py`); `decode_preview` reads one back from an untrusted result file, checking every field,
for the task's leaderboard charts (`figures.py`, which hands the leaderboard plain
`ntkbench.charts.Image` pixels). The leaderboard, above the tasks, never decodes a preview: it only
turns those pixels into PNG (`ntkbench.leaderboard.png`). Nothing here needs more than numpy.
"""

from __future__ import annotations

import base64
import binascii
import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

__all__ = ["FORMAT", "MAX_VALUES", "Preview", "decode_preview", "encode_preview"]

FORMAT = "uint8-base64"
MAX_VALUES = 64 * 64 * 3  # per image; larger previews are refused when decoding


def encode_preview(x_syn: ArrayLike, y_syn: ArrayLike, num_classes: int, max_classes: int = 10) -> dict:
    """First synthetic example of each of the first `max_classes` classes (argmax for soft labels),
    each min-max scaled to uint8 and base64-encoded (row-major, shape `shape`): a few kB per image,
    enough for the leaderboard to draw a grid. `lo`/`hi` undo the scaling (x ≈ lo + u8/255·(hi−lo))."""
    x = np.asarray(x_syn, np.float32)
    y = np.asarray(y_syn)
    labels = y if y.ndim == 1 else y.argmax(-1)
    images, classes, lo, hi = [], [], [], []
    for c in range(min(num_classes, max_classes)):
        idx = np.nonzero(labels == c)[0]
        if idx.size == 0:
            continue
        img = x[idx[0]]
        a, b = float(img.min()), float(img.max())
        u8 = np.round((img - a) / (b - a if b > a else 1.0) * 255).astype(np.uint8)
        images.append(base64.b64encode(u8.tobytes()).decode("ascii"))
        classes.append(c)
        lo.append(round(a, 3))
        hi.append(round(b, 3))
    return {"format": FORMAT, "shape": list(x.shape[1:]), "classes": classes, "lo": lo, "hi": hi, "images": images}


@dataclass(frozen=True)
class Preview:
    """A checked preview: uint8 images of `shape`, their classes, and the scaling (lo, hi)."""

    shape: tuple[int, ...]
    images: tuple[np.ndarray, ...]
    classes: tuple
    lo: tuple[float, ...]
    hi: tuple[float, ...]

    def values(self) -> list[np.ndarray]:
        """The images as float32 arrays, approximately the synthetic values (lo + u8/255·(hi−lo))."""
        return [a + u8.astype(np.float32) / 255.0 * (b - a) for u8, a, b in zip(self.images, self.lo, self.hi)]

    def labels(self) -> np.ndarray:
        return np.asarray(self.classes)


def decode_preview(preview: object, *, max_values: int = MAX_VALUES) -> Preview | None:
    """A `Preview`, or None when `preview` is absent or malformed (the file is untrusted: every
    field is checked, and images over `max_values` values are refused). Missing lo/hi read as 0/1."""
    if not isinstance(preview, dict) or preview.get("format") != FORMAT:
        return None
    shape = preview.get("shape")
    if not (
        isinstance(shape, list)
        and 1 <= len(shape) <= 3
        and all(isinstance(s, int) and not isinstance(s, bool) and s > 0 for s in shape)
    ):
        return None
    if math.prod(shape) > max_values:
        return None
    encoded = preview.get("images")
    if not isinstance(encoded, list) or not encoded:
        return None
    images = []
    for s in encoded:
        try:
            raw = base64.b64decode(str(s), validate=True)
        except (binascii.Error, ValueError):
            return None
        if len(raw) != math.prod(shape):
            return None
        images.append(np.frombuffer(raw, np.uint8).reshape(shape))
    n = len(images)

    def numbers(key: str, default: float) -> tuple[float, ...]:
        v = preview.get(key)
        if not (
            isinstance(v, list)
            and len(v) >= n
            and all(isinstance(t, (int, float)) and not isinstance(t, bool) and math.isfinite(t) for t in v[:n])
        ):
            return (default,) * n
        return tuple(float(t) for t in v[:n])

    given = preview.get("classes")
    classes = tuple(given[:n]) + (None,) * (n - len(given)) if isinstance(given, list) else (None,) * n
    return Preview(tuple(shape), tuple(images), classes, numbers("lo", 0.0), numbers("hi", 1.0))
