"""The engine's judgement on whistles (吹哨报到), without a database.

Report deadlines are measured on the definition's calendar and whistle settings: here the real
``beijing`` calendar (09:00-12:00 and 13:00-18:00 Asia/Shanghai) with working-time windows.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from hotline.engine import decide
from hotline.engine.ticket import Command, Ticket
from hotline.errors import InvalidField
from hotline.workflows import loader

BEIJING = ZoneInfo("Asia/Shanghai")
T0 = datetime(2026, 3, 2, 16, 0, tzinfo=BEIJING)  # a Monday, two working hours before closing
WORKING = loader.shipped_text().replace("  measure: calendar  ", "  measure: working   ")
SUMMONS = {"to": ["chaoyang-roads", "chaoyang-urban"], "reason": "pothole and kerb"}


@pytest.fixture(scope="module")
def compiled():
    assert loader.shipped_text() != WORKING
    return loader.compile_source(WORKING, 1, "beijing-12345")


def dispatched() -> Ticket:
    return Ticket(1, "beijing-12345", 1, "dispatched", "road-damage", lead_unit="street-jianwai")


def fire(compiled, ticket, trigger, fields, at=T0):
    return decide.decide(compiled, ticket, Command(trigger, fields, "street-jianwai"), at)


def test_a_report_window_in_working_time_runs_over_the_night(compiled):
    decision = fire(compiled, dispatched(), "whistle", SUMMONS | {"within": "4h"})

    due = {p.department: p.due_at for p in decision.after.whistle.participants}
    # 16:00-18:00 today, then 09:00-11:00 tomorrow: four working hours.
    assert set(due.values()) == {datetime(2026, 3, 3, 11, 0, tzinfo=BEIJING)}
    kinds = {(d.kind, d.state, d.measure) for d in decision.deadlines}
    assert kinds == {
        ("report:chaoyang-roads", "whistle#1", "working"),
        ("report:chaoyang-urban", "whistle#1", "working"),
    }


def test_whistle_fields_stay_on_the_whistle_not_on_the_ticket(compiled):
    decision = fire(compiled, dispatched(), "whistle", SUMMONS)

    assert decision.after.fields == {}
    assert decision.events[0].payload == SUMMONS
    assert decision.after.whistle.whistler == "street-jianwai"


def test_a_report_after_the_deadline_counts_as_late(compiled):
    opened = fire(compiled, dispatched(), "whistle", SUMMONS | {"within": "1h"}).after
    late = T0 + timedelta(hours=20)

    after = fire(
        compiled,
        opened,
        "whistle_report",
        {"department": "chaoyang-urban", "person": "Wang"},
        at=late,
    ).after

    [urban] = [p for p in after.whistle.participants if p.department == "chaoyang-urban"]
    assert (urban.status, urban.in_time, urban.answered_at) == ("reported", False, late)
    assert [d.kind for d in after.deadlines if d.state == "whistle#1"] == ["report:chaoyang-roads"]


def test_a_task_due_date_must_be_in_the_future_and_needs_a_conference(compiled):
    opened = fire(compiled, dispatched(), "whistle", SUMMONS).after
    task = {"owner": "chaoyang-roads", "title": "resurface", "due": (T0 + timedelta(days=3))}

    with pytest.raises(InvalidField, match="no conference"):
        fire(compiled, opened, "whistle_task", task | {"due": task["due"].isoformat()})
    meeting = {"held_at": T0.isoformat(), "attendees": ["all"], "decisions": "resurface"}
    conferred = fire(compiled, opened, "whistle_conference", meeting).after
    with pytest.raises(InvalidField, match="not in the future"):
        fire(compiled, conferred, "whistle_task", task | {"due": T0.isoformat()})
