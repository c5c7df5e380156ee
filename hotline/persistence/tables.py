"""The sqlmodel tables. Their ``__table__`` objects are what the store writes through (Core)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field, SQLModel

from hotline import clock


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in, aware UTC datetimes out, on every backend.

    SQLite has no time zones and hands back naive values; sqlmodel rejects those.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: Hotline stores aware UTC only")
        value = clock.utc(value)  # a query bound beyond year 1..9999 in UTC is clamped
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)

    # On SQLite every command binds and reads a dozen of these: one function each way instead
    # of the decorator's two layers and the dialect's %-formatting, with the same stored text.
    def bind_processor(self, dialect: sa.Dialect) -> Any:
        return _to_sqlite if dialect.name == "sqlite" else super().bind_processor(dialect)

    def result_processor(self, dialect: sa.Dialect, coltype: Any) -> Any:
        if dialect.name != "sqlite":
            return super().result_processor(dialect, coltype)
        slow = super().result_processor(dialect, coltype)

        def from_sqlite(value: str | None) -> datetime | None:
            try:
                return None if value is None else _from_text(value + "+00:00")
            except ValueError:  # not as SQLAlchemy writes it: let SQLAlchemy read it
                return slow(value)

        return from_sqlite


_from_text = datetime.fromisoformat


def _to_sqlite(value: datetime | None) -> str | None:
    """As SQLAlchemy's SQLite DATETIME writes it: naive UTC, ``YYYY-MM-DD HH:MM:SS.ffffff``."""
    if value is None:
        return None
    if value.tzinfo is not UTC:
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: Hotline stores aware UTC only")
        value = clock.utc(value)  # a query bound beyond year 1..9999 in UTC is clamped
    return value.isoformat(" ", "microseconds")[:-6]  # without its "+00:00"


def _time(**kwargs: Any) -> Any:
    return Field(sa_type=UTCDateTime, **kwargs)


def _json(**kwargs: Any) -> Any:
    return Field(sa_type=sa.JSON, **kwargs)


class DefinitionRow(SQLModel, table=True):
    __tablename__ = "definitions"
    __table_args__ = (sa.UniqueConstraint("name", "version"),)

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(index=True)
    version: int
    source: str
    checksum: str
    published_at: datetime = _time()


