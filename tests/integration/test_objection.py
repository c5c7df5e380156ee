"""Art. 12 dispatch objection (派单异议, "退单"): filed by the unit, ruled on by the centre."""

from __future__ import annotations

from datetime import timedelta

import pytest

from hotline.errors import GuardRejected, MissingField
from hotline.persistence import outcomes

DISPATCH = ("dispatch", {"lead_unit": "street-jianwai", "route": "direct"})
OBJECT = {"reason": "the building is on the Chaowai side of the road"}
H = timedelta(hours=1)


def timeline(service, ticket_id):
    return [(e.trigger, e.actor, e.to_state) for e in service.history(ticket_id)]


def test_an_objection_needs_a_reason_and_changes_nothing_without_one(service, new_ticket):
    ticket = new_ticket("road-damage", steps=[DISPATCH])
    with pytest.raises(MissingField, match="reason"):
        service.fire(ticket.id, "return", {}, actor="street-jianwai")
    assert service.get(ticket.id).version == ticket.version


def test_a_rejected_objection_leaves_the_ticket_with_the_unit_its_clock_never_stopped(
    service, store, new_ticket, clock
):
    ticket = new_ticket("road-damage", steps=[DISPATCH])
    before = {d.kind: d for d in service.get(ticket.id).deadlines}
    clock.advance(2 * H)
    filed = service.fire(ticket.id, "return", OBJECT, actor="street-jianwai")
    assert (filed.state, filed.lead_unit) == ("dispatched", "street-jianwai")
    with pytest.raises(GuardRejected):  # one objection at a time
        service.fire(ticket.id, "return", OBJECT, actor="street-jianwai")

    clock.advance(H)
    ruled = service.fire(ticket.id, "reject_objection", {"reason": "it is yours"}, actor="centre")

    assert (ruled.state, ruled.lead_unit) == ("dispatched", "street-jianwai")
    after = {d.kind: d for d in ruled.deadlines}
    assert after["handling"].due_at == before["handling"].due_at  # never stopped, never reset
    assert after["handling"].id == before["handling"].id
    assert timeline(service, ticket.id)[-2:] == [
        ("return", "street-jianwai", "dispatched"),
        ("reject_objection", "centre", "dispatched"),
    ]
    assert service.history(ticket.id)[-2].payload["reason"] == OBJECT["reason"]


def test_a_confirmed_objection_reroutes_to_the_unit_the_centre_names(service, new_ticket):
    ticket = new_ticket("road-damage", steps=[DISPATCH])
    service.fire(ticket.id, "return", OBJECT, actor="street-jianwai")

    ruling = {"lead_unit": "street-chaowai", "reason": "the map agrees"}
    ruled = service.fire(ticket.id, "confirm_objection", ruling, actor="centre")

    assert (ruled.state, ruled.lead_unit) == ("dispatched", "street-chaowai")
    assert "objection" not in ruled.fields
    assert timeline(service, ticket.id)[-1] == ("confirm_objection", "centre", "dispatched")
    assert {d.kind for d in ruled.deadlines} == {"response", "handling"}  # the new unit's


def test_an_objection_may_be_filed_in_a_second_round_and_sent_back_to_dispatch(service, new_ticket):
    unsolved = {"resolved": False, "satisfaction": "unsatisfied"}
    ticket = new_ticket(
        "road-damage",
        steps=[
            DISPATCH,
            ("reply", {"opinion": "patched"}),
            ("start_callback", {}),
            ("record_callback", unsolved),
        ],
    )
    assert ticket.state == "re-dispatched"
    service.fire(ticket.id, "return", OBJECT, actor="street-jianwai")

    ruled = service.fire(ticket.id, "confirm_objection", {"reason": "unclear"}, actor="centre")

    assert (ruled.state, ruled.lead_unit) == ("received", None)


def test_objections_are_counted_per_unit_filed_confirmed_and_rejected(service, new_ticket, clock):
    start = clock.now()
    for ruling in ("confirm_objection", "reject_objection", "reject_objection"):
        ticket = new_ticket("road-damage", steps=[DISPATCH])
        service.fire(ticket.id, "return", OBJECT, actor="street-jianwai")
        fields = {
            "reason": "ruled",
            **({"lead_unit": "street-chaowai"} if "confirm" in ruling else {}),
        }
        service.fire(ticket.id, ruling, fields, actor="centre")
    triggers = ("return", "confirm_objection", "reject_objection")

    found = outcomes.count(service.store, start, start + 24 * H, triggers=triggers, by_unit=True)

    assert {(o.trigger, o.unit): o.count for o in found} == {
        ("return", "street-jianwai"): 3,
        ("reject_objection", "street-jianwai"): 2,
        ("confirm_objection", "street-jianwai"): 1,  # counted against the unit that objected
    }
