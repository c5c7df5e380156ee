"""The engine's webhook rule: one outbox message per event and matching subscription."""

from __future__ import annotations

from datetime import UTC, datetime

from hotline.engine import webhooks
from hotline.engine.decision import Decision, OutboxMessage
from hotline.engine.ticket import Event, Ticket

AT = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def _decision(*triggers: str) -> Decision:
    ticket = Ticket(id=7, definition="d", definition_version=1, state="received", category="x")
    events = tuple(
        Event(7, seq, t, "received", "dispatched", "op", {"lead_unit": "u"}, AT, "p", f"h{seq}")
        for seq, t in enumerate(triggers, start=3)
    )
    notice = OutboxMessage("notify_unit", "n:7:3", {})
    return Decision(before=ticket, after=ticket, events=events, outbox=(notice,))


def test_matching_subscriptions_get_one_message_per_event_after_the_decisions_own():
    subscriptions = (
        webhooks.Subscription(1, "dispatch", "http://a/hook"),
        webhooks.Subscription(2, "*", "http://b/hook"),
        webhooks.Subscription(3, "reply", "http://c/hook"),
    )
    amended = webhooks.amend(_decision("dispatch", "escalate"), subscriptions, "webhook")

    assert [m.key for m in amended.outbox] == [
        "n:7:3",
        "webhook:1:7:3",
        "webhook:2:7:3",
        "webhook:2:7:4",
    ]
    assert {m.handler for m in amended.outbox[1:]} == {"webhook"}
    body = amended.outbox[1].payload["event"]
    assert body == {
        "type": "dispatch",
        "ticket_id": 7,
        "seq": 3,
        "from_state": "received",
        "to_state": "dispatched",
        "actor": "op",
        "occurred_at": "2026-03-02T09:00:00+00:00",
        "payload": {"lead_unit": "u"},
        "hash": "h3",
    }


def test_no_subscription_leaves_the_decision_as_it_was():
    decision = _decision("dispatch")
    assert webhooks.amend(decision, (), "webhook") is decision
    unheard = (webhooks.Subscription(1, "reply", "http://c"),)
    assert webhooks.amend(decision, unheard, "webhook") is decision
