"""The dashboard: today's intake, open and overdue tickets, this month's three rates with the
ranking and the trend, open whistles, and the daemons' health."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from hotline import errors
from hotline.console import chart, menu, pages, session
from hotline.engine import periods
from hotline.reports import assessment
from hotline.service import Service
from hotline.workflows import calendars

router = APIRouter()
Leader = Annotated[session.Session, Depends(session.viewer(*menu.DASHBOARD))]
TREND_MONTHS = 6
ALIVE_WITHIN = timedelta(seconds=30)  # as `hotline status`: silent longer than this is lost


@router.get("/dashboard")
def dashboard(request: Request, viewer: Leader) -> Response:
    svc: Service = request.app.state.service
    now = svc.clock.now()
    today = datetime.combine(now.astimezone(pages.BEIJING).date(), datetime.min.time())
    gettext = pages.gettext_of(request)
    return pages.render(
        request,
        "dashboard.html",
        viewer,
        title="Dashboard",
        now=now,
        intake=svc.intake_by_channel(today.replace(tzinfo=pages.BEIJING), now),
        open_states=_open_states(svc),
        overdue=svc.overdue_by_unit(now),
        month=_month(svc, now, gettext),
        whistles=svc.listed_whistles(open_only=True, limit=20),
        replicas=[
            (r, now - r.last_seen_at <= ALIVE_WITHIN)
            for r in svc.replicas_seen(now - timedelta(hours=1))
        ],
        backlog=svc.measure_backlog(now),
        coverage=[c for c in calendars.coverage(now.date()) if c.warning],
    )


def _open_states(svc: Service) -> dict[str, int]:
    """Tickets by state, without those in a final state of their definition."""
    final = {
        svc.compiled(name, version).definition.final for name, version in svc.latest_definitions()
    }
    return {s: n for s, n in sorted(svc.read_gauges().tickets_by_state.items()) if s not in final}


def _month(svc: Service, now: datetime, gettext: Any) -> dict[str, Any]:
    """This month's rates by unit (ranked) and the composite of the last months, as a chart."""
    month = periods.containing(now, "month", pages.BEIJING)
    try:
        report = assessment.rates(svc, month, "unit", as_of=now)
        trend_period = periods.Period(
            periods.shift(month.start, "month", 1 - TREND_MONTHS), "month", TREND_MONTHS
        )
        trend = assessment.rates(svc, trend_period, "month", as_of=now)
    except errors.HotlineError as cannot:
        return {"problem": str(cannot)}
    ranked = assessment.ranked_units(report)
    bars = [
        chart.Bar(
            row.group,
            row.rates.composite,
            gettext("%(month)s: composite %(c)s, %(n)s assessed")
            % {"month": row.group, "c": _pct(row.rates.composite), "n": row.counts.assessed},
        )
        for row in trend.rows
    ]
    return {
        "label": report.period,
        "total": report.total,
        "ranked": ranked.rows[:15],
        "chart": chart.bars(bars, gettext("Composite score by month")),
    }


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"
