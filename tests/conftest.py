"""Shared fixtures: a real store (SQLite file, and PostgreSQL when HOTLINE_TEST_PG_URL is set)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

# The CLI's consoles take their width when first imported: the same wide terminal for every
# test, however the tests are ordered or spread over workers, so output never wraps.
os.environ["COLUMNS"] = "200"
from sqlmodel import SQLModel

from hotline.clock import FrozenClock
from hotline.persistence import db, tables  # noqa: F401  (registers the models)
from hotline.persistence.memory import MemoryStore
from hotline.persistence.sql import SqlStore
from hotline.service import Intake, Service

PG_URL = os.environ.get("HOTLINE_TEST_PG_URL")
# Every table the models declare, so a new table is emptied between tests without editing this.
TABLES = ", ".join(table.name for table in SQLModel.metadata.sorted_tables)


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """A fresh PostgreSQL database for this test session, dropped at the end.

    Skips when HOTLINE_TEST_PG_URL is unset; *fails* when it is set but the server cannot be
    reached, so CI can never pass by silently skipping PostgreSQL.
    """
    if not PG_URL:
        pytest.skip("HOTLINE_TEST_PG_URL is not set")
    admin = sa.create_engine(db.normalise(PG_URL), isolation_level="AUTOCOMMIT")
    name = f"hotline_test_{uuid.uuid4().hex[:12]}"
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    except sa.exc.OperationalError as error:
        pytest.fail(f"HOTLINE_TEST_PG_URL={PG_URL} is set but unreachable: {error}")
    url = sa.make_url(db.normalise(PG_URL)).set(database=name)
    migrated = SqlStore(url.render_as_string(hide_password=False))
    migrated.migrate()
    migrated.close()
    yield url.render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE "{name}" WITH (FORCE)')
    admin.dispose()


@pytest.fixture
def empty_database(pg_url: str) -> Iterator[str]:
    """A PostgreSQL database with no schema at all, dropped afterwards."""
    url = sa.make_url(pg_url)
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    empty = url.set(database=f"{url.database}_empty")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{empty.database}"')
    yield empty.render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE "{empty.database}" WITH (FORCE)')
    admin.dispose()


@pytest.fixture(params=["sqlite", "postgres"])
def store(request: pytest.FixtureRequest, tmp_path) -> Iterator[SqlStore]:
    """The same store contract on a real SQLite file and on the real PostgreSQL server."""
    store = _sql_store(request.param, request, tmp_path)
    yield store
    store.close()


@pytest.fixture(params=["memory", "sqlite", "postgres"])
def any_store(request: pytest.FixtureRequest, tmp_path) -> Iterator[SqlStore | MemoryStore]:
    """The store contract on all three stores: in memory, a SQLite file, PostgreSQL."""
    store = MemoryStore() if request.param == "memory" else None
    store = store or _sql_store(request.param, request, tmp_path)
    yield store
    store.close()


def _sql_store(kind: str, request: pytest.FixtureRequest, tmp_path) -> SqlStore:
    if kind == "sqlite":
        store = SqlStore(f"sqlite:///{tmp_path / 'hotline.db'}")
        store.migrate()
        return store
    store = SqlStore(request.getfixturevalue("pg_url"))
    with store.engine.begin() as conn:
        conn.exec_driver_sql(f"TRUNCATE {TABLES} RESTART IDENTITY CASCADE")
    return store


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(datetime(2026, 3, 2, 9, 0, tzinfo=UTC))  # a Monday


@pytest.fixture
def service(store: SqlStore, clock: FrozenClock) -> Service:
    service = Service(store, clock)
    service.install_shipped()
    return service


@pytest.fixture
def new_ticket(service: Service):
    """Builder: submit a ticket and optionally fire a list of (trigger, fields) on it."""

    def build(category: str = "noise", steps=(), **intake):
        ticket = service.submit(Intake(category, "test demand", **intake), actor="operator")
        for trigger, fields in steps:
            ticket = service.fire(ticket.id, trigger, fields, actor="tester")
        return ticket

    return build


@pytest.fixture
def another_store(store: SqlStore) -> Iterator:
    """Builder: another store on the same database, as another process would open it."""
    opened: list[SqlStore] = []

    def build() -> SqlStore:
        opened.append(SqlStore(store.url))
        return opened[-1]

    yield build
    for other in opened:
        other.close()
