"""Art. 15 extension (延期): explained to the requester, the centre told; approval is a
definition option (required in the shipped Beijing workflow, as local policy has it)."""

from __future__ import annotations

import pytest

from hotline.errors import MissingField
from hotline.workflows import loader

DISPATCH = ("dispatch", {"lead_unit": "street-jianwai", "route": "direct"})
WHY = {"by": "2d", "reason": "the owners' meeting is next week"}
TOLD = {"explained": "called the requester: the meeting decides the repair"}


def test_an_extension_must_record_what_the_requester_was_told(service, new_ticket):
    ticket = new_ticket(steps=[DISPATCH])
    with pytest.raises(MissingField, match="explained"):
        service.fire(ticket.id, "extend", {**WHY, "approver": "leader-li"})


def test_the_shipped_workflow_requires_an_approver_and_tells_the_centre(service, store, new_ticket):
    ticket = new_ticket(steps=[DISPATCH])
    with pytest.raises(MissingField, match="approver"):
        service.fire(ticket.id, "extend", {**WHY, **TOLD})

    service.fire(ticket.id, "extend", {**WHY, **TOLD, "approver": "leader-li"}, actor="unit")

    event = service.history(ticket.id)[-1]
    assert (event.trigger, event.payload["explained"]) == ("extend", TOLD["explained"])
    assert "notify_centre" in [m.handler for m in store.outbox(ticket.id)]


def test_a_workflow_without_the_approval_policy_extends_without_an_approver(service, new_ticket):
    text = loader.shipped_text().replace(
        'how"}\n      approver: {type: str, required: true}\n',
        'how"}\n      approver: {type: str}\n',
    )
    assert text != loader.shipped_text()
    service.publish(text)
    ticket = new_ticket(steps=[DISPATCH])

    extended = service.fire(ticket.id, "extend", {**WHY, **TOLD}, actor="unit")

    assert service.history(ticket.id)[-1].trigger == "extend"
    assert extended.definition_version == 2
