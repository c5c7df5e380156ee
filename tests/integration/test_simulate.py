"""``simulate`` drives a seeded mix of tickets through the real service, reproducibly."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from hotline.clock import FrozenClock
from hotline.engine import history, periods
from hotline.persistence.rows import events, tickets
from hotline.persistence.sql import SqlStore
from hotline.reports import whistles as whistle_report
from hotline.service import Service
from hotline.simulation import simulate

NEW_YEAR = datetime(2022, 1, 1, tzinfo=ZoneInfo("Asia/Shanghai"))
STATES = {"received", "dispatched", "handled", "callback", "re-dispatched", "closed"}


def simulated(store: SqlStore, count: int, seed: int) -> simulate.Outcome:
    clock = FrozenClock(NEW_YEAR)
    service = Service(store, clock)
    service.install_shipped()
    return simulate.run(service, clock, count, days=3, seed=seed)


def snapshot(store: SqlStore) -> list[tuple]:
    query = sa.select(tickets.c.id, tickets.c.state, tickets.c.head_hash).order_by(tickets.c.id)
    with store.reading() as conn:
        return [tuple(row) for row in conn.execute(query)]


def test_a_simulation_fills_every_state_and_whistles_with_verifiable_histories(store):
    outcome = simulated(store, 200, seed=1)

    assert (outcome.tickets, outcome.refused) == (200, 0)
    found = snapshot(store)
    assert {state for _, state, _ in found} == STATES
    for ticket_id, _, _ in found[::20]:
        assert history.broken_links(store.events(ticket_id)) == []
    whistled = sa.select(events.c.ticket_id).where(events.c.trigger == "whistle")
    with store.reading() as conn:
        steps = set(
            conn.scalars(sa.select(events.c.trigger).where(events.c.trigger.like("whistle%")))
        )
        for ticket_id in list(conn.scalars(whistled))[:3]:
            assert history.broken_links(store.events(ticket_id)) == []
    assert outcome.whistles > 0
    assert {"whistle", "whistle_report", "whistle_absent", "whistle_closed"} <= steps


def test_the_whistle_report_ranks_the_simulated_departments(store):
    # Given a simulation whose complex and utility tickets whistled departments
    outcome = simulated(store, 200, seed=1)

    # When the month's whistle report is read
    found = whistle_report.report(Service(store), periods.parse("2022-01"))

    # Then each whistle summoned 2-4 departments, most reported in time, and the rows are
    # ranked by their in-time report rate
    total = found.total.stats
    assert 2 * outcome.whistles <= total.summoned <= 4 * outcome.whistles
    assert total.summoned > total.reported >= total.reported_in_time > total.summoned / 2
    assert total.absences > 0
    rated = [r for r in found.rows if r.rate is not None]
    assert rated[0].rank == 1
    assert [r.rate for r in rated] == sorted((r.rate for r in rated), reverse=True)
    assert all(r.stats.median_report_seconds for r in rated if r.stats.reported)


def test_the_same_seed_gives_the_same_tickets_and_histories(tmp_path):
    stores = [SqlStore(f"sqlite:///{tmp_path / name}.db") for name in ("a", "b", "c")]
    for store in stores:
        store.migrate()
    for store, seed in zip(stores, (5, 5, 6), strict=True):
        simulated(store, 120, seed)

    first, again, other = (snapshot(s) for s in stores)
    assert first == again  # same states, same hash-chain heads: the same histories
    assert first != other
    for store in stores:
        store.close()


def test_a_simulation_tells_its_progress_in_simulated_time(store):
    clock = FrozenClock(NEW_YEAR)
    service = Service(store, clock)
    service.install_shipped()
    told: list[simulate.Played] = []

    outcome = simulate.run(service, clock, 40, days=2, seed=5, progress=told.append)

    assert [p.elapsed for p in told] == sorted(p.elapsed for p in told)
    assert told[0].elapsed == timedelta(hours=1) and told[-1].elapsed == told[
        -1
    ].total == timedelta(days=2)
    assert (told[-1].tickets, told[-1].commands) == (outcome.tickets, outcome.commands)
