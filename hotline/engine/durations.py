"""Durations as written in definitions: ``30m``, ``2h``, ``7d``, ``1d12h``.

A ``Span`` keeps days apart from hours and minutes because in working time they differ: ``1d``
is one working day, ``24h`` is twenty-four working hours (three days of eight hours).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta

_PART = re.compile(r"(\d+)([dhm])")
_WHOLE = re.compile(r"^(\d+[dhm])+$")
_SECONDS = {"h": 3600, "m": 60}


@dataclass(frozen=True, order=True)
class Span:
    days: int = 0
    seconds: int = 0  # the hours and minutes part

    def __str__(self) -> str:
        hours, rest = divmod(self.seconds, 3600)
        parts = [f"{n}{unit}" for n, unit in ((self.days, "d"), (hours, "h"), (rest // 60, "m"))]
        return "".join(p for p in parts if not p.startswith("0")) or "0m"

    def __bool__(self) -> bool:
        return bool(self.days or self.seconds)

    def as_timedelta(self) -> timedelta:
        return timedelta(days=self.days, seconds=self.seconds)


def parse(text: object) -> Span:
    """Parse a compact duration; raise ValueError naming the text if it is malformed."""
    if isinstance(text, Span):
        return text
    compact = str(text).strip().replace(" ", "")
    if not _WHOLE.match(compact):
        raise ValueError(f"malformed duration {text!r}: write it like 30m, 2h, 7d or 1d12h")
    days = seconds = 0
    for amount, unit in _PART.findall(compact):
        if unit == "d":
            days += int(amount)
        else:
            seconds += int(amount) * _SECONDS[unit]
    return Span(days, seconds)
