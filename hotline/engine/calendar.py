"""Deadline arithmetic on a business calendar: working days, working hours, holidays.

Windows are counted in *clock seconds*: wall-clock seconds for ``calendar`` deadlines, working
seconds for ``working`` ones. A working day counts as the length of the calendar's working hours,
so ``1d`` on working time is one working day and lands at the same time of day.

Which days are working days is injected (``workday``), so this module stays pure: the
workflows layer feeds it China's official schedule (holidays and 调休 make-up days) and overrides.
The schedule is published each November for the next year only: days after ``covered_until``
count as plain weekdays, and a due time that lands there is *provisional* (recomputed once the
year's schedule is known). A hotline never stops taking work because of a calendar.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta, tzinfo

from hotline.engine.definition import Measure
from hotline.engine.durations import Span

DAY = 86400
_CALENDAR = Measure.CALENDAR  # an enum member looked up on its class is a call: kept
_ONE_DAY = timedelta(days=1)
_SPAN = 20 * 366  # days counted ahead of the first day asked about, at most
Hours = tuple[tuple[int, int], ...]  # working periods of a day, in minutes after midnight
Period = tuple[datetime, datetime]


class Calendar:
    """Working days and hours of one place.

    ``covered_until`` is the last day whose working status is officially known (None: every
    day is); ``workday`` answers plain weekdays after it.
    """

    def __init__(
        self,
        name: str,
        timezone: tzinfo,
        hours: Hours,
        workday: Callable[[date], bool],
        covered_until: date | None = None,
    ) -> None:
        if not hours:
            raise ValueError(f"calendar {name!r} has no working hours")
        self.name, self.timezone, self.hours, self.workday = name, timezone, hours, workday
        self.covered_until = covered_until
        self.day_seconds = sum(end - start for start, end in hours) * 60
        # A day's working periods, worked out once: deadlines step through them day by day.
        self._days: dict[date, tuple[Period, ...]] = {}
        self._totals: dict[date, timedelta] = {}
        # The working time before each day from a first day on (``before[i]``: from the first
        # day to i days after it): ``add`` passes over a deadline's whole days in one search.
        # Threads share a calendar: a count is replaced whole, never changed in place.
        self._counted: tuple[date, list[timedelta]] | None = None

    def provisional(self, instant: datetime, measure: Measure) -> bool:
        """Whether a due time at ``instant`` was counted over days no official schedule covers."""
        if measure is _CALENDAR or self.covered_until is None:
            return False
        return instant.astimezone(self.timezone).date() > self.covered_until

    def days_covered(self, today: date) -> int | None:
        """Days from ``today`` to the last covered day (negative once past it; None: unbounded)."""
        return None if self.covered_until is None else (self.covered_until - today).days

    def seconds(self, span: Span, measure: Measure) -> int:
        """How many clock seconds ``span`` is worth under ``measure``."""
        day = DAY if measure is _CALENDAR else self.day_seconds
        return span.days * day + span.seconds

    def add(self, start: datetime, seconds: float, measure: Measure) -> datetime:
        """The instant ``seconds`` clock seconds after ``start``."""
        if measure is _CALENDAR:
            return start + timedelta(seconds=seconds)
        remaining = timedelta(seconds=seconds)
        day = start.astimezone(self.timezone).date()
        periods = self._periods_of(day)
        while True:
            for begin, end in periods:
                begin = max(begin, start)
                if begin < end:
                    if remaining <= end - begin:
                        return (begin + remaining).astimezone(UTC)
                    remaining -= end - begin
            day, remaining = self._whole_days(day + _ONE_DAY, remaining)
            periods = self._periods_of(day)

    def elapsed(self, start: datetime, end: datetime, measure: Measure) -> int:
        """Clock seconds from ``start`` to ``end`` (0 if end is not after start)."""
        if end <= start:
            return 0
        if measure is _CALENDAR:
            return int((end - start).total_seconds())
        total = timedelta()
        for begin, stop in self._periods(start):
            if begin >= end:
                break
            total += min(stop, end) - begin
        return int(total.total_seconds())

    def _whole_days(self, day: date, remaining: timedelta) -> tuple[date, timedelta]:
        """The first day from ``day`` on whose working time reaches ``remaining`` (counted from
        ``day``'s start), and what remains at its start: the days before it are passed over
        whole, as many as a deadline spans, with one search instead of one step a day."""
        counted = self._count_through(day, remaining)
        if counted is None:  # decades away: step day by day rather than count every day between
            while remaining > (whole := self._total(day)):
                remaining -= whole
                day += _ONE_DAY
            return day, remaining
        first, before = counted
        i = (day - first).days
        last = bisect_left(before, before[i] + remaining, lo=i + 1) - 1
        return day + timedelta(last - i), remaining - (before[last] - before[i])

    def _count_through(
        self, day: date, remaining: timedelta
    ) -> tuple[date, list[timedelta]] | None:
        """A count holding ``day`` and ``remaining`` of working time after its start (counted
        afresh from ``day`` if it comes before the first day counted); None if ``day`` is more
        than ``_SPAN`` days after that."""
        counted = self._counted
        if counted is None or day < counted[0]:
            counted = (day, [timedelta()])
        first, before = counted
        i = (day - first).days
        if i > _SPAN:
            return None
        if i < len(before) and before[-1] >= before[i] + remaining:
            return counted
        before = list(before)  # a copy: another thread may be reading the one kept
        while len(before) <= i or before[-1] < before[i] + remaining:
            before.append(before[-1] + self._total(first + timedelta(len(before) - 1)))
        self._counted = counted = (first, before)
        return counted

    def _periods(self, start: datetime) -> Iterator[Period]:
        """Working periods from ``start`` on; the first is clipped to begin at ``start``."""
        day = start.astimezone(self.timezone).date()
        while True:
            for begin, end in self._periods_of(day):
                begin = max(begin, start)
                if begin < end:
                    yield begin, end
            day += _ONE_DAY

    def _periods_of(self, day: date) -> tuple[Period, ...]:
        periods = self._days.get(day)
        return self._day(day) if periods is None else periods

    def _total(self, day: date) -> timedelta:
        """The length of ``day``'s working periods together."""
        total = self._totals.get(day)
        if total is None:
            self._day(day)
            total = self._totals[day]
        return total

    def _day(self, day: date) -> tuple[Period, ...]:
        """The working periods of ``day`` (none on a day off), kept for the next deadline."""
        found: tuple[Period, ...] = ()
        if self.workday(day):
            midnight = datetime(day.year, day.month, day.day, tzinfo=self.timezone)
            # Kept in UTC, the zone of the instants they meet: datetimes of one zone compare
            # without working out offsets, and most of ``add`` is comparisons.
            found = tuple(
                (
                    _utc(midnight + timedelta(minutes=open_)),
                    _utc(midnight + timedelta(minutes=close)),
                )
                for open_, close in self.hours
            )
        self._days[day] = found
        self._totals[day] = sum((end - begin for begin, end in found if begin < end), timedelta())
        return found


def _utc(instant: datetime) -> datetime:
    return instant.astimezone(UTC)


def round_the_clock(name: str = "calendar-hours") -> Calendar:
    """Every hour of every day counts: working time equals calendar time."""
    return Calendar(name, UTC, ((0, 24 * 60),), lambda day: True)
