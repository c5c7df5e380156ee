"""A period's histories stream page by page, in the order the tickets were received: every
ticket of the scope once, none outside it, on both stores, whatever the page size."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from hotline.persistence import histories
from hotline.persistence.sql import SqlStore
from hotline.service import Intake, Service
from hotline.workflows import loader

START = datetime(2026, 3, 1, tzinfo=UTC)


@pytest.fixture
def received(service, clock, new_ticket):
    """Nine tickets: three received at the same instant (a page may end between them), five
    across the period at descending ids' times, one after it."""
    clock.set(START + timedelta(hours=5))
    made = [new_ticket("noise") for _ in range(3)]
    for hours in (4, 3, 2, 1, 0):  # later ids, earlier times: the order is by time, then id
        clock.set(START + timedelta(hours=hours))
        made.append(new_ticket("water-supply" if hours % 2 else "noise"))
    clock.set(START + timedelta(days=1))
    made.append(new_ticket("noise"))
    return made


def streamed(service, chunk: int, **filters) -> list[int]:
    scope = histories.Received(START, START + timedelta(days=1), loader.DEFAULT, **filters)
    found = list(histories.stream(service.store, scope, chunk=chunk))
    assert all(events[0].trigger == "submit" for _, events in found)
    assert all(ticket.id == events[0].ticket_id for ticket, events in found)
    assert len(found) == histories.count(service.store, scope)
    return [ticket.id for ticket, _ in found]


@pytest.mark.parametrize("chunk", [1, 2, 500])
def test_tickets_come_once_each_in_the_order_received(service, received, chunk):
    ids = [t.id for t in received]
    in_order = [*reversed(ids[3:8]), *ids[:3]]  # by time, then id; the last is the next day's

    assert streamed(service, chunk) == in_order


def test_a_category_narrows_the_stream(service, received):
    water = [t.id for t in received if t.category == "water-supply"]

    assert streamed(service, 1, category="water-supply") == sorted(water, reverse=True)
    assert streamed(service, 2, unit="nobody") == []


def sqlite_steps(store: SqlStore, scope: histories.Received, chunk: int) -> int:
    """SQLite's virtual-machine steps (in hundreds) to stream ``scope``: the work done,
    counted the same on every machine."""
    steps = 0

    def count() -> int:
        nonlocal steps
        steps += 1
        return 0  # go on

    def hook(conn, *_):
        conn.connection.driver_connection.set_progress_handler(count, 100)

    sa.event.listen(store.engine, "before_cursor_execute", hook)
    try:
        sum(1 for _ in histories.stream(store, scope, chunk=chunk))
    finally:
        sa.event.remove(store.engine, "before_cursor_execute", hook)
    return steps


def test_each_page_starts_where_the_last_ended(tmp_path, clock):
    # Given 120 tickets received an hour apart
    store = SqlStore(f"sqlite:///{tmp_path / 'month.db'}")
    store.migrate()
    service = Service(store, clock)
    service.install_shipped()
    for hour in range(120):
        clock.set(START + timedelta(hours=hour))
        service.submit(Intake("noise", "loud music"))
    month = START + timedelta(days=30)

    # When its first half, then all of it, is streamed a ticket a page
    half = histories.Received(START, START + timedelta(hours=60), loader.DEFAULT)
    whole = histories.Received(START, month, loader.DEFAULT)

    # Then twice the tickets cost twice the work: no page reads the tickets before it
    # (paging from the period's start made each page scan them, the month's cost quadratic)
    assert sqlite_steps(store, whole, 1) < 2.2 * sqlite_steps(store, half, 1)
    store.close()
