"""Serving the API with uvicorn in the main thread, with the daemon's scheduler beside it."""

from __future__ import annotations

import logging
import signal
import threading

import uvicorn

from hotline.api import DEFAULT_HOST, DEFAULT_PORT
from hotline.api.app import create_app
from hotline.daemon.scheduler import Daemon
from hotline.service import Service

log = logging.getLogger("hotline.api")


def serve(
    service: Service,
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    daemon: Daemon | None = None,
) -> None:
    """Serve until SIGTERM or Ctrl-C, then stop the server and the daemon, in that order.

    uvicorn takes over SIGTERM/SIGINT while it runs and, once shut down, raises the signal
    again into the handlers it found: ours only note it, so the daemon can finish its batch.
    """
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
