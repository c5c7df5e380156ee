"""Charts of the assessment reports, drawn with matplotlib into PNG files.

Trend lines for rates over time (a report grouped by day, week or month), bars for everything
else (a ranking of units, the 每月一题 volumes). Labels are codes, not Chinese names, so that no
CJK font has to be installed.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only: never open a window, work without a display

from matplotlib import pyplot  # noqa: E402  (after the backend is chosen)

RATES = ("response", "resolution", "satisfaction", "composite")


def trend(
    path: Path, title: str, labels: Sequence[str], series: dict[str, list[float | None]]
) -> None:
    """One line per series over ``labels`` (gaps where a value is None)."""
    figure, axes = pyplot.subplots(figsize=(max(6, len(labels) * 0.5), 4))
    for name, values in series.items():
        axes.plot(
            labels, [float("nan") if v is None else v for v in values], marker="o", label=name
        )
    axes.set_title(title)
    axes.set_ylabel("percent")
    axes.legend()
    axes.tick_params(axis="x", labelrotation=45)
    _save(figure, path)


def bars(
    path: Path, title: str, labels: Sequence[str], values: Sequence[float | None], unit: str
) -> None:
    """Horizontal bars, first label on top (a ranking reads downwards)."""
    figure, axes = pyplot.subplots(figsize=(7, max(3, len(labels) * 0.35)))
    axes.barh(list(labels)[::-1], [v or 0 for v in values][::-1])
    axes.set_title(title)
    axes.set_xlabel(unit)
    _save(figure, path)


def paired_bars(
    path: Path,
    title: str,
    labels: Sequence[str],
    series: dict[str, Sequence[float | None]],
    unit: str,
) -> None:
    """Horizontal bars, one per series side by side for each label, first label on top."""
    figure, axes = pyplot.subplots(figsize=(7, max(3, len(labels) * 0.5)))
    height = 0.8 / max(len(series), 1)
    places = range(len(labels))[::-1]
    for i, (name, values) in enumerate(series.items()):
        axes.barh([p + i * height for p in places], [v or 0 for v in values], height, label=name)
    axes.set_yticks([p + height * (len(series) - 1) / 2 for p in places], list(labels))
    axes.set_title(title)
    axes.set_xlabel(unit)
    axes.legend()
    _save(figure, path)


def _save(figure: matplotlib.figure.Figure, path: Path) -> None:
    figure.tight_layout()
    figure.savefig(path, format="png")
    pyplot.close(figure)
