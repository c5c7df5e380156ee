"""The console as an app of its own, mounted under ``/console`` on the API's app."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from hotline.api.jobs import Jobs
from hotline.console import (
    audit,
    audit_jobs,
    dashboard,
    definitions,
    operations,
    pages,
    seals,
    session,
    signin,
    tickets,
    versions,
    whatif,
)
from hotline.service import Service

ROUTERS = (
    signin,
    dashboard,
    tickets,
    operations,
    audit,
    audit_jobs,
    seals,
    definitions,
    versions,
    whatif,
)


def create(
    service: Service, sessions: session.Sessions | None = None, jobs: Jobs | None = None
) -> FastAPI:
    """The console over ``service``: its pages, static files and error pages; its background
    jobs (what-if) are ``jobs``, the API's, so both count against one limit."""
    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
    app.state.service = service
    app.state.sessions = sessions or session.Sessions()
    app.state.jobs = jobs or Jobs()
    app.state.drawings = {}  # published versions' graphs, drawn once (console.definitions)
    app.mount("/static", StaticFiles(directory=Path(__file__).parent / "static"), name="static")
    pages.install(app)
    for module in ROUTERS:
        app.include_router(module.router)
    return app
