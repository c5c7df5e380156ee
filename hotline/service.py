"""The unit of work: load a ticket, let the engine decide, write the decision, commit.

API, CLI and daemon are thin shells over ``Service``. Pipeline of one command:
load (store) -> decide (engine, pure) -> write state + history + deadlines + outbox -> commit.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from hotline import clock as clocks
from hotline import errors
from hotline.clock import Clock
from hotline.engine import escalation, limits, meanings, provisional, rounds, webhooks
from hotline.engine.decide import decide, decide_submit
from hotline.engine.decision import Decision
from hotline.engine.machine import CompiledDefinition
from hotline.engine.ticket import Command, Event, Ticket
from hotline.handlers import webhook
from hotline.persistence import delivery, due, refreshed, views
from hotline.persistence import links as ticket_links
from hotline.persistence import provisional as provisional_deadlines
from hotline.persistence import webhooks as subscriptions
from hotline.persistence.due import Claim
from hotline.persistence.sql import Decide, NewTicket, SqlStore
from hotline.service_verbs import ServiceVerbs
from hotline.workflows import loader

# What a command decides on its ticket, given the ticket's pinned definition; None: nothing to do.
Decider = Callable[[CompiledDefinition, Ticket], Decision | None]
T = TypeVar("T")


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
    contact_more: Mapping[str, str] | None = None  # email, device_id… (Open311 intake)


class Service(ServiceVerbs):
    """Commands on tickets, each in one database transaction; the reads and admin writes the
    shells need are ``ServiceVerbs``."""

    def __init__(self, store: SqlStore, clock: Clock | None = None, retries: int = 5) -> None:
        self.store = store
        self.clock = clock or clocks.from_environment()
        self.retries = retries
        self._compiled: dict[tuple[str, int], CompiledDefinition] = {}
        # The newest version of each definition, for submits (see ``newest``).
        self._newest: dict[str, refreshed.Refreshed[int]] = {}
        self.subscriptions = subscriptions.Cache(store)
        # Told of every decision after its commit (metrics); must not raise.
        self.committed: list[Callable[[Decision], None]] = []

    # -- definitions --------------------------------------------------------------------------

    def publish(self, source: str, origin: str = "<definition>") -> tuple[str, int]:
        """Validate a definition's YAML and store it as the next version of its name."""
        definition = loader.parse(source, origin)
        version = self.store.publish_definition(definition.name, source, self.clock.now())
        self._compiled = {k: c for k, c in self._compiled.items() if k[0] != definition.name}
        self._newest.pop(definition.name, None)
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
        found = self._compiled.get((name, version))  # another thread may reload_calendars
        if found is None:
            version, source = self.store.definition_source(name, version)
            compiled = loader.compile_source(source, version, f"{name}@{version}")
            found = self._with_meanings(compiled)
            self._compiled[(name, version)] = found
            reading = meanings.reading(found.definition)
            self.store.readings.learn(name, version, reading, found.calendar.timezone)
        return found

    def newest(self, name: str) -> int:
        """The newest version of ``name``, read again at most every few seconds: every submit
        asks, and a read transaction each time cost more than the submit's own writes. A
        version another process publishes is taken up within that time; one published through
        this service at once."""
        found = self._newest.get(name)
        if found is None:
            found = self._newest[name] = refreshed.Refreshed(
                lambda: self.store.latest_definition_version(name)
            )
        return found.get()

    def reload_calendars(self) -> None:
        """Forget compiled definitions, so their calendars are read again (a year was added)."""
        self._compiled.clear()

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
        """Take in a new ticket; the same ``idempotency_key`` from the same ``actor`` with the
        same request returns the first ticket, with another request raises KeyReused."""
        _check_intake(intake)
        if idempotency_key is not None:
            limits.check_text(idempotency_key, "idempotency_key", limit=200)
            if not idempotency_key.strip():
                raise errors.InvalidField("idempotency_key", "must not be empty")
        compiled = self.compiled(definition, self.newest(definition))
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
            contact_more=dict(intake.contact_more) if intake.contact_more else None,
            idempotency_key=idempotency_key,
            idempotency_client=actor,
            idempotency_digest=_digest(intake, definition) if idempotency_key else None,
        )
        decided: list[Decision] = []
        subscriptions = self.subscriptions.active()  # read before the write transaction opens

        def decide_on(ticket: Ticket) -> Decision:
            submitted = decide_submit(compiled, ticket, actor, now)
            decided.append(
                webhooks.amend(provisional.note(compiled, submitted), subscriptions, webhook.NAME)
            )
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
        limits.check_fields(fields or {})
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

        def decider(compiled: CompiledDefinition, ticket: Ticket) -> Decision:
            return self._linked(decide(compiled, ticket, command, now))

        decision = self._write(ticket_id, decider)
        assert decision is not None, "a command always decides or raises"
        return decision

    def _linked(self, decision: Decision) -> Decision:
        """Refuse a decision naming a ticket that does not exist, before anything is written."""
        unknown = set(ticket_links.missing(self.store, (target for _, target in decision.links)))
        for name, target in decision.links:
            if target in unknown:
                raise errors.InvalidField(name, f"no ticket {target}: name an existing ticket")
        return decision

    def fire_deadline(self, claim: Claim) -> Decision | None:
        """Fire one claimed deadline rung in its own transaction; None if it was not due any
        more (met, moved, fired by another sweeper, or its claim taken over by one)."""
        try:
            return self._write(
                claim.ticket_id,
                self._firing(claim, self.clock.now()),
                fired_by=claim.owner,
                guard=due.still_claimed(claim),
            )
        except errors.AlreadyFired:
            return None

    def fire_deadlines(self, claims: Sequence[Claim]) -> list[Decision | None]:
        """``fire_deadline`` for several claims of one owner in one transaction (all or none:
        on AlreadyFired or any error nothing is written, and the caller fires them one by one)."""
        now = self.clock.now()
        owner = claims[0].owner if claims else None
        guard = due.still_claimed(*claims)

        def write() -> list[Decision | None]:
            updates = [(c.ticket_id, self._deciding(self._firing(c, now))) for c in claims]
            return self.store.update_each(updates, fired_by=owner, guard=guard)

        decisions = self._with_warm_caches(write)
        self._committed(*(d for d in decisions if d is not None))
        return decisions

    @staticmethod
    def _firing(claim: Claim, now: datetime) -> Decider:
        return lambda c, t: escalation.decide_firing(c, t, claim.id, claim.rung, now)

    def fire_command(
        self, message_id: int, payload: Mapping[str, Any], owner: str | None = None
    ) -> Decision | None:
        """Apply the command an outbox message carries (``fire_command``), exactly once: the
        message is marked delivered in the command's transaction; None if it already was, or
        if it is no longer claimed by ``owner`` (the relay holding it, if given).

        A command the engine refuses (CommandError) is parked as dead at once, with a
        ``command_refused`` event in the ticket's history in the same transaction, and the
        CommandError is raised again: retrying a domain refusal cannot change its answer.
        """
        now = self.clock.now()
        seen: list[Ticket] = []

        def fire(compiled: CompiledDefinition, ticket: Ticket) -> Decision:
            seen.append(ticket)
            return escalation.fire_command(compiled, ticket, payload, now)

        guard = delivery.consume(message_id, now, owner)
        try:
            return self._write(payload["ticket_id"], fire, guard=guard)
        except errors.CommandError as refused:
            error = f"{type(refused).__name__}: {refused}"
            self._refused(message_id, payload, error, seen[-1].version, now, owner)
            raise

    def _refused(
        self,
        message_id: int,
        payload: Mapping[str, Any],
        error: str,
        refused_at: int,
        now: datetime,
        owner: str | None = None,
    ) -> None:
        """Record the refusal and park the message dead, in one transaction (``refused_at``:
        the ticket version that was refused)."""

        def refuse(compiled: CompiledDefinition, ticket: Ticket) -> Decision:
            refusal = escalation.refuse_command(compiled, ticket, payload, now)
            if refusal is None:  # changed since it was refused: the relay retries it
                raise errors.StaleVersion(ticket.id, refused_at, ticket.version)
            return refusal

        parked = delivery.park(message_id, now, error, owner)
        self._write(payload["ticket_id"], refuse, guard=parked)

    def requeue(self, message_id: int, actor: str) -> Decision:
        """Put a dead outbox message back to be delivered at once, with a ``message_requeued``
        event on its ticket in the same transaction. NotFound if no dead message has that id
        (or it has no ticket to record it on)."""
        dead = next((m for m in self.store.outbox(status="dead") if m.id == message_id), None)
        if dead is None or dead.ticket_id is None:
            raise errors.NotFound(f"no dead outbox message {message_id}")
        note = {"message_id": dead.id, "handler": dead.handler, "error": dead.last_error}
        now = self.clock.now()
        decision = self._write(
            dead.ticket_id,
            lambda c, t: escalation.requeued(t, note, actor, now),
            guard=delivery.revive(message_id, now),
        )
        if decision is None:  # requeued by someone else since it was read
            raise errors.NotFound(f"no dead outbox message {message_id}")
        return decision

    def recompute_provisional(self) -> int:
        """Count every provisional deadline again on the calendars as they are now (a year's
        schedule was added to a calendar file or came with a package upgrade); each ticket that
        changes gets a ``deadlines_recomputed`` event in the same transaction. Return how many
        tickets changed."""
        now = self.clock.now()
        changed = 0
        for ticket_id in provisional_deadlines.ticket_ids(self.store):
            decided = self._write(ticket_id, lambda c, t: provisional.recompute(c, t, now))
            changed += decided is not None
        return changed

    def _write(self, ticket_id: int, decider: Decider, **options: Any) -> Decision | None:
        """One transaction on a ticket: decide, add webhook deliveries, write, then tell the
        listeners; ``options`` go to ``store.update`` (``fired_by``, ``guard``)."""
        decision = self._with_warm_caches(
            lambda: self.store.update(ticket_id, self._deciding(decider), **options)
        )
        if decision is not None:
            self._committed(decision)
        return decision

    def _with_warm_caches(self, write: Callable[[], T]) -> T:
        """Run ``write`` (one transaction); if it needed a definition version this process has
        not compiled yet, it rolled back: compile it now, outside any transaction, and run it
        again. So a write never opens a second connection while it holds the first."""
        while True:
            try:
                return write()
            except _NotCompiled as missing:
                self.compiled(missing.name, missing.version)

    def _deciding(self, decider: Decider) -> Decide:
        """The store's ``decide(ticket)``: ``decider`` on the ticket's pinned definition,
        amended with the webhook deliveries its events owe.

        Runs inside the write transaction, so it reads nothing from the database: the
        subscriptions are read now, before the transaction opens, and a definition missing
        from the cache raises ``_NotCompiled`` (see ``_with_warm_caches``).
        """
        subscriptions = self.subscriptions.active()

        def decide_on(ticket: Ticket) -> Decision | None:
            compiled = self._compiled.get((ticket.definition, ticket.definition_version))
            if compiled is None:
                raise _NotCompiled(ticket.definition, ticket.definition_version)
            decision = decider(compiled, ticket)
            amended = provisional.note(compiled, decision) if decision else None
            return webhooks.amend(amended, subscriptions, webhook.NAME) if amended else None

        return decide_on

    def _committed(self, *decisions: Decision) -> None:
        for decision in decisions:
            for listener in self.committed:
                listener(decision)

    # -- queries ------------------------------------------------------------------------------

    def get(self, ticket_id: int) -> Ticket:
        return self.store.load(ticket_id)

    def history(self, ticket_id: int) -> list[Event]:
        return self.store.events(ticket_id)

    def links(self, ticket_id: int) -> ticket_links.Linked:
        """The tickets ``ticket_id`` names (its original, for a repeat) and those naming it."""
        return ticket_links.of(self.store, ticket_id)

    def rounds(self, ticket: Ticket) -> list[dict[str, Any]]:
        """Each handling round's record (opinion, callback answers…), from the history."""
        definition = self.compiled(ticket.definition, ticket.definition_version).definition
        return rounds.record(definition, self.store.events(ticket.id))

    def view(self, ticket_id: int) -> TicketView:
        """A ticket as a reader sees it, read in one transaction: with its open deadlines,
        its contact (unmasked: mask it or log the read), its links and its rounds."""

        def sources(ticket: Ticket) -> views.Sources:
            compiled = self._compiled.get((ticket.definition, ticket.definition_version))
            if compiled is None:  # compiled outside the read transaction, then read again
                raise _NotCompiled(ticket.definition, ticket.definition_version)
            return rounds.sources(compiled.definition)

        seen = self._with_warm_caches(lambda: views.read(self.store, ticket_id, sources))
        ticket = seen.ticket
        definition = self._compiled[(ticket.definition, ticket.definition_version)].definition
        return TicketView(seen, rounds.record(definition, seen.round_events))

    def allowed(self, ticket: Ticket) -> list[str]:
        """Triggers the ticket's definition allows from its current state."""
        return self.compiled(ticket.definition, ticket.definition_version).allowed(ticket.state)


