"""Render a `ntkbench.charts.Chart` as inline SVG with matplotlib.

    svg = render(chart)   # '<svg class="chart" role="img" ...>…</svg>', or '' when there is nothing to draw

No pyplot (no global figure state): each chart is a `matplotlib.figure.Figure` saved as SVG under
matplotlib's default style plus `RC` (so the user's matplotlibrc changes nothing), with a fixed
hash salt and no date/creator metadata, so the same chart gives the same bytes. Text stays text
(`svg.fonttype = "none"`), escaped by matplotlib's XML writer, and mathtext is off so a `$` in a
method name is just a dollar. Picture grids (distilled images) are not drawn here: `pictures`
turns them into PNG data URIs for an HTML grid.
"""

from __future__ import annotations

import hashlib
import html
import io
import math
import re
from typing import TYPE_CHECKING, Any

import matplotlib as mpl
import matplotlib.style
import numpy as np
from matplotlib.figure import Figure
from matplotlib.text import Text
from matplotlib.ticker import FuncFormatter, NullFormatter

from ntkbench.charts import Chart, Heatmap, Series
from ntkbench.leaderboard.png import png_data_uri

if TYPE_CHECKING:
    from matplotlib.typing import RcKeyType

__all__ = ["pictures", "render"]

PALETTE = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22")
RC: dict[RcKeyType, Any] = {
    "svg.fonttype": "none",
    "svg.image_inline": True,
    "font.sans-serif": ["DejaVu Sans"],
    "font.size": 9,
    "axes.titlesize": 10,
    "axes.titleweight": "bold",
    "axes.titlelocation": "left",
    "legend.fontsize": 8,
    "legend.frameon": False,
}
_NO_METADATA = {"Date": None, "Creator": None, "Format": None, "Type": None}


def render(chart: Chart) -> str:
    draw = {"line": _line, "scatter": _line, "heatmap": _heatmap, "images": _signals}.get(chart.kind)
    if draw is None:
        return ""
    salt = hashlib.sha256(repr(chart).encode()).hexdigest()[:12]  # ids unique per chart on one page
    with mpl.style.context("default"), mpl.rc_context({**RC, "svg.hashsalt": f"ntkbench-{salt}"}):
        fig = Figure(figsize=(8.6, 4.4) if chart.kind in ("line", "scatter") else (6.2, 4.4), layout="constrained")
        tips = draw(fig, chart, f"c{salt}")
        if tips is None:
            return ""
        for t in fig.findobj(Text):
            t.set_parse_math(False)
        buf = io.StringIO()
        fig.savefig(buf, format="svg", metadata={"Title": chart.title, **_NO_METADATA})
    return _inline(buf.getvalue(), chart, f"c{salt}", tips)


def _inline(svg: str, chart: Chart, uid: str, tips: dict[str, str]) -> str:
    """Drop the XML prolog, DOCTYPE and RDF metadata, and matplotlib's fixed group ids ("figure_1",
    "axes_1", … would repeat across the charts of a page); label the root for assistive tech; add
    hover titles to the groups named in `tips` (ids prefixed with `uid`, unique per chart)."""
    svg = svg[svg.index("<svg") :].strip()
    svg = re.sub(r"\s*<metadata>.*?</metadata>", "", svg, count=1, flags=re.DOTALL)
    svg = re.sub(rf'<g id="(?!{uid}-)[^"]*"', "<g", svg)
    cls = "chart heat" if chart.kind == "heatmap" else "chart"
    svg = svg.replace("<svg ", f'<svg class="{cls}" role="img" aria-labelledby="{uid}-title" ', 1)
    svg = re.sub(r"<title>", f'<title id="{uid}-title">', svg, count=1)
    for gid, tip in tips.items():
        svg = svg.replace(f'<g id="{gid}">', f'<g id="{gid}"><title>{html.escape(tip)}</title>', 1)
    return svg


