"""Figures as standalone SVG text: inline in the HTML report, <img> sources on the dashboard.

Hand-written rather than a charting library, so nothing is fetched or vendored and every label
passes through one escape function: a name like `<script>` is drawn as text, never parsed.
"""

from __future__ import annotations

import math
from html import escape

from coordinator.dashboard.figures import GREY, INK, RED, Axis, Figure, Series

WIDTH, HEIGHT = 600, 360
LEFT, RIGHT, TOP, BOTTOM = 70, 20, 54, 52
FONT = "font-family=\"system-ui,-apple-system,'Segoe UI',Roboto,sans-serif\""


def text(value: object, limit: int = 300) -> str:
    """The one way text enters the SVG: escaped, control characters dropped, length capped
    (with an ellipsis) so that a long name cannot run off the figure."""
    cleaned = "".join(ch for ch in str(value) if ch >= " " or ch == "\t")
    if len(cleaned) > limit:
        cleaned = cleaned[:limit - 1] + "…"
    return escape(cleaned, quote=True)


class Scale:
    """Maps data values on one axis to pixels; log and categorical axes included."""

    def __init__(self, axis: Axis, values: list[float], start: float, end: float) -> None:
        self.axis, self.start, self.end = axis, start, end
        if axis.categories:
            self.low, self.high = -0.5, len(axis.categories) - 0.5
            return
        data = [v for v in values if math.isfinite(v) and (v > 0 or not axis.log)]
        low = axis.low if axis.low is not None else min(data, default=0.0)
        high = axis.high if axis.high is not None else max(data, default=1.0)
        low, high = min([low, *data]), max([high, *data])
        if axis.log:
            low, high = math.log10(max(low, 1e-300)), math.log10(max(high, 1e-300))
        if high - low < 1e-12:
            low, high = low - 0.5, high + 0.5
        pad = 0.0 if axis.low is not None and axis.high is not None else (high - low) * 0.05
        self.low, self.high = low - pad, high + pad

    def __call__(self, value: float) -> float:
        if self.axis.log:
            value = math.log10(max(value, 1e-300))
        share = (value - self.low) / (self.high - self.low)
        return self.start + share * (self.end - self.start)

    def ticks(self) -> list[tuple[float, str]]:
        if self.axis.categories:
            return [(float(i), c) for i, c in enumerate(self.axis.categories)]
        if self.axis.log:
            first, last = math.ceil(self.low), math.floor(self.high)
            return [(10.0 ** e, f"{10.0 ** e:g}") for e in range(first, last + 1)]
        ticks = nice_ticks(self.low, self.high)
        if self.axis.integer:
            ticks = sorted({float(round(v)) for v in ticks if self.low <= round(v) <= self.high})
        return [(v, f"{v:.4g}") for v in ticks]


def nice_ticks(low: float, high: float, count: int = 7) -> list[float]:
    """Round numbers (1, 2, 5 times a power of ten) spanning [low, high]."""
    raw = (high - low) / max(count, 1)
    power = 10 ** math.floor(math.log10(raw)) if raw > 0 else 1.0
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    first = math.ceil(low / step) * step
    ticks: list[float] = []
    value = first
    while value <= high + step * 1e-9 and len(ticks) < 50:
        ticks.append(0.0 if abs(value) < step * 1e-9 else value)
        value += step
    return ticks


def render(figure: Figure) -> str:
    body = _parallel(figure) if figure.kind == "parallel" else _xy(figure)
    if figure.empty:
        body = (f'<text x="{WIDTH / 2}" y="{HEIGHT / 2}" text-anchor="middle" fill="{GREY}" '
                f'font-size="14">{text(figure.note)}</text>')
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
            f'width="{WIDTH}" height="{HEIGHT}" role="img" {FONT} font-size="12">'
            f'<title>{text(figure.title)}</title>'
            f'<rect width="{WIDTH}" height="{HEIGHT}" fill="#ffffff"/>'
            f'<text x="{LEFT}" y="24" font-size="15" font-weight="600" fill="{INK}">'
            f'{text(figure.title, 56)}</text>{body}</svg>')


