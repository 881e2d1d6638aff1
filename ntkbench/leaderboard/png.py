"""PNG for the leaderboard's picture grids: an `images` chart (`ntkbench.charts.Image`, uint8
pixels, e.g. the distillation task's first synthetic example per class) becomes `<img>` data URIs
(`plots.pictures`). Pillow, no metadata: the same pixels give the same bytes.
"""

from __future__ import annotations

import base64
import io

import numpy as np
from PIL import Image  # Pillow, a matplotlib dependency

__all__ = ["png_bytes", "png_data_uri"]


def png_bytes(img: np.ndarray, scale: int = 1) -> bytes:
    """8-bit greyscale (H, W[, 1]) or RGB (H, W, 3) image -> PNG bytes, each pixel `scale`×`scale`."""
    img = np.asarray(img, np.uint8)
    if img.ndim == 3 and img.shape[2] == 1:
        img = img[..., 0]
    if img.ndim not in (2, 3) or (img.ndim == 3 and img.shape[2] != 3):
        raise ValueError(f"not a greyscale or RGB image: shape {img.shape}")
    img = np.repeat(np.repeat(img, scale, 0), scale, 1)
    buf = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(img), "L" if img.ndim == 2 else "RGB").save(buf, format="PNG", optimize=False)
    return buf.getvalue()


def png_data_uri(img: np.ndarray, scale: int = 3) -> str:
    return "data:image/png;base64," + base64.b64encode(png_bytes(img, scale)).decode("ascii")
