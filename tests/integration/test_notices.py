"""Deadline notices log readable lines, not `ticket 348 None (None -> None)` (SQLite and
PostgreSQL)."""

from __future__ import annotations

import logging
from datetime import timedelta

from hotline.daemon.relay import Relay
from hotline.daemon.sweeper import Sweeper

H = timedelta(hours=1)
DISPATCH = ("dispatch", {"lead_unit": "water-group", "route": "direct"})


def test_deadline_notices_log_what_fired(service, new_ticket, clock, caplog):
    ticket = new_ticket("water-supply", steps=[DISPATCH])
    clock.advance(25 * H)
    Sweeper(service, owner="test").sweep()
    fired = next(e for e in service.history(ticket.id) if "deadline" in e.payload)
    with caplog.at_level(logging.INFO, logger="hotline.handlers"):
        Relay(service, owner="test").relay()
    notices = [r.getMessage() for r in caplog.records if r.name == "hotline.handlers"]
    deadline_lines = [n for n in notices if "deadline" in n]
    assert deadline_lines, notices
    assert all("None" not in n for n in notices), notices
    assert f"ticket {ticket.id} deadline {fired.payload['deadline']}" in deadline_lines[0]
