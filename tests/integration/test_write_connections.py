"""A write holds one database connection: caches are filled before its transaction opens.

A process that has not compiled a ticket's definition version yet, or whose webhook
subscriptions are due for a re-read, must not open a second connection while its write
transaction holds the first (on SQLite the second would queue behind the writer; on a small
pool it is one connection fewer for everyone else).
"""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from hotline.daemon.sweeper import Sweeper
from hotline.service import Intake, Service

DISPATCH = {"lead_unit": "water-group", "route": "direct"}


class Checkouts:
    """Connections of one engine's pool in use at once: now and the most ever."""

    def __init__(self, engine: sa.Engine) -> None:
        self.in_use = self.most = 0
        sa.event.listen(engine, "checkout", self._out)
        sa.event.listen(engine, "checkin", self._in)

    def _out(self, *_: object) -> None:
        self.in_use += 1
        self.most = max(self.most, self.in_use)

    def _in(self, *_: object) -> None:
        self.in_use -= 1


@pytest.fixture
def cold(another_store, clock):
    """Builder: a service as a newly started process has it (nothing cached), with its pool
    watched; ``store.url`` is a real SQLite file or the PostgreSQL database."""

    def build() -> tuple[Service, Checkouts]:
        other = another_store()
        return Service(other, clock), Checkouts(other.engine)

    return build


def test_commands_of_a_cold_process_use_one_connection_at_a_time(service, store, cold):
    hooked = service.register_webhook("*", "http://receiver.invalid/hook")
    ticket = service.submit(Intake("water-supply", "no water"), actor="operator")
    fresh, watched = cold()

    fresh.fire(ticket.id, "dispatch", DISPATCH, actor="tester")  # definition and webhooks cold
    fresh.subscriptions.invalidate()  # as after its time to live
    fresh.submit(Intake("water-supply", "no water either"), actor="operator")

    assert watched.most == 1
    delivered = [m for m in service.outbox(ticket.id) if m.handler == "webhook"]
    assert [m.payload["subscription_id"] for m in delivered] == [hooked.id, hooked.id]


def test_a_cold_sweeper_fires_batches_on_one_connection(service, cold, clock):
    ticket = service.submit(Intake("water-supply", "no water"), actor="operator")
    service.fire(ticket.id, "dispatch", DISPATCH, actor="tester")
    fresh, watched = cold()
    clock.set(clock.now() + timedelta(days=5))

    fired = Sweeper(fresh, owner="test").sweep()

    assert fired  # reminders, due times and escalations of the dispatched ticket
    assert watched.most == 1
