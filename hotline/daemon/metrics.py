"""Prometheus instruments: what is counted as it happens, and what is read from the database.

Counters and histograms live in this process (``REGISTRY``): transitions by trigger, the
lateness of deadline firings (observed where the sweeper fires) and API latency. Gauges that
must agree across processes (tickets by state, outbox backlog, sweeper lag) are read from the
database at scrape time by ``DatabaseCollector`` (the SQL is ``persistence.gauges``), so any
replica's /metrics tells the truth.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime, timedelta

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from hotline.engine.decision import Decision
from hotline.persistence import gauges
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
    """Gauges read from the database on each scrape (``Service.gauges``)."""

    def __init__(self, read: Callable[[], gauges.Gauges]) -> None:
        self.read = read

    def collect(self) -> Iterator[Metric]:
        found = self.read()
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
        for state, n in found.tickets_by_state.items():
            by_state.add_metric([state], n)
        for status, n in found.outbox_by_status.items():
            backlog.add_metric([status], n)
        lag.add_metric([], found.sweeper_lag)
        yield from (by_state, backlog, lag, _calendar_coverage(found.now))


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
