"""``hotline serve``: the HTTP API alone (``hotline run`` serves it beside the daemon)."""

from __future__ import annotations

import logging
import sys
from typing import Annotated

import typer

from hotline import api
from hotline.cli.common import DEFAULT_DB, DbOption, open_service, user_errors

HostOption = Annotated[str, typer.Option(envvar="HOTLINE_HOST", help="Address to listen on.")]
PortOption = Annotated[int, typer.Option(envvar="HOTLINE_PORT", help="Port to listen on.")]
LogLevel = Annotated[str, typer.Option(envvar="HOTLINE_LOG_LEVEL")]
WorkersOption = Annotated[
    int,
    typer.Option(
        envvar="HOTLINE_API_WORKERS",
        min=1,
        help="Worker processes sharing the port (README: Serving, how many for a machine).",
    ),
]


def register(app: typer.Typer) -> None:
    app.command()(serve)


def configure_logging(level: str) -> None:
    logging.basicConfig(
        level=level.upper(),
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    logging.getLogger("apscheduler").setLevel(logging.WARNING)  # a line per job run is noise


@user_errors
def serve(
    db_url: DbOption = DEFAULT_DB,
    host: HostOption = api.DEFAULT_HOST,
    port: PortOption = api.DEFAULT_PORT,
    log_level: LogLevel = "INFO",
    workers: WorkersOption = 1,
) -> None:
    """Serve the HTTP API (JSON under /api/v1, Open311, /metrics, docs at /docs) without the
    daemon: run `hotline run` elsewhere to fire deadlines and deliver webhooks."""
    from hotline.api import server

    configure_logging(log_level)
    server.serve(open_service(db_url), host, port, workers=workers)
