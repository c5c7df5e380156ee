"""Published report snapshots: a period's ranking stored once, as it was published.

The store keeps the document and its seal; sealing and comparing are the use case's
(``reports.snapshots``). A period is published once per workflow and grouping: a second
publication is refused, so what auditors read is what was announced.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from hotline.errors import HotlineError
from hotline.persistence.sql import SqlStore
from hotline.persistence.tables import ReportSnapshotRow

snapshots = ReportSnapshotRow.__table__


@dataclass(frozen=True)
class Snapshot:
    definition: str
    period: str
    by: str
    rules: str
    as_of: datetime
    published_at: datetime
    published_by: str
    document: dict[str, Any]
    seal: str
    id: int | None = None


class AlreadyPublished(HotlineError):
    def __init__(self, found: Snapshot) -> None:
        super().__init__(
            f"{found.definition} {found.period} by {found.by} was already published at "
            f"{found.published_at:%Y-%m-%d %H:%M} UTC (snapshot {found.id}); a published "
            "ranking is never replaced"
        )
        self.found = found


def add(store: SqlStore, snapshot: Snapshot) -> int:
    """Store ``snapshot``; raise AlreadyPublished if its period is already published."""
    values = {k: v for k, v in snapshot.__dict__.items() if k != "id"}
    try:
        with store.writing() as conn:
            return conn.execute(snapshots.insert().values(**values)).inserted_primary_key[0]
    except sa.exc.IntegrityError:
        found = find(store, snapshot.definition, snapshot.period, snapshot.by)
        if found is None:
            raise
        raise AlreadyPublished(found) from None


def find(store: SqlStore, definition: str, period: str, by: str = "unit") -> Snapshot | None:
    s = snapshots.c
    query = sa.select(snapshots).where(s.definition == definition, s.period == period, s.by == by)
    with store.reading() as conn:
        row = conn.execute(query).first()
    return None if row is None else _snapshot(row)


def listing(store: SqlStore, definition: str | None = None) -> list[Snapshot]:
    """Every snapshot (of ``definition``), in the order published."""
    query = sa.select(snapshots).order_by(snapshots.c.id)
    if definition is not None:
        query = query.where(snapshots.c.definition == definition)
    with store.reading() as conn:
        return [_snapshot(row) for row in conn.execute(query)]


def _snapshot(row: Any) -> Snapshot:
    return Snapshot(**{k: getattr(row, k) for k in Snapshot.__dataclass_fields__})
