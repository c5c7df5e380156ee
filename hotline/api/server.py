"""Serving the API with uvicorn in the main thread, with the daemon's scheduler beside it."""

from __future__ import annotations

import logging
import os
import signal
import threading

import uvicorn
from fastapi import FastAPI

from hotline.api import DEFAULT_HOST, DEFAULT_PORT
from hotline.api.app import create_app
from hotline.daemon.scheduler import Daemon
from hotline.service import Service

log = logging.getLogger("hotline.api")
WORKER_DB_URL = "HOTLINE_WORKER_DB_URL"  # how ``serve`` tells its worker processes the database


def serve(
    service: Service,
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    daemon: Daemon | None = None,
    workers: int = 1,
) -> None:
    """Serve until SIGTERM or Ctrl-C, then stop the server and the daemon, in that order.
    With ``workers`` > 1 (and no daemon), that many processes share the port, each with its
    own service on the same database.

    uvicorn takes over SIGTERM/SIGINT while it runs and, once shut down, raises the signal
    again into the handlers it found: ours only note it, so the daemon can finish its batch.
    """
    if workers > 1:
        _serve_workers(service, host, port, workers)
        return
    stopped = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stopped.set())
    config = uvicorn.Config(
        create_app(service), host=host, port=port, log_config=None, access_log=False
    )
    if daemon is not None:
        daemon.start()
    try:
        uvicorn.Server(config).run()
    finally:
        if daemon is not None:
            daemon.stop()
    log.info("api on %s:%s stopped", host, port, extra={"action": "api_stopped"})


def _serve_workers(service: Service, host: str, port: int, workers: int) -> None:
    """uvicorn's process manager: it restarts a worker that dies and stops all on SIGTERM."""
    os.environ[WORKER_DB_URL] = service.store.url
    service.close()  # each worker opens its own connections
    uvicorn.run(
        f"{__name__}:worker_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        # A worker importing the app on a busy 2-core machine takes more than uvicorn's 5 s
        # to answer its first health check, and would be killed and restarted in a loop.
        timeout_worker_healthcheck=60,
        log_config=None,
        access_log=False,
    )
    log.info("api on %s:%s stopped", host, port, extra={"action": "api_stopped"})


def worker_app() -> FastAPI:
    """The app of one worker process of ``serve(workers=N)``."""
    from hotline.persistence.sql import SqlStore

    return create_app(Service(SqlStore(os.environ[WORKER_DB_URL])))
