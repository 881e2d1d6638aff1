"""Charts as data: what a figure shows, with no drawing code and no ntkbench imports.

A task (or the leaderboard on its behalf) describes its figures with these frozen dataclasses;
a renderer (`ntkbench.leaderboard.plots.render`) turns each into inline SVG or HTML. Three kinds:

    Chart("acc vs n", "n", "acc (%)", series=(Series("mlp", ((250, 61.0, 0.5), (500, 70.2, None))),),
          log_x=True)                                             # kind="line"
    Chart("R", "evaluated on task j", "after training task i", kind="heatmap",
          heatmap=Heatmap(rows=("1", "2"), cols=("1", "2"), values=((90.0, 10.0), (40.0, None))))
    Chart("first synthetic example per class", "", "", kind="images",
          images=(Image("class 0", (28, 28, 1), b"..."),))    # uint8 pixels, row-major

Everything is immutable and hashable (tuples, bytes), so charts can be compared, cached and
written out as data.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = ["Chart", "Heatmap", "Image", "Series"]


@dataclass(frozen=True)
class Series:
    """One curve: points (x, y, error) sorted by x; error is a ± half-width (e.g. std) or None.
    `dashed` draws a reference curve (e.g. infinite width); series with the same `group` share
    a colour."""

    label: str
    points: tuple[tuple[float, float, float | None], ...]
    dashed: bool = False
    group: int = 0


@dataclass(frozen=True)
class Heatmap:
    """values[i][j] for row label rows[i] and column label cols[j]; None marks a missing cell.
    Colours span [vmin, vmax]."""

    rows: tuple[str, ...]
    cols: tuple[str, ...]
    values: tuple[tuple[float | None, ...], ...]
    vmin: float = 0.0
    vmax: float = 100.0
    annotate: bool = True  # print each value in its cell


@dataclass(frozen=True)
class Image:
    """A small uint8 image (H, W[, 1 or 3]) or 1-D signal (length[, channels]), row-major bytes."""

    label: str
    shape: tuple[int, ...]
    pixels: bytes


@dataclass(frozen=True)
class Chart:
    title: str
    xlabel: str
    ylabel: str
    series: tuple[Series, ...] = ()
    log_x: bool = False
    kind: Literal["line", "heatmap", "images"] = "line"
    heatmap: Heatmap | None = None
    images: tuple[Image, ...] = ()
