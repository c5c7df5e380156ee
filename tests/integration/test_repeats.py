"""Art. 11 repeats and closings without dispatch: an existing original, a group both ways,
coded reasons countable in reports."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from hotline.errors import InvalidField
from hotline.persistence import outcomes

TOLD = "no new facts; told the progress"


def test_a_repeat_must_name_an_existing_ticket_and_nothing_is_written_otherwise(
    service, store, new_ticket
):
    ticket = new_ticket()
    with store.reading() as conn:
        before = conn.execute(sa.text("SELECT count(*) FROM events")).scalar_one()

    with pytest.raises(InvalidField, match="no ticket 999"):
        service.fire(ticket.id, "merge_repeat", {"repeat_of": 999, "reason": TOLD})

    assert service.get(ticket.id).state == "received"
    with store.reading() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM events")).scalar_one() == before
        assert conn.execute(sa.text("SELECT count(*) FROM ticket_links")).scalar_one() == 0


def test_repeats_link_both_ways_so_the_group_can_be_listed(service, new_ticket):
    original = new_ticket(
        "noise", steps=[("dispatch", {"lead_unit": "street-jianwai", "route": "direct"})]
    )
    first = new_ticket("noise", steps=[("merge_repeat", {"repeat_of": original.id})])
    second = new_ticket(
        "noise", steps=[("merge_repeat", {"repeat_of": original.id, "reason": TOLD})]
    )

    assert (first.state, second.state) == ("closed", "closed")
    assert service.links(original.id).by == {"repeat_of": [first.id, second.id]}
    assert service.links(first.id).to == {"repeat_of": original.id}
    assert service.links(first.id).by == {}


def test_closings_are_counted_by_their_art_11_reason_code(service, new_ticket, clock):
    start = clock.now()
    new_ticket(steps=[("refer", {"reason_code": "emergency", "to": "110", "reason": "theft"})])
    new_ticket(steps=[("refer", {"reason_code": "legal-channel", "to": "court", "reason": "x"})])
    for _ in range(2):
        why = {"reason_code": "unlawful", "reason": "asks to cut a neighbour's power"}
        new_ticket(steps=[("decline", why)])

    found = outcomes.count(service.store, start, start + timedelta(days=1), "reason_code")

    assert {(o.trigger, o.value): o.count for o in found if o.unit is None} == {
        ("decline", "unlawful"): 2,
        ("refer", "emergency"): 1,
        ("refer", "legal-channel"): 1,
    }
