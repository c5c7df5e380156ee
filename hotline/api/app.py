"""The FastAPI application: ``create_app(service)`` wires routers, problems and metrics."""

from __future__ import annotations

from fastapi import FastAPI
from prometheus_client import CollectorRegistry

from hotline import metrics
from hotline.api import definitions, middleware, open311, privacy, problems, tickets, webhooks
from hotline.api import metrics as metrics_route
from hotline.service import Service

DESCRIPTION = """Hotline's API for integrators: call centres, apps and partner hotlines.

Authenticate with `Authorization: Bearer <token>` (tokens from `hotline token create`). Errors
are `application/problem+json` (RFC 9457). Fire a trigger with `If-Match: "<version>"` from the
ticket's `ETag`; a stale version is refused with 409 and the current version.
"""


def create_app(service: Service, max_body: int = middleware.MAX_BODY) -> FastAPI:
    """The API over ``service``; every route declares the roles that may call it."""
    app = FastAPI(title="Hotline", version="1", description=DESCRIPTION)
    app.state.service = service
    app.state.metrics = CollectorRegistry(auto_describe=True)
    app.state.metrics.register(metrics.DatabaseCollector(service.store, service.clock.now))
    if metrics.count_transitions not in service.committed:
        service.committed.append(metrics.count_transitions)
    problems.install(app)
    for module in (tickets, privacy, definitions, webhooks, open311, metrics_route):
        app.include_router(module.router)
    app.add_middleware(middleware.Guard, limit=max_body)
    return app
