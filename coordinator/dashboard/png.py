"""Figures as PNG files (matplotlib, headless Agg backend), for papers and slides.

The figure data is the same as the SVG's (figures.py); only the drawing differs.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from coordinator.dashboard.figures import Axis, Figure
from coordinator.dashboard.svg import _shade
from coordinator.errors import InvalidInput


def write_png(figure: Figure, path: Path, dpi: int = 150) -> Path:
    try:  # lazy: matplotlib is the optional `png` extra and slow to import
        import matplotlib  # noqa: PLC0415
    except ImportError:
        raise InvalidInput("--png: PNG figures need matplotlib; install the png extra "
                           "(pip install 'celeriac[png]') or leave out --png") from None

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # noqa: PLC0415  (after use("Agg"): no display needed)

    fig, ax = plt.subplots(figsize=(6.4, 3.9), dpi=dpi)
    try:
        ax.set_title(figure.title, loc="left", fontsize=11, fontweight="bold")
        if figure.empty:
            ax.text(0.5, 0.5, figure.note, ha="center", va="center", color="#9ca3af",
                    transform=ax.transAxes)
            ax.set_axis_off()
        elif figure.kind == "parallel":
            _parallel(ax, figure)
        else:
            _xy(ax, figure)
        fig.tight_layout()
        fig.savefig(path, format="png")
    finally:
        plt.close(fig)
    return path


def _xy(ax: Any, figure: Figure) -> None:
    labelled: set[str] = set()
    for series in figure.series:
        if not series.points:
            continue
        xs, ys = zip(*series.points, strict=True)
        if series.style == "curve":  # many of one kind: one legend entry for them all
            label = "_" if series.label in labelled else series.label
            labelled.add(series.label)
            ax.plot(xs, ys, "-", color=series.color, lw=series.width * 0.6,
                    alpha=series.opacity, label=label, marker="o" if len(xs) == 1 else None,
                    ms=3)
            if series.end:
                ax.plot(xs[-1:], ys[-1:], "x", color="#dc2626", ms=5, alpha=0.8)
        elif series.style == "step":
            ax.step(xs, ys, where="post", color=series.color, lw=2, label=series.label)
        elif series.style == "line":
            ax.plot(xs, ys, "-o", color=series.color, lw=2, ms=5, label=series.label)
        else:
            ax.scatter(xs, ys, s=22, color=series.color, alpha=0.8, edgecolors="white",
                       linewidths=0.5, label=series.label)
    for y, label in figure.hlines:
        ax.axhline(y, color="#6b7280", ls="--", lw=1, label=label)
    for x, label in figure.vlines:
        ax.axvline(x, color="#6b7280", ls="--", lw=0.8)
        ax.annotate(label, (x, 1), xycoords=("data", "axes fraction"), xytext=(3, -10),
                    textcoords="offset points", fontsize=7, color="#374151")
    _axis(ax, figure.x, "x")
    ax.set_ylabel(figure.y.label)
    ax.grid(True, color="#e5e7eb")
    ax.legend(fontsize=8, loc="best")


def _axis(ax: Any, axis: Axis, which: str) -> None:
    getattr(ax, f"set_{which}label")(axis.label)
    if axis.log:
        getattr(ax, f"set_{which}scale")("log")
    if axis.categories:
        getattr(ax, f"set_{which}ticks")(range(len(axis.categories)), list(axis.categories))


def _parallel(ax: Any, figure: Figure) -> None:
    """Each column scaled to [0, 1] by its own range (log columns in log space)."""
    columns = list(zip(*figure.rows, strict=True)) if figure.rows else []
    ranges = [_range(a, [v for v in col if v is not None])
              for a, col in zip(figure.axes, columns, strict=True)]
    for row, shade in zip(figure.rows, figure.shades, strict=True):
        points = [(i, _unit(figure.axes[i], v, ranges[i])) for i, v in enumerate(row)
                  if v is not None]
        xs, ys = zip(*points, strict=True)
        ax.plot(xs, ys, color=_shade(shade), alpha=0.35 + 0.55 * shade, lw=1.2)
    for i, (axis, (low, high)) in enumerate(zip(figure.axes, ranges, strict=True)):
        ax.axvline(i, color="#374151", lw=1)
        top = axis.categories[-1] if axis.categories else f"{_back(axis, high):.3g}"
        bottom = axis.categories[0] if axis.categories else f"{_back(axis, low):.3g}"
        ax.text(i, 1.02, top, ha="center", fontsize=7)
        ax.text(i, -0.06, bottom, ha="center", va="top", fontsize=7)
    ax.set_xticks(range(len(figure.axes)), [a.label[:18] for a in figure.axes], fontsize=8)
    ax.set_yticks([])
    ax.set_ylim(-0.15, 1.1)
    for side in ("top", "right", "left"):
        ax.spines[side].set_visible(False)


def _range(axis: Axis, values: list[float]) -> tuple[float, float]:
    if axis.categories:
        return 0.0, float(max(len(axis.categories) - 1, 1))
    low = axis.low if axis.low is not None else min(values, default=0.0)
    high = axis.high if axis.high is not None else max(values, default=1.0)
    if axis.log:
        low, high = math.log10(low), math.log10(high)
    return (low, high) if high > low else (low - 0.5, high + 0.5)


def _unit(axis: Axis, value: float, bounds: tuple[float, float]) -> float:
    low, high = bounds
    value = math.log10(value) if axis.log else value
    return (value - low) / (high - low)


def _back(axis: Axis, value: float) -> float:
    return 10 ** value if axis.log else value
