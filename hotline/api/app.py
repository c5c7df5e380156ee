"""The FastAPI application: ``create_app(service)`` wires routers, problems and metrics."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio.to_thread
from fastapi import FastAPI
from prometheus_client import CollectorRegistry

from hotline.api import (
    definitions,
    docs,
    jobs,
    middleware,
    open311,
    open311_format,
    openapi,
    privacy,
    problems,
    tickets,
    webhooks,
    whatif,
    whistles,
)
from hotline.api import metrics as metrics_route
from hotline.api import reports as report_routes
from hotline.console import app as console
from hotline.daemon import metrics
from hotline.service import Service

DESCRIPTION = """Hotline's API for integrators: call centres, apps and partner hotlines.

Authenticate with `Authorization: Bearer <token>` (tokens from `hotline token create`). Errors
are `application/problem+json` (RFC 9457). Fire a trigger with `If-Match: "<version>"` from the
ticket's `ETag`; a stale version is refused with 409 and the current version.
"""


def create_app(service: Service, max_body: int = middleware.MAX_BODY) -> FastAPI:
    """The API over ``service``; every route declares the roles that may call it."""
    threads = int(os.environ.get("HOTLINE_API_THREADS", _default_threads(service)))

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        # Routes are sync and run in anyio's thread pool (40 threads by default). SQLite takes
        # one writer at a time, and writers waiting on its lock back off in sleeps of up to
        # 100 ms: a few threads keep the lock busy without queueing inside SQLite.
        anyio.to_thread.current_default_thread_limiter().total_tokens = threads
        yield

    app = FastAPI(
        title="Hotline",
        version="1",
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
    )
    app.state.service = service
    app.state.jobs = jobs.Jobs()  # the what-if replays of the API and the console
    app.state.metrics = CollectorRegistry(auto_describe=True)
    app.state.metrics.register(metrics.DatabaseCollector(service.read_gauges))
    if metrics.count_transitions not in service.committed:
        service.committed.append(metrics.count_transitions)
    problems.install(app)
    docs.install(app)
    openapi.install(app)
    for module in (
        tickets,
        whistles,
        privacy,
        definitions,
        whatif,
        webhooks,
        open311,
        metrics_route,
    ):
        app.include_router(module.router)
    app.include_router(report_routes.router)
    # The web console: its own pages
    app.mount("/console", console.create(service, jobs=app.state.jobs))
    app.add_middleware(middleware.Guard, limit=max_body)
    app.add_middleware(open311_format.Errors)  # outermost: also reshapes the guard's 413
    return app


def _default_threads(service: Service) -> int:
    # On PostgreSQL a route waits on round trips of a fraction of a millisecond: a few threads
    # a core keep both busy, and 40 spent more CPU handing the GIL around than on the requests
    # (bench/api.py, 2 workers: GET 142/s with 40 threads, 225-309/s with 8, p99 halved).
    return 4 if service.single_writer() else 8
