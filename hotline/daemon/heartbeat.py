"""What a daemon replica does beside sweeping: a heartbeat row, and stopping once idle.

Several ``hotline run`` processes on one PostgreSQL database share the work through leases on
the rows; the heartbeat only lets ``hotline status`` show who is there. ``IdleWatch`` is the
``--exit-when-idle`` option: batch runs and tests let a replica end by itself when nothing due
is left for it to take, instead of being stopped after a guessed time.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Callable
from typing import Any

from apscheduler.schedulers.base import BaseScheduler

from hotline.persistence import backlog, replicas
from hotline.service import Service

log = logging.getLogger("hotline.daemon")


def default_owner() -> str:
    """Who claims rows: unique per process, readable in the database."""
    return f"{socket.gethostname()}:{os.getpid()}"


class Heartbeat:
    """Writes this replica's row in ``replicas`` every ``every`` seconds, from APScheduler."""

    def __init__(self, service: Service, owner: str, every: float = 5.0) -> None:
        self.service, self.owner, self.every = service, owner, every
        self.started_at = service.clock.now()

    def schedule(self, scheduler: BaseScheduler, options: dict[str, Any]) -> None:
        scheduler.add_job(self.beat, "interval", seconds=self.every, id="heartbeat", **options)

    def beat(self) -> None:
        """Refresh the row; a failed beat is logged and the next one tries again."""
        row = replicas.Replica(
            owner=self.owner,
            host=socket.gethostname(),
            pid=os.getpid(),
            started_at=self.started_at,
            last_seen_at=self.service.clock.now(),
        )
        try:
            replicas.beat(self.service.store, row)
        except Exception:  # the database may be away for a moment; sweeps will say so too
            log.exception("heartbeat of %s failed", self.owner, extra={"action": "heartbeat"})

    def stop(self) -> None:
        """Mark the row stopped; if the database is away, ``status`` will call it lost."""
        try:
            replicas.stopped(self.service.store, self.owner, self.service.clock.now())
        except Exception:
            log.exception("could not record the stop of %s", self.owner)


class IdleWatch:
    """Calls ``on_idle`` after a sweep when no due row is left that a replica could claim."""

    def __init__(self, service: Service) -> None:
        self.service = service
        self.on_idle: Callable[[], None] | None = None

    def check(self) -> None:
        if self.on_idle is None:
            return
        if backlog.claimable(self.service.store, self.service.clock.now()) == 0:
            log.info("nothing left to claim: exiting", extra={"action": "idle"})
            self.on_idle()
