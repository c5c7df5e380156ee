"""The tamper-evident history: each event carries the hash of the one before it.

``seal`` is the only place a hash is computed, so writers and ``verify`` cannot disagree.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from hotline.engine.ticket import Event

GENESIS = ""
# The head of a history kept without its chain (a what-if replay's, in memory, never audited):
# its events are not hashed, which was a tenth of a replay's time. No SHA-256 digest reads so.
UNCHAINED = "unchained"


def digest(
    *,
    ticket_id: int,
    seq: int,
    trigger: str,
    from_state: str | None,
    to_state: str,
    actor: str,
    payload: Mapping[str, Any],
    occurred_at: datetime,
    prev_hash: str,
) -> str:
    """The SHA-256 of an event's content and its predecessor's hash, in canonical JSON."""
    content = {
        "ticket": ticket_id,
        "seq": seq,
        "trigger": trigger,
        "from": from_state,
        "to": to_state,
        "actor": actor,
        "payload": payload,
        "at": occurred_at.isoformat(),
        "prev": prev_hash,
    }
    return canonical_hash(content)


def canonical_hash(content: Mapping[str, Any]) -> str:
    """The SHA-256 of ``content`` as canonical JSON (sorted keys, no spaces, UTF-8)."""
    canonical = json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def seal(
    ticket_id: int,
    seq: int,
    prev_hash: str,
    trigger: str,
    from_state: str | None,
    to_state: str,
    actor: str,
    payload: Mapping[str, Any],
    occurred_at: datetime,
) -> Event:
    """An event at position ``seq``, chained onto ``prev_hash`` (not hashed if that is
    ``UNCHAINED``: the history is kept without its chain)."""
    payload = dict(payload)
    hashed = UNCHAINED
    if prev_hash != UNCHAINED:
        hashed = digest(
            ticket_id=ticket_id,
            seq=seq,
            trigger=trigger,
            from_state=from_state,
            to_state=to_state,
            actor=actor,
            payload=payload,
            occurred_at=occurred_at,
            prev_hash=prev_hash,
        )
    return Event(
        ticket_id,
        seq,
        trigger,
        from_state,
        to_state,
        actor,
        payload,
        occurred_at,
        prev_hash,
        hashed,
    )


def broken_links(events: Iterable[Event]) -> list[str]:
    """Why the chain of one ticket's events (in seq order) does not verify; empty if it does."""
    problems, prev_hash, expected_seq = [], GENESIS, 1
    for event in events:
        if event.seq != expected_seq:
            problems.append(f"event seq {event.seq} where {expected_seq} was expected")
        if event.prev_hash != prev_hash:
            problems.append(f"event {event.seq} does not follow the hash of the one before")
        recomputed = digest(
            **{
                k: getattr(event, k)
                for k in (
                    "ticket_id",
                    "seq",
                    "trigger",
                    "from_state",
                    "to_state",
                    "actor",
                    "payload",
                    "occurred_at",
                    "prev_hash",
                )
            }
        )
        if recomputed != event.hash:
            problems.append(f"event {event.seq} content does not match its hash")
        prev_hash, expected_seq = event.hash, event.seq + 1
    return problems


def heads_digest(heads: Iterable[tuple[int, int, str]]) -> str:
    """The seal's digest over every ticket's chain head (ticket id, seq, hash), in id order."""
    sha = hashlib.sha256()
    for ticket_id, seq, head in heads:
        sha.update(f"{ticket_id}:{seq}:{head}\n".encode())
    return sha.hexdigest()


def broken_head(events: Sequence[Event], seq: int, head_hash: str) -> list[str]:
    """Why the ticket's recorded head (its last seq and hash) is not the end of its chain.

    Catches what the chain alone cannot: its last events deleted, or forged ones appended.
    """
    last = events[-1] if events else None
    if last is None:
        return [f"no events, but the ticket's head is event {seq}"] if seq else []
    if last.seq != seq:
        return [f"the chain ends at event {last.seq}, but the ticket's head is event {seq}"]
    if last.hash != head_hash:
        return [f"event {seq} is not the head hash the ticket recorded"]
    return []
