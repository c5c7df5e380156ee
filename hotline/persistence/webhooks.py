"""Webhook subscriptions: rows an admin registers, read by every command through a short cache."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from hotline import errors
from hotline.engine.webhooks import Subscription
from hotline.persistence import refreshed
from hotline.persistence.sql import SqlStore
from hotline.persistence.tables import WebhookRow

webhooks = WebhookRow.__table__


@dataclass(frozen=True)
class Registered:
    """A subscription as its admin sees it; ``secret`` signs every delivery."""

    id: int
    event_type: str
    url: str
    secret: str
    created_at: datetime


def register(
    store: SqlStore, event_type: str, url: str, now: datetime, secret: str | None = None
) -> Registered:
    secret = secret or secrets.token_hex(32)
    with store.writing() as conn:
        new_id = conn.execute(
            webhooks.insert().values(
                event_type=event_type, url=url, secret=secret, created_at=now, active=True
            )
        ).inserted_primary_key[0]
    return Registered(new_id, event_type, url, secret, now)


def listed(store: SqlStore) -> list[Registered]:
    query = sa.select(webhooks).where(webhooks.c.active).order_by(webhooks.c.id)
    with store.reading() as conn:
        return [
            Registered(r.id, r.event_type, r.url, r.secret, r.created_at)
            for r in conn.execute(query)
        ]


def remove(store: SqlStore, subscription_id: int) -> None:
    """Deactivate a subscription: no new deliveries, and pending ones are dropped."""
    with store.writing() as conn:
        done = conn.execute(
            webhooks.update()
            .where(webhooks.c.id == subscription_id, webhooks.c.active)
            .values(active=False)
        )
    if done.rowcount != 1:
        raise errors.NotFound(f"no webhook {subscription_id}")


def secret_of(store: SqlStore, subscription_id: int) -> str | None:
    """The signing secret of an active subscription, None once it was removed."""
    query = sa.select(webhooks.c.secret).where(webhooks.c.id == subscription_id, webhooks.c.active)
    with store.reading() as conn:
        return conn.execute(query).scalar()


class Cache(refreshed.Refreshed[tuple[Subscription, ...]]):
    """The active subscriptions, re-read at most every ``ttl`` seconds.

    Every command consults it, so it must cost nothing in the common case; a new subscription
    takes effect within ``ttl`` in other processes and at once in this one (``invalidate``).
    """

    def __init__(self, store: SqlStore, ttl: float = 5.0) -> None:
        super().__init__(lambda: tuple(_subscription(r) for r in listed(store)), ttl)

    def active(self) -> tuple[Subscription, ...]:
        return self.get()


def _subscription(registered: Registered) -> Subscription:
    return Subscription(registered.id, registered.event_type, registered.url)
