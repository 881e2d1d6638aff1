"""Inline SVG charts, written by hand: line charts with ±std bands and accuracy-matrix heat maps.

Every label goes through `esc`; colours, coordinates and numbers are generated here.
"""

from __future__ import annotations

import html
import math
from dataclasses import dataclass, field

PALETTE = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b", "#e377c2",
           "#7f7f7f", "#bcbd22")


def esc(x) -> str:
    return html.escape(str(x), quote=True)


@dataclass
class Series:
    label: str
    points: list[tuple[float, float, float | None]]  # (x, mean, std)
    dashed: bool = False
    colour: int = 0
    extra: dict = field(default_factory=dict)


def _nice_ticks(lo: float, hi: float, n: int = 5) -> list[float]:
    if hi <= lo:
        lo, hi = lo - 1, hi + 1
    raw = (hi - lo) / n
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    start = math.ceil(lo / step) * step
    return [round(start + i * step, 10) for i in range(int((hi - start) / step + 1e-9) + 1)]


def _tick_label(v: float) -> str:
    return f"{v:g}" if abs(v) < 1e5 else f"{v:.0e}"


def line_chart(series: list[Series], *, title: str, xlabel: str, ylabel: str, logx: bool = False,
               width: int = 620, height: int = 330) -> str:
    pts = [(x, m, s) for se in series for x, m, s in se.points
           if _finite(x, m) and (not logx or x > 0)]
    if not pts:
        return ""
    ml, mr, mt, mb = 56, 170, 30, 46
    pw, ph = width - ml - mr, height - mt - mb
    tx = math.log10 if logx else (lambda v: v)
    xs = [tx(x) for x, _, _ in pts]
    x0, x1 = min(xs), max(xs)
    if x1 == x0:
        x0, x1 = x0 - 0.5, x1 + 0.5
    pad = 0.04 * (x1 - x0)
    x0, x1 = x0 - pad, x1 + pad
    lows = [m - (s or 0) for _, m, s in pts]
    highs = [m + (s or 0) for _, m, s in pts]
    y0, y1 = min(lows), max(highs)
    ypad = 0.08 * (y1 - y0) if y1 > y0 else 1.0
    yt = _nice_ticks(y0 - ypad, y1 + ypad)
    y0, y1 = min(yt[0], y0 - ypad), max(yt[-1], y1 + ypad)

    def X(v):
        return ml + (tx(v) - x0) / (x1 - x0) * pw

    def Y(v):
        return mt + (1 - (v - y0) / (y1 - y0)) * ph

    out = [f'<svg class="chart" xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" role="img" aria-label="{esc(title)}">',
           f'<text x="{ml}" y="18" class="ctitle">{esc(title)}</text>',
           f'<rect x="{ml}" y="{mt}" width="{pw}" height="{ph}" fill="#fff" stroke="#999"/>']
    for v in yt:
        if y0 <= v <= y1:
            out.append(f'<line x1="{ml}" x2="{ml + pw}" y1="{Y(v):.1f}" y2="{Y(v):.1f}" stroke="#eee"/>'
                       f'<text x="{ml - 6}" y="{Y(v) + 4:.1f}" text-anchor="end" class="tick">{_tick_label(v)}</text>')
    for v in _x_ticks(sorted({x for x, _, _ in pts}), logx, x0, x1):
        out.append(f'<line x1="{X(v):.1f}" x2="{X(v):.1f}" y1="{mt + ph}" y2="{mt + ph + 4}" stroke="#999"/>'
                   f'<text x="{X(v):.1f}" y="{mt + ph + 16}" text-anchor="middle" class="tick">{_tick_label(v)}</text>')
    out.append(f'<text x="{ml + pw / 2}" y="{height - 8}" text-anchor="middle" class="axis">'
               f'{esc(xlabel)}{" (log scale)" if logx else ""}</text>'
               f'<text transform="translate(14 {mt + ph / 2}) rotate(-90)" text-anchor="middle" class="axis">'
               f'{esc(ylabel)}</text>')
    for i, se in enumerate(series):
        p = sorted((x, m, s) for x, m, s in se.points if _finite(x, m) and (not logx or x > 0))
        if not p:
            continue
        c = PALETTE[se.colour % len(PALETTE)]
        dash = ' stroke-dasharray="6 4"' if se.dashed else ""
        if not se.dashed and any(s for _, _, s in p):
            band = [(X(x), Y(m + (s or 0))) for x, m, s in p] + [(X(x), Y(m - (s or 0))) for x, m, s in reversed(p)]
            out.append(f'<polygon points="{_pl(band)}" fill="{c}" fill-opacity="0.15" stroke="none"/>')
        out.append(f'<polyline points="{_pl([(X(x), Y(m)) for x, m, _ in p])}" fill="none" stroke="{c}" '
                   f'stroke-width="2"{dash}/>')
        for x, m, s in p:
            tip = f"{se.label}: {_tick_label(x)} → {m:.2f}" + (f" ± {s:.2f}" if s else "")
            if se.dashed and s:
                out.append(f'<line x1="{X(x):.1f}" x2="{X(x):.1f}" y1="{Y(m - s):.1f}" y2="{Y(m + s):.1f}" '
                           f'stroke="{c}"/>')
            shape = (f'<rect x="{X(x) - 3.5:.1f}" y="{Y(m) - 3.5:.1f}" width="7" height="7" fill="#fff" stroke="{c}"'
                     if se.dashed else f'<circle cx="{X(x):.1f}" cy="{Y(m):.1f}" r="3.5" fill="{c}"')
            out.append(f'{shape}><title>{esc(tip)}</title>{"</rect>" if se.dashed else "</circle>"}')
        ly = mt + 8 + 18 * i
        lx = ml + pw + 12
        out.append(f'<line x1="{lx}" x2="{lx + 24}" y1="{ly}" y2="{ly}" stroke="{c}" stroke-width="2"{dash}/>'
                   f'<text x="{lx + 30}" y="{ly + 4}" class="legend">{esc(_short(se.label))}</text>')
    out.append("</svg>")
    return "".join(out)