class TicketRow(SQLModel, table=True):
    __tablename__ = "tickets"
    __table_args__ = (
        # Reports select a period's tickets by when they were received.
        sa.Index("ix_tickets_created_at", "created_at"),
        # The versions listing counts tickets by version and state from this index alone.
        sa.Index("ix_tickets_definition_state", "definition_name", "definition_version", "state"),
        # A what-if pages through a period's tickets in the order they were received: this
        # index holds them in that order, so each page is a seek, not a sort of the period.
        sa.Index("ix_tickets_received", "definition_name", "created_at", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    definition_name: str
    definition_version: int
    state: str = Field(index=True)
    version: int = 0
    round: int = 1
    category: str = Field(index=True)
    urgency: str
    channel: str
    summary: str = ""
    lead_unit: str | None = Field(default=None, index=True)
    co_units: list[str] = _json(default_factory=list)
    excluded: bool = False
    fields: dict[str, Any] = _json(default_factory=dict)
    # Personal data (条例 Art. 8): its own columns, never copied into events or messages.
    contact_name: str | None = None
    contact_phone: str | None = None
    contact_address: str | None = None
    # More of the same from Open311 intake: email, first/last name, device and account ids.
    contact_more: dict[str, Any] | None = _json(default=None)
    # The client's key, scoped to the client (see ``service.scoped_key``), and a digest of the
    # request it first came with: a repeat with another request is refused, not answered.
    idempotency_key: str | None = Field(default=None, unique=True)
    idempotency_digest: str | None = None
    seq: int = 0
    head_hash: str = ""
    created_at: datetime = _time()
    updated_at: datetime = _time()
    whistle: dict[str, Any] | None = _json(default=None)  # the engine's Whistle snapshot


class EventRow(SQLModel, table=True):
    """Append-only history; ``hash`` chains each event onto the one before (``prev_hash``)."""

    __tablename__ = "events"
    __table_args__ = (sa.UniqueConstraint("ticket_id", "seq"),)

    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int = Field(foreign_key="tickets.id")
    seq: int
    trigger: str
    from_state: str | None = None
    to_state: str
    actor: str
    payload: dict[str, Any] = _json(default_factory=dict)
    occurred_at: datetime = _time(index=True)
    prev_hash: str
    hash: str


class TicketFactRow(SQLModel, table=True):
    """One ticket's assessment facts (考评), folded from its history in the transaction of
    every change (see ``persistence.facts``): what ``report rates`` counts, without the events.

    ``basis`` is the digest of the reading (``meanings.Reading``) the flags were folded under:
    a report under other rules finds a different digest and reads the raw history instead.
    ``changed_at`` is the newest event folded (or the intake): a report read up to an earlier
    instant reads the raw history too.
    """

    __tablename__ = "ticket_facts"
    # A report reads one workflow's tickets received in a period.
    __table_args__ = (sa.Index("ix_ticket_facts_period", "definition_name", "created_at"),)

    ticket_id: int = Field(
        primary_key=True, foreign_key="tickets.id", sa_column_kwargs={"autoincrement": False}
    )
    definition_name: str
    created_at: datetime = _time()
    day: datetime = _time()  # local midnight (the calendar's zone) of created_at, in UTC
    lead_unit: str | None = None
    category: str
    basis: str | None = None
    entered: int  # dispatched (a district forwarding counts), 0 or 1
    via_district: int
    excluded: int
    responses: int
    late: int
    redone: int  # entered a re-handling round
    first_callback: int | None = None  # seq × 10 + answer code (``facts.answer_code``)
    last_callback: int | None = None
    changed_at: datetime | None = _time(default=None)


ROLLUP_KEY = (
    "definition_name",
    "day",
    "lead_unit",
    "basis",
    "entered",
    "via_district",
    "excluded",
    "in_time",
    "redone",
    "first_answer",
    "last_answer",
)


class FactRollupRow(SQLModel, table=True):
    """How many tickets of each kind a unit received on a day: ``ticket_facts`` summed, kept in
    the same transactions, so a month's report by unit reads some thousand rows, not millions.

    No NULL in the key (a unique key never matches NULLs): no unit is ``""``, no basis ``""``,
    no answer -1. ``newest`` only grows (a ticket that moves out leaves it): a report read up
    to an earlier instant finds it later and reads the facts.
    """

    __tablename__ = "fact_rollups"
    __table_args__ = (sa.UniqueConstraint(*ROLLUP_KEY, name="uq_fact_rollups_key"),)

    id: int | None = Field(default=None, primary_key=True)
    definition_name: str
    day: datetime = _time()
    lead_unit: str
    basis: str
    entered: int
    via_district: int
    excluded: int
    in_time: int  # responded, and no response late
    redone: int
    first_answer: int  # answer code (``facts.answer_code``) of the first callback, -1 none
    last_answer: int
    n: int
    newest: datetime | None = _time(default=None)


class DeadlineRow(SQLModel, table=True):
    """A ticket's time limit; see ``engine.ticket.Deadline`` for the meaning of the clock."""

    __tablename__ = "deadlines"
    __table_args__ = (
        # The sweeper reads only pending rows by firing time: a partial index keeps that cheap
        # however many rows have already been met or cancelled.
        sa.Index(
            "ix_deadlines_pending_fire",
            "fire_at",
            sqlite_where=sa.text("status = 'pending'"),
            postgresql_where=sa.text("status = 'pending'"),
        ),
        sa.Index("ix_deadlines_ticket_status", "ticket_id", "status"),
        # Overdue tickets (a search filter, the dashboard) from the open deadlines past due.
        sa.Index(
            "ix_deadlines_open_due",
            "due_at",
            "ticket_id",
            sqlite_where=sa.text("status IN ('pending', 'paused')"),
            postgresql_where=sa.text("status IN ('pending', 'paused')"),
        ),
        # The few deadlines counted over an unpublished year, recomputed when it is published.
        sa.Index(
            "ix_deadlines_provisional",
            "ticket_id",
            sqlite_where=sa.text("provisional AND status IN ('pending', 'paused')"),
            postgresql_where=sa.text("provisional AND status IN ('pending', 'paused')"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int = Field(foreign_key="tickets.id")
    kind: str
    state: str
    status: str = "pending"
    measure: str = "calendar"
    window: int
    consumed: int = 0
    running_since: datetime | None = _time(default=None)
    due_at: datetime = _time()
    fire_at: datetime | None = _time(default=None)
    rung: int = 0
    opened_at: datetime = _time()
    closed_at: datetime | None = _time(default=None)
    provisional: bool = Field(default=False, sa_column_kwargs={"server_default": sa.false()})
    claimed_by: str | None = None
    claimed_until: datetime | None = _time(default=None)


class TicketLinkRow(SQLModel, table=True):
    """A ticket naming another in a ``ticket`` field (a repeat and its original, Art. 11)."""

    __tablename__ = "ticket_links"

    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int = Field(foreign_key="tickets.id", index=True)
    field: str
    target_id: int = Field(foreign_key="tickets.id", index=True)  # the group, read both ways
    created_at: datetime = _time()


class FiringRow(SQLModel, table=True):
    """One fired rung of a deadline; the unique pair (deadline, rung identity) makes a second
    firing impossible, even after a migration moved the rung to another position."""

    __tablename__ = "deadline_firings"
    __table_args__ = (
        sa.UniqueConstraint("deadline_id", "rung_key", name="uq_deadline_firings_rung_key"),
    )

    id: int | None = Field(default=None, primary_key=True)
    deadline_id: int = Field(foreign_key="deadlines.id")
    rung: int  # its position in the ladder when it fired
    rung_key: str  # its identity: remind, due, escalate-2 ("#N" for rows before 0007)
    fired_at: datetime = _time()
    fired_by: str | None = None  # the replica (host:pid) whose sweeper fired it


class OutboxRow(SQLModel, table=True):
    __tablename__ = "outbox"
    __table_args__ = (
        sa.Index(
            "ix_outbox_pending",
            "next_attempt_at",
            sqlite_where=sa.text("status = 'pending'"),
            postgresql_where=sa.text("status = 'pending'"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int | None = Field(default=None, foreign_key="tickets.id")
    handler: str
    key: str = Field(unique=True)
    payload: dict[str, Any] = _json(default_factory=dict)
    status: str = "pending"
    attempts: int = 0
    next_attempt_at: datetime = _time()
    last_error: str | None = None
    created_at: datetime = _time()
    delivered_at: datetime | None = _time(default=None)
    claimed_by: str | None = None
    claimed_until: datetime | None = _time(default=None)


class SealRow(SQLModel, table=True):
    """A daily seal: the root of a Merkle tree over every ticket's chain head, whose leaves and
    inner nodes are ``seal_leaves`` and ``seal_nodes`` (before 0007: ``heads``, id -> [seq, hash]).

    The same seal is written to a file outside the database, where its administrator cannot
    rewrite it; ``hotline audit verify`` checks the chains against the latest one.
    """

    __tablename__ = "seals"

    id: int | None = Field(default=None, primary_key=True)
    day: str = Field(index=True)
    sealed_at: datetime = _time()
    tickets: int
    digest: str
    heads: dict[str, Any] = _json(default_factory=dict)  # legacy seals only (before 0007)
    root: str | None = None  # a Merkle seal's root over its leaves (SealLeafRow)
    previous: str | None = None  # the digest of the seal before it


class SealLeafRow(SQLModel, table=True):
    """One ticket's leaf in a Merkle seal: its id and chain head, at ``pos`` in id order."""

    __tablename__ = "seal_leaves"
    __table_args__ = (sa.UniqueConstraint("seal_id", "ticket_id"),)

    seal_id: int = Field(foreign_key="seals.id", primary_key=True)
    pos: int = Field(primary_key=True)
    ticket_id: int
    seq: int
    head: str


class SealNodeRow(SQLModel, table=True):
    """An inner node of a Merkle seal's tree, kept so one ticket's proof is ~20 lookups."""

    __tablename__ = "seal_nodes"

    seal_id: int = Field(foreign_key="seals.id", primary_key=True)
    level: int = Field(primary_key=True)
    pos: int = Field(primary_key=True)
    hash: str


# Whistles (吹哨报到): rows projected from the ticket's whistle snapshot in the same transaction
# as its event (persistence/whistles.py), so listings and statistics are plain SQL.


class WhistleRow(SQLModel, table=True):
    __tablename__ = "whistles"
    __table_args__ = (sa.UniqueConstraint("ticket_id", "no"),)

    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int = Field(foreign_key="tickets.id")
    no: int
    whistler: str
    reason: str
    status: str = Field(index=True)  # open | closed
    opened_at: datetime = _time()
    closed_at: datetime | None = _time(default=None)
    close_reason: str | None = None
    conferences: list[dict[str, Any]] = _json(default_factory=list)


class WhistleParticipantRow(SQLModel, table=True):
    __tablename__ = "whistle_participants"
    __table_args__ = (sa.UniqueConstraint("ticket_id", "whistle_no", "department"),)

    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int = Field(foreign_key="tickets.id")
    whistle_no: int
    department: str = Field(index=True)
    status: str
    summoned_at: datetime = _time()
    due_at: datetime = _time()
    answered_at: datetime | None = _time(default=None)
    report_seconds: int | None = None  # summoned -> reported, for the median
    in_time: bool | None = None
    absences: int = 0
    person: str | None = None
    note: str | None = None
    reason: str | None = None


class WhistleTaskRow(SQLModel, table=True):
    __tablename__ = "whistle_tasks"
    __table_args__ = (sa.UniqueConstraint("ticket_id", "whistle_no", "no"),)

    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int = Field(foreign_key="tickets.id")
    whistle_no: int
    no: int
    owner: str = Field(index=True)
    title: str
    conference: int
    due_at: datetime = _time()
    done_at: datetime | None = _time(default=None)
    overdue: bool = False
    note: str | None = None


class ApiTokenRow(SQLModel, table=True):
    """An API token: only its SHA-256 is kept; the token itself is shown once, at creation."""

    __tablename__ = "api_tokens"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(unique=True)
    role: str
    unit: str | None = None
    token_hash: str = Field(unique=True)
    created_at: datetime = _time()
    revoked_at: datetime | None = _time(default=None)
    expires_at: datetime | None = _time(default=None)


class AccessLogRow(SQLModel, table=True):
    """Who read a complainant's personal data unmasked, when, and why (条例 Art. 8)."""

    __tablename__ = "personal_data_access"

    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int = Field(foreign_key="tickets.id", index=True)
    token_name: str
    role: str
    unit: str | None = None
    reason: str
    accessed_at: datetime = _time(index=True)


class WebhookRow(SQLModel, table=True):
    """An integrator's URL told of every event of one type (a trigger name, or ``*``)."""

    __tablename__ = "webhooks"

    id: int | None = Field(default=None, primary_key=True)
    event_type: str = Field(index=True)
    url: str
    secret: str
    created_at: datetime = _time()
    active: bool = True


class AdjustmentRow(SQLModel, table=True):
    """Bonus (positive) or penalty (negative) points on a unit's composite score for a day."""

    __tablename__ = "kpi_adjustments"
    __table_args__ = (sa.Index("ix_kpi_adjustments_day_unit", "day", "unit"),)

    id: int | None = Field(default=None, primary_key=True)
    unit: str
    day: date
    points: float
    reason: str
    approver: str
    recorded_at: datetime = _time()


class ReplicaRow(SQLModel, table=True):
    """A daemon's heartbeat: one row per ``hotline run`` process, refreshed on an interval."""

    __tablename__ = "replicas"

    owner: str = Field(primary_key=True)  # host:pid, as in claimed_by and fired_by
    host: str
    pid: int
    started_at: datetime = _time()
    last_seen_at: datetime = _time()
    stopped_at: datetime | None = _time(default=None)


class ReportSnapshotRow(SQLModel, table=True):
    """A period's ranking as published (月通报), frozen: its rows, the rules version they were
    computed under, and a seal (SHA-256 over the canonical JSON of everything else)."""

    __tablename__ = "report_snapshots"
    __table_args__ = (sa.UniqueConstraint("definition", "period", "by"),)

    id: int | None = Field(default=None, primary_key=True)
    definition: str
    period: str
    by: str
    rules: str  # name@version of the definition whose rules were applied
    as_of: datetime = _time()  # the history was read up to here
    published_at: datetime = _time()
    published_by: str
    document: dict[str, Any] = _json()
    seal: str