def _xy(figure: Figure) -> str:
    xs = [x for s in figure.series for x, _ in s.points] + [x for x, _ in figure.vlines]
    ys = [y for s in figure.series for _, y in s.points] + [y for y, _ in figure.hlines]
    sx = Scale(figure.x, xs, LEFT, WIDTH - RIGHT)
    sy = Scale(figure.y, ys, HEIGHT - BOTTOM, TOP)
    parts = [_grid(sx, sy)]
    for y, label in figure.hlines:
        py = sy(y)
        parts.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{py:.1f}" y2="{py:.1f}" '
                     f'stroke="#6b7280" stroke-dasharray="6 4"/><text x="{WIDTH - RIGHT - 4}" '
                     f'y="{py - 5:.1f}" text-anchor="end" fill="#374151">{text(label)}</text>')
    parts.append(_vlines(figure.vlines, sx))
    parts += [_series(s, sx, sy) for s in figure.series]
    parts.append(_legend([s for s in figure.series if s.points]))
    return "".join(parts)


def _vlines(lines: list[tuple[float, str]], sx: Scale) -> str:
    """Dashed vertical lines (the rungs), each labelled at the top unless the label would run
    into the one before."""
    out, free_from = [], float("-inf")
    for x, label in sorted(lines):
        px = sx(x)
        out.append(f'<line class="rung" x1="{px:.1f}" x2="{px:.1f}" y1="{TOP}" '
                   f'y2="{HEIGHT - BOTTOM}" stroke="#6b7280" stroke-dasharray="4 4"/>')
        if px >= free_from:
            out.append(f'<text x="{px + 3:.1f}" y="{TOP + 12}" font-size="10" fill="#374151">'
                       f'{text(label, 24)}</text>')
            free_from = px + 10 + 6 * min(len(label), 24)
    return "".join(out)


def _grid(sx: Scale, sy: Scale) -> str:
    out = [f'<rect x="{LEFT}" y="{TOP}" width="{WIDTH - LEFT - RIGHT}" '
           f'height="{HEIGHT - TOP - BOTTOM}" fill="#f9fafb" stroke="#d1d5db"/>']
    for value, label in sx.ticks():
        px = sx(value)
        out.append(f'<line x1="{px:.1f}" x2="{px:.1f}" y1="{TOP}" y2="{HEIGHT - BOTTOM}" '
                   f'stroke="#e5e7eb"/><text x="{px:.1f}" y="{HEIGHT - BOTTOM + 16}" '
                   f'text-anchor="middle" fill="#4b5563">{text(label, 14)}</text>')
    for value, label in sy.ticks():
        py = sy(value)
        out.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{py:.1f}" y2="{py:.1f}" '
                   f'stroke="#e5e7eb"/><text x="{LEFT - 6}" y="{py + 4:.1f}" '
                   f'text-anchor="end" fill="#4b5563">{text(label, 9)}</text>')
    out.append(f'<text x="{(LEFT + WIDTH - RIGHT) / 2}" y="{HEIGHT - 12}" text-anchor="middle" '
               f'fill="{INK}" font-weight="500">{text(sx.axis.label, 70)}</text>'
               f'<text transform="translate(16 {(TOP + HEIGHT - BOTTOM) / 2}) rotate(-90)" '
               f'text-anchor="middle" fill="{INK}" font-weight="500">'
               f'{text(sy.axis.label, 40)}</text>')
    return "".join(out)


def _series(series: Series, sx: Scale, sy: Scale) -> str:
    pixels = [(sx(x), sy(y)) for x, y in series.points]
    if not pixels:
        return ""
    if series.style == "curve":
        return _curve(series, pixels)
    if series.style in ("line", "step"):
        path = _path(pixels, series.style == "step")
        line = (f'<path d="{path}" fill="none" stroke="{series.color}" stroke-width="2.5" '
                f'stroke-linejoin="round"/>')
        if series.style == "step":
            return line
        return line + _dots(series, pixels, 4.5)
    return _dots(series, pixels, 4)


def _curve(series: Series, pixels: list[tuple[float, float]]) -> str:
    """One run: a path (a lone point drawn as a dot by its round cap) with its tooltip, and
    a cross where the scheduler stopped it."""
    path = _path(pixels, False) + ("h0.01" if len(pixels) == 1 else "")
    tip = f"<title>{text(series.tips[0])}</title>" if series.tips else ""
    out = (f'<path class="run" d="{path}" fill="none" stroke="{series.color}" '
           f'stroke-width="{series.width:g}" stroke-opacity="{series.opacity:g}" '
           f'stroke-linejoin="round" stroke-linecap="round">{tip}</path>')
    if series.end:
        x, y = pixels[-1]
        out += (f'<path class="stop" d="M{x - 3.5:.1f},{y - 3.5:.1f}l7,7m0,-7l-7,7" '
                f'stroke="{RED}" stroke-width="1.6" stroke-opacity="0.8"/>')
    return out


