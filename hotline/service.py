"""The unit of work: load a ticket, let the engine decide, write the decision, commit.

API, CLI and daemon are thin shells over ``Service``. Pipeline of one command:
load (store) -> decide (engine, pure) -> write state + history + deadlines + outbox -> commit.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from hotline import errors
from hotline.clock import Clock, SystemClock
from hotline.engine import escalation, meanings, webhooks
from hotline.engine.decide import decide, decide_submit
from hotline.engine.decision import Decision
from hotline.engine.machine import CompiledDefinition
from hotline.engine.ticket import Command, Event, Ticket
from hotline.persistence import delivery
from hotline.persistence import webhooks as subscriptions
from hotline.persistence.schedule import Claim
from hotline.persistence.sql import Decide, NewTicket, SqlStore
from hotline.workflows import loader

# What a command decides on its ticket, given the ticket's pinned definition; None: nothing to do.
Decider = Callable[[CompiledDefinition, Ticket], Decision | None]


@dataclass(frozen=True)
class Intake:
    """A new demand (诉求) as an operator, app or partner hotline takes it in (受理)."""

    category: str
    summary: str = ""
    urgency: str | None = None  # None: the definition's first urgency
    channel: str = "phone"
    contact_name: str | None = None
    contact_phone: str | None = None
    contact_address: str | None = None
    fields: Mapping[str, Any] = field(default_factory=dict)


class Service:
    """Commands on tickets, each in one database transaction."""

    def __init__(self, store: SqlStore, clock: Clock | None = None, retries: int = 5) -> None:
        self.store = store
        self.clock = clock or SystemClock()
        self.retries = retries
        self._compiled: dict[tuple[str, int], CompiledDefinition] = {}
        self.subscriptions = subscriptions.Cache(store)
        # Told of every decision after its commit (metrics); must not raise.
        self.committed: list[Callable[[Decision], None]] = []

    # -- definitions --------------------------------------------------------------------------

    def publish(self, source: str, origin: str = "<definition>") -> tuple[str, int]:
        """Validate a definition's YAML and store it as the next version of its name."""
        definition = loader.parse(source, origin)
        version = self.store.publish_definition(definition.name, source, self.clock.now())
        self._compiled = {k: c for k, c in self._compiled.items() if k[0] != definition.name}
        return definition.name, version

    def install_shipped(self) -> list[tuple[str, int]]:
        """Publish every shipped definition (a no-op for those already stored unchanged)."""
        return [
            self.publish(loader.shipped_text(name), f"{name}.yaml")
            for name in loader.shipped_names()
        ]

    def compiled(self, name: str, version: int | None = None) -> CompiledDefinition:
        """A stored definition version (the newest if None), parsed and compiled once."""
        if version is None:
            version = self.store.latest_definition_version(name)
        if (name, version) not in self._compiled:
            version, source = self.store.definition_source(name, version)
            compiled = loader.compile_source(source, version, f"{name}@{version}")
            self._compiled[(name, version)] = self._with_meanings(compiled)
        return self._compiled[(name, version)]

    def _with_meanings(self, compiled: CompiledDefinition) -> CompiledDefinition:
        """A version stored before definitions declared meanings reads them from the newest."""
        definition = compiled.definition
        latest = self.store.latest_definition_version(definition.name)
        if meanings.declares(definition) or latest == compiled.version:
            return compiled
        adopted = meanings.adopt(definition, self.compiled(definition.name, latest).definition)
        return CompiledDefinition(adopted, compiled.version, compiled.calendar)

    # -- commands -----------------------------------------------------------------------------

    def submit(
        self,
        intake: Intake,
        actor: str = "intake",
        idempotency_key: str | None = None,
        definition: str = loader.DEFAULT,
    ) -> Ticket:
        """Take in a new ticket; the same ``idempotency_key`` twice returns the same ticket."""
        compiled = self.compiled(definition)
        _check_channel(compiled, intake.channel)
        now = self.clock.now()
        new = NewTicket(
            definition=compiled.definition.name,
            definition_version=compiled.version,
            state=compiled.definition.initial,
            category=intake.category,
            urgency=intake.urgency or next(iter(compiled.definition.urgencies), ""),
            channel=intake.channel,
            summary=intake.summary,
            fields=dict(intake.fields),
            contact_name=intake.contact_name,
            contact_phone=intake.contact_phone,
            contact_address=intake.contact_address,
            idempotency_key=idempotency_key,
        )
        decided: list[Decision] = []

        def decide_on(ticket: Ticket) -> Decision:
            decided.append(self._amend(decide_submit(compiled, ticket, actor, now)))
            return decided[-1]

        ticket = self.store.create(new, decide_on, now)
        self._committed(*decided)  # empty when the key was used before: nothing was written
        return ticket

    def fire(
        self,
        ticket_id: int,
        trigger: str,
        fields: Mapping[str, Any] | None = None,
        actor: str = "system",
        expected_version: int | None = None,
    ) -> Ticket:
        """Fire ``trigger`` on a ticket; return the ticket as it is after the change.

        With ``expected_version`` the caller asserts what it last saw (StaleVersion if not).
        Without it, a conflicting concurrent write is retried on the fresh ticket a bounded
        number of times.
        """
        command = Command(trigger, dict(fields or {}), actor, expected_version)
        attempts = 1 if expected_version is not None else self.retries
        for attempt in range(attempts):
            try:
                return self._apply(ticket_id, command).after
            except errors.StaleVersion:
                if attempt + 1 == attempts:
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    def _apply(self, ticket_id: int, command: Command) -> Decision:
        now = self.clock.now()
        decision = self._write(ticket_id, lambda c, t: decide(c, t, command, now))
        assert decision is not None, "a command always decides or raises"
        return decision

    def fire_deadline(self, claim: Claim) -> Decision | None:
        """Fire one claimed deadline rung in its own transaction; None if it was not due any
        more (met, moved, or fired by another sweeper)."""
        try:
            return self._write(
                claim.ticket_id, self._firing(claim, self.clock.now()), fired_by=claim.owner
            )
        except errors.AlreadyFired:
            return None

    def fire_deadlines(self, claims: Sequence[Claim]) -> list[Decision | None]:
        """``fire_deadline`` for several claims of one owner in one transaction (all or none:
        on AlreadyFired or any error nothing is written, and the caller fires them one by one)."""
        now = self.clock.now()
        updates = [(c.ticket_id, self._deciding(self._firing(c, now))) for c in claims]
        decisions = self.store.update_each(updates, fired_by=claims[0].owner if claims else None)
        self._committed(*(d for d in decisions if d is not None))
        return decisions

    @staticmethod
    def _firing(claim: Claim, now: datetime) -> Decider:
        return lambda c, t: escalation.decide_firing(c, t, claim.id, claim.rung, now)

    def fire_command(self, message_id: int, payload: Mapping[str, Any]) -> Decision | None:
        """Apply the command an outbox message carries (``fire_command``), exactly once: the
        message is marked delivered in the command's transaction; None if it already was.

        A command the engine refuses (CommandError) is parked as dead at once, with a
        ``command_refused`` event in the ticket's history in the same transaction, and the
        CommandError is raised again: retrying a domain refusal cannot change its answer.
        """
        now = self.clock.now()
        seen: list[Ticket] = []

        def fire(compiled: CompiledDefinition, ticket: Ticket) -> Decision:
            seen.append(ticket)
            return escalation.fire_command(compiled, ticket, payload, now)

        guard = delivery.consume(message_id, now)
        try:
            return self._write(payload["ticket_id"], fire, guard=guard)
        except errors.CommandError as refused:
            error = f"{type(refused).__name__}: {refused}"
            self._refused(message_id, payload, error, seen[-1].version, now)
            raise

    def _refused(
        self,
        message_id: int,
        payload: Mapping[str, Any],
        error: str,
        refused_at: int,
        now: datetime,
    ) -> None:
        """Record the refusal and park the message dead, in one transaction (``refused_at``:
        the ticket version that was refused)."""

        def refuse(compiled: CompiledDefinition, ticket: Ticket) -> Decision:
            refusal = escalation.refuse_command(compiled, ticket, payload, now)
            if refusal is None:  # changed since it was refused: the relay retries it
                raise errors.StaleVersion(ticket.id, refused_at, ticket.version)
            return refusal

        self._write(payload["ticket_id"], refuse, guard=delivery.park(message_id, now, error))

    def _write(self, ticket_id: int, decider: Decider, **options: Any) -> Decision | None:
        """One transaction on a ticket: decide, add webhook deliveries, write, then tell the
        listeners; ``options`` go to ``store.update`` (``fired_by``, ``guard``)."""
        decision = self.store.update(ticket_id, self._deciding(decider), **options)
        if decision is not None:
            self._committed(decision)
        return decision

    def _deciding(self, decider: Decider) -> Decide:
        """The store's ``decide(ticket)``: ``decider`` on the ticket's pinned definition,
        amended with the webhook deliveries its events owe."""

        def decide_on(ticket: Ticket) -> Decision | None:
            compiled = self.compiled(ticket.definition, ticket.definition_version)
            decision = decider(compiled, ticket)
            return self._amend(decision) if decision else None

        return decide_on

    def _amend(self, decision: Decision) -> Decision:
        """Add what the decision's events owe integrators (webhook deliveries), before the write."""
        return webhooks.amend(decision, self.subscriptions.active())

    def _committed(self, *decisions: Decision) -> None:
        for decision in decisions:
            for listener in self.committed:
                listener(decision)

    # -- queries ------------------------------------------------------------------------------

    def get(self, ticket_id: int) -> Ticket:
        return self.store.load(ticket_id)

    def history(self, ticket_id: int) -> list[Event]:
        return self.store.events(ticket_id)

    def allowed(self, ticket: Ticket) -> list[str]:
        """Triggers the ticket's definition allows from its current state."""
        return self.compiled(ticket.definition, ticket.definition_version).allowed(ticket.state)


def _check_channel(compiled: CompiledDefinition, channel: str) -> None:
    channels = compiled.definition.channels
    if channel not in channels:
        raise errors.InvalidField("channel", f"must be one of {', '.join(channels)}")