def _finite(*vals) -> bool:
    return all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in vals)


def _short(s: str, n: int = 24) -> str:
    return s if len(s) <= n else s[: n - 1] + "…"


def _g(v: float) -> str:
    return f"{v:g}" if abs(v) < 1e5 else f"{v:.0e}"


def _points(se: Series, log_x: bool, log_y: bool = False) -> list[tuple[float, float, float | None]]:
    return sorted(
        (x, m, s if _finite(s) else None)
        for x, m, s in se.points
        if _finite(x, m) and (not log_x or x > 0) and (not log_y or m > 0)
    )


MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*")


def _line(fig: Figure, chart: Chart, uid: str) -> dict[str, str] | None:
    """Line chart, or (kind "scatter") points only, with error bars where given."""
    series = [(se, p) for se in chart.series if (p := _points(se, chart.log_x, chart.log_y))]
    if not series:
        return None
    ax = fig.add_subplot()
    tips, handles, labels = {}, [], []
    for i, (se, p) in enumerate(series):
        c = PALETTE[se.group % len(PALETTE)]
        x, m = np.array([t[0] for t in p]), np.array([t[1] for t in p])
        s = np.array([t[2] or 0.0 for t in p])
        light = 0.45 if se.reduced else 1.0  # a run at a reduced budget: lighter, and dashed (dotted if a reference)
        if chart.kind == "scatter":
            if s.any():
                ax.errorbar(x, m, yerr=s, fmt="none", ecolor=c, elinewidth=1, alpha=0.6 * light)
            marker = MARKERS[(i // len(PALETTE)) % len(MARKERS)] if not se.dashed else "s"
            (h,) = ax.plot(
                x, m, marker, ls="none", color=c, ms=6, alpha=0.75 * light, mfc="white" if se.dashed else c, mec=c
            )
        elif se.dashed:
            if s.any():
                ax.errorbar(x, m, yerr=s, fmt="none", ecolor=c, elinewidth=1, alpha=light)
            (h,) = ax.plot(x, m, ":s" if se.reduced else "--s", color=c, lw=1.6, ms=5, mfc="white", mec=c, alpha=light)
        else:
            if s.any():
                ax.fill_between(x, m - s, m + s, color=c, alpha=0.15 * light, lw=0)
            (h,) = ax.plot(x, m, "--o" if se.reduced else "-o", color=c, lw=1.8, ms=4, alpha=light)
        h.set_gid(f"{uid}-s{i}")
        tips[f"{uid}-s{i}"] = f"{se.legend}: " + "; ".join(
            f"{_g(a)} → {b:.2f}" + (f" ± {e:.2f}" if e else "") for a, b, e in p
        )
        handles.append(h)
        mark = se.legend.removeprefix(se.label)  # "(reduced)" survives a long name's cut
        labels.append(_short(se.label, 40 - len(mark)) + mark)
    plain = FuncFormatter(lambda v, _: _g(v))  # mathtext is off: no "$10^{3}$" tick labels
    for on, axis, scale in ((chart.log_x, ax.xaxis, ax.set_xscale), (chart.log_y, ax.yaxis, ax.set_yscale)):
        if on:
            scale("log")
            axis.set_major_formatter(plain)
            axis.set_minor_formatter(NullFormatter())
    xs = sorted({t[0] for _, p in series for t in p})
    if len(xs) <= 8 and chart.kind == "line":
        ax.set_xticks(xs, [_g(v) for v in xs])
        ax.minorticks_off()
    ax.grid(True, axis="both" if chart.kind == "scatter" else "y", color="#eee")
    ax.set_title(chart.title)
    ax.set_xlabel(chart.xlabel + (" (log scale)" if chart.log_x else ""))
    ax.set_ylabel(chart.ylabel + (" (log scale)" if chart.log_y else ""))
    fig.legend(handles, labels, loc="outside right upper")  # explicit labels: a leading "_" is kept
    return tips


def _heatmap(fig: Figure, chart: Chart, uid: str) -> dict[str, str] | None:
    hm: Heatmap | None = chart.heatmap
    if hm is None or not hm.values:
        return None
    n_rows, n_cols = len(hm.values), max(len(r) for r in hm.values)
    grid = np.full((n_rows, n_cols), np.nan)
    for i, r in enumerate(hm.values):
        for j, v in enumerate(r):
            grid[i, j] = float(v) if v is not None and _finite(v) else np.nan
    ax = fig.add_subplot()
    ax.set_facecolor("#dddddd")  # missing cells
    mesh = ax.pcolormesh(
        np.ma.masked_invalid(grid), cmap="viridis", vmin=hm.vmin, vmax=hm.vmax, edgecolors="white", linewidth=1
    )
    mid = (hm.vmin + hm.vmax) / 2
    if hm.annotate and n_cols <= 12:
        for i, j in zip(*np.nonzero(np.isfinite(grid))):
            v = grid[i, j]
            ax.text(
                j + 0.5,
                i + 0.5,
                f"{v:.0f}",
                ha="center",
                va="center",
                fontsize=8,
                color="black" if v > mid else "white",
            )
    ax.set_xticks(np.arange(n_cols) + 0.5, [str(c) for c in hm.cols[:n_cols]])
    ax.set_yticks(np.arange(n_rows) + 0.5, [str(r) for r in hm.rows[:n_rows]])
    ax.set_xlim(0, n_cols)
    ax.set_ylim(n_rows, 0)  # row 1 at the top
    ax.xaxis.tick_top()
    ax.xaxis.set_label_position("top")
    ax.set_aspect("equal")
    ax.set_title(chart.title, pad=8)
    ax.set_xlabel(chart.xlabel)
    ax.set_ylabel(chart.ylabel)
    fig.colorbar(mesh, ax=ax, shrink=0.8, label=f"value ({hm.vmin:g} … {hm.vmax:g}); grey: missing")
    return {}


def _is_picture(shape: tuple[int, ...]) -> bool:
    return len(shape) == 3 and shape[2] in (1, 3)


def _pixels(im) -> np.ndarray | None:
    if not im.shape or math.prod(im.shape) != len(im.pixels):
        return None
    return np.frombuffer(im.pixels, np.uint8).reshape(im.shape)


def pictures(chart: Chart) -> list[tuple[str, str]] | None:
    """(label, PNG data URI) per image when `chart` is a grid of pictures (H, W, 1|3), else None."""
    if chart.kind != "images" or not chart.images or not all(_is_picture(im.shape) for im in chart.images):
        return None
    out = [(im.label, png_data_uri(a)) for im in chart.images if (a := _pixels(im)) is not None]
    return out or None


def _signals(fig: Figure, chart: Chart, uid: str) -> dict[str, str] | None:
    """1-D signals (length[, channels]) as small multiples; channels are averaged."""
    sigs = [
        (im.label, a.reshape(a.shape[0], -1).mean(1) / 255.0)
        for im in chart.images
        if len(im.shape) <= 2 and (a := _pixels(im)) is not None
    ]
    if not sigs:
        return None
    fig.set_size_inches(1.35 * min(len(sigs), 10), 1.25 * math.ceil(len(sigs) / 10) + 0.5)
    axes = fig.subplots(math.ceil(len(sigs) / 10), min(len(sigs), 10), squeeze=False, sharey=True)
    for ax, (label, v) in zip(axes.flat, sigs):
        ax.plot(np.arange(len(v)), v, color=PALETTE[0], lw=1.2)
        ax.set_title(label, fontsize=8, loc="center", fontweight="normal")
        ax.set_xticks([])
        ax.set_yticks([])
    for ax in axes.flat[len(sigs) :]:
        ax.set_axis_off()
    fig.suptitle(chart.title, fontsize=9, x=0.0, ha="left")
    return {}
