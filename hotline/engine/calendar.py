"""Deadline arithmetic on a business calendar: working days, working hours, holidays.

Windows are counted in *clock seconds*: wall-clock seconds for ``calendar`` deadlines, working
seconds for ``working`` ones. A working day counts as the length of the calendar's working hours,
so ``1d`` on working time is one working day and lands at the same time of day.

Which days are working days is injected (``workday``), so this module stays pure: the
workflows layer feeds it China's official schedule (holidays and 调休 make-up days) and overrides.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta, tzinfo

from hotline.engine.definition import Measure
from hotline.engine.durations import Span

DAY = 86400
Hours = tuple[tuple[int, int], ...]  # working periods of a day, in minutes after midnight
Period = tuple[datetime, datetime]


class Calendar:
    """Working days and hours of one place; ``workday(date)`` may raise for an unknown year."""

    def __init__(
        self, name: str, timezone: tzinfo, hours: Hours, workday: Callable[[date], bool]
    ) -> None:
        if not hours:
            raise ValueError(f"calendar {name!r} has no working hours")
        self.name, self.timezone, self.hours, self.workday = name, timezone, hours, workday
        self.day_seconds = sum(end - start for start, end in hours) * 60

    def seconds(self, span: Span, measure: Measure) -> int:
        """How many clock seconds ``span`` is worth under ``measure``."""
        day = DAY if measure is Measure.CALENDAR else self.day_seconds
        return span.days * day + span.seconds

    def add(self, start: datetime, seconds: float, measure: Measure) -> datetime:
        """The instant ``seconds`` clock seconds after ``start``."""
        if measure is Measure.CALENDAR:
            return start + timedelta(seconds=seconds)
        remaining = timedelta(seconds=seconds)
        for begin, end in self._periods(start):
            if remaining <= end - begin:
                return (begin + remaining).astimezone(UTC)
            remaining -= end - begin
        raise AssertionError("unreachable: working periods never end")  # pragma: no cover

    def elapsed(self, start: datetime, end: datetime, measure: Measure) -> int:
        """Clock seconds from ``start`` to ``end`` (0 if end is not after start)."""
        if end <= start:
            return 0
        if measure is Measure.CALENDAR:
            return int((end - start).total_seconds())
        total = timedelta()
        for begin, stop in self._periods(start):
            if begin >= end:
                break
            total += min(stop, end) - begin
        return int(total.total_seconds())

    def _periods(self, start: datetime) -> Iterator[Period]:
        """Working periods from ``start`` on; the first is clipped to begin at ``start``."""
        day = start.astimezone(self.timezone).date()
        while True:
            if self.workday(day):
                midnight = datetime(day.year, day.month, day.day, tzinfo=self.timezone)
                for open_, close in self.hours:
                    begin = max(midnight + timedelta(minutes=open_), start)
                    end = midnight + timedelta(minutes=close)
                    if begin < end:
                        yield begin, end
            day += timedelta(days=1)


def round_the_clock(name: str = "calendar-hours") -> Calendar:
    """Every hour of every day counts: working time equals calendar time."""
    return Calendar(name, UTC, ((0, 24 * 60),), lambda day: True)
