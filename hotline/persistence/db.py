"""Creating the SQLAlchemy engine for a database URL, with the settings each backend needs."""

from __future__ import annotations

import os
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event

DEFAULT_URL = "sqlite:///hotline.db"
WRITE = "hotline_write"  # execution option: this connection is about to write


def url_from_env() -> str:
    return os.environ.get("HOTLINE_DB_URL", DEFAULT_URL)


def normalise(url: str) -> str:
    """Accept the plain ``postgresql://`` form and use psycopg 3 for it."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url.removeprefix(prefix)
    return url


def create_engine(url: str, **kwargs: Any) -> sa.Engine:
    url = normalise(url)
    if url.startswith("sqlite"):
        return _sqlite_engine(url, **kwargs)
    kwargs.setdefault("pool_size", int(os.environ.get("HOTLINE_DB_POOL_SIZE", "10")))
    kwargs.setdefault("max_overflow", int(os.environ.get("HOTLINE_DB_MAX_OVERFLOW", "20")))
    kwargs.setdefault("pool_timeout", float(os.environ.get("HOTLINE_DB_POOL_TIMEOUT", "30")))
    # Recycle before a load balancer or PgBouncer drops idle connections (-1: never).
    kwargs.setdefault("pool_recycle", int(os.environ.get("HOTLINE_DB_POOL_RECYCLE", "1800")))
    kwargs.setdefault("pool_pre_ping", True)
    return sa.create_engine(url, **kwargs)


def _sqlite_engine(url: str, **kwargs: Any) -> sa.Engine:
    engine = sa.create_engine(url, connect_args={"timeout": 30}, **kwargs)

    @event.listens_for(engine, "connect")
    def _configure(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" hook below issue BEGIN itself (pysqlite's own is deferred).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(conn: sa.Connection) -> None:
        # A writer takes the write lock before it reads the ticket, so what it reads cannot
        # change under it; a deferred BEGIN would fail with SQLITE_BUSY_SNAPSHOT instead.
        write = conn.get_execution_options().get(WRITE, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

    return engine
