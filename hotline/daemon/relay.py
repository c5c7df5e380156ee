"""The outbox relay: delivers outbox messages to their handlers after commit, at least once,
with retries, exponential backoff and a dead letter after ``max_attempts``."""

from __future__ import annotations

import logging
import threading
from datetime import datetime, timedelta
from typing import Any

from hotline import garbage, handlers
from hotline.daemon.heartbeat import default_owner
from hotline.engine.escalation import FIRE_COMMAND
from hotline.errors import CommandError
from hotline.handlers import webhook
from hotline.persistence import delivery
from hotline.service import Service

log = logging.getLogger("hotline.daemon")


class Relay:
    """Delivers outbox messages to their handlers, at least once, with retries and backoff."""

    def __init__(
        self,
        service: Service,
        owner: str | None = None,
        batch: int = 100,
        lease: timedelta = timedelta(minutes=2),
        max_attempts: int = 8,
        backoff: timedelta = timedelta(seconds=5),
    ) -> None:
        self.service, self.batch, self.lease = service, batch, lease
        self.max_attempts, self.backoff = max_attempts, backoff
        self.owner = owner or default_owner()
        webhook.install(service.store)
        self.stopping = threading.Event()

    def relay(self, now: datetime | None = None) -> tuple[int, int]:
        """Attempt every message due at ``now``, batch by batch; return (delivered, failed)."""
        now = now or self.service.clock.now()
        delivered = failed = 0
        with garbage.fewer_collections():  # a batch of messages stays alive while delivered
            while True:
                rows = self.service.store.claim_outbox(now, self.batch, self.owner, self.lease)
                done = [row.id for row in rows if self._deliver(row, now)]
                # One commit for the batch's successes: a crash before it repeats them (keys).
                delivery.delivered(self.service.store, done, now, self.owner)
                delivered, failed = delivered + len(done), failed + len(rows) - len(done)
                if len(rows) < self.batch or self.stopping.is_set():  # a burst drains at once
                    return delivered, failed

    def _deliver(self, row: Any, now: datetime) -> bool:
        """Run the message's handler; True if it was delivered. A failure is retried with
        backoff and parked as dead after ``max_attempts``; a command the engine refused is
        already dead (``Service.fire_command``): a domain refusal is not transient."""
        try:
            if row.handler == FIRE_COMMAND:
                self.service.fire_command(row.id, row.payload, self.owner)
            else:
                handlers.get(row.handler)(handlers.Message(row.handler, row.key, row.payload))
        except CommandError as refused:
            if row.handler != FIRE_COMMAND:
                return self._failed(row, refused, now)
            log.warning(
                "command %s refused for ticket %s: %s",
                row.payload.get("trigger"),
                row.ticket_id,
                refused,
                extra={"action": "command_refused", "key": row.key},
            )
            return False
        except Exception as error:
            return self._failed(row, error, now)
        return True

    def _failed(self, row: Any, error: Exception, now: datetime) -> bool:
        """Log the failure and schedule the next attempt, or park the message as dead."""
        log.warning(
            "handler %s failed for %s: %s",
            row.handler,
            row.key,
            error,
            exc_info=error,
            extra={"action": "handler_failed", "key": row.key},
        )
        retry_at = None
        if row.attempts + 1 < self.max_attempts:
            retry_at = now + min(self.backoff * 2**row.attempts, timedelta(hours=1))
        error_text = f"{type(error).__name__}: {error}"
        self.service.store.outbox_done(row.id, now, error_text, retry_at, owner=self.owner)
        return False
