"""The soak's callers: a call centre submitting tickets with idempotency keys, and operators
sending each ticket's planned commands with the version they read. Some replies are lost (the
commit succeeded, the caller saw an error): the caller sends the same request again, as a real
client would, and what it was told is tallied for the verdict.
"""

from __future__ import annotations

import contextlib
import heapq
import random
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from hotline import errors
from hotline.service import Service
from hotline.simulation import simulate
from hotline.workflows import loader

ACTOR = "soak"  # the clients' name: their keys and their commands' events carry it
IDLE = 0.3  # the share of tickets nobody acts on: their deadlines run the whole ladder
T = TypeVar("T")


@dataclass
class Tally:
    """What the clients were told."""

    tickets: dict[str, int] = field(default_factory=dict)  # key -> the ticket id returned
    applied: Counter[tuple[int, str]] = field(default_factory=Counter)  # (ticket, trigger)
    key_mismatches: list[str] = field(default_factory=list)  # a repeat answered another id
    lost_replies: int = 0
    busy_retries: int = 0  # calls retried because the database was busy (a paused replica)
    refused: int = 0  # planned commands the engine refused: the ticket had moved on


@dataclass(order=True)
class _Step:
    at: datetime
    ticket_id: int
    index: int
    plan: list[simulate.Step] = field(compare=False)


class Clients:
    """Callers on ``service`` (its clock is the soak's scaled clock)."""

    def __init__(
        self, service: Service, rng: random.Random, lost: float, definition: str = loader.DEFAULT
    ) -> None:
        self.service, self.rng, self.lost = service, rng, lost
        self.planner = simulate.Planner(service.compiled(definition).definition, rng)
        self.definition = definition
        self.tally = Tally()
        self._steps: list[_Step] = []

    def submit(self) -> None:
        """One new ticket; its reply is lost now and then and the same key sent again."""
        key = f"soak-{len(self.tally.tickets) + 1}"
        intake = self.planner.intake()

        def send() -> int:
            ticket = self.service.submit(intake, ACTOR, key, self.definition)
            return ticket.id

        ticket_id = self._call(send)
        if self.rng.random() < self.lost:
            self.tally.lost_replies += 1
            if (again := self._call(send)) != ticket_id:
                self.tally.key_mismatches.append(f"{key}: {ticket_id} then {again}")
        self.tally.tickets[key] = ticket_id
        plan = [] if self.rng.random() < IDLE else self.planner.steps(intake)
        self._schedule(ticket_id, plan, 0, self.service.clock.now())

    def act(self) -> None:
        """Send every planned command whose time has come on the service clock."""
        while self._steps and self._steps[0].at <= self.service.clock.now():
            step = heapq.heappop(self._steps)
            if self._command(step):
                self._schedule(step.ticket_id, step.plan, step.index + 1, step.at)

    def _schedule(
        self, ticket_id: int, plan: list[simulate.Step], index: int, after: datetime
    ) -> None:
        if index < len(plan):
            heapq.heappush(self._steps, _Step(after + plan[index][0], ticket_id, index, plan))

    def _command(self, step: _Step) -> bool:
        """Send one planned command with the version just read; False if the engine refused
        it (a deadline moved the ticket first): the rest of its plan is dropped."""
        _, trigger, planned = step.plan[step.index]
        fields = simulate.at_moments(planned, self.service.clock.now())
        for _ in range(3):  # a firing may change the ticket between the read and the write
            seen = self._call(lambda: self.service.get(step.ticket_id))

            def send(version: int = seen.version) -> Any:
                return self.service.fire(step.ticket_id, trigger, fields, ACTOR, version)

            try:
                self._call(send)
            except errors.StaleVersion:
                continue
            except errors.CommandError:
                self.tally.refused += 1
                return False
            self.tally.applied[(step.ticket_id, trigger)] += 1
            if self.rng.random() < self.lost:
                self._send_again(send)
            return True
        self.tally.refused += 1
        return False

    def _send_again(self, send: Callable[[], Any]) -> None:
        """The reply was lost: the same command with the same version. It must be refused as
        stale; if it went through, the history shows it twice and the verdict says so."""
        self.tally.lost_replies += 1
        with contextlib.suppress(errors.StaleVersion, errors.CommandError):
            self._call(send)

    def _call(self, fn: Callable[[], T], attempts: int = 100) -> T:
        """``fn``, again while the database is busy (a paused replica holding the SQLite lock)."""
        for _ in range(attempts - 1):
            try:
                return fn()
            except errors.Busy:
                self.tally.busy_retries += 1
                time.sleep(0.05)
        return fn()
