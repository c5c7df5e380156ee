"""The due-deadline sweeper: claims the deadline rungs that are due and fires each exactly once.

Where "what is due" is decided, in the order a firing runs:
1. claiming due rows: ``hotline/persistence/due.py`` (``DueVerbs.claim_due``: pending rungs
   whose ``fire_at`` has passed, leased to this replica; ``SKIP LOCKED`` on PostgreSQL);
2. computing rungs: ``hotline/engine/deadlines.py`` (which rules apply, the due time on the
   calendar, the reminder and escalation rungs and the ``fire_at`` of the next one);
3. applying a firing: ``hotline/engine/escalation.py`` (``decide_firing``: the reminder, the due
   trigger or the supervision level, None if the claim went stale), written by
   ``Service.fire_deadlines`` with its unique (deadline, rung) firing row in the same
   transaction as the history.
``hotline.daemon.scheduler`` runs ``Sweeper.sweep`` from APScheduler; tests call it directly.
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime, timedelta

from hotline import garbage
from hotline.daemon import metrics
from hotline.daemon.heartbeat import default_owner
from hotline.engine.decision import Decision
from hotline.persistence.due import Claim
from hotline.service import Service

log = logging.getLogger("hotline.daemon")


class Sweeper:
    """Fires due deadline rungs (reminders, due times, escalations), each exactly once."""

    def __init__(
        self,
        service: Service,
        owner: str | None = None,
        batch: int = 200,
        lease: timedelta = timedelta(minutes=2),
        per_commit: int = 100,
    ) -> None:
        self.service, self.batch, self.lease = service, batch, lease
        self.per_commit = per_commit
        self.owner = owner or default_owner()
        self.stopping = threading.Event()

    def sweep(self, now: datetime | None = None) -> list[Decision]:
        """Fire everything due at ``now``, batch by batch, until nothing is due or we stop."""
        fired: list[Decision] = []
        with garbage.fewer_collections():  # a batch of tickets stays alive while it fires
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
        """Several firings per commit (the write ceiling is commits: 100 claims a commit fire
        about a tenth faster than 20, and hold SQLite's write lock some 20 ms); if any of them
        fails, none is written and each is fired alone, so one broken ticket costs only itself."""
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
        late = self.service.clock.now() - claim.due
        metrics.observe_firing(late)
        _log_fired(decision, late)


def _log_fired(decision: Decision, late: timedelta) -> None:
    """One line per event; ``late`` is how long after its rung fell due the claim was fired
    (in service time: ``hotline soak`` reads it for its lateness figure)."""
    for event in decision.events:
        p = event.payload
        log.info(
            "ticket %s: %s %s%s, due %s, overdue %s min -> %s (fired %.1fs late)",
            event.ticket_id,
            event.trigger,
            p.get("deadline", ""),
            f" level {p['level']}" if p.get("level") else "",
            p.get("due_at", "-"),
            p.get("overdue_minutes", 0),
            event.to_state,
            late.total_seconds(),
            extra={
                "action": "deadline_fired",
                "ticket_id": event.ticket_id,
                "trigger": event.trigger,
            },
        )
