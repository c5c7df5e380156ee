"""Definition versions and the tickets pinned to them: what publish, list and migrate read.

Migration pages through the tickets of one version by id, a batch at a time, so it never
holds more than a batch in memory and can resume: a migrated ticket is no longer on the old
version, so a second run simply does not see it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from hotline.persistence.rows import definitions, tickets
from hotline.persistence.sql import SqlStore


@dataclass(frozen=True)
class Version:
    name: str
    version: int
    published_at: datetime
    checksum: str
    running: int  # tickets pinned to it that are not in the final state
    total: int


def listing(store: SqlStore, final: Callable[[str], str]) -> list[Version]:
    """Every stored version, oldest first, with how many tickets are pinned to it.

    ``final(name)`` is the final state of each definition (running = not in it).
    """
    counts = sa.select(
        tickets.c.definition_name, tickets.c.definition_version, tickets.c.state, sa.func.count()
    ).group_by(tickets.c.definition_name, tickets.c.definition_version, tickets.c.state)
    query = sa.select(definitions).order_by(definitions.c.name, definitions.c.version)
    with store.reading() as conn:
        pinned: dict[tuple[str, int], dict[str, int]] = {}
        for name, version, state, n in conn.execute(counts):
            pinned.setdefault((name, version), {})[state] = n
        found = list(conn.execute(query))
    listed = []
    for row in found:
        states = pinned.get((row.name, row.version), {})
        running = sum(n for s, n in states.items() if s != final(row.name))
        total = sum(states.values())
        listed.append(
            Version(row.name, row.version, row.published_at, row.checksum, running, total)
        )
    return listed


def _running(name: str, version: int, final: str) -> sa.ColumnElement[bool]:
    return sa.and_(
        tickets.c.definition_name == name,
        tickets.c.definition_version == version,
        tickets.c.state != final,
    )


def state_counts(store: SqlStore, name: str, version: int, final: str) -> dict[str, int]:
    """Running tickets of ``name@version`` by state."""
    query = (
        sa.select(tickets.c.state, sa.func.count())
        .where(_running(name, version, final))
        .group_by(tickets.c.state)
        .order_by(tickets.c.state)
    )
    with store.reading() as conn:
        return {state: n for state, n in conn.execute(query)}


def running_ids(
    store: SqlStore, name: str, version: int, final: str, after: int, limit: int
) -> list[int]:
    """The next ``limit`` running tickets of ``name@version`` with an id above ``after``."""
    query = (
        sa.select(tickets.c.id)
        .where(_running(name, version, final), tickets.c.id > after)
        .order_by(tickets.c.id)
        .limit(limit)
    )
    with store.reading() as conn:
        return list(conn.execute(query).scalars())


def in_force(store: SqlStore, name: str, at: datetime) -> int | None:
    """The version of ``name`` in force at ``at``: the newest published before it.

    A period before the first publication is judged by the first version (the earliest rules
    there are); None when ``name`` has no version at all.
    """
    d = definitions.c
    before = sa.select(sa.func.max(d.version)).where(d.name == name, d.published_at < at)
    first = sa.select(sa.func.min(d.version)).where(d.name == name)
    with store.reading() as conn:
        return conn.execute(before).scalar() or conn.execute(first).scalar()
