"""The year cliff: a deadline reaching into a year without an official holiday schedule.

The chinesecalendar package knows 2026, not 2027 (the State Council publishes each year's
schedule in November). A hotline must never stop taking work because of a calendar: the deadline
is counted on plain weekdays, marked provisional, and recomputed once the year is known.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from importlib.resources import files

import pytest

from hotline.admin import audit
from hotline.clock import FrozenClock
from hotline.daemon import calendar_watch
from hotline.engine import provisional
from hotline.service import Intake, Service
from hotline.workflows import calendars

MON_DEC_14 = datetime(2026, 12, 14, 1, 0, tzinfo=UTC)  # 09:00 in Beijing
DISPATCH = {"lead_unit": "street-jianwai", "route": "direct"}


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(MON_DEC_14)


def complex_ticket(service: Service) -> int:
    """An illegal-construction demand (complex: 15 working days), dispatched on 2026-12-14."""
    ticket = service.submit(Intake("illegal-construction", "a shed on the roof"), actor="operator")
    service.fire(ticket.id, "dispatch", DISPATCH, actor="dispatcher")
    return ticket.id


def handling(service: Service, ticket_id: int):
    return next(d for d in service.get(ticket_id).deadlines if d.kind == "handling")


def publish_2027(tmp_path, monkeypatch) -> None:
    """An admin lists 2027's schedule (here only New Year's Day off) in a calendar directory."""
    shipped = (files("hotline.workflows") / "calendars" / "beijing.yaml").read_text("utf-8")
    text = shipped.replace("holidays: []", "holidays: [2027-01-01]")
    (tmp_path / "beijing.yaml").write_text(text.replace("years: []", "years: [2027]"), "utf-8")
    monkeypatch.setenv(calendars.DIRECTORY_VARIABLE, str(tmp_path))


def test_a_15_working_day_ticket_in_mid_december_is_dispatched_with_a_provisional_deadline(
    service, clock
):
    # Given 2026-12-14 and a calendar that knows nothing of 2027
    # When a complex ticket is dispatched (its 15th working day falls in 2027)
    ticket_id = complex_ticket(service)

    # Then it is dispatched, its due time counted on plain weekdays and marked provisional
    deadline = handling(service, ticket_id)
    assert service.get(ticket_id).state == "dispatched"
    assert deadline.provisional
    assert deadline.due_at == datetime(2027, 1, 1, 10, 0, tzinfo=UTC)  # Fri 18:00 in Beijing
    # and the history says so right after the dispatch, in the same write
    events = service.history(ticket_id)
    assert [e.trigger for e in events[-2:]] == ["dispatch", provisional.PROVISIONAL]
    noted = events[-1].payload
    assert noted["covered_until"] == "2026-12-31"
    assert noted["deadlines"] == [
        {"kind": "handling", "due_at": deadline.due_at.isoformat(), "provisional": True}
    ]
    # and the short response deadline, inside 2026, is not provisional
    assert not next(d for d in service.get(ticket_id).deadlines if d.kind == "response").provisional


def test_adding_the_year_recomputes_the_deadline_with_an_event(
    service, store, clock, tmp_path, monkeypatch
):
    # Given a provisional deadline and a second ticket already paused (clock stopped)
    ticket_id = complex_ticket(service)
    before = handling(service, ticket_id)
    assert service.recompute_provisional() == 0  # nothing known yet: nothing written
    seq = service.get(ticket_id).seq

    # When the admin adds 2027 and the calendars are read again (`hotline calendar refresh`)
    publish_2027(tmp_path, monkeypatch)
    refreshed = Service(store, clock)
    assert refreshed.recompute_provisional() == 1

    # Then the due time skips New Year's Day, is no longer provisional, and the history says so
    after = handling(refreshed, ticket_id)
    assert after.due_at == datetime(2027, 1, 4, 10, 0, tzinfo=UTC)
    assert not after.provisional
    event = refreshed.history(ticket_id)[-1]
    assert (event.seq, event.trigger, event.actor) == (seq + 1, provisional.RECOMPUTED, "calendar")
    assert event.payload["deadlines"] == [
        {
            "kind": "handling",
            "due_at": after.due_at.isoformat(),
            "provisional": False,
            "was_due_at": before.due_at.isoformat(),
        }
    ]
    # and a second refresh finds nothing left to do
    assert refreshed.recompute_provisional() == 0
    assert refreshed.get(ticket_id).seq == seq + 1


def test_a_provisional_ticket_rebuilds_from_its_history_before_and_after_the_recount(
    service, store, clock, tmp_path, monkeypatch
):
    ticket_id = complex_ticket(service)
    service.fire(ticket_id, "respond", {"method": "phone"}, actor="unit")
    assert handling(service, ticket_id) == _rebuilt_handling(service, ticket_id)

    publish_2027(tmp_path, monkeypatch)
    refreshed = Service(store, clock)
    refreshed.recompute_provisional()
    # The notes replay as recorded; the rebuild counts on today's calendar, like the recount.
    assert _rebuilt_handling(refreshed, ticket_id).due_at == handling(refreshed, ticket_id).due_at


def _rebuilt_handling(service: Service, ticket_id: int):
    rebuilt = audit.as_of(service, ticket_id, None)
    assert rebuilt is not None
    found = next(d for d in rebuilt.deadlines if d.kind == "handling")
    return found.evolve(id=handling(service, ticket_id).id)


def test_the_daemon_warns_in_its_log_and_recounts_once_the_year_is_added(
    service, store, clock, tmp_path, monkeypatch, caplog
):
    ticket_id = complex_ticket(service)
    with caplog.at_level(logging.WARNING, logger="hotline.daemon"):
        assert calendar_watch.check(service) == 0
    [warning] = [r for r in caplog.records if getattr(r, "action", None) == "calendar_ending"]
    assert (warning.calendar, warning.days_left) == ("beijing", 17)

    publish_2027(tmp_path, monkeypatch)
    assert calendar_watch.check(service) == 1  # the same process reads the calendar again
    assert not handling(service, ticket_id).provisional
