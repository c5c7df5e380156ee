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
        p = message.payload
        log.info(
            "notify %s: ticket %s %s (%s -> %s)",
            audience,
            p.get("ticket_id"),
            p.get("trigger"),
            p.get("from"),
            p.get("to"),
            extra={"action": "notify", "audience": audience, "key": message.key},
        )

    return notify


# Built-in notifications log one line each; deployments register real senders under these names.
for _audience in ("unit", "centre", "citizen", "supervisor", "district", "city"):
    handler(f"notify_{_audience}")(_notify(_audience))
