"""Masking (条例 Art. 8): no personal value is shown whole, short ones included, and phone and
ID-card numbers inside free text are masked on paths without personal-data rights."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from hotline.engine import access, webhooks
from hotline.engine.ticket import Event


@pytest.mark.parametrize(
    "kind, value, shown",
    [
        ("phone", "13812345678", "138****5678"),
        ("phone", "6512345", "*****45"),
        ("phone", "123456", "******"),
        ("phone", "12", "**"),
        ("name", "张", "*"),
        ("name", "张三", "张*"),
        ("address", "朝阳区", "朝…"),
        ("address", "朝阳区建外街道1号院", "朝阳区建外…"),
        ("address", "x", "…"),
    ],
)
def test_short_values_are_never_shown_whole(kind, value, shown):
    assert access.mask(kind, value) == shown


@pytest.mark.parametrize(
    "text, masked",
    [
        ("call 13812345678 back", "call 138****5678 back"),
        ("call 138 1234 5678", "call 138 **** 5678"),
        ("call 010-65123456", "call 010-****3456"),
        ("ID 11010119900307123X", "ID 110***********123X"),
        ("desk 6512345", "desk *****45"),
        ("on 2026-03-02 09:00, room 1203", "on 2026-03-02 09:00, room 1203"),
        ("无水 13812345678。", "无水 138****5678。"),
    ],
)
def test_phone_and_id_card_numbers_in_free_text_are_masked(text, masked):
    assert access.mask_text(text) == masked


def test_webhook_bodies_mask_numbers_in_the_event_payload():
    event = Event(
        ticket_id=1,
        seq=1,
        trigger="submit",
        from_state=None,
        to_state="received",
        actor="operator",
        payload={"summary": "call 13812345678", "fields": {"note": ["ID 11010119900307123X"]}},
        occurred_at=datetime(2026, 3, 2, tzinfo=UTC),
        prev_hash="",
        hash="h",
    )
    body = webhooks.body(event)
    assert body["payload"]["summary"] == "call 138****5678"
    assert body["payload"]["fields"]["note"] == ["ID 110***********123X"]
    assert event.payload["summary"] == "call 13812345678"  # the history keeps it as it came
