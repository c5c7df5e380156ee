"""One ticket's recorded inputs played again under another definition, in memory.

The inputs are what came from outside: the intake and every command a person or a system
sent, at the time it was sent. What the workflow did by itself (a deadline's reminder,
overdue, escalation, ``on_due`` trigger or command, a whistle closing when settled, notes on
the calendar, a migration) is not an input: the replay lets the definition under test decide
it again. Between inputs the clock moves as the daemon's would: due rungs fire at their time
(or, with a ``sweep`` interval, at the first sweep after it, sweeps falling on
``anchor + k × sweep``), and a rung's command is applied right after its sweep, as the relay
does. The ticket is held in memory as a store of its own would hold it (``held``), so a
replay never touches the live database and holds one ticket at a time.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from hotline.engine import escalation, history, migration, provisional, replay, whistle
from hotline.engine.decide import SUBMIT, decide, decide_submit
from hotline.engine.decision import Decision
from hotline.engine.machine import CompiledDefinition
from hotline.engine.ticket import Command, Event, Ticket
from hotline.errors import CommandError
from hotline.simulation import held
from hotline.simulation.held import HeldTicket

# Triggers the workflow records by itself (the calendar's notes too); with the actor of a
# deadline's firing (its on_due trigger, its command), they are the engine's doing, not an input.
_OWN = (
    frozenset((*escalation.FIRED, escalation.COMMAND_REFUSED, "on_due_refused", migration.TRIGGER))
    | provisional.NOTES
)


class Original(Protocol):
    """What a replay reads of the recorded ticket besides its history (a ``Ticket`` will do)."""

    @property
    def id(self) -> int | None: ...

    @property
    def created_at(self) -> datetime | None: ...


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
    if event.trigger in _OWN:
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
        self.compiled, self.as_of = silent(compiled), as_of
        self.anchor, self.sweep = anchor, sweep

    def run(self, original: Original, events: Sequence[Event]) -> Replayed:
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


def silent(compiled: CompiledDefinition) -> CompiledDefinition:
    """``compiled`` without the handlers its transitions name (``after``): they only send
    messages once a decision is written, a replay writes nothing, and building the messages
    was a twentieth of replaying. Deadlines, guards, actions and rungs' commands are kept."""
    definition = compiled.definition
    quiet = tuple(t.model_copy(update={"after": ()}) for t in definition.transitions)
    return CompiledDefinition(
        definition.model_copy(update={"transitions": quiet}), compiled.version, compiled.calendar
    )


class _Run:
    """The replay of one ticket: the ticket as held, its clock and what it refused."""

    def __init__(self, replay: TicketReplay, original: Original) -> None:
        self.replay, self.compiled = replay, replay.compiled
        self.original = original
        self.held: HeldTicket | None = None
        self.refusals: list[Refusal] = []
        self.clock = original.created_at

    def play(self, recorded: Sequence[Event]) -> Replayed:
        intake, commands = recorded[0], recorded[1:]
        held = self.held = self._submit(intake)
        if held is None:
            return Replayed(None, (), self.refusals)
        for event in commands:
            if event.occurred_at > self.replay.as_of:
                break
            self._sweep_until(held, event.occurred_at)
            self.clock = event.occurred_at
            command = Command(event.trigger, event.payload, event.actor)
            self._fire(held, command, event.occurred_at)
        self._sweep_until(held, self.replay.as_of)
        return Replayed(held.ticket, held.events, self.refusals)

    def _submit(self, event: Event) -> HeldTicket | None:
        assert event.trigger == SUBMIT, "a history starts with its intake"
        at = event.occurred_at
        taken = replay.intake(event, self.compiled.definition.name, self.compiled.version)
        ticket = taken.evolve(
            id=held.TICKET_ID,
            state=self.compiled.definition.initial,
            fields=dict(taken.fields),
            head_hash=history.UNCHAINED,
        )
        try:
            decision = self._noted(decide_submit(self.compiled, ticket, event.actor, at))
        except CommandError as refused:
            self._refused(SUBMIT, at, refused, event.actor)
            return None
        started = HeldTicket(ticket)
        started.apply(decision)
        return started

    def _fire(self, held: HeldTicket, command: Command, at: datetime) -> None:
        try:
            held.apply(self._noted(decide(self.compiled, held.ticket, command, at)))
        except CommandError as refused:
            self._refused(command.trigger, at, refused, command.actor)

    def _sweep_until(self, held: HeldTicket, until: datetime) -> None:
        """Fire every rung the daemon would have fired up to ``until``, sweep by sweep."""
        while (due := held.next_fire_at) is not None and due <= until:
            at = self.replay.next_sweep(due, self.clock)  # never before ``due``
            if at > until:
                return
            self.clock = at
            if not self._sweep(held, at):
                return  # a rung that cannot fire (no rule applies any more) stays pending

    def _sweep(self, held: HeldTicket, at: datetime) -> bool:
        """One sweep at ``at``: fire the due rungs, then apply their commands; True if any
        rung fired."""
        commands: list[dict[str, Any]] = []
        fired = False
        for deadline_id, rung in held.due(at):
            decision = escalation.decide_firing(self.compiled, held.ticket, deadline_id, rung, at)
            if decision is not None:
                held.apply(self._noted(decision))
                fired = True
                commands += [
                    dict(m.payload) for m in decision.outbox if m.handler == escalation.FIRE_COMMAND
                ]
        for payload in commands:
            self._command(held, payload, at)
        return fired

    def _command(self, held: HeldTicket, payload: dict[str, Any], at: datetime) -> None:
        """A rung's command, as the relay applies it: refused, it is recorded as such."""
        try:
            fired = escalation.fire_command(self.compiled, held.ticket, payload, at)
            held.apply(self._noted(fired))
        except CommandError as refused:
            self._refused(payload["trigger"], at, refused, escalation.ACTOR)
            refusal = escalation.refuse_command(self.compiled, held.ticket, payload, at)
            if refusal is not None:
                held.apply(self._noted(refusal))

    def _noted(self, decision: Decision) -> Decision:
        """What the service adds to every decision: a note on provisional deadlines."""
        return provisional.note(self.compiled, decision)

    def _refused(self, trigger: str, at: datetime, error: CommandError, actor: str) -> None:
        reason = f"{type(error).__name__}: {error}"
        self.refusals.append(Refusal(self.original.id, trigger, at, reason, actor))
