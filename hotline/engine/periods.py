"""Reporting periods (日, 周, 月) in the local time of the definition's calendar.

A period is a run of whole local days, ``start`` inclusive and ``end`` exclusive; its instants
in UTC come from the calendar's zone, so a Beijing day starts at 16:00 UTC the day before.
A ticket belongs to the period in which it was received (受理, its ``created_at``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Literal

from hotline.errors import HotlineError

Grain = Literal["day", "week", "month", "year"]
GRAINS: tuple[Grain, ...] = ("day", "week", "month", "year")
# Reports look back a period and its previous one: far years overflow dates and local times.
YEARS = range(1900, 3000)
_FORMS: tuple[tuple[Grain, re.Pattern[str]], ...] = (
    ("day", re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")),
    ("week", re.compile(r"^(\d{4})-W(\d{2})$")),
    ("month", re.compile(r"^(\d{4})-(\d{2})$")),
    ("year", re.compile(r"^(\d{4})$")),
)


class PeriodError(HotlineError):
    """A period the reports cannot read."""


@dataclass(frozen=True)
class Period:
    """``count`` consecutive days, weeks, months or years of local time from ``start``."""

    start: date
    grain: Grain
    count: int = 1

    @property
    def end(self) -> date:
        return shift(self.start, self.grain, self.count)

    @property
    def label(self) -> str:
        first = label(self.start, self.grain)
        last = label(shift(self.start, self.grain, self.count - 1), self.grain)
        return first if self.count == 1 else f"{first}..{last}"

    def previous(self) -> Period:
        """The period of the same length just before this one."""
        return Period(shift(self.start, self.grain, -self.count), self.grain, self.count)

    def instants(self, zone: tzinfo) -> tuple[datetime, datetime]:
        """Where the period starts and ends, in UTC."""
        return midnight(self.start, zone), midnight(self.end, zone)

    def buckets(self, grain: Grain, zone: tzinfo) -> list[tuple[str, datetime, datetime]]:
        """(label, start, end) of each ``grain`` inside the period (the edges clipped)."""
        found, day = [], floor(self.start, grain)
        while day < self.end:
            after = shift(day, grain, 1)
            start, end = max(day, self.start), min(after, self.end)
            found.append((label(day, grain), midnight(start, zone), midnight(end, zone)))
            day = after
        return found


def parse(text: str) -> Period:
    """``2022-07``, ``2022-07-15``, ``2022-W28``, ``2022``, or a range ``A..B`` of one form."""
    first, _, last = text.strip().partition("..")
    grain, start = _one(first)
    if not last:
        return Period(start, grain)
    grain_last, stop = _one(last)
    if grain_last != grain or stop < start:
        raise PeriodError(f"period {text!r}: write FIRST..LAST, both of one form, in order")
    count = 1
    while shift(start, grain, count) <= stop:
        count += 1
    return Period(start, grain, count)


def containing(at: datetime, grain: Grain, zone: tzinfo) -> Period:
    """The day, week, month or year (local time) that contains the instant ``at``."""
    if at.year not in YEARS:
        raise PeriodError(f"{at.isoformat()}: reports cover the years {YEARS[0]}..{YEARS[-1]}")
    return Period(floor(at.astimezone(zone).date(), grain), grain)


def _one(text: str) -> tuple[Grain, date]:
    for grain, pattern in _FORMS:
        match = pattern.match(text.strip())
        if not match:
            continue
        numbers = [int(n) for n in match.groups()]
        if numbers[0] not in YEARS:
            raise PeriodError(f"period {text!r}: reports cover the years {YEARS[0]}..{YEARS[-1]}")
        try:
            if grain == "week":
                return grain, date.fromisocalendar(numbers[0], numbers[1], 1)
            return grain, date(*numbers, *[1] * (3 - len(numbers)))
        except ValueError as error:
            raise PeriodError(f"period {text!r}: {error}") from None
    raise PeriodError(
        f"period {text!r}: use 2022-07, 2022-07-15, 2022-W28, 2022 or a range like 2022-01..2022-07"
    )


def floor(day: date, grain: Grain) -> date:
    """The first day of the ``grain`` containing ``day`` (weeks start on Monday)."""
    if grain == "week":
        return day - timedelta(days=day.weekday())
    if grain == "month":
        return day.replace(day=1)
    if grain == "year":
        return day.replace(month=1, day=1)
    return day


def shift(day: date, grain: Grain, n: int) -> date:
    """``day`` moved by ``n`` grains (``day`` is the first day of its grain for months)."""
    if grain == "day":
        return day + timedelta(days=n)
    if grain == "week":
        return day + timedelta(weeks=n)
    months = 12 * n if grain == "year" else n
    index = day.year * 12 + day.month - 1 + months
    return day.replace(year=index // 12, month=index % 12 + 1)


def label(day: date, grain: Grain) -> str:
    if grain == "week":
        year, week, _ = day.isocalendar()
        return f"{year}-W{week:02d}"
    return {"day": day.isoformat(), "month": f"{day:%Y-%m}", "year": f"{day:%Y}"}[grain]


def midnight(day: date, zone: tzinfo) -> datetime:
    """Local midnight of ``day`` in UTC."""
    return datetime(day.year, day.month, day.day, tzinfo=zone).astimezone(UTC)
