"""Multiplying a fixture's rows with set-based SQL (SQLite and PostgreSQL): copies of the rows
whose ``key`` is at most ``base``, some columns given as SQL over ``t`` (the row copied) and
``copies.n`` (1, 2, …), e.g. ids shifted by ``copies.n * :base``; nothing is deleted (events
are append-only)."""

from __future__ import annotations

from collections.abc import Mapping

import sqlalchemy as sa

from hotline.persistence.sql import SqlStore

COPY = """WITH RECURSIVE copies(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM copies WHERE n < :k)
INSERT INTO {table} ({columns}) SELECT {values} FROM {table} AS t, copies
WHERE t.{key} <= :base AND t.{key} + copies.n * :base <= :target AND ({only})"""


def copy(
    conn: sa.Connection,
    table: sa.Table,
    key: str,
    base: int,
    target: int,
    given: Mapping[str, str],
    only: str = "TRUE",
    **params: object,
) -> None:
    """Copy ``table``'s rows with ``key <= base`` until the shifted keys reach ``target`` (a
    serial ``id`` is left to the database unless ``given``); ``only``: SQL over ``t`` choosing
    the rows copied; ``params``: values of other bind parameters ``given`` uses."""
    names = [c.name for c in table.columns if c.name != "id" or "id" in given]
    sql = COPY.format(
        table=table.name,
        columns=", ".join(f'"{n}"' for n in names),
        values=", ".join(given.get(n, f't."{n}"') for n in names),
        key=key,
        only=only,
    )
    k = max(0, -(-target // base) - 1)
    conn.execute(sa.text(sql), {"k": k, "base": base, "target": target, **params})


def analyse(store: SqlStore) -> None:
    """Fresh planner statistics after copying (and, on PostgreSQL, a visibility map for
    index-only scans)."""
    with store.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql(
            "ANALYZE" if store.engine.dialect.name == "sqlite" else "VACUUM ANALYZE"
        )
