"""The hot path's statements: compiled once per dialect, run on the transaction's DB-API cursor.

Every command runs about eight statements. Through ``Connection.execute`` each costs some 45 µs
of SQLAlchemy's execution context on a 2-core machine, where SQLite itself needs 5-10 µs. A
``Statement`` keeps what SQLAlchemy does that matters (the SQL its compiler writes for the
dialect, and the bind and result processors of the column types: aware UTC datetimes, JSON,
booleans) and skips the rest. It runs inside the caller's SQLAlchemy transaction, on the same
connection, tells the engine's cursor listeners, and raises SQLAlchemy's exceptions, so the
store's error handling is unchanged.
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

Processor = Callable[[Any], Any] | None


@dataclass(frozen=True)
class _ForDialect:
    """A statement as one dialect runs it; processors are kept only for the columns that have
    one, by position (most columns need none, and asking each costs more than SQLite's read)."""

    sql: str
    names: tuple[str, ...]  # the parameters, in the order a positional paramstyle wants
    binds: tuple[tuple[int, Processor], ...]
    positional: bool
    constants: dict[str, Any]  # values the statement carries (``sa.literal``), not the caller
    row: Any  # a namedtuple class of the columns the statement returns
    results: tuple[tuple[int, Processor], ...]

    def parameters(self, values: Mapping[str, Any]) -> Any:
        values = {**self.constants, **values} if self.constants else values
        bound = [values[name] for name in self.names]
        for i, process in self.binds:
            bound[i] = process(bound[i])
        return tuple(bound) if self.positional else dict(zip(self.names, bound, strict=True))

    def convert(self, raw: Sequence[Any]) -> Any:
        row = list(raw)
        for i, process in self.results:
            row[i] = process(row[i])
        return self.row._make(row)


class Statement:
    """A Core statement; ``columns`` picks the columns an INSERT or UPDATE writes, ``row``
    the namedtuple class of the rows it returns (default: one of its columns' names)."""

    def __init__(
        self, statement: Any, columns: Sequence[str] | None = None, row: type | None = None
    ) -> None:
        self.statement, self.columns = statement, list(columns) if columns else None
        self.row = row
        self._compiled: dict[tuple[str, str, str], _ForDialect] = {}

    def rows(self, conn: sa.Connection, values: Mapping[str, Any]) -> list[Any]:
        """Run a query (or a write that returns rows); its rows, each column converted."""
        compiled, cursor = self._run(conn, values)
        return [compiled.convert(raw) for raw in cursor.fetchall()]

    def execute(self, conn: sa.Connection, values: Mapping[str, Any]) -> int:
        """Run a write; the number of rows it matched."""
        return self._run(conn, values)[1].rowcount

    def execute_many(self, conn: sa.Connection, values: Sequence[Mapping[str, Any]]) -> int:
        """Run a write once for each of ``values`` (one round trip on PostgreSQL: psycopg
        pipelines it); the number of rows they matched together."""
        return self._run(conn, values, many=True)[1].rowcount

    def send(self, conn: sa.Connection, values: Mapping[str, Any]) -> Sent:
        """Run a query without reading its rows yet: inside ``pipelined`` they arrive at its
        end, so several queries and writes share one round trip. Read them with ``Sent.rows``."""
        compiled, cursor = self._run(conn, values)
        if conn.dialect.name == "postgresql":
            return Sent(compiled, cursor)
        # SQLite steps a query as its rows are read: read them before anything else is written.
        return Sent(compiled, cursor, [compiled.convert(raw) for raw in cursor.fetchall()])

    def send_many(self, conn: sa.Connection, values: Sequence[Mapping[str, Any]]) -> Sent:
        """``execute_many`` without reading the count yet (``Sent.count``, after ``pipelined``)."""
        return Sent(*self._run(conn, values, many=True))

    def _run(self, conn: sa.Connection, values: Any, many: bool = False) -> tuple[_ForDialect, Any]:
        compiled = self._for(conn.dialect)
        params = [compiled.parameters(v) for v in values] if many else compiled.parameters(values)
        return compiled, run(conn, compiled.sql, params, many)

    def _for(self, dialect: sa.Dialect) -> _ForDialect:
        key = (dialect.name, dialect.driver, dialect.paramstyle)
        found = self._compiled.get(key)
        if found is None:
            found = self._compiled[key] = self._compile(dialect)
        return found

    def _compile(self, dialect: sa.Dialect) -> _ForDialect:
        compiled = self.statement.compile(dialect=dialect, column_keys=self.columns)
        if defaulted := [c.key for c in (*compiled.insert_prefetch, *compiled.update_prefetch)]:
            # SQLAlchemy's execution context would fill these in; here the caller must.
            raise ValueError(f"name every column the statement writes; missing {defaulted}")
        names = tuple(compiled.positiontup or compiled.binds)
        binds = [_bind(compiled.binds[n].type, dialect) for n in names]
        selected = self.statement.exported_columns  # a query's columns, or what it RETURNs
        results = [c.type.dialect_impl(dialect).result_processor(dialect, None) for c in selected]
        return _ForDialect(
            sql=compiled.string,
            names=names,
            binds=tuple((i, f) for i, f in enumerate(binds) if f is not None),
            constants={n: b.value for n, b in compiled.binds.items() if not b.required},
            positional=compiled.positiontup is not None,
            row=self.row or namedtuple("Row", [c.key for c in selected]),  # noqa: PYI024
            results=tuple((i, f) for i, f in enumerate(results) if f is not None),
        )


class ByDialect:
    """A statement whose SQL differs by dialect (an upsert), built once for each by ``build``
    (given the dialect's name), writing ``columns`` if given."""

    def __init__(self, build: Callable[[str], Any], columns: Sequence[str] | None = None) -> None:
        self._build, self._columns = build, columns
        self._by_dialect: dict[str, Statement] = {}

    def for_dialect(self, conn: sa.Connection) -> Statement:
        name = conn.dialect.name
        if name not in self._by_dialect:
            self._by_dialect[name] = Statement(self._build(name), self._columns)
        return self._by_dialect[name]


def run(conn: sa.Connection, sql: str, params: Any, many: bool = False) -> Any:
    """Run ``sql`` on the transaction's DB-API cursor; the cursor."""
    cursor = conn.connection.cursor()
    # The engine's cursor listeners still see the statement (tests inject failures there);
    # asked only when there are some, since the asking costs more than SQLite's work.
    if conn.engine.dispatch.before_cursor_execute:
        conn.dispatch.before_cursor_execute(conn, cursor, sql, params, None, many)
    error_class = conn.dialect.loaded_dbapi.Error
    try:
        (cursor.executemany if many else cursor.execute)(sql, params)
    except error_class as error:
        raise sa.exc.DBAPIError.instance(
            sql, None, error, error_class, dialect=conn.dialect
        ) from error
    if conn.engine.dispatch.after_cursor_execute:
        conn.dispatch.after_cursor_execute(conn, cursor, sql, params, None, many)
    return cursor


@dataclass(frozen=True)
class Sent:
    """A statement sent, whose answer is read later (once a pipeline has ended)."""

    compiled: _ForDialect
    cursor: Any
    fetched: list[Any] | None = None

    def rows(self) -> list[Any]:
        if self.fetched is not None:
            return self.fetched
        return [self.compiled.convert(raw) for raw in self.cursor.fetchall()]

    def count(self) -> int:
        return self.cursor.rowcount


@contextmanager
def pipelined(conn: sa.Connection) -> Iterator[None]:
    """On PostgreSQL, send the writes run inside without waiting for each answer, and wait
    once at the end (psycopg's pipeline mode): a round trip for all of them. An error is
    raised there, wrapped as ``Statement`` wraps it. Nothing inside may read a result. A
    no-op on SQLite, where a statement is a function call."""
    if conn.dialect.name != "postgresql":
        yield
        return
    error_class = conn.dialect.loaded_dbapi.Error
    try:
        with conn.connection.driver_connection.pipeline():
            yield
    except error_class as error:
        raise sa.exc.DBAPIError.instance(
            "(pipelined writes)", None, error, error_class, dialect=conn.dialect
        ) from error


def one_of(column: sa.ColumnElement[Any], name: str, dialect: str) -> sa.ColumnElement[bool]:
    """``column IN (…)`` with the list bound as one parameter ``name`` (a list of integers),
    so the statement compiles once whatever the list's length (an expanding IN compiles again
    for each): an array on PostgreSQL, a JSON list on SQLite."""
    if dialect == "postgresql":
        return column == sa.any_(sa.bindparam(name, type_=postgresql.ARRAY(sa.BigInteger)))
    listed = sa.func.json_each(sa.bindparam(name, type_=sa.JSON))
    return column.in_(sa.select(sa.column("value")).select_from(listed))


def _bind(type_: sa.types.TypeEngine[Any], dialect: sa.Dialect) -> Processor:
    return type_.dialect_impl(dialect).bind_processor(dialect)