def heatmap(matrix: list[list], *, title: str, cell: int = 34) -> str:
    """T×T accuracy matrix R[i][j]: row i = after training task i, column j = evaluated on task j."""
    rows = [[v if _finite(v) else None for v in r] for r in matrix if isinstance(r, list)]
    if not rows:
        return ""
    t_rows, t_cols = len(rows), max(len(r) for r in rows)
    ml, mt = 74, 60
    width, height = max(ml + t_cols * cell + 20, 380), mt + t_rows * cell + 34
    out = [f'<svg class="chart heat" xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" role="img" aria-label="{esc(title)}">',
           f'<text x="4" y="16" class="ctitle">{esc(title)}</text>',
           f'<text x="{ml + t_cols * cell / 2}" y="38" text-anchor="middle" class="axis">evaluated on task j</text>',
           f'<text transform="translate(14 {mt + t_rows * cell / 2}) rotate(-90)" text-anchor="middle" '
           f'class="axis">after training task i</text>']
    for j in range(t_cols):
        out.append(f'<text x="{ml + j * cell + cell / 2}" y="{mt - 4}" text-anchor="middle" class="tick">{j + 1}</text>')
    for i, r in enumerate(rows):
        out.append(f'<text x="{ml - 6}" y="{mt + i * cell + cell / 2 + 4}" text-anchor="end" class="tick">{i + 1}</text>')
        for j in range(t_cols):
            v = r[j] if j < len(r) else None
            x, y = ml + j * cell, mt + i * cell
            fill = _colour(v) if v is not None else "#ddd"
            label = f"R[{i + 1},{j + 1}] = {v:.2f}" if v is not None else f"R[{i + 1},{j + 1}] missing"
            out.append(f'<rect x="{x}" y="{y}" width="{cell}" height="{cell}" fill="{fill}" stroke="#fff">'
                       f'<title>{esc(label)}</title></rect>')
            if v is not None and t_cols <= 12:
                ink = "#000" if v > 55 else "#fff"
                out.append(f'<text x="{x + cell / 2}" y="{y + cell / 2 + 4}" text-anchor="middle" '
                           f'class="cellv" fill="{ink}">{v:.0f}</text>')
    out.append(f'<text x="{ml}" y="{height - 10}" class="tick">colour: accuracy 0 % (dark) … 100 % (light)</text>')
    out.append("</svg>")
    return "".join(out)


# viridis-like stops for 0..100
_STOPS = ((0, (68, 1, 84)), (25, (59, 82, 139)), (50, (33, 145, 140)), (75, (94, 201, 98)), (100, (253, 231, 37)))


def _colour(v: float) -> str:
    v = min(100.0, max(0.0, float(v)))
    for (a, ca), (b, cb) in zip(_STOPS, _STOPS[1:]):
        if v <= b:
            t = (v - a) / (b - a)
            return "#" + "".join(f"{round(p + (q - p) * t):02x}" for p, q in zip(ca, cb))
    return "#fde725"


def _x_ticks(xs: list[float], logx: bool, x0: float, x1: float) -> list[float]:
    if len(xs) <= 8:
        return xs
    if logx:
        return [10.0 ** k for k in range(math.ceil(x0), math.floor(x1) + 1)]
    return [v for v in _nice_ticks(x0, x1) if x0 <= v <= x1]


def _finite(*vals) -> bool:
    return all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in vals)


def _pl(pts) -> str:
    return " ".join(f"{x:.1f},{y:.1f}" for x, y in pts)


def _short(s: str, n: int = 20) -> str:
    return s if len(s) <= n else s[: n - 1] + "…"
