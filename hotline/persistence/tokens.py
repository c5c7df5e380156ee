"""API tokens, kept only as SHA-256 hashes, and the personal-data access log.

A token is 32 random bytes: a plain SHA-256 of it cannot be reversed or guessed, so no slow
password hash is needed and a lookup is one indexed read.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from hotline import errors
from hotline.engine.access import SYSTEM_ACTORS, Principal, Role
from hotline.persistence import compiled
from hotline.persistence.sql import SqlStore
from hotline.persistence.tables import AccessLogRow, ApiTokenRow

tokens = ApiTokenRow.__table__
access_log = AccessLogRow.__table__
PREFIX = "hl_"
# Every API request asks this: compiled once (an indexed read by the unique hash), and read
# again each time, so a revocation by any process holds from the next request on.
VERIFY = compiled.Statement(
    sa.select(tokens.c.id, tokens.c.name, tokens.c.role, tokens.c.unit).where(
        tokens.c.token_hash == sa.bindparam("b_hash"),
        tokens.c.revoked_at.is_(None),
        sa.or_(tokens.c.expires_at.is_(None), tokens.c.expires_at > sa.bindparam("b_now")),
    )
)


@dataclass(frozen=True)
class Access:
    """One unmasked read of a ticket's personal data."""

    ticket_id: int
    token_name: str
    role: str
    unit: str | None
    reason: str
    accessed_at: datetime


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create(
    store: SqlStore,
    name: str,
    role: str,
    unit: str | None,
    now: datetime,
    expires_at: datetime | None = None,
) -> str:
    """Store a new token's hash and return the token (shown once, never stored); it works
    until it is revoked or, if ``expires_at`` is given, until then."""
    try:
        role_ = Role(role)
    except ValueError:
        known = ", ".join(r.value for r in Role)
        raise errors.HotlineError(f"unknown role {role!r}; known: {known}") from None
    if name in SYSTEM_ACTORS:
        taken = ", ".join(sorted(SYSTEM_ACTORS))
        raise errors.HotlineError(f"{name!r} is the system's own name ({taken}): choose another")
    if (role_ is Role.UNIT) != (unit is not None):
        raise errors.HotlineError("--unit is required for the unit role, and only for it")
    token = PREFIX + secrets.token_urlsafe(32)
    if expires_at is not None and expires_at <= now:
        raise errors.HotlineError(
            f"the expiry {expires_at:%Y-%m-%d %H:%M} UTC is not in the future"
        )
    values = {
        "name": name,
        "role": role_.value,
        "unit": unit,
        "created_at": now,
        "expires_at": expires_at,
    }
    try:
        with store.writing() as conn:
            conn.execute(tokens.insert().values(token_hash=digest(token), **values))
    except sa.exc.IntegrityError:
        raise errors.HotlineError(f"a token named {name!r} exists already") from None
    return token


def revoke(store: SqlStore, name: str, now: datetime) -> None:
    """Revoke the token called ``name``; it stops working at once."""
    with store.writing() as conn:
        done = conn.execute(
            tokens.update()
            .where(tokens.c.name == name, tokens.c.revoked_at.is_(None))
            .values(revoked_at=now)
        )
    if done.rowcount != 1:
        raise errors.HotlineError(f"no active token named {name!r}")


def listed(store: SqlStore) -> list[sa.Row]:
    query = sa.select(tokens.c.name, tokens.c.role, tokens.c.unit, tokens.c.created_at)
    with store.reading() as conn:
        columns = query.add_columns(tokens.c.revoked_at, tokens.c.expires_at)
        return list(conn.execute(columns.order_by(tokens.c.id)))


def verify(store: SqlStore, token: str, now: datetime) -> Principal | None:
    """The principal behind a token that is neither revoked nor expired at ``now``, or None."""
    return verify_digest(store, digest(token), now)


def verify_digest(store: SqlStore, token_digest: str, now: datetime) -> Principal | None:
    """``verify`` by the token's digest (what a console session keeps instead of the token)."""
    with store.reading() as conn:
        found = VERIFY.rows(conn, {"b_hash": token_digest, "b_now": now})
    row = found[0] if found else None
    return Principal(row.id, row.name, Role(row.role), row.unit) if row else None


def record_access(
    store: SqlStore, principal: Principal, ticket_id: int, reason: str, now: datetime
) -> None:
    """Log an unmasked read of a ticket's personal data: who, when and why."""
    with store.writing() as conn:
        conn.execute(
            access_log.insert().values(
                ticket_id=ticket_id,
                token_name=principal.name,
                role=principal.role.value,
                unit=principal.unit,
                reason=reason,
                accessed_at=now,
            )
        )


def accesses(store: SqlStore, ticket_id: int | None = None, limit: int = 100) -> list[Access]:
    query = sa.select(access_log).order_by(access_log.c.id.desc()).limit(limit)
    if ticket_id is not None:
        query = query.where(access_log.c.ticket_id == ticket_id)
    with store.reading() as conn:
        return [
            Access(r.ticket_id, r.token_name, r.role, r.unit, r.reason, r.accessed_at)
            for r in conn.execute(query)
        ]
