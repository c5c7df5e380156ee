"""Business calendars by name: YAML files in ``calendars/`` plus China's official schedule."""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from importlib import resources
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo

import chinese_calendar
import yaml
from pydantic import BaseModel, ConfigDict, field_validator

from hotline.engine.calendar import Calendar, round_the_clock
from hotline.errors import CalendarError

ROUND_THE_CLOCK = "calendar-hours"
# A directory of calendar files that take precedence over the shipped ones: where an admin adds
# a year's official schedule without editing the installed package.
DIRECTORY_VARIABLE = "HOTLINE_CALENDAR_DIR"


class CalendarSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    timezone: str
    hours: list[tuple[int, int]]
    official: Literal["china", "none"] = "china"
    holidays: set[date] = set()
    workdays: set[date] = set()
    years: set[int] = set()

    @field_validator("hours", mode="before")
    @classmethod
    def _periods(cls, value: list[str]) -> list[tuple[int, int]]:
        return [tuple(_minutes(t) for t in period.split("-")) for period in value]


def names() -> list[str]:
    return [ROUND_THE_CLOCK, *sorted(_files())]


def _files() -> dict[str, str]:
    """Calendar name -> its YAML text; the admin's directory overrides the shipped files."""
    shipped = resources.files(__package__).joinpath("calendars").iterdir()
    found = {p.name: p for p in shipped if p.name.endswith(".yaml")}
    local = os.environ.get(DIRECTORY_VARIABLE)
    if local and Path(local).is_dir():
        found |= {p.name: p for p in Path(local).glob("*.yaml")}
    return {name.removesuffix(".yaml"): path.read_text("utf-8") for name, path in found.items()}


def load(name: str) -> Calendar:
    """The calendar called ``name``; raise CalendarError if there is none."""
    if name == ROUND_THE_CLOCK:
        return round_the_clock()
    files = _files()
    if name not in files:
        raise CalendarError(f"no calendar {name!r}; known: {', '.join(names())}")
    spec = CalendarSpec.model_validate(yaml.safe_load(files[name]))
    return Calendar(
        spec.name, ZoneInfo(spec.timezone), tuple(spec.hours), _workday(spec), covered_until(spec)
    )


def official_years() -> set[int]:
    """The years China's official schedule (the chinesecalendar package) knows."""
    return {day.year for day in (*chinese_calendar.holidays, *chinese_calendar.workdays)}


def covered_until(spec: CalendarSpec) -> date | None:
    """The last day whose working status is known: the end of the last year of the unbroken run
    of official years and years the file describes fully; None if no official schedule is used."""
    if spec.official == "none":
        return None
    known = official_years() | spec.years
    year = max(official_years())
    while year + 1 in known:
        year += 1
    return date(year, 12, 31)


def _workday(spec: CalendarSpec) -> Callable[[date], bool]:
    # chinese_calendar scans its whole table per lookup; deadline arithmetic asks about the same
    # few days again and again.
    @functools.lru_cache(maxsize=4096)
    def workday(day: date) -> bool:
        if day in spec.workdays:
            return True
        if day in spec.holidays:
            return False
        if spec.official == "china" and day.year not in spec.years:
            try:
                return chinese_calendar.is_workday(day)
            except NotImplementedError:
                # Not yet published: count plain weekdays; deadlines here are provisional.
                return day.weekday() < 5
        return day.weekday() < 5

    return workday


def _minutes(text: str) -> int:
    hours, minutes = text.strip().split(":")
    return int(hours) * 60 + int(minutes)


WARN_DAYS = 60  # warn this many days before the last day a calendar's schedule covers


@dataclass(frozen=True)
class Coverage:
    """How far one calendar knows its working days, seen from ``today``."""

    name: str
    covered_until: date
    days_left: int

    @property
    def warning(self) -> str | None:
        """What to tell an admin once the end is within ``WARN_DAYS``; None before."""
        if self.days_left > WARN_DAYS:
            return None
        year = self.covered_until.year + 1
        return (
            f"calendar {self.name!r} knows working days only until {self.covered_until} "
            f"({self.days_left} days left): deadlines reaching into {year} are provisional "
            f"(plain weekdays) until {year}'s official schedule is added (README: adding a year)"
        )


def coverage(today: date) -> list[Coverage]:
    """Every calendar with a bounded official schedule, as of ``today``."""
    found = []
    for name in names():
        until = load(name).covered_until
        if until is not None:
            found.append(Coverage(name, until, (until - today).days))
    return found
