"""Deadline arithmetic: adding a window to an instant, in calendar or working time."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Protocol

from hotline.engine.definition import Measure


class Calendar(Protocol):
    name: str

    def add(self, start: datetime, window: timedelta, measure: Measure) -> datetime:
        """The instant ``window`` after ``start``, counted by ``measure``."""
        ...


class CalendarHours:
    """Round-the-clock time: every hour counts, nights and holidays included."""

    name = "calendar-hours"

    def add(self, start: datetime, window: timedelta, measure: Measure) -> datetime:
        if measure is not Measure.CALENDAR:
            raise ValueError(f"calendar {self.name!r} has no working hours")
        return start + window
