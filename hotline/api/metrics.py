"""GET /metrics: Prometheus text, this process's counters plus gauges read from the database."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from hotline.api.auth import ANYONE
from hotline.daemon import metrics

router = APIRouter(tags=["metrics"])


def registry_for(request: Request) -> CollectorRegistry:
    return request.app.state.metrics


@router.get("/metrics", response_class=Response)
def scrape(
    _: Annotated[None, Depends(ANYONE)],
    database: Annotated[CollectorRegistry, Depends(registry_for)],
) -> Response:
    """Tickets by state, transitions by trigger, firing lateness, sweeper lag, outbox backlog,
    API latency. Open to any caller, like most scrape targets: keep it on an internal network."""
    body = generate_latest(metrics.REGISTRY) + generate_latest(database)
    return Response(body, media_type=CONTENT_TYPE_LATEST)
