"""Monthly rates by unit over a million tickets on SQLite: how long the real report takes.

Fixture shortcut: driving a million tickets through the Service would take hours, so a realistic
sample is simulated through the real service (``hotline.simulation.simulate``, a seeded month
of January 2022) and then multiplied in the database with set-based SQL: each copy re-inserts the
sample's tickets and events with shifted ids (same times, same units), so every copy's history has
the sample's shape. The copies' hashes are the sample's (the chains do not verify: a fixture, not
a history), and deadlines and outbox rows are not copied (the report does not read them).

Then ``assessment.rates(…, by="unit")`` for January 2022 (and its previous month, December) is
timed as a user would run it, and the figures and row counts are printed; then the daily
ranking of one day in that database (a short period among many tickets).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import copies
import sqlalchemy as sa

from hotline.clock import FrozenClock
from hotline.engine import periods
from hotline.persistence.rows import events, tickets
from hotline.persistence.sql import SqlStore
from hotline.reports import assessment
from hotline.service import Service
from hotline.simulation import simulate

MONTH = periods.parse("2022-01")
AS_OF = datetime(2022, 3, 1, tzinfo=UTC)


def sample(store: SqlStore, count: int, days: int, seed: int) -> float:
    clock = FrozenClock(datetime(2022, 1, 1, tzinfo=ZoneInfo("Asia/Shanghai")))  # local midnight
    service = Service(store, clock)
    service.install_shipped()
    started = time.perf_counter()
    simulate.run(service, clock, count, days, seed)
    return time.perf_counter() - started


def multiply(store: SqlStore, target: int) -> float:
    """Copy the sample until there are ``target`` tickets (ids shifted by n × sample size)."""
    with store.reading() as conn:
        base = conn.execute(sa.select(sa.func.max(tickets.c.id))).scalar_one()
    shifted = {
        "tickets": {"id": "t.id + copies.n * :base", "idempotency_key": "NULL"},
        "events": {"ticket_id": "t.ticket_id + copies.n * :base"},
    }
    started = time.perf_counter()
    with store.writing() as conn:
        for table, key in ((tickets, "id"), (events, "ticket_id")):
            copies.copy(conn, table, key, base, target, shifted[table.name])
    with store.writing() as conn:
        conn.exec_driver_sql("ANALYZE")
    return time.perf_counter() - started


def timed_report(store: SqlStore, repeats: int) -> tuple[list[float], assessment.RatesReport]:
    service = Service(store)
    found, runs = None, []
    for _ in range(repeats):
        started = time.perf_counter()
        found = assessment.rates(service, MONTH, "unit", as_of=AS_OF)
        runs.append(time.perf_counter() - started)
    assert found is not None
    return runs, found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--sample", type=int, default=5_000, help="tickets simulated for real")
    parser.add_argument("--days", type=int, default=31)
    parser.add_argument("--seed", type=int, default=2022)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--db", type=Path, help="keep the database here (reused if it exists)")
    args = parser.parse_args()
    path = args.db or Path(tempfile.mkdtemp()) / "report.db"
    fresh = not path.exists()
    store = SqlStore(f"sqlite:///{path}")
    store.migrate()
    if fresh:
        took = sample(store, args.sample, args.days, args.seed)
        print(f"simulated {args.sample} tickets in {took:.1f} s")
        print(f"multiplied to {args.tickets} tickets in {multiply(store, args.tickets):.1f} s")
    with store.reading() as conn:
        counts = {t.name: conn.execute(sa.select(sa.func.count()).select_from(t)).scalar_one()
                  for t in (tickets, events)}  # fmt: skip
    print(f"database {path}: {counts['tickets']:,} tickets, {counts['events']:,} events")
    runs, found = timed_report(store, args.repeats)
    total = found.total.record()
    print(
        f"monthly rates by unit, {found.period} (+ {found.previous} for the change): "
        f"{len(found.rows)} units, {total['received']:,} tickets, {total['callbacks']:,} "
        f"callbacks, composite {total['composite']}"
    )
    best, median = min(runs), statistics.median(runs)
    print(f"time: best {best:.2f} s, median {median:.2f} s over {len(runs)} runs")
    service, noon = Service(store), datetime(2022, 1, 20, 4, tzinfo=UTC)  # 12:00 in Beijing
    started = time.perf_counter()
    daily = assessment.ranking(service, "day", at=noon)
    took = time.perf_counter() - started
    received = daily.total.counts.received
    print(f"daily ranking {daily.period} at noon ({received:,} tickets): {took:.2f} s")
    print("(2 shared cores: figures are noisy)")


if __name__ == "__main__":
    main()
