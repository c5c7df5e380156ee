"""One ticket's recorded inputs played again under another definition, in memory.

The inputs are what came from outside: the intake and every command a person or a system
sent, at the time it was sent. What the workflow did by itself (a deadline's reminder,
overdue, escalation, ``on_due`` trigger or command, a whistle closing when settled, notes on
the calendar, a migration) is not an input: the replay lets the definition under test decide
it again. Between inputs the clock moves as the daemon's would: due rungs fire at their time
(or, with a ``sweep`` interval, at the first sweep after it, sweeps falling on
``anchor + k × sweep``), and a rung's command is applied right after its sweep, as the relay
does. The ticket lives in a ``MemoryStore`` of its own, so a replay never touches the live
database and holds one ticket at a time.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from hotline.engine import escalation, migration, provisional, replay, whistle
from hotline.engine.decide import SUBMIT, decide, decide_submit
from hotline.engine.decision import Decision
from hotline.engine.machine import CompiledDefinition
from hotline.engine.ticket import Command, Event, Ticket
from hotline.errors import CommandError
from hotline.persistence.memory import MemoryStore
from hotline.persistence.sql import NewTicket

OWNER = "what-if"
LEASE = timedelta(0)  # one sweeper, one ticket: a claim need not outlive its sweep
# Triggers the workflow records by itself; with the actor of a deadline's firing (its on_due
# trigger, its command), they are the engine's doing, not an input.
_OWN = frozenset(
    (*escalation.FIRED, escalation.COMMAND_REFUSED, "on_due_refused", migration.TRIGGER)
)


@dataclass(frozen=True)
class Refusal:
    """A command the definition under test refuses (its trigger removed, a guard failing…)."""

    ticket_id: int
    trigger: str
    at: datetime
    reason: str
    actor: str

    def record(self) -> dict[str, Any]:
        return {
            "ticket": self.ticket_id,
            "trigger": self.trigger,
            "at": self.at.isoformat(),
            "actor": self.actor,
            "reason": self.reason,
        }


@dataclass(frozen=True)
class Replayed:
    """The ticket as the replay left it, its new history and what was refused."""

    ticket: Ticket | None  # None: the intake itself was refused
    events: Sequence[Event]
    refusals: Sequence[Refusal]


def inputs(events: Sequence[Event]) -> list[Event]:
    """The recorded inputs of a history: its intake and the commands sent to it."""
    return [e for e in events if _is_input(e)]


def _is_input(event: Event) -> bool:
    if event.trigger in _OWN or provisional.is_note(event.trigger):
        return False
    if event.trigger == whistle.CLOSED and event.actor == "system":
        return False  # settled by the last answer (``decide._settle_whistle``)
    return event.actor != escalation.ACTOR


class TicketReplay:
    """Replays tickets one at a time under ``compiled`` up to ``as_of``."""

    def __init__(
        self,
        compiled: CompiledDefinition,
        as_of: datetime,
        anchor: datetime,
        sweep: timedelta | None = None,
    ) -> None:
        self.compiled, self.as_of = compiled, as_of
        self.anchor, self.sweep = anchor, sweep

    def run(self, original: Ticket, events: Sequence[Event]) -> Replayed:
        """Replay ``original``'s recorded inputs (``events`` is its whole history)."""
        return _Run(self, original).play(inputs(events))

    def next_sweep(self, due: datetime, clock: datetime) -> datetime:
        """When the daemon fires a rung due at ``due``, the ticket's time being ``clock``."""
        if self.sweep is None:
            return max(due, clock)
        steps = -((self.anchor - due) // self.sweep)  # ceiling of (due - anchor) / sweep
        at = self.anchor + steps * self.sweep
        if at <= clock:  # that sweep saw the ticket before what happened at ``clock``
            at = self.anchor + ((clock - self.anchor) // self.sweep + 1) * self.sweep
        return at


class _Run:
    """The replay of one ticket: its store, its clock and what it refused."""

    def __init__(self, replay: TicketReplay, original: Ticket) -> None:
        self.replay, self.compiled = replay, replay.compiled
        self.original = original
        self.store = MemoryStore(chained=False)
        self.refusals: list[Refusal] = []
        self.ticket_id = 0
        self.clock = original.created_at

    def play(self, recorded: Sequence[Event]) -> Replayed:
        intake, commands = recorded[0], recorded[1:]
        if not self._submit(intake):
            return Replayed(None, (), self.refusals)
        for event in commands:
            if event.occurred_at > self.replay.as_of:
                break
            self._sweep_until(event.occurred_at)
            self.clock = event.occurred_at
            command = Command(event.trigger, event.payload, event.actor)
            self._fire(command, event.occurred_at)
        self._sweep_until(self.replay.as_of)
        ticket = self.store.load(self.ticket_id)
        return Replayed(ticket, self.store.events(self.ticket_id), self.refusals)

    def _submit(self, event: Event) -> bool:
        assert event.trigger == SUBMIT, "a history starts with its intake"
        definition, at = self.compiled.definition, event.occurred_at
        taken = replay.intake(event, definition.name, self.compiled.version)
        new = NewTicket(
            definition=definition.name,
            definition_version=self.compiled.version,
            state=definition.initial,
            category=taken.category,
            urgency=taken.urgency,
            channel=taken.channel,
            summary=taken.summary,
            fields=dict(taken.fields),
        )

        def submitted(ticket: Ticket) -> Decision:
            return self._noted(decide_submit(self.compiled, ticket, event.actor, at))

        try:
            self.ticket_id = self.store.create(new, submitted, at).id
        except CommandError as refused:
            self._refused(SUBMIT, at, refused, event.actor)
            return False
        return True

    def _fire(self, command: Command, at: datetime) -> None:
        try:
            self._write(lambda t: decide(self.compiled, t, command, at))
        except CommandError as refused:
            self._refused(command.trigger, at, refused, command.actor)

    def _sweep_until(self, until: datetime) -> None:
        """Fire every rung the daemon would have fired up to ``until``, sweep by sweep."""
        while (due := self.store.next_fire_at()) is not None:
            at = self.replay.next_sweep(due, self.clock)
            if at > until:
                return
            self.clock = at
            if not self._sweep(at):
                return  # a rung that cannot fire (no rule applies any more) stays pending

    def _sweep(self, at: datetime) -> bool:
        """One sweep at ``at``: fire the due rungs, then apply their commands; True if any
        rung fired."""
        commands: list[dict[str, Any]] = []
        fired = False
        for claim in self.store.claim_due(at, 1_000, OWNER, LEASE):
            decision = self._write(
                lambda t, c=claim: escalation.decide_firing(self.compiled, t, c.id, c.rung, at)
            )
            if decision is not None:
                fired = True
                commands += [
                    dict(m.payload) for m in decision.outbox if m.handler == escalation.FIRE_COMMAND
                ]
        for payload in commands:
            self._command(payload, at)
        return fired

    def _command(self, payload: dict[str, Any], at: datetime) -> None:
        """A rung's command, as the relay applies it: refused, it is recorded as such."""
        try:
            self._write(lambda t: escalation.fire_command(self.compiled, t, payload, at))
        except CommandError as refused:
            self._refused(payload["trigger"], at, refused, escalation.ACTOR)
            self._write(lambda t: escalation.refuse_command(self.compiled, t, payload, at))

    def _write(self, decider: Any) -> Decision | None:
        return self.store.update(self.ticket_id, lambda t: (d := decider(t)) and self._noted(d))

    def _noted(self, decision: Decision) -> Decision:
        """What the service adds to every decision: a note on provisional deadlines."""
        return provisional.note(self.compiled, decision)

    def _refused(self, trigger: str, at: datetime, error: CommandError, actor: str) -> None:
        reason = f"{type(error).__name__}: {error}"
        self.refusals.append(Refusal(self.original.id, trigger, at, reason, actor))
