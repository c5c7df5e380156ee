"""Clocks. Nothing below the service reads the wall clock: it is passed in (DESIGN principle 6)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Protocol

from hotline import errors

# The clock hook: ``HOTLINE_CLOCK="SERVICE_START REAL_START RATE"`` runs every process's service
# clock RATE times faster than the system clock, from SERVICE_START at the real instant
# REAL_START (both ISO 8601 with an offset). Processes given the same value agree on the time,
# so a soak can kill and restart daemons on an accelerated day (``hotline soak``).
CLOCK_ENV = "HOTLINE_CLOCK"


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


class ScaledClock:
    """Service time running ``rate`` times faster than the system clock: ``service_start`` at
    the real instant ``real_start``. The daemon divides its waits by ``rate``."""

    def __init__(self, service_start: datetime, real_start: datetime, rate: float) -> None:
        if service_start.tzinfo is None or real_start.tzinfo is None:
            raise ValueError("ScaledClock needs timezone-aware datetimes")
        if not rate > 0:
            raise ValueError("ScaledClock needs a positive rate")
        self.service_start, self.real_start, self.rate = service_start, real_start, rate

    def now(self) -> datetime:
        return utc(self.service_start + (datetime.now(UTC) - self.real_start) * self.rate)

    def spec(self) -> str:
        """This clock as a ``HOTLINE_CLOCK`` value, for child processes."""
        return f"{self.service_start.isoformat()} {self.real_start.isoformat()} {self.rate}"


def from_environment(environ: Mapping[str, str] = os.environ) -> Clock:
    """The system clock, or the ``HOTLINE_CLOCK`` hook's scaled clock when it is set."""
    spec = environ.get(CLOCK_ENV, "").strip()
    if not spec:
        return SystemClock()
    try:
        service_start, real_start, rate = spec.split()
        return ScaledClock(
            datetime.fromisoformat(service_start), datetime.fromisoformat(real_start), float(rate)
        )
    except ValueError:
        raise errors.HotlineError(
            f"{CLOCK_ENV}={spec!r}: write SERVICE_START REAL_START RATE, e.g. "
            "'2026-03-02T00:00:00+00:00 2026-12-06T20:00:00+00:00 3600'"
        ) from None


def rate(clock: Clock) -> float:
    """How many service seconds pass in one real second on ``clock`` (1 but for the hook)."""
    return getattr(clock, "rate", 1.0)
