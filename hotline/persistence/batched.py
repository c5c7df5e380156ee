"""Many rows written by one statement: on PostgreSQL an INSERT or UPDATE over ``unnest`` of one
array a column, elsewhere an executemany of the compiled statement (``compiled``).

Why: the sweeper writes some six rows a firing (its events, firing rows, outbox messages, the
deadlines it moves). psycopg's executemany sends each row as a statement of its own, pipelined,
and both sides pay for each: the client some 50 µs of Python a row, the server an executor
start. Arrays sent in binary are dumped by psycopg's C code (in text, each element goes
through a regular expression), and the server runs one statement for the batch.
"""

from __future__ import annotations

import abc
from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa

from hotline.persistence import compiled


class _Batched(abc.ABC):
    """The part of a batched statement that differs by dialect; ``each`` runs it row by row."""

    def __init__(self, table: sa.Table, each: compiled.Statement, arrays: dict[str, str]) -> None:
        self.table, self.each, self.arrays = table, each, arrays  # parameter -> column
        self._unnested: dict[str, tuple[str, list[compiled.Processor]]] = {}

    def execute_many(self, conn: sa.Connection, values: Sequence[Mapping[str, Any]]) -> int:
        """Write a row for each of ``values``; the number of rows written."""
        if conn.dialect.name != "postgresql" or len(values) < 2 or not self._distinct(values):
            return self.each.execute_many(conn, values)
        sql, binds = self._for(conn.dialect)
        arrays: dict[str, list[Any]] = {}
        for name, process in zip(self.arrays, binds, strict=True):
            column = [v[name] for v in values]
            arrays[name] = column if process is None else [process(x) for x in column]
        return compiled.run(conn, sql, arrays).rowcount

    def _distinct(self, values: Sequence[Mapping[str, Any]]) -> bool:
        return True

    def _for(self, dialect: sa.Dialect) -> tuple[str, list[compiled.Processor]]:
        found = self._unnested.get(dialect.name)
        if found is None:
            columns = [self.table.c[column] for column in self.arrays.values()]
            binds = [c.type.dialect_impl(dialect).bind_processor(dialect) for c in columns]
            found = self._unnested[dialect.name] = (self._sql(dialect), binds)
        return found

    def _unnest(self, dialect: sa.Dialect) -> str:
        """``unnest(%(name)b::TYPE[], …)``: binary (``b``), each array cast to its column's."""
        typed = [(name, self.table.c[column].type) for name, column in self.arrays.items()]
        return "unnest({})".format(
            ", ".join(f"%({name})b::{type_.compile(dialect=dialect)}[]" for name, type_ in typed)
        )

    @abc.abstractmethod
    def _sql(self, dialect: sa.Dialect) -> str:
        """The statement over ``_unnest``'s arrays (an INSERT or an UPDATE)."""


class Inserts(_Batched):
    """INSERTs of ``columns`` into ``table``."""

    def __init__(self, table: sa.Table, columns: Sequence[str]) -> None:
        each = compiled.Statement(table.insert(), columns)
        super().__init__(table, each, {name: name for name in columns})

    def _sql(self, dialect: sa.Dialect) -> str:
        quote = dialect.identifier_preparer
        names = ", ".join(quote.quote(name) for name in self.arrays)
        into = quote.format_table(self.table)
        return f"INSERT INTO {into} ({names}) SELECT * FROM {self._unnest(dialect)}"


class Updates(_Batched):
    """UPDATEs of ``columns`` of the rows of ``table`` whose ``where`` columns equal the given
    parameters (parameter -> column; the first is the row's key). Rows are matched once: a
    batch naming a key twice runs row by row, in order."""

    def __init__(self, table: sa.Table, columns: Sequence[str], where: Mapping[str, str]) -> None:
        self.where = dict(where)
        matched = [table.c[column] == sa.bindparam(name) for name, column in self.where.items()]
        each = compiled.Statement(table.update().where(*matched), columns)
        super().__init__(table, each, {**{name: name for name in columns}, **self.where})

    def _distinct(self, values: Sequence[Mapping[str, Any]]) -> bool:
        key = next(iter(self.where))
        return len({v[key] for v in values}) == len(values)

    def _sql(self, dialect: sa.Dialect) -> str:
        quote = dialect.identifier_preparer
        table = quote.format_table(self.table)
        names = ", ".join(quote.quote(name) for name in self.arrays)
        sets = ", ".join(
            f"{quote.quote(name)} = v.{quote.quote(name)}"
            for name in self.arrays
            if name not in self.where
        )
        matched = " AND ".join(
            f"{table}.{quote.quote(column)} = v.{quote.quote(name)}"
            for name, column in self.where.items()
        )
        source = f"{self._unnest(dialect)} AS v({names})"
        return f"UPDATE {table} SET {sets} FROM {source} WHERE {matched}"
