"""Charts as server-rendered SVG, readable without JavaScript: each has a title and a text
description, and the page shows a table of the same numbers beside it."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from html import escape

from markupsafe import Markup

BAR, GAP, LABEL, WIDTH = 14, 4, 110, 640


def bars(
    title: str,
    rows: Sequence[tuple[str, float | None]],
    *,
    target: float | None = None,
    unit: str = "%",
    scale_max: float | None = None,
    shown: Callable[[float], str] | None = None,
) -> Markup:
    """Horizontal bars, one per (label, value); an optional dashed target line; ``shown``
    writes a value beside its bar (default: one decimal and the unit)."""
    shown = shown or (lambda v: f"{v:.1f}{unit}")
    values = [v for _, v in rows if v is not None]
    top = max([*values, target or 0, scale_max or 0, 1e-9])
    plot = WIDTH - LABEL - 60
    height = len(rows) * (BAR + GAP) + 30
    parts = [
        f'<svg class="cl-chart" role="img" aria-labelledby="{_id(title)}-t {_id(title)}-d"'
        f' viewBox="0 0 {WIDTH} {height}" width="{WIDTH}" height="{height}"'
        ' xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{_id(title)}-t">{escape(title)}</title>',
        f'<desc id="{_id(title)}-d">{len(rows)} bars; the table beside the chart has the same'
        f" numbers{'' if target is None else f'; target line at {target:g}{unit}'}.</desc>",
    ]
    for i, (label, value) in enumerate(rows):
        y = 10 + i * (BAR + GAP)
        parts.append(
            f'<text x="{LABEL - 6}" y="{y + BAR - 3}" text-anchor="end">{escape(label)}</text>'
        )
        if value is None:
            parts.append(f'<text x="{LABEL + 4}" y="{y + BAR - 3}">no data</text>')
            continue
        w = plot * value / top
        parts.append(f'<rect x="{LABEL}" y="{y}" width="{w:.1f}" height="{BAR}" fill="#1d70b8"/>')
        parts.append(
            f'<text x="{LABEL + w + 4:.1f}" y="{y + BAR - 3}">{escape(shown(value))}</text>'
        )
    if target is not None:
        x = LABEL + plot * target / top
        parts.append(
            f'<line x1="{x:.1f}" x2="{x:.1f}" y1="4" y2="{height - 18}" stroke="#d4351c"'
            ' stroke-width="2" stroke-dasharray="6 3"/>'
            f'<text x="{x:.1f}" y="{height - 4}" text-anchor="middle">'
            f"target {target:g}{unit}</text>"
        )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every text part is escaped above


def steps(title: str, points: Sequence[tuple[str, int]], label: str) -> Markup:
    """A step line of an amount in pence over entries (x: entry order, labelled by date)."""
    height, left, plot_w, plot_h = 220, 80, WIDTH - 100, 160
    values = [v for _, v in points] or [0]
    low, high = min(0, *values), max(1, *values)
    span = high - low or 1

    def y(v: int) -> float:
        return 20 + plot_h * (high - v) / span

    n = max(1, len(points) - 1)
    path = " ".join(
        f"{'M' if i == 0 else 'L'}{left + plot_w * i / n:.1f},{y(v):.1f}"
        for i, (_, v) in enumerate(points)
    )
    parts = [
        f'<svg class="cl-chart" role="img" aria-labelledby="{_id(title)}-t {_id(title)}-d"'
        f' viewBox="0 0 {WIDTH} {height}" width="{WIDTH}" height="{height}"'
        ' xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{_id(title)}-t">{escape(title)}</title>',
        f'<desc id="{_id(title)}-d">{escape(label)} after each of {len(points)} entries; the'
        " table below has the same numbers.</desc>",
        f'<line x1="{left}" x2="{left + plot_w}" y1="{y(0):.1f}" y2="{y(0):.1f}"'
        ' stroke="#505a5f"/>',
        f'<text x="{left - 6}" y="{y(high) + 4:.1f}" text-anchor="end">£{high / 100:,.0f}</text>',
        f'<text x="{left - 6}" y="{y(low) + 4:.1f}" text-anchor="end">£{low / 100:,.0f}</text>',
    ]
    if points:
        parts.append(f'<path d="{path}" fill="none" stroke="#00703c" stroke-width="2"/>')
        parts.append(f'<text x="{left}" y="{height - 8}">{escape(points[0][0])}</text>')
        parts.append(
            f'<text x="{left + plot_w}" y="{height - 8}" text-anchor="end">'
            f"{escape(points[-1][0])}</text>"
        )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every text part is escaped above


def _id(title: str) -> str:
    return "c-" + "".join(ch if ch.isalnum() else "-" for ch in title.lower())[:40]
