"""Clocks. Nothing below the service reads the wall clock: it is passed in (DESIGN principle 6)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol


def utc(at: datetime) -> datetime:
    """``at`` (aware) in UTC; an instant whose UTC value falls outside datetime's range (year 1
    at +14:00, year 9999 at -12:00) lies before or after every stored time, so it is clamped to
    the start or end of time instead of failing."""
    try:
        return at.astimezone(UTC)
    except OverflowError:
        return (
            datetime.min.replace(tzinfo=UTC) if at.year == 1 else datetime.max.replace(tzinfo=UTC)
        )


class Clock(Protocol):
    def now(self) -> datetime:
        """The current instant, timezone-aware UTC."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class FrozenClock:
    """A clock that moves only when told; shipped so users can test their own handlers."""

    def __init__(self, at: datetime) -> None:
        if at.tzinfo is None:
            raise ValueError("FrozenClock needs a timezone-aware datetime")
        self._now = at.astimezone(UTC)

    def now(self) -> datetime:
        return self._now

    def advance(self, delta: timedelta) -> datetime:
        self._now += delta
        return self._now

    def set(self, at: datetime) -> None:
        self._now = at.astimezone(UTC)


class OffsetClock:
    """The system clock shifted by ``offset``: a replica living ahead, for lease-takeover drills."""

    def __init__(self, offset: timedelta) -> None:
        self.offset = offset

    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset
