"""What a ticket's free-form values may hold, checked before anything is written.

A ticket's ``fields`` and texts go into JSON and text columns on SQLite and PostgreSQL and out
again through JSON encoders. Some values survive one of these and break another: NUL (PostgreSQL
text), a lone surrogate (UTF-8), NaN, Infinity and 1e400 (JSON; SQLite reads NaN back as null),
a very deep nesting (the JSON encoder's recursion guard). ``check_fields`` and ``check_text``
refuse them by name with InvalidField; ``readable`` makes any stored value safe to send, so a
read never fails on what an older write accepted.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from hotline.errors import InvalidField

MAX_DEPTH = 8  # objects and lists inside ``fields``
MAX_NODES = 1_000  # members and items, all levels together
MAX_KEY = 100  # characters of a member name
MAX_TEXT = 10_000  # characters of one string value
MAX_INT = 2**53  # the integers every JSON reader holds exactly
TRUNCATED = "…"  # what ``readable`` shows in place of what it cannot send


def check_fields(fields: Mapping[str, Any], name: str = "fields") -> None:
    """Raise InvalidField naming the first member of ``fields`` no store or reader can hold."""
    nodes = [0]
    _check(fields, name, 1, nodes)


def check_text(value: str, name: str, limit: int = MAX_TEXT) -> None:
    """Raise InvalidField if ``value`` holds NUL or a lone surrogate, or is over ``limit``."""
    if len(value) > limit:
        raise InvalidField(name, f"is over {limit} characters")
    if "\x00" in value:
        raise InvalidField(name, "must not contain NUL characters")
    if not _encodable(value):
        raise InvalidField(name, "contains a lone surrogate (not valid Unicode text)")


def check_values(value: Any, name: str, depth: int = 0) -> None:
    """Raise InvalidField naming the first NUL, lone surrogate or non-finite number anywhere in
    ``value`` (a request body of any shape; sizes are the schema's business)."""
    if depth > 4 * MAX_DEPTH:
        raise InvalidField(name, f"nested deeper than {4 * MAX_DEPTH} levels")
    if isinstance(value, str):
        check_text(value, name, limit=len(value))
    elif isinstance(value, float) and not math.isfinite(value):
        raise InvalidField(name, "must be a finite number (not NaN, Infinity or 1e400)")
    elif isinstance(value, Mapping):
        for key, item in value.items():
            check_text(str(key), f"{name} member name {str(key)[:40]!r}", limit=len(str(key)))
            check_values(item, f"{name}.{key}", depth + 1)
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            check_values(item, f"{name}[{index}]", depth + 1)


def readable(value: Any, depth: int = 0) -> Any:
    """``value`` made safe for any JSON encoder: too deep parts, non-finite numbers and
    undecodable text replaced (for data stored before these limits)."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, str):
        return value if _encodable(value) else value.encode("utf-8", "replace").decode()
    if not isinstance(value, Mapping | list | tuple):
        return value
    if depth >= MAX_DEPTH:
        return TRUNCATED
    if isinstance(value, Mapping):
        return {readable(str(k)): readable(v, depth + 1) for k, v in value.items()}
    return [readable(v, depth + 1) for v in value]


def _check(value: Any, path: str, depth: int, nodes: list[int]) -> None:
    if isinstance(value, str):
        check_text(value, path)
    elif isinstance(value, bool) or value is None:
        return
    elif isinstance(value, int):
        if abs(value) > MAX_INT:
            raise InvalidField(path, f"integer is beyond ±2^53 ({MAX_INT})")
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise InvalidField(path, "must be a finite number (not NaN, Infinity or 1e400)")
    elif isinstance(value, Mapping | list | tuple):
        _check_container(value, path, depth, nodes)
    # Other values (a datetime a Python caller passes) are the definition's field types' to judge.


def _check_container(value: Any, path: str, depth: int, nodes: list[int]) -> None:
    if depth > MAX_DEPTH:
        raise InvalidField(path, f"nested deeper than {MAX_DEPTH} levels")
    nodes[0] += len(value)
    if nodes[0] > MAX_NODES:
        raise InvalidField(path, f"more than {MAX_NODES} members and items in all")
    if isinstance(value, Mapping):
        for key, item in value.items():
            if not isinstance(key, str):
                raise InvalidField(path, "member names must be text")
            check_text(key, f"{path} member name {key[:40]!r}", MAX_KEY)
            _check(item, f"{path}.{key}", depth + 1, nodes)
    else:
        for index, item in enumerate(value):
            _check(item, f"{path}[{index}]", depth + 1, nodes)


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
