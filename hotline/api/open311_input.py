"""GeoReport v2 parameters checked at the border: each refusal is a 400 naming the parameter.

Ids beyond what the columns hold, dates whose UTC instant falls outside the calendar, NUL bytes
and lone surrogates never reach the database.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from hotline.api import deps
from hotline.api.problems import Problem
from hotline.engine import fields as command_fields
from hotline.engine.definition import Category
from hotline.persistence import MAX_ID

WINDOW = timedelta(days=90)  # the spec's default and widest date range
MAX_IDS = 1000
_ATTRIBUTE = re.compile(r"^attribute\[([^\[\]]{1,100})\](\[\])?$")
_BAD_TEXT = re.compile("[\x00\ud800-\udfff]")
_CODE = re.compile(deps.CODE)
CODES = deps.CODE.removesuffix("$") + "(," + deps.CODE.removeprefix("^").removesuffix("$") + ")*$"


def refused(name: str, rule: str) -> Problem:
    return Problem(400, "invalid-parameter", f"{name}: {rule}", field=name)


def clean(name: str, value: str | None) -> str | None:
    """``value`` unless it holds a NUL byte or a lone surrogate, which no column can store."""
    if value is not None and _BAD_TEXT.search(value):
        raise refused(name, "NUL bytes and lone surrogates are not allowed")
    return value


def blank(value: object) -> object:
    """An empty form field (as HTML forms send an unfilled one) or ``null`` is no value."""
    return None if value in ("", "null") else value


def request_id(value: str) -> int | None:
    """A service_request_id as the store knows it, or None when no request can have it."""
    if not value.isascii() or not value.isdigit() or len(value) > 20:
        return None
    number = int(value)
    return number if 1 <= number <= MAX_ID else None


def id_list(value: str | None) -> list[int]:
    """A comma-separated service_request_id list; ids no request can have are left out."""
    if not value:
        return []
    parts = clean("service_request_id", value).split(",")
    if len(parts) > MAX_IDS:
        raise refused("service_request_id", f"at most {MAX_IDS} ids")
    if not all(p.isascii() and p.isdigit() and len(p) <= 20 for p in parts):
        raise refused("service_request_id", "a comma-separated list of request ids")
    return [i for i in map(int, parts) if 1 <= i <= MAX_ID]


def code_list(value: str | None) -> list[str]:
    if not value:
        return []
    parts = clean("service_code", value).split(",")
    if len(parts) > MAX_IDS or not all(_CODE.match(p) for p in parts):
        raise refused("service_code", "a comma-separated list of service codes")
    return parts


def status(value: str | None) -> str | None:
    """``open``, ``closed`` or None for both."""
    parts = set(clean("status", value).split(",")) if value else {"open", "closed"}
    if not parts <= {"open", "closed"}:
        raise refused("status", "open, closed, or both comma-separated")
    return None if len(parts) == 2 else parts.pop()


def instant(name: str, value: datetime | None) -> datetime | None:
    """An aware date-time as an instant in UTC; 400 when that falls outside years 1 to 9999."""
    if value is None:
        return None
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise refused(name, "out of range: its UTC time falls outside years 1 to 9999") from None


@dataclass(frozen=True)
class Window:
    since: datetime | None
    until: datetime | None


def window(start: datetime | None, end: datetime | None, now: datetime) -> Window:
    """The requested_datetime range: at most 90 days; the last 90 days when none is given."""
    if start is not None and end is not None:
        if end < start:
            raise refused("end_date", "must not be before start_date")
        if end - start > WINDOW:
            raise refused("end_date", "the range may not span more than 90 days")
        return Window(start, end)
    if start is not None:
        return Window(start, _shifted(start, WINDOW))
    if end is not None:
        return Window(_shifted(end, -WINDOW), end)
    return Window(now - WINDOW, None)


def _shifted(value: datetime, by: timedelta) -> datetime | None:
    try:
        return value + by
    except OverflowError:
        return None  # past the calendar's end: no bound on that side


def attributes(form: Mapping[str, list[str]], codes: list[str]) -> dict[str, Any]:
    """``attribute[CODE]=value`` (``attribute[CODE][]=`` for lists) by code; known codes only."""
    found: dict[str, Any] = {}
    for key, values in form.items():
        match = _ATTRIBUTE.match(key)
        if match is None:
            continue
        code = match.group(1)
        if code not in codes:
            raise refused(key, f"this service has no such attribute; its attributes: {codes}")
        for value in values:
            clean(key, value)
        found[code] = values if match.group(2) else values[-1]
    return found


def category_fields(category: Category, given: Mapping[str, Any]) -> dict[str, Any]:
    """The category's declared fields, validated by the definition's own field types."""
    if not given:
        return {}
    model = command_fields.compile_fields(f"{category.code}_attributes", category.fields)
    validated = command_fields.validate("attribute", model, given)
    for code, value in validated.items():
        if isinstance(value, float) and not math.isfinite(value):
            raise refused(f"attribute[{code}]", "must be a finite number")
    return validated
