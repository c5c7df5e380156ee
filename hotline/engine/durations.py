"""Durations as written in definitions: ``30m``, ``2h``, ``7d``, ``1d12h``."""

from __future__ import annotations

import re
from datetime import timedelta

_PART = re.compile(r"(\d+)([dhm])")
_WHOLE = re.compile(r"^(\d+[dhm])+$")
_UNIT = {"d": "days", "h": "hours", "m": "minutes"}


def parse(text: object) -> timedelta:
    """Parse a compact duration; raise ValueError naming the text if it is malformed."""
    if isinstance(text, timedelta):
        return text
    compact = str(text).strip().replace(" ", "")
    if not _WHOLE.match(compact):
        raise ValueError(f"malformed duration {text!r}: write it like 30m, 2h, 7d or 1d12h")
    total = timedelta()
    for amount, unit in _PART.findall(compact):
        total += timedelta(**{_UNIT[unit]: int(amount)})
    return total


def format(delta: timedelta) -> str:  # noqa: A001 - mirrors parse()
    """The compact form of a duration (inverse of :func:`parse`)."""
    minutes = int(delta.total_seconds() // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    parts = [f"{n}{u}" for n, u in ((days, "d"), (hours, "h"), (minutes, "m")) if n]
    return "".join(parts) or "0m"
