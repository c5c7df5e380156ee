"""The ``webhook`` handler: POST an event to a subscriber's URL, signed with its secret.

Headers of every delivery:
  ``X-Hotline-Event``      the event type (its trigger: ``dispatch``, ``reply``, ``escalate``…)
  ``X-Hotline-Delivery``   the outbox message's idempotency key: a repeat carries the same key
  ``X-Hotline-Signature``  ``sha256=`` + hex HMAC-SHA256 of the raw body under the secret
A receiver checks the signature with ``verify`` (or the same three lines in its own language)
and drops deliveries whose key it has seen. A non-2xx answer or a network error is retried by
the outbox relay with backoff.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from typing import TYPE_CHECKING

from hotline import handlers
from hotline.persistence import webhooks

if TYPE_CHECKING:
    import httpx

    from hotline.persistence.sql import SqlStore

NAME = "webhook"  # the outbox messages the service adds for subscriptions name this handler
log = logging.getLogger("hotline.handlers.webhook")
SIGNATURE = "X-Hotline-Signature"
TIMEOUT_SECONDS = 10.0


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify(secret: str, body: bytes, signature: str) -> bool:
    """Does ``signature`` (the header's value) sign ``body`` under ``secret``?"""
    return hmac.compare_digest(sign(secret, body), signature)


def install(store: SqlStore, client: httpx.Client | None = None) -> handlers.Handler:
    """Register the ``webhook`` handler, reading subscription secrets from ``store``."""
    import httpx  # only the daemon delivers: other commands need not load it

    http = client or httpx.Client(timeout=httpx.Timeout(TIMEOUT_SECONDS))

    def deliver(message: handlers.Message) -> None:
        p = message.payload
        secret = webhooks.secret_of(store, p["subscription_id"])
        if secret is None:  # removed since: its pending deliveries are dropped, not retried
            log.info("webhook %s removed; dropped %s", p["subscription_id"], message.key)
            return
        body = json.dumps(p["event"], ensure_ascii=False, separators=(",", ":")).encode()
        headers = {
            "Content-Type": "application/json",
            "X-Hotline-Event": p["event"]["type"],
            "X-Hotline-Delivery": message.key,
            SIGNATURE: sign(secret, body),
        }
        http.post(p["url"], content=body, headers=headers).raise_for_status()

    return handlers.handler(NAME)(deliver)
