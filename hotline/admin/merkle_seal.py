"""Sealing with a Merkle tree, and checking chains against such a seal.

The seal file holds the tree's root, the ticket count, the time and the previous seal's digest:
a few hundred bytes however large the history. The tree's leaves (ticket id and chain head, in
id order) and inner nodes stay in the database, where they are only a convenience: whatever is
done to them, the root in the file decides. One ticket is checked with its inclusion proof
(~log2(n) hashes); the whole history by recomputing the root from every leaf.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any

from hotline.engine import merkle
from hotline.engine.ticket import Event
from hotline.persistence import history, seals
from hotline.persistence.history import Head, Seal
from hotline.service import Service

FORMAT = "hotline-merkle-seal/1"
# A ticket written while a seal was being taken may carry an earlier time than the seal yet be
# missing from it; only history older than this before the seal counts as "should be sealed".
IN_FLIGHT = timedelta(minutes=5)


def digest(day: str, sealed_at: datetime, tickets: int, root: str, previous: str | None) -> str:
    """The seal's own digest: over everything its file states, so none of it can be edited."""
    content = _content(day, sealed_at, tickets, root, previous)
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def _content(
    day: str, sealed_at: datetime, tickets: int, root: str, previous: str | None
) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "day": day,
        "sealed_at": sealed_at.isoformat(),
        "tickets": tickets,
        "root": root,
        "previous": previous,
    }


def seal(service: Service) -> Seal:
    """Seal every ticket's chain head now, chained to the previous seal."""
    now = service.clock.now()
    before = history.latest_seal(service.store)
    previous = before.digest if before else None

    def finish(root: str, count: int) -> Seal:
        day = now.date().isoformat()
        return Seal(day, now, count, digest(day, now, count, root, previous), {}, root, previous)

    return seals.write(service.store, now, finish)


def as_json(s: Seal) -> dict[str, Any]:
    assert s.root is not None
    return _content(s.day, s.sealed_at, s.tickets, s.root, s.previous) | {"digest": s.digest}


def from_json(data: dict[str, Any]) -> Seal:
    at = datetime.fromisoformat(data["sealed_at"])
    return Seal(
        data["day"], at, data["tickets"], data["digest"], {}, data["root"], data["previous"]
    )


def self_check(s: Seal) -> list[str]:
    """Why the seal does not match its own digest (its file or row was edited)."""
    assert s.root is not None
    if digest(s.day, s.sealed_at, s.tickets, s.root, s.previous) != s.digest:
        return [f"the seal of {s.day} does not match its own digest"]
    return []


# -- verify -----------------------------------------------------------------------------------


def one(service: Service, s: Seal, head: Head, events: list[Event]) -> list[str]:
    """Check one ticket's chain against the seal with its inclusion proof."""
    found = seals.proof(service.store, s, head.ticket_id)
    if found is None:
        return _unsealed(events, s)
    leaf = found.leaf
    at = next((e for e in events if e.seq == leaf.seq), None)
    if at is None or at.hash != leaf.head:
        return [f"event {leaf.seq} is not the one sealed on {s.day}"]
    hashed = merkle.leaf(head.ticket_id, leaf.seq, at.hash)
    if merkle.root_from_proof(hashed, leaf.pos, s.tickets, found.siblings) != s.root:
        return [
            f"its proof does not reach the root of the seal of {s.day} (the seal's rows differ)"
        ]
    return []


def _unsealed(events: list[Event], s: Seal) -> list[str]:
    if events and events[0].occurred_at < s.sealed_at - IN_FLIGHT:
        return [f"not in the seal of {s.day}, though its history begins before it"]
    return []


def every(
    service: Service,
    s: Seal,
    on_chain: Callable[[Head, list[Event], list[str]], None],
) -> list[str]:
    """Check every chain against the seal's leaves, and the leaves against the seal's root;
    ``on_chain`` gets each ticket's problems with its chain. Returns the seal-wide problems."""
    problems: list[str] = []
    leaves = seals.leaves(service.store, s)
    found = merkle.root(_matched(service, s, leaves, on_chain, problems))
    if found != s.root:
        problems.append(
            f"the sealed leaves in the database do not reach the root of the seal of {s.day}:"
            " tickets were added to, removed from or changed in them"
        )
    return problems


def _matched(
    service: Service,
    s: Seal,
    leaves: Iterator[seals.Leaf],
    on_chain: Callable[[Head, list[Event], list[str]], None],
    problems: list[str],
) -> Iterator[str]:
    """Walk the chains and the leaves side by side in ticket id order; yield each leaf's hash."""
    chains = history.chains(service.store)
    current = next(chains, None)
    for leaf in leaves:
        while current is not None and current[0].ticket_id < leaf.ticket_id:
            on_chain(*current, _unsealed(current[1], s))
            current = next(chains, None)
        if current is not None and current[0].ticket_id == leaf.ticket_id:
            on_chain(*current, _against_leaf(current[1], leaf, s))
            current = next(chains, None)
        else:
            problems.append(f"ticket {leaf.ticket_id}: existed at the seal of {s.day} and is gone")
        yield leaf.hash
    while current is not None:
        on_chain(*current, _unsealed(current[1], s))
        current = next(chains, None)


def _against_leaf(events: list[Event], leaf: seals.Leaf, s: Seal) -> list[str]:
    at = next((e for e in events if e.seq == leaf.seq), None)
    if at is None or at.hash != leaf.head:
        return [f"event {leaf.seq} is not the one sealed on {s.day}"]
    return []
