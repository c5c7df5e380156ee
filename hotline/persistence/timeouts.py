"""How long a connection may wait for the database, and what a wait that ran out means.

A replica stopped (SIGSTOP, a frozen VM) while it holds row locks must not stall the others:

- ``lock_timeout`` (PostgreSQL): a statement waiting for a row lock gives up after this long;
- ``idle_in_transaction_session_timeout`` (PostgreSQL): the server ends a session that sat in
  an open transaction this long, rolling it back, so a stopped replica's locks are released;
- a statement timeout on the daemon's claims (PostgreSQL), so a sweep never hangs on one;
- the busy timeout (SQLite): how long a writer waits for the file's write lock.

A wait that runs out becomes ``errors.Busy``: nothing was written, and the caller may retry.
Each limit is a ``HOTLINE_*`` variable in PostgreSQL's units ("500ms", "5s", "2min"; a bare
number is milliseconds; 0 turns a PostgreSQL limit off).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from hotline import errors

UNITS = {"ms": 1, "s": 1000, "min": 60_000, "h": 3_600_000}
# SQLSTATEs of a wait that ran out: lock_not_available, query_canceled (statement timeout),
# idle_in_transaction_session_timeout.
PG_WAITS = {"55P03": "a row lock", "57014": "a statement", "25P03": "an idle transaction"}


@dataclass(frozen=True)
class Limits:
    """The limits in milliseconds, read from the environment when an engine is created."""

    lock: int = 5_000
    idle_in_transaction: int = 60_000
    claim: int = 30_000
    sqlite_busy: int = 30_000

    @classmethod
    def from_env(cls) -> Limits:
        names = {
            "lock": "HOTLINE_PG_LOCK_TIMEOUT",
            "idle_in_transaction": "HOTLINE_PG_IDLE_IN_TRANSACTION_TIMEOUT",
            "claim": "HOTLINE_PG_CLAIM_TIMEOUT",
            "sqlite_busy": "HOTLINE_SQLITE_BUSY_TIMEOUT",
        }
        given = {k: millis(os.environ[v], v) for k, v in names.items() if os.environ.get(v)}
        return cls(**given)


def millis(text: str, name: str) -> int:
    """``"5s"`` -> 5000; a clear error naming the variable if the text is not a duration."""
    found = re.fullmatch(r"\s*(\d+)\s*(ms|s|min|h)?\s*", text)
    if found is None:
        raise errors.HotlineError(
            f"{name}={text!r} is not a duration: write 500ms, 5s or 2min (0 for no limit)"
        )
    return int(found[1]) * UNITS[found[2] or "ms"]


def set_on_postgres(dbapi_connection: Any, limits: Limits) -> None:
    """Set the session's limits on a new PostgreSQL connection (works through PgBouncer in
    session mode, unlike startup options)."""
    with dbapi_connection.cursor() as cursor:
        cursor.execute(f"SET lock_timeout = {limits.lock}")
        cursor.execute(f"SET idle_in_transaction_session_timeout = {limits.idle_in_transaction}")
    dbapi_connection.commit()


def busy(error: sa.exc.DBAPIError, limits: Limits) -> errors.Busy | None:
    """The domain error for a database error that is a wait running out; None otherwise."""
    state = getattr(error.orig, "sqlstate", None)
    if state in PG_WAITS:
        return errors.Busy(f"waiting for {PG_WAITS[state]} ran out ({error.orig})".strip())
    if "database is locked" in str(error.orig):
        return errors.Busy(
            f"another writer held the SQLite database for {limits.sqlite_busy} ms"
            " (HOTLINE_SQLITE_BUSY_TIMEOUT)"
        )
    return None
