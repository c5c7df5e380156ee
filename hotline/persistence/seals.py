"""A Merkle seal's rows: its leaves (one per ticket, in id order) and its tree's inner nodes.

``write`` reads every chain head and writes the seal with its tree, a chunk at a time;
``proof`` answers one ticket's inclusion proof with two indexed queries, however many tickets
there are; ``leaves`` streams the leaves in order for a full verify.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from hotline.engine import merkle
from hotline.persistence import history
from hotline.persistence.history import Seal
from hotline.persistence.sql import SqlStore
from hotline.persistence.tables import SealLeafRow, SealNodeRow

leaves_table = SealLeafRow.__table__
nodes_table = SealNodeRow.__table__
BATCH = 5000


@dataclass(frozen=True)
class Leaf:
    pos: int
    ticket_id: int
    seq: int
    head: str

    @property
    def hash(self) -> str:
        return merkle.leaf(self.ticket_id, self.seq, self.head)


@dataclass(frozen=True)
class Proof:
    """Where a ticket sits in a seal's tree and the sibling hashes on its way to the root."""

    leaf: Leaf
    siblings: list[str]


# Given the root and the leaf count, the caller builds the seal (its digest is theirs).
Finish = Callable[[str, int], Seal]


def write(store: SqlStore, now: datetime, finish: Finish) -> Seal:
    """Seal every ticket's current chain head: the seal row, its leaves and its inner nodes.

    Written a chunk per transaction, so that other writers never wait long (a million tickets
    take a minute or two). The seal counts only once its last statement gives it its digest
    (``history.latest_seal`` skips it until then), and heads read moments apart are as good
    as heads read at once: a chain only grows, so each sealed head stays in its chain.
    """
    with store.writing() as conn:
        seal_id = conn.execute(
            history.seals.insert().values(day="", sealed_at=now, tickets=0, digest="", heads={})
        ).inserted_primary_key[0]
    top, count = _write_tree(store, seal_id)
    sealed = dataclasses.replace(finish(top, count), id=seal_id)
    with store.writing() as conn:
        conn.execute(
            history.seals.update()
            .where(history.seals.c.id == seal_id)
            .values(
                day=sealed.day,
                sealed_at=sealed.sealed_at,
                tickets=sealed.tickets,
                digest=sealed.digest,
                root=sealed.root,
                previous=sealed.previous,
            )
        )
    return sealed


def _write_tree(store: SqlStore, seal_id: int) -> tuple[str, int]:
    """Write the leaves and inner nodes over every ticket's head; return (root, leaf count)."""
    leaf_rows: list[dict] = []
    node_rows: list[dict] = []
    last = [merkle.EMPTY, 0]  # the last leaf's hash, and how many there were

    def hashed_leaves() -> Iterator[str]:
        for pos, head in enumerate(history.heads(store, BATCH)):
            leaf = Leaf(pos, head.ticket_id, head.seq, head.hash)
            leaf_rows.append({"seal_id": seal_id, **dataclasses.asdict(leaf)})
            if len(leaf_rows) >= BATCH:
                _flush(store, leaves_table, leaf_rows)
            last[:] = [leaf.hash, pos + 1]
            yield leaf.hash

    top = None
    for level, pos, top in merkle.nodes(hashed_leaves()):
        node_rows.append({"seal_id": seal_id, "level": level, "pos": pos, "hash": top})
        if len(node_rows) >= BATCH:
            _flush(store, nodes_table, node_rows)
    _flush(store, leaves_table, leaf_rows)
    _flush(store, nodes_table, node_rows)
    return top or str(last[0]), int(last[1])  # no inner node: the root is the only leaf


def _flush(store: SqlStore, table: sa.Table, buffered: list[dict]) -> None:
    if buffered:
        with store.writing() as conn:
            conn.execute(table.insert(), buffered)
        buffered.clear()


def proof(store: SqlStore, seal: Seal, ticket_id: int) -> Proof | None:
    """The ticket's leaf in ``seal`` with its siblings' hashes; None if it was not sealed."""
    t = leaves_table
    with store.reading() as conn:
        row = conn.execute(
            sa.select(t).where(t.c.seal_id == seal.id, t.c.ticket_id == ticket_id)
        ).first()
        if row is None:
            return None
        leaf = Leaf(row.pos, row.ticket_id, row.seq, row.head)
        wanted = merkle.path(leaf.pos, seal.tickets)
        found = _nodes(conn, seal, wanted)
    return Proof(leaf, [found.get(at, "") for at in wanted])


def _nodes(conn: sa.Connection, seal: Seal, wanted: list[tuple[int, int]]) -> dict:
    """The hashes at (level, pos) of ``wanted``; level 0 are leaves, hashed here."""
    found: dict[tuple[int, int], str] = {}
    bottom = [pos for level, pos in wanted if level == 0]
    t, n = leaves_table, nodes_table
    if bottom:
        query = sa.select(t).where(t.c.seal_id == seal.id, t.c.pos.in_(bottom))
        for r in conn.execute(query):
            found[(0, r.pos)] = Leaf(r.pos, r.ticket_id, r.seq, r.head).hash
    above = [(level, pos) for level, pos in wanted if level > 0]
    if above:
        # Plain INs on each key column are index probes on every backend (row values are not).
        levels, positions = {lv for lv, _ in above}, {p for _, p in above}
        query = sa.select(n).where(
            n.c.seal_id == seal.id, n.c.level.in_(levels), n.c.pos.in_(positions)
        )
        found |= {(r.level, r.pos): r.hash for r in conn.execute(query)}
    return found


def leaves(store: SqlStore, seal: Seal) -> Iterator[Leaf]:
    """The seal's leaves in position order, a chunk at a time."""
    t, after = leaves_table, -1
    while True:
        query = (
            sa.select(t)
            .where(t.c.seal_id == seal.id, t.c.pos > after)
            .order_by(t.c.pos)
            .limit(BATCH)
        )
        with store.reading() as conn:
            found = [Leaf(r.pos, r.ticket_id, r.seq, r.head) for r in conn.execute(query)]
        yield from found
        if len(found) < BATCH:
            return
        after = found[-1].pos
