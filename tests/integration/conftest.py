"""Integration fixtures shared by the replica tests."""

from __future__ import annotations

from datetime import timedelta

import pytest

from hotline.daemon.sweeper import Sweeper
from hotline.service import Intake

DISPATCH = ("dispatch", {"lead_unit": "water-group", "route": "direct"})
MINUTE = timedelta(minutes=1)
H = timedelta(hours=1)
AUTO_EXTEND = (
    "command: {trigger: extend, fields: {by: 1h, reason: auto, approver: system, explained: sms}}}"
)


@pytest.fixture
def command_message(service, store, clock):
    """An `extend` command of an escalation, claimed by a slow relay whose lease then ran out."""
    source = store.definition_source("beijing-12345")[1].replace(
        "{level: 3, after: 24h, notify: notify_city}",
        "{level: 3, after: 24h, notify: notify_city, " + AUTO_EXTEND,
    )
    service.publish(source)
    ticket = service.submit(Intake("water-supply"))
    service.fire(ticket.id, *DISPATCH)
    clock.advance(48 * H)
    Sweeper(service, owner="sweeper").sweep()
    slow = store.claim_outbox(clock.now(), 100, "slow", MINUTE)
    [command] = [
        m for m in slow if m.handler == "fire_command" and m.payload["trigger"] == "extend"
    ]
    clock.advance(2 * MINUTE)
    return ticket, command
