"""The daemon's timers: one deadline sweeper and one outbox relay, driven by APScheduler.

Deadlines are rows, not scheduler jobs (DESIGN principle 3): the sweeper claims the rows that
are due, fires each through the service in its own transaction, and re-arms itself for the
earliest pending rung, with a safety interval for rows written by other processes. Tests call
``Sweeper.sweep`` and ``Relay.relay`` directly and never start the scheduler thread.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from datetime import UTC, datetime, timedelta
from typing import Any

from apscheduler.schedulers.background import BackgroundScheduler

from hotline import handlers
from hotline.daemon import metrics
from hotline.daemon.heartbeat import Heartbeat, IdleWatch
from hotline.engine.decision import Decision
from hotline.engine.escalation import FIRE_COMMAND
from hotline.errors import CommandError
from hotline.handlers import webhook
from hotline.persistence import delivery
from hotline.persistence.schedule import Claim
from hotline.service import Service

log = logging.getLogger("hotline.daemon")


def default_owner() -> str:
    """Who claims rows: unique per process, readable in the database."""
    return f"{socket.gethostname()}:{os.getpid()}"


class Sweeper:
    """Fires due deadline rungs (reminders, due times, escalations), each exactly once."""

    def __init__(
        self,
        service: Service,
        owner: str | None = None,
        batch: int = 200,
        lease: timedelta = timedelta(minutes=2),
        per_commit: int = 20,
    ) -> None:
        self.service, self.batch, self.lease = service, batch, lease
        self.per_commit = per_commit
        self.owner = owner or default_owner()
        self.stopping = threading.Event()

    def sweep(self, now: datetime | None = None) -> list[Decision]:
        """Fire everything due at ``now``, batch by batch, until nothing is due or we stop."""
        fired: list[Decision] = []
        while not self.stopping.is_set():
            claims = self.service.store.claim_due(
                now or self.service.clock.now(), self.batch, self.owner, self.lease
            )
            for start in range(0, len(claims), self.per_commit):
                fired += self._fire_together(claims[start : start + self.per_commit])
            if len(claims) < self.batch:
                break
        return fired

    def _fire_together(self, claims: list[Claim]) -> list[Decision]:
        """Several firings per commit (the write ceiling is commits); if any of them fails,
        none is written and each is fired alone, so one broken ticket costs only itself."""
        try:
            decisions = self.service.fire_deadlines(claims)
        except Exception:
            decisions = [self._fire(claim) for claim in claims]
        else:
            for claim, decision in zip(claims, decisions, strict=True):
                if decision is not None:
                    self._fired(claim, decision)
        return [d for d in decisions if d is not None]

    def _fire(self, claim: Claim) -> Decision | None:
        try:
            decision = self.service.fire_deadline(claim)
        except Exception:  # one broken ticket must not stop the sweep
            log.exception(
                "deadline %s of ticket %s failed to fire",
                claim.id,
                claim.ticket_id,
                extra={"action": "deadline_failed", "ticket_id": claim.ticket_id},
            )
            return None
        if decision is not None:
            self._fired(claim, decision)
        return decision

    def _fired(self, claim: Claim, decision: Decision) -> None:
        """What follows every firing, alone or batched."""
        metrics.observe_firing(self.service.clock.now() - claim.due)
        _log_fired(decision)


def _log_fired(decision: Decision) -> None:
    for event in decision.events:
        p = event.payload
        log.info(
            "ticket %s: %s %s%s, due %s, overdue %s min -> %s",
            event.ticket_id,
            event.trigger,
            p.get("deadline", ""),
            f" level {p['level']}" if p.get("level") else "",
            p.get("due_at", "-"),
            p.get("overdue_minutes", 0),
            event.to_state,
            extra={
                "action": "deadline_fired",
                "ticket_id": event.ticket_id,
                "trigger": event.trigger,
            },
        )


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
        while True:
            rows = self.service.store.claim_outbox(now, self.batch, self.owner, self.lease)
            done = [row.id for row in rows if self._deliver(row, now)]
            # One commit for the batch's successes: a crash before it repeats them (keys).
            delivery.delivered(self.service.store, done, now, self.owner)
            delivered, failed = delivered + len(done), failed + len(rows) - len(done)
            if len(rows) < self.batch or self.stopping.is_set():  # a burst drains in one run
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


class Daemon:
    """APScheduler's BackgroundScheduler running the sweeper and the relay."""

    def __init__(
        self,
        service: Service,
        safety: float = 2.0,
        relay_every: float = 1.0,
        lease: timedelta = timedelta(minutes=2),
        batch: int = 200,
        heartbeat_every: float = 5.0,
    ) -> None:
        self.service = service
        self.sweeper = Sweeper(service, batch=batch, lease=lease)
        self.relay = Relay(service, lease=lease)
        self.safety, self.relay_every = safety, relay_every
        self.heartbeat = Heartbeat(service, self.sweeper.owner, heartbeat_every)
        self.idle = IdleWatch(service)  # set idle.on_idle to stop once nothing is left
        self.scheduler = BackgroundScheduler(timezone=UTC)
        # Held while stopping: the scheduler's shutdown waits for running jobs while holding its
        # own lock, so a sweep must not call back into the scheduler then (it would deadlock).
        self._arming = threading.Lock()

    def start(self) -> None:
        now = datetime.now(UTC)
        common: dict[str, Any] = {
            "coalesce": True,
            "max_instances": 1,
            "misfire_grace_time": None,
            "next_run_time": now,
        }
        self.scheduler.add_job(self._sweep, "interval", seconds=self.safety, id="sweep", **common)
        self.scheduler.add_job(
            self.relay.relay, "interval", seconds=self.relay_every, id="relay", **common
        )
        self.heartbeat.schedule(self.scheduler, common)
        self.scheduler.start()
        log.info(
            "daemon %s started on %s",
            self.sweeper.owner,
            self.service.store.url,
            extra={"action": "started"},
        )

    def stop(self) -> None:
        """Finish the batch in hand, then stop."""
        self.sweeper.stopping.set()
        self.relay.stopping.set()
        with self._arming:
            self.scheduler.shutdown(wait=True)
        self.heartbeat.stop()
        log.info("daemon %s stopped", self.sweeper.owner, extra={"action": "stopped"})

    def _sweep(self) -> None:
        fired = self.sweeper.sweep()
        log.debug("sweep done: %d fired", len(fired), extra={"action": "swept"})
        self.idle.check()
        self._rearm()

    def _rearm(self) -> None:
        """Run the next sweep when the earliest pending rung falls due, if that is sooner."""
        upcoming = self.service.store.next_fire_at()
        if upcoming is None or not self._arming.acquire(blocking=False):
            return
        try:
            job = self.scheduler.get_job("sweep")
            soonest = max(upcoming, datetime.now(UTC))
            if job and (job.next_run_time is None or soonest < job.next_run_time):
                self.scheduler.modify_job("sweep", next_run_time=soonest)
        finally:
            self._arming.release()
