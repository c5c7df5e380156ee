"""Prometheus instruments: what is counted as it happens, and what is read from the database.

Counters and histograms live in this process (``REGISTRY``): transitions by trigger, the
lateness of deadline firings (observed where the sweeper fires) and API latency. Gauges that
must agree across processes (tickets by state, outbox backlog, sweeper lag) are read from the
database at scrape time by ``DatabaseCollector``, so any replica's /metrics tells the truth.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime, timedelta

import sqlalchemy as sa
from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from hotline.engine.decision import Decision
from hotline.persistence.rows import deadlines, outbox, tickets
from hotline.persistence.sql import SqlStore
from hotline.workflows import calendars

REGISTRY = CollectorRegistry(auto_describe=True)
TRANSITIONS = Counter(
    "hotline_transitions",
    "Events recorded on tickets by this process, by trigger.",
    ["trigger"],
    registry=REGISTRY,
)
FIRING_LATENESS = Histogram(
    "hotline_deadline_firing_lateness_seconds",
    "How long after its due time a deadline rung was fired.",
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300, 3600, float("inf")),
    registry=REGISTRY,
)
API_LATENCY = Histogram(
    "hotline_api_request_duration_seconds",
    "API request latency by method, route template and status.",
    ["method", "route", "status"],
    registry=REGISTRY,
)


def count_transitions(decision: Decision) -> None:
    """A ``Service.committed`` listener."""
    for event in decision.events:
        TRANSITIONS.labels(event.trigger).inc()


def observe_firing(lateness: timedelta) -> None:
    FIRING_LATENESS.observe(max(lateness.total_seconds(), 0.0))


class DatabaseCollector(Collector):
    """Gauges computed from the database on each scrape."""

    def __init__(self, store: SqlStore, now: Callable[[], datetime]) -> None:
        self.store, self.now = store, now

    def collect(self) -> Iterator[Metric]:
        now = self.now()
        by_state = GaugeMetricFamily(
            "hotline_tickets", "Tickets by current state.", labels=["state"]
        )
        backlog = GaugeMetricFamily(
            "hotline_outbox_backlog", "Outbox messages not yet delivered.", labels=["status"]
        )
        lag = GaugeMetricFamily(
            "hotline_sweeper_lag_seconds",
            "Age of the oldest deadline rung that is due but not fired (0: none waiting).",
        )
        with self.store.reading() as conn:
            for state, n in conn.execute(
                sa.select(tickets.c.state, sa.func.count()).group_by(tickets.c.state)
            ):
                by_state.add_metric([state], n)
            for status in ("pending", "dead"):
                query = sa.select(sa.func.count()).where(outbox.c.status == status)
                backlog.add_metric([status], conn.execute(query).scalar_one())
            oldest = conn.execute(
                sa.select(sa.func.min(deadlines.c.fire_at)).where(
                    deadlines.c.status == "pending", deadlines.c.fire_at <= now
                )
            ).scalar()
        lag.add_metric([], (now - oldest).total_seconds() if oldest else 0.0)
        yield from (by_state, backlog, lag, _calendar_coverage(now))


def _calendar_coverage(now: datetime) -> Metric:
    """Days left before each calendar's official schedule ends (alert below 60)."""
    left = GaugeMetricFamily(
        "hotline_calendar_coverage_days",
        "Days from today to the last day a calendar's official holiday schedule covers; "
        "deadlines past it are provisional (plain weekdays).",
        labels=["calendar"],
    )
    for found in calendars.coverage(now.date()):
        left.add_metric([found.name], found.days_left)
    return left
