"""A period's histories stream page by page, in the order the tickets were received: every
ticket of the scope once, none outside it, on both stores, whatever the page size."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from hotline.persistence import histories
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
