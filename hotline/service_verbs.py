"""What the API and the CLI ask of the database besides commands, each as a ``Service`` method
named for what it wants: the shells never touch the store (``service.store``) themselves.

Reads (tickets, contacts, deadlines, the outbox, whistles, tokens, webhooks, versions, gauges)
and the small admin writes that are not ticket commands (tokens, webhooks, access log,
assessment adjustments). Each delegates to the store or to a query verb of ``persistence``.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from hotline.persistence import (
    backlog,
    gauges,
    history,
    open311,
    outcomes,
    queries,
    replicas,
    reports,
    tallies,
    tokens,
    versions,
    webhooks,
    whistles,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from hotline.clock import Clock
    from hotline.engine.access import Principal
    from hotline.engine.ticket import Ticket
    from hotline.persistence.sql import SqlStore


class ServiceVerbs:
    """Mixed into ``Service``: reads and admin writes over ``self.store``."""

    store: SqlStore
    clock: Clock
    subscriptions: webhooks.Cache

    # -- tickets ------------------------------------------------------------------------------

    def find(
        self,
        state: str | None = None,
        unit: str | None = None,
        category: str | None = None,
        limit: int = 100,
    ) -> list[Ticket]:
        """Tickets by id, filtered by state, lead unit and category."""
        return self.store.find(state=state, unit=unit, category=category, limit=limit)

    def find_tickets(self, where: queries.TicketFilter, after: int, limit: int) -> list[Ticket]:
        """A page of tickets matching ``where`` with ids above ``after``."""
        return queries.find_tickets(self.store, where, after, limit)

    def newest_ticket_id(self) -> int:
        """The highest ticket id (0 with none)."""
        return queries.newest_ticket_id(self.store)

    def find_requests(self, where: open311.RequestFilter, limit: int) -> list[open311.Request]:
        """Open311 requests matching ``where``, newest first, at most ``limit`` (filters first)."""
        return open311.find_requests(self.store, where, limit)

    def contact(self, ticket_id: int) -> dict[str, str | None]:
        """The complainant's personal data, unmasked: mask it or log the read."""
        return self.store.contact(ticket_id)

    def pending_deadlines(
        self, ticket_id: int | None = None, due_before: datetime | None = None
    ) -> list[Any]:
        """Pending deadline rows by due time, for one ticket or all, optionally overdue."""
        return self.store.deadlines(ticket_id, due_before=due_before)

    def outbox(self, ticket_id: int | None = None, status: str | None = None) -> list[Any]:
        """Outbox messages by id, for one ticket or all, optionally of one status."""
        return self.store.outbox(ticket_id, status=status)

    def count_histories(self, ticket_id: int | None = None) -> int:
        """How many ticket histories ``audit verify`` walks (one, or all)."""
        return history.count_tickets(self.store, ticket_id)

    # -- definitions --------------------------------------------------------------------------

    def latest_definitions(self) -> list[tuple[str, int]]:
        """Every stored definition's name with its newest version."""
        return queries.latest_definitions(self.store)

    def latest_version(self, name: str) -> int:
        """The newest stored version of ``name`` (UnknownDefinition if none)."""
        return self.store.latest_definition_version(name)

    def definition_source(self, name: str, version: int | None = None) -> tuple[int, str]:
        """A stored definition's version and YAML text (the newest if ``version`` is None)."""
        return self.store.definition_source(name, version)

    def definition_versions(self, final: Callable[[str], str]) -> list[versions.Version]:
        """Every stored version with the tickets pinned to it (``final(name)``: its end)."""
        return versions.listing(self.store, final)

    # -- whistles -----------------------------------------------------------------------------

    def listed_whistles(
        self, open_only: bool = False, department: str | None = None, limit: int | None = None
    ) -> list[whistles.Listed]:
        """Whistles newest first, with who was summoned and who is still missing."""
        with self.store.reading() as conn:
            return whistles.listing(conn, open_only, department, limit)

    def whistle_stats(
        self, since: datetime | None = None, until: datetime | None = None
    ) -> list[whistles.DepartmentStats]:
        """Per department, over whistles summoning it in [since, until)."""
        with self.store.reading() as conn:
            return whistles.department_stats(conn, since, until)

    # -- tokens and personal data -------------------------------------------------------------

    def create_token(
        self, name: str, role: str, unit: str | None, expires_at: datetime | None = None
    ) -> str:
        """A new API token, returned once (only its hash is stored); refused after
        ``expires_at`` if given."""
        return tokens.create(self.store, name, role, unit, self.clock.now(), expires_at)

    def revoke_token(self, name: str) -> None:
        tokens.revoke(self.store, name, self.clock.now())

    def listed_tokens(self) -> list[Any]:
        """Tokens by name with role, unit and dates (never the tokens themselves)."""
        return tokens.listed(self.store)

    def verify_token(self, token: str) -> Principal | None:
        """Who holds ``token``, or None if it is unknown, revoked or expired."""
        return tokens.verify(self.store, token, self.clock.now())

    def verify_token_digest(self, token_digest: str) -> Principal | None:
        """``verify_token`` by the token's SHA-256 digest (a console session keeps only that)."""
        return tokens.verify_digest(self.store, token_digest, self.clock.now())

    def record_access(self, principal: Principal, ticket_id: int, reason: str) -> None:
        """Log an unmasked read of a ticket's personal data: who, when and why."""
        tokens.record_access(self.store, principal, ticket_id, reason, self.clock.now())

    def accesses(self, ticket_id: int | None = None, limit: int = 100) -> list[tokens.Access]:
        """The personal-data access log, newest first."""
        return tokens.accesses(self.store, ticket_id, limit)

    # -- webhooks -----------------------------------------------------------------------------

    def register_webhook(
        self, event_type: str, url: str, secret: str | None = None
    ) -> webhooks.Registered:
        """Subscribe ``url`` to ``event_type``; the next write delivers to it."""
        made = webhooks.register(self.store, event_type, url, self.clock.now(), secret)
        self.subscriptions.invalidate()
        return made

    def listed_webhooks(self) -> list[webhooks.Registered]:
        return webhooks.listed(self.store)

    def remove_webhook(self, subscription_id: int) -> None:
        """Stop a subscription; deliveries still pending for it are dropped."""
        webhooks.remove(self.store, subscription_id)
        self.subscriptions.invalidate()

    # -- assessment, replicas, gauges ---------------------------------------------------------

    def add_adjustment(
        self, unit: str, day: date, points: float, reason: str, approver: str
    ) -> int:
        """Record bonus (+) or penalty (-) points on a unit's composite score; its number."""
        return reports.add_adjustment(
            self.store, unit, day, points, reason, approver, self.clock.now()
        )

    def count_outcomes(
        self,
        start: datetime,
        end: datetime,
        field: str | None = None,
        triggers: Sequence[str] = (),
        by_unit: bool = False,
    ) -> list[outcomes.Outcome]:
        """Events between ``start`` and ``end`` by trigger (and a field's value, and the unit
        holding the ticket at the time): Art. 11 reason codes, Art. 12 objections."""
        return outcomes.count(self.store, start, end, field, triggers, by_unit)

    def replicas_seen(self, since: datetime) -> list[replicas.Replica]:
        """Daemon replicas whose heartbeat was seen since ``since``."""
        return replicas.seen_since(self.store, since)

    def measure_backlog(self, now: datetime) -> backlog.Backlog:
        """Pending and overdue deadlines, due and dead outbox messages at ``now``."""
        return backlog.measure(self.store, now)

    def read_gauges(self) -> gauges.Gauges:
        """What ``/metrics`` reads from the database, now."""
        return gauges.read(self.store, self.clock.now())

    def intake_by_channel(self, start: datetime, end: datetime) -> dict[str, int]:
        """Tickets received in [start, end), by intake channel."""
        return tallies.intake_by_channel(self.store, start, end)

    def overdue_by_unit(self, now: datetime) -> dict[str, int]:
        """Tickets past an open deadline's due time at ``now``, by lead unit."""
        return tallies.overdue_by_unit(self.store, now)

    def single_writer(self) -> bool:
        """Whether the database takes one writer at a time (SQLite)."""
        return self.store.engine.dialect.name == "sqlite"

    def close(self) -> None:
        """Close the database's connections (a short-lived command is done with them)."""
        self.store.close()
