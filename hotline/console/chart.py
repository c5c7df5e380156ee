"""A bar chart as inline SVG, drawn on the server: each bar's ``<title>`` is the tooltip a
person sees on hover (and a screen reader reads), so no script or chart library is needed."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape


@dataclass(frozen=True)
class Bar:
    label: str
    value: float | None  # None: nothing to show (no callbacks that month)
    tip: str


def bars(items: Sequence[Bar], title: str, top: float = 100.0) -> Markup:
    """Vertical bars scaled to ``top``, labelled below; an empty value draws no bar."""
    width, height, gap, base = 64, 160, 16, 20
    total = max(len(items), 1) * (width + gap) + gap
    shapes = []
    for i, item in enumerate(items):
        x = gap + i * (width + gap)
        value = item.value or 0.0
        tall = max(0.0, min(value / top, 1.0)) * height if top else 0.0
        shapes.append(
            f"<g><title>{escape(item.tip)}</title>"
            f'<rect class="bar" x="{x}" y="{height - tall + 4:.1f}" width="{width}"'
            f' height="{tall:.1f}"/>'
            f'<text x="{x + width / 2}" y="{height + base}" text-anchor="middle">'
            f"{escape(item.label)}</text></g>"
        )
    return Markup(
        f'<svg role="img" aria-label="{escape(title)}" width="{total}" height="{height + base + 8}"'
        f' viewBox="0 0 {total} {height + base + 8}"><title>{escape(title)}</title>'
        f"{''.join(shapes)}</svg>"
    )
