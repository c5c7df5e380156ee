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
    """Vertical bars scaled to ``top``, each with its value above and its label below; an
    empty value draws no bar."""
    width, height, gap, margin, below = 64, 160, 16, 16, 20
    total = max(len(items), 1) * (width + gap) + gap
    shapes = []
    for i, item in enumerate(items):
        x, middle = gap + i * (width + gap), gap + i * (width + gap) + width / 2
        tall = max(0.0, min((item.value or 0.0) / top, 1.0)) * height if top else 0.0
        value = "" if item.value is None else f"{item.value:.1f}"
        shapes.append(
            f"<g><title>{escape(item.tip)}</title>"
            f'<rect class="bar" x="{x}" y="{margin + height - tall:.1f}" width="{width}"'
            f' height="{tall:.1f}"/>'
            f'<text x="{middle}" y="{margin + height - tall - 3:.1f}" text-anchor="middle">'
            f"{value}</text>"
            f'<text x="{middle}" y="{margin + height + below - 4}" text-anchor="middle">'
            f"{escape(item.label)}</text></g>"
        )
    size = f'width="{total}" height="{margin + height + below}"'
    return Markup(
        f'<svg role="img" aria-label="{escape(title)}" {size}'
        f' viewBox="0 0 {total} {margin + height + below}"><title>{escape(title)}</title>'
        f"{''.join(shapes)}</svg>"
    )
