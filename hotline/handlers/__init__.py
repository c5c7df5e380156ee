"""Named side effects that definitions refer to (``after`` lists, escalation ``notify``).

Handlers run after commit, from the outbox, at least once: they receive the message's ``key``
and must treat a repeated key as already done. Register your own with ``@handler("name")``.
Each handler owns its name (``handlers.webhook.NAME``); the engine never names one.
May import: the engine, persistence's verbs (a handler may read what it needs, e.g. a secret).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

log = logging.getLogger("hotline.handlers")


@dataclass(frozen=True)
class Message:
    handler: str
    key: str
    payload: Mapping[str, Any]


Handler = Callable[[Message], None]
_REGISTRY: dict[str, Handler] = {}


def handler(name: str) -> Callable[[Handler], Handler]:
    """Register ``fn`` under ``name`` so definitions can name it."""

    def register(fn: Handler) -> Handler:
        _REGISTRY[name] = fn
        return fn

    return register


def names() -> set[str]:
    return set(_REGISTRY)


def get(name: str) -> Handler:
    try:
        return _REGISTRY[name]
    except KeyError:
        raise LookupError(f"no handler {name!r}; known: {', '.join(sorted(_REGISTRY))}") from None


def _notify(audience: str) -> Handler:
    def notify(message: Message) -> None:
        log.info(
            "notify %s: %s [%s]",
            audience,
            describe(message.payload),
            message.key,
            extra={"action": "notify", "audience": audience, "key": message.key},
        )

    return notify


def describe(p: Mapping[str, Any]) -> str:
    """One readable line for a notice: a transition's (trigger, from -> to) or a deadline's
    (which deadline, level, due time, how late), whichever the payload carries."""
    ticket = f"ticket {p.get('ticket_id')}"
    if "deadline" in p:
        level = f" level {p['level']}" if p.get("level") else ""
        late = f", overdue {p['overdue_minutes']} min" if p.get("overdue_minutes") else ""
        unit = f", unit {p['lead_unit']}" if p.get("lead_unit") else ""
        where = f" (state {p.get('state')}{unit})"
        return f"{ticket} deadline {p['deadline']}{level}, due {p.get('due_at')}{late}{where}"
    if "trigger" in p:
        return f"{ticket} {p['trigger']} ({p.get('from') or 'new'} -> {p.get('to')})"
    return f"{ticket}: {', '.join(f'{k}={v}' for k, v in sorted(p.items()) if k != 'ticket_id')}"


# Built-in notifications log one line each; deployments register real senders under these names.
for _audience in ("unit", "centre", "citizen", "supervisor", "district", "city"):
    handler(f"notify_{_audience}")(_notify(_audience))