def _path(pixels: list[tuple[float, float]], step: bool) -> str:
    out = [f"M{pixels[0][0]:.1f},{pixels[0][1]:.1f}"]
    for x, y in pixels[1:]:
        if step:
            out.append(f"H{x:.1f}V{y:.1f}")
        else:
            out.append(f"L{x:.1f},{y:.1f}")
    return "".join(out)


def _dots(series: Series, pixels: list[tuple[float, float]], radius: float) -> str:
    out = []
    for i, (px, py) in enumerate(pixels):
        tip = f"<title>{text(series.tips[i])}</title>" if i < len(series.tips) else ""
        out.append(f'<circle cx="{px:.1f}" cy="{py:.1f}" r="{radius}" fill="{series.color}" '
                   f'fill-opacity="0.75" stroke="#ffffff" stroke-width="0.8">{tip}</circle>')
    return "".join(out)


def _legend(series: list[Series]) -> str:
    """One row under the title, left-aligned with the plot."""
    out, x, seen = [], float(LEFT), set()
    for s in series:
        if (s.label, s.color) in seen:
            continue  # many series of one kind (learning curves) share one entry
        seen.add((s.label, s.color))
        out.append(f'<circle cx="{x + 5}" cy="{TOP - 14}" r="5" fill="{s.color}"/>'
                   f'<text x="{x + 14}" y="{TOP - 10}" fill="#374151">{text(s.label, 24)}'
                   f'</text>')
        x += 30 + 6.5 * min(len(s.label), 24)
    return "".join(out)


def _parallel(figure: Figure) -> str:
    n = len(figure.axes)
    gap = (WIDTH - LEFT - RIGHT) / max(n - 1, 1)
    positions = [LEFT + i * gap for i in range(n)]
    scales = [Scale(a, [v for r in figure.rows if (v := r[i]) is not None], HEIGHT - BOTTOM, TOP)
              for i, a in enumerate(figure.axes)]
    out = []
    for row, shade in zip(figure.rows, figure.shades, strict=True):
        points = [(positions[i], scales[i](v)) for i, v in enumerate(row) if v is not None]
        out.append(f'<path d="{_path(points, False)}" fill="none" stroke="{_shade(shade)}" '
                   f'stroke-opacity="{0.35 + 0.55 * shade:.2f}" stroke-width="1.6"/>')
    for i, (px, scale) in enumerate(zip(positions, scales, strict=True)):
        out.append(f'<line x1="{px:.1f}" x2="{px:.1f}" y1="{TOP}" y2="{HEIGHT - BOTTOM}" '
                   f'stroke="#374151" stroke-width="1.2"/>')
        # the last axis sits at the right edge: its labels go to its left, never clipped
        last = i == n - 1 and n > 1
        tick_x, tick_anchor = (px - 4, "end") if last else (px + 4, "start")
        ticks = scale.ticks()
        for value, label in ticks if len(ticks) <= 6 else ticks[:: math.ceil(len(ticks) / 6)]:
            out.append(f'<text x="{tick_x:.1f}" y="{scale(value) + 4:.1f}" font-size="10" '
                       f'text-anchor="{tick_anchor}" fill="#4b5563" stroke="#ffffff" '
                       f'stroke-width="3" paint-order="stroke">{text(label, 14)}</text>')
        anchor = "end" if last else ("start" if i == 0 and n > 1 else "middle")
        out.append(f'<text x="{px:.1f}" y="{HEIGHT - BOTTOM + 18}" text-anchor="{anchor}" '
                   f'fill="{INK}" font-weight="500">{text(scale.axis.label, 18)}</text>')
    return "".join(out)


def _shade(share: float) -> str:
    """Light blue (worst) to dark blue (best)."""
    light, dark = (191, 219, 254), (30, 64, 175)
    r, g, b = (round(a + (d - a) * share) for a, d in zip(light, dark, strict=True))
    return f"#{r:02x}{g:02x}{b:02x}"