@dataclass(frozen=True)
class TicketView:
    """``Service.view``: what the store read, and the rounds' records made from it."""

    read: views.View
    rounds: list[dict[str, Any]]


class _NotCompiled(Exception):  # noqa: N818  (a signal to the service, never seen outside)
    """A write met a ticket pinned to a definition version not compiled in this process."""

    def __init__(self, name: str, version: int) -> None:
        super().__init__(f"{name}@{version} is not compiled yet")
        self.name, self.version = name, version


def _check_intake(intake: Intake) -> None:
    """Refuse what no store can hold, by name, before anything is written."""
    texts = {
        "category": intake.category,
        "summary": intake.summary,
        "urgency": intake.urgency,
        "channel": intake.channel,
        "contact.name": intake.contact_name,
        "contact.phone": intake.contact_phone,
        "contact.address": intake.contact_address,
    }
    for name, text in texts.items():
        if text is not None:
            limits.check_text(text, name)
    limits.check_fields(intake.fields)


def _digest(intake: Intake, definition: str) -> str:
    """What identifies a request for its idempotency key: every value of the intake."""
    values = {**asdict(intake), "fields": dict(intake.fields), "definition": definition}
    text = json.dumps(values, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def _check_channel(compiled: CompiledDefinition, channel: str) -> None:
    channels = compiled.definition.channels
    if channel not in channels:
        raise errors.InvalidField("channel", f"must be one of {', '.join(channels)}")
