"""Creating the SQLAlchemy engine for a database URL, with the settings each backend needs,
and ``Database``: the engine with its read and write transactions."""

from __future__ import annotations

import json
import logging
import os
import signal
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event

from hotline import errors
from hotline.persistence import DEFAULT_URL, timeouts
from hotline.persistence.timeouts import Limits

log = logging.getLogger("hotline.daemon")


def url_from_env() -> str:
    return os.environ.get("HOTLINE_DB_URL", DEFAULT_URL)


def normalise(url: str) -> str:
    """Accept the plain ``postgresql://`` form and use psycopg 3 for it."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url.removeprefix(prefix)
    return url


def _safe(url: str) -> str:
    """The URL as it may be shown: without its password."""
    try:
        return sa.engine.make_url(url).render_as_string(hide_password=True)
    except sa.exc.ArgumentError:
        return url


def create_engine(url: str, limits: Limits | None = None, **kwargs: Any) -> sa.Engine:
    url, limits = normalise(url), limits or Limits.from_env()
    if url.startswith("sqlite"):
        return _sqlite_engine(url, limits, **kwargs)
    kwargs.setdefault("pool_size", int(os.environ.get("HOTLINE_DB_POOL_SIZE", "10")))
    kwargs.setdefault("max_overflow", int(os.environ.get("HOTLINE_DB_MAX_OVERFLOW", "20")))
    kwargs.setdefault("pool_timeout", float(os.environ.get("HOTLINE_DB_POOL_TIMEOUT", "30")))
    # Recycle before a load balancer or PgBouncer drops idle connections (-1: never).
    kwargs.setdefault("pool_recycle", int(os.environ.get("HOTLINE_DB_POOL_RECYCLE", "1800")))
    kwargs.setdefault("pool_pre_ping", True)
    engine = sa.create_engine(url, **kwargs)

    @event.listens_for(engine, "connect")
    def _limits(dbapi_connection: Any, _record: Any) -> None:
        timeouts.set_on_postgres(dbapi_connection, limits)

    return engine


def _sqlite_engine(url: str, limits: Limits, **kwargs: Any) -> sa.Engine:
    busy = limits.sqlite_busy
    kwargs.setdefault("json_deserializer", _json_loads)
    engine = sa.create_engine(url, connect_args={"timeout": busy / 1000}, **kwargs)

    @event.listens_for(engine, "connect")
    def _configure(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" hook below issue BEGIN itself (pysqlite's own is deferred).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={busy}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(conn: sa.Connection) -> None:
        # SQLAlchemy begins by itself when a statement runs inside ``writing``'s transaction,
        # which ``writing`` opened on the DB-API connection already.
        if not conn.connection.driver_connection.in_transaction:
            _sqlite(conn.connection.driver_connection, "BEGIN")

    return engine


_scan = json.JSONDecoder().scan_once


def _json_loads(text: Any) -> Any:
    """``json.loads`` for SQLite's JSON columns, read a dozen times a command and ten times a
    ticket by a what-if: the C scanner that ``json.loads`` ends in, without the two regular
    expressions and three Python calls around it (half its cost). Anything but a string
    holding exactly one JSON value (whitespace around it, a BOM, bytes) goes to ``json.loads``,
    so the values and the errors are the same."""
    if type(text) is str:
        try:
            value, end = _scan(text, 0)
        except StopIteration:
            return json.loads(text)  # raises the JSONDecodeError naming the problem
        if end == len(text):
            return value
    return json.loads(text)


def _sqlite(dbapi_connection: sqlite3.Connection, statement: str) -> None:
    """Run a transaction statement on the DB-API connection, failing as SQLAlchemy would."""
    try:
        if statement == "COMMIT":
            dbapi_connection.commit()
        else:
            dbapi_connection.execute(statement)
    except sqlite3.Error as error:  # "database is locked" becomes errors.Busy above
        raise sa.exc.DBAPIError.instance(statement, None, error, sqlite3.Error) from error


@contextmanager
def _immediate(conn: sa.Connection) -> Iterator[None]:
    """A SQLite write transaction run on the DB-API connection: BEGIN and COMMIT through
    SQLAlchemy's transaction cost more than the commit itself.

    BEGIN IMMEDIATE takes the write lock before the ticket is read, so what a writer reads
    cannot change under it (a deferred BEGIN would fail with SQLITE_BUSY_SNAPSHOT instead).
    """
    dbapi_connection = conn.connection.driver_connection
    _sqlite(dbapi_connection, "BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        # SQLAlchemy's own transaction, if a statement began one, must hear of the rollback.
        (conn.rollback if conn.in_transaction() else dbapi_connection.rollback)()
        raise
    if conn.in_transaction():
        conn.commit()
    else:
        _sqlite(dbapi_connection, "COMMIT")


class Database:
    """One database URL's engine and its transactions; the base of the store's verb groups.

    ``lease_rows`` is here because it is where SQLite and PostgreSQL differ in claiming rows.
    """

    def __init__(self, url: str, **engine_kwargs: Any) -> None:
        self.url = normalise(url)
        self.limits = Limits.from_env()
        try:
            self.engine = create_engine(self.url, self.limits, **engine_kwargs)
        except (sa.exc.ArgumentError, ValueError) as error:  # NoSuchModuleError included
            raise errors.HotlineError(
                f"database URL {_safe(url)!r}: {error}; write sqlite:///FILE or "
                "postgresql://USER@HOST:PORT/DATABASE"
            ) from None
        event.listen(self.engine, "handle_error", self._unreachable)
        self._writer = threading.Lock()  # SQLite's one writer, in this process (``writing``)

    def _unreachable(self, context: sa.engine.ExceptionContext) -> None:
        """A failure to connect (no connection yet), or a connection lost mid-transaction (the
        server stopped or restarted, the network dropped), is the database being away, not a
        bug: the caller may try again (with its idempotency key or version, as a commit cut
        short may have been written)."""
        failed_to_connect = context.connection is None and isinstance(
            context.sqlalchemy_exception, sa.exc.OperationalError
        )
        if failed_to_connect or context.is_disconnect:
            why = str(context.original_exception).strip().splitlines()[0]
            lost = not failed_to_connect
            raise errors.Unavailable(_safe(self.url), why, lost) from context.original_exception

    def migrate(self) -> None:
        """Create the schema or bring it up to date (alembic ``upgrade head``)."""
        from hotline.persistence import migrations

        migrations.upgrade(self.engine)

    def is_initialised(self) -> bool:
        """Has ``migrate`` created the schema in this database?"""
        return sa.inspect(self.engine).has_table("tickets")

    def close(self) -> None:
        self.engine.dispose()

    @contextmanager
    def writing(self) -> Iterator[sa.Connection]:
        """One write transaction: committed on success, rolled back on any exception; a lock
        or statement wait that ran out raises ``errors.Busy``."""
        if self.engine.dialect.name != "sqlite":
            with self._bounded_waits(), self.engine.connect() as conn, conn.begin():
                yield conn
            return
        with (
            self._one_writer(),
            self._bounded_waits(),
            self.engine.connect() as conn,
            _immediate(conn),
        ):
            yield conn

    @contextmanager
    def _one_writer(self) -> Iterator[None]:
        """SQLite: this process's writers take turns here before asking SQLite for its lock.
        Threads refused by SQLite's lock sleep in steps of up to 100 ms before asking again,
        and the lock is free long before most wake up: under 50 API clients, p99 was seconds.
        Waiting here is bounded as SQLite's wait is (HOTLINE_SQLITE_BUSY_TIMEOUT)."""
        if not self._writer.acquire(timeout=self.limits.sqlite_busy / 1000):
            raise errors.Busy(
                f"this process's other writers held the SQLite database for"
                f" {self.limits.sqlite_busy} ms (HOTLINE_SQLITE_BUSY_TIMEOUT)"
            )
        try:
            yield
        finally:
            self._writer.release()

    @contextmanager
    def reading(self) -> Iterator[sa.Connection]:
        with self._bounded_waits(), self.engine.connect() as conn, conn.begin():
            yield conn

    @contextmanager
    def _bounded_waits(self) -> Iterator[None]:
        try:
            yield
        except sa.exc.DBAPIError as error:
            busy = timeouts.busy(error, self.limits)
            if busy is None:
                raise
            raise busy from error

    def lease_rows(
        self,
        table: sa.Table,
        due: Any,
        order: Any,
        now: datetime,
        limit: int,
        owner: str,
        lease: timedelta,
        columns: tuple[Any, ...],
    ) -> list[Any]:
        """Lease up to ``limit`` free ``due`` rows of ``table`` to ``owner`` in ``order``;
        return their ids and ``columns``."""
        free = sa.or_(table.c.claimed_until.is_(None), table.c.claimed_until <= now)
        chosen = sa.select(table.c.id).where(due, free).order_by(order).limit(limit)
        if self.engine.dialect.name == "postgresql":
            # Replicas skip each other's locked rows instead of waiting for them.
            chosen = chosen.with_for_update(skip_locked=True)
        claim = (
            table.update()
            .where(table.c.id.in_(chosen.scalar_subquery()))
            .values(claimed_by=owner, claimed_until=now + lease)
            .returning(table.c.id, *columns)
        )
        try:
            with self.writing() as conn:
                if self.engine.dialect.name == "postgresql":
                    conn.exec_driver_sql(f"SET LOCAL statement_timeout = {self.limits.claim}")
                found = list(conn.execute(claim))
                _stop_for_test(table.name, found)
        except (errors.Busy, errors.Unavailable, sa.exc.OperationalError) as error:
            # A claim that cannot get the database in time (or whose connection the server
            # ended while this process was stopped) claims nothing: the next sweep tries again.
            log.warning(
                "claiming %s skipped: %s",
                table.name,
                error,
                extra={"action": "claim_skipped", "table": table.name},
            )
            return []
        return found


_stopped: set[str] = set()


def _stop_for_test(table: str, claimed: list[Any]) -> None:
    """Test hook: with HOTLINE_TEST_STOP_IN_CLAIM=<table>, the process stops itself (SIGSTOP)
    the first time it has claimed rows of that table, before the claim commits, so a test can
    hold a replica inside its claim transaction without racing it."""
    wanted = os.environ.get("HOTLINE_TEST_STOP_IN_CLAIM") == table
    if claimed and wanted and table not in _stopped:
        _stopped.add(table)
        # Sent to this thread, not the process: a process-directed SIGSTOP is taken by the
        # main thread, and until the scheduler runs it this thread goes on and commits.
        signal.pthread_kill(threading.get_ident(), signal.SIGSTOP)
