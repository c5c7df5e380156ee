"""Which events an integrator's webhooks hear of: outbox messages added to a decision.

Pure: the subscriptions are passed in. The messages join the decision, so they are written in
the same transaction as the events they report, and delivered after commit by the handler
whose name the caller passes (``hotline.handlers.webhook.NAME``: handlers own their names), at
least once, under their idempotency key.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from hotline.engine import access
from hotline.engine.decision import Decision, OutboxMessage
from hotline.engine.ticket import Event

ANY_EVENT = "*"


@dataclass(frozen=True)
class Subscription:
    """A URL told of every event whose trigger is ``event_type`` (or of all, with ``*``)."""

    id: int
    event_type: str
    url: str


def amend(decision: Decision, subscriptions: tuple[Subscription, ...], handler: str) -> Decision:
    """``decision`` with one message to ``handler`` per (event, matching subscription)."""
    if not subscriptions:
        return decision
    messages = tuple(
        message(s, e, handler)
        for e in decision.events
        for s in subscriptions
        if s.event_type in (e.trigger, ANY_EVENT)
    )
    return replace(decision, outbox=decision.outbox + messages) if messages else decision


def message(subscription: Subscription, event: Event, handler: str) -> OutboxMessage:
    return OutboxMessage(
        handler=handler,
        key=f"webhook:{subscription.id}:{event.ticket_id}:{event.seq}",
        payload={"subscription_id": subscription.id, "url": subscription.url, "event": body(event)},
    )


def body(event: Event) -> dict[str, Any]:
    """What the receiver gets: the event as history keeps it, with phone and ID-card numbers
    in its free text masked (a receiver has no personal-data rights; ``hash`` is the stored
    event's)."""
    return {
        "type": event.trigger,
        "ticket_id": event.ticket_id,
        "seq": event.seq,
        "from_state": event.from_state,
        "to_state": event.to_state,
        "actor": event.actor,
        "occurred_at": event.occurred_at.isoformat(),
        "payload": access.mask_values(dict(event.payload)),
        "hash": event.hash,
    }
