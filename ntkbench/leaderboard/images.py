"""Synthetic-set previews (distillation results): a grid of the first image of each class.

The preview in a result file is untrusted: it is decoded and checked here, and the page shows a
PNG this module encodes itself (or, for 1-D signals, an SVG polyline) — never bytes from the file.
"""

from __future__ import annotations

import base64
import binascii
import html
import math
import struct
import zlib

import numpy as np

MAX_PIXELS = 64 * 64 * 3


def decode(preview) -> tuple[list[np.ndarray], list] | None:
    """(uint8 arrays, class labels), or None when the preview is absent or malformed."""
    if not isinstance(preview, dict) or preview.get("format") != "uint8-base64":
        return None
    shape = preview.get("shape")
    if not (isinstance(shape, list) and 1 <= len(shape) <= 3 and all(isinstance(s, int) and s > 0 for s in shape)):
        return None
    if math.prod(shape) > MAX_PIXELS:
        return None
    images = []
    for s in preview.get("images") or []:
        try:
            raw = base64.b64decode(str(s), validate=True)
        except (binascii.Error, ValueError):
            return None
        if len(raw) != math.prod(shape):
            return None
        images.append(np.frombuffer(raw, np.uint8).reshape(shape))
    classes = list(preview.get("classes") or [])[: len(images)]
    return (images, classes) if images else None


def png_data_uri(img: np.ndarray, scale: int = 3) -> str:
    """8-bit greyscale (H, W[, 1]) or RGB (H, W, 3) image -> data: URI of a PNG, upscaled."""
    if img.ndim == 3 and img.shape[2] == 1:
        img = img[..., 0]
    img = np.repeat(np.repeat(img, scale, 0), scale, 1)
    colour = 2 if img.ndim == 3 else 0
    h, w = img.shape[:2]
    rows = b"".join(b"\x00" + img[r].tobytes() for r in range(h))

    def chunk(tag: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)

    png = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, colour, 0, 0, 0))
           + chunk(b"IDAT", zlib.compress(rows, 9)) + chunk(b"IEND", b""))
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def _signal_svg(sig: np.ndarray, width: int = 120, height: int = 48) -> str:
    v = sig.reshape(sig.shape[0], -1).mean(1).astype(float) / 255.0
    xs = np.linspace(2, width - 2, len(v))
    ys = height - 2 - v * (height - 4)
    pts = " ".join(f"{x:.1f},{y:.1f}" for x, y in zip(xs, ys))
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}">'
            f'<polyline fill="none" stroke="#1f77b4" stroke-width="1.5" points="{pts}"/></svg>')


def preview_grid(preview, title: str) -> str:
    """HTML figure for one result's preview ('' when there is none)."""
    decoded = decode(preview)
    if decoded is None:
        return ""
    images, classes = decoded
    cells = []
    for img, c in zip(images, classes + [None] * len(images)):
        label = html.escape(f"class {c}" if c is not None else "")
        if img.ndim == 3 and img.shape[2] in (1, 3):
            body = f'<img alt="{label}" src="{png_data_uri(img)}">'
        elif img.ndim <= 2:  # 1-D signal (length, channels)
            body = _signal_svg(img if img.ndim == 2 else img[:, None])
        else:
            continue
        cells.append(f'<figure class="syn">{body}<figcaption>{label}</figcaption></figure>')
    return f'<div class="synthetic"><div class="ctitle">{html.escape(title)}</div>{"".join(cells)}</div>'
