"""Business calendars by name: YAML files in ``calendars/`` plus China's official schedule."""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import date
from importlib import resources
from typing import Literal
from zoneinfo import ZoneInfo

import chinese_calendar
import yaml
from pydantic import BaseModel, ConfigDict, field_validator

from hotline.engine.calendar import Calendar, round_the_clock
from hotline.errors import CalendarError

ROUND_THE_CLOCK = "calendar-hours"


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
    files = resources.files(__package__).joinpath("calendars").iterdir()
    return [
        ROUND_THE_CLOCK,
        *sorted(p.name.removesuffix(".yaml") for p in files if p.name.endswith(".yaml")),
    ]


def load(name: str) -> Calendar:
    """The calendar called ``name``; raise CalendarError if there is none."""
    if name == ROUND_THE_CLOCK:
        return round_the_clock()
    if name not in names():
        raise CalendarError(f"no calendar {name!r}; known: {', '.join(names())}")
    text = resources.files(__package__).joinpath("calendars", f"{name}.yaml").read_text("utf-8")
    spec = CalendarSpec.model_validate(yaml.safe_load(text))
    return Calendar(spec.name, ZoneInfo(spec.timezone), tuple(spec.hours), _workday(spec))


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
                raise CalendarError(
                    f"calendar {spec.name!r} has no official schedule for {day.year}: list the "
                    "year's holidays and make-up days in its calendar file"
                ) from None
        return day.weekday() < 5

    return workday


def _minutes(text: str) -> int:
    hours, minutes = text.strip().split(":")
    return int(hours) * 60 + int(minutes)
