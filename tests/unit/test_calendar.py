"""Working-time arithmetic on the Beijing calendar: weekends, holidays and 调休 make-up days."""

from __future__ import annotations

from datetime import date, datetime
from importlib.resources import files
from zoneinfo import ZoneInfo

import pytest

from hotline.engine.calendar import round_the_clock
from hotline.engine.definition import Measure
from hotline.engine.durations import Span
from hotline.errors import CalendarError
from hotline.workflows import calendars

BEIJING = ZoneInfo("Asia/Shanghai")
WORKING, CALENDAR = Measure.WORKING, Measure.CALENDAR


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=BEIJING)


@pytest.fixture(scope="module")
def beijing():
    return calendars.load("beijing")


def add(calendar, start: str, span: str) -> datetime:
    from hotline.engine import durations

    parsed = durations.parse(span)
    return calendar.add(at(start), calendar.seconds(parsed, WORKING), WORKING).astimezone(BEIJING)


def test_working_days_cross_a_weekend_a_make_up_day_and_national_day(beijing):
    # Fri 2025-09-26 16:00 + 5 working days: Sun 09-28 is a make-up working day (调休),
    # Oct 1-8 is the National Day holiday, Oct 9 and 10 are working days.
    assert add(beijing, "2025-09-26 16:00", "5d") == at("2025-10-10 16:00")


def test_working_hours_skip_the_night_and_land_on_the_make_up_sunday(beijing):
    # Fri 17:00 + 2 working hours: one hour on Friday, the next on Sunday 09-28 (make-up day).
    assert add(beijing, "2025-09-26 17:00", "2h") == at("2025-09-28 10:00")


def test_working_hours_skip_lunch(beijing):
    assert add(beijing, "2026-03-02 11:30", "1h") == at("2026-03-02 13:30")


def test_a_start_outside_working_hours_counts_from_the_next_opening(beijing):
    assert add(beijing, "2026-03-07 22:00", "1d") == at("2026-03-09 18:00")  # Sat night


def test_elapsed_working_time_is_the_inverse_of_add(beijing):
    start = at("2025-09-26 16:00")
    end = beijing.add(start, 5 * 8 * 3600, WORKING)
    assert beijing.elapsed(start, end, WORKING) == 5 * 8 * 3600
    assert beijing.elapsed(at("2025-10-01 09:00"), at("2025-10-08 18:00"), WORKING) == 0


def test_an_unpublished_year_counts_plain_weekdays_and_is_provisional(beijing):
    # The package knows 2026, not 2027 (published each November): no error, no guessed holiday.
    assert beijing.covered_until == date(2026, 12, 31)
    due = add(beijing, "2026-12-31 09:00", "2d")  # Thu: Fri 01-01 counts as a plain weekday
    assert due == at("2027-01-01 18:00")
    assert beijing.provisional(due, WORKING)
    assert not beijing.provisional(at("2026-12-31 18:00"), WORKING)
    assert not beijing.provisional(due, CALENDAR)  # wall-clock hours need no schedule


def test_a_year_listed_in_a_calendar_directory_extends_the_coverage(tmp_path, monkeypatch):
    shipped = (files("hotline.workflows") / "calendars" / "beijing.yaml").read_text("utf-8")
    text = shipped.replace("holidays: []", "holidays: [2027-01-01]").replace(
        "years: []", "years: [2027]"
    )
    (tmp_path / "beijing.yaml").write_text(text, "utf-8")
    monkeypatch.setenv(calendars.DIRECTORY_VARIABLE, str(tmp_path))
    beijing = calendars.load("beijing")
    assert beijing.covered_until == date(2027, 12, 31)
    due = add(beijing, "2026-12-31 09:00", "2d")  # New Year's Day is off now
    assert due == at("2027-01-04 18:00")
    assert not beijing.provisional(due, WORKING)
    assert beijing.days_covered(date(2027, 11, 1)) == 60


def test_calendar_time_counts_every_hour(beijing):
    start = at("2025-09-30 20:00")
    assert beijing.add(start, beijing.seconds(Span(1, 0), CALENDAR), CALENDAR) == at(
        "2025-10-01 20:00"
    )


def test_round_the_clock_working_time_equals_calendar_time():
    clock = round_the_clock()
    start = at("2026-01-01 03:00")
    assert clock.add(start, clock.seconds(Span(1, 3600), WORKING), WORKING) == at(
        "2026-01-02 04:00"
    )


def test_unknown_calendar_names_the_known_ones():
    with pytest.raises(CalendarError, match="known: calendar-hours, beijing"):
        calendars.load("atlantis")
