"""The reports as JSON documents: one shape for ``hotline report … --format json`` and the API.

Each document is ``{<what it covers>, "rows": [record, …]}``; a table or CSV shows the same
rows. Building them in one place is what keeps the CLI's numbers and the API's equal.
"""

from __future__ import annotations

from typing import Any

from hotline.reports import assessment
from hotline.reports import whistles as whistle_report


def rates(report: assessment.RatesReport) -> dict[str, Any]:
    """A rates report or a ranking: its groups, then the total. ``rules`` (also on every row,
    so a CSV carries it) is the definition version whose rules computed it."""
    rows = [{**r.record(), "rules": report.rules} for r in [*report.rows, report.total]]
    return {
        "period": report.period,
        "previous": report.previous,
        "by": report.by,
        "rules": report.rules,
        "rows": rows,
    }


def hot_topics(month: str, topics: list[assessment.HotTopic]) -> dict[str, Any]:
    """每月一题 candidates, best candidate first."""
    return {"month": month, "rows": [t.record() for t in topics]}


def whistles(report: whistle_report.WhistleReport) -> dict[str, Any]:
    """Departments by in-time report rate, then the total."""
    rows = [r.record() for r in report.rows] + [report.total.record()]
    return {"period": report.period, "previous": report.previous, "rows": rows}
