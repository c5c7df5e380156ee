"""Monthly rates by unit over a Beijing month, with the month before present: facts beside raw.

Fixture shortcut: driving millions of tickets through the Service would take hours, so a
realistic sample is simulated through the real service (``hotline.simulation.simulate``, seeded,
over December 2021 and January 2022) and then multiplied in the database with set-based SQL: each
copy re-inserts the sample's tickets, their events and their facts rows (``ticket_facts``, which
the service wrote in each command's transaction) with shifted ids (same times, same units), so
every copy has the sample's shape, except that copy n's lead units are renamed ``unit~(n mod
--spread)`` so a month has hundreds of units, as Beijing has (343 streets and towns), not the
sample's few. The daily sums (``fact_rollups``) are then summed again from the facts, as the
migration that creates them does. The copies' hashes are the sample's (the chains do not verify:
a fixture, not a history), and deadlines and outbox rows are not copied (no report reads them).

Then ``assessment.rates(…, by="unit")`` for January 2022 (its change needs December) is timed as
a user runs it (``hotline report rates --period 2022-01``: the facts), alternating with the same
report from the raw history (``--recompute``), and both are checked to give the same numbers.
``--tickets`` is January's size; the database holds about twice that. Targets (issue 18), at
2,000,000: <= 2 s on PostgreSQL, <= 5 s on SQLite.
"""

from __future__ import annotations

import argparse
import os
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
from hotline.persistence import rollups
from hotline.persistence.facts import fact_rollups, ticket_facts
from hotline.persistence.rows import events, tickets
from hotline.persistence.sql import SqlStore
from hotline.reports import assessment
from hotline.service import Service
from hotline.simulation import simulate

MONTH = periods.parse("2022-01")
AS_OF = datetime(2022, 3, 1, tzinfo=UTC)
DECEMBER = datetime(2021, 12, 1, tzinfo=ZoneInfo("Asia/Shanghai"))  # local midnight
# What each copy shifts: the ticket ids (and the idempotency keys, which must stay unique), and
# the lead units (renamed), the same way on a ticket and on its facts.
UNIT = "t.lead_unit || '~' || CAST(copies.n % :spread AS VARCHAR)"
ID = "t.{} + copies.n * :base"
SHIFTED = {
    "tickets": ("id", {"id": ID.format("id"), "idempotency_key": "NULL", "lead_unit": UNIT}),
    "events": ("ticket_id", {"ticket_id": ID.format("ticket_id")}),
    "ticket_facts": ("ticket_id", {"ticket_id": ID.format("ticket_id"), "lead_unit": UNIT}),
}


def sample(
    store: SqlStore, count: int, days: int, seed: int, start: datetime | None = None
) -> float:
    """Simulate ``count`` tickets over ``days`` from ``start`` (default 2022-01-01, Beijing)."""
    clock = FrozenClock(start or datetime(2022, 1, 1, tzinfo=ZoneInfo("Asia/Shanghai")))
    service = Service(store, clock)
    service.install_shipped()
    started = time.perf_counter()
    simulate.run(service, clock, count, days, seed)
    return time.perf_counter() - started


def multiply(store: SqlStore, target: int, spread: int = 1) -> float:
    """Copy the sample until there are ``target`` tickets (ids shifted by n × sample size)."""
    with store.reading() as conn:
        base = conn.execute(sa.select(sa.func.max(tickets.c.id))).scalar_one()
    started = time.perf_counter()
    with store.writing() as conn:
        for table in (tickets, events, ticket_facts):
            key, shifted = SHIFTED[table.name]
            copies.copy(conn, table, key, base, target, shifted, spread=spread)
        rollups.rebuild(conn)  # the daily sums of the copied facts, as the migration does
    copies.analyse(store)
    return time.perf_counter() - started


def load() -> str:
    return "load " + " ".join(f"{x:.2f}" for x in os.getloadavg())


def rounds(store: SqlStore, repeats: int) -> dict[str, list[float]]:
    """Alternate the two paths ``repeats`` times; check they give the same numbers."""
    service = Service(store)
    runs: dict[str, list[float]] = {"facts": [], "raw": []}
    found: dict[str, list] = {}
    for _ in range(repeats):
        for path in runs:
            started = time.perf_counter()
            report = assessment.rates(service, MONTH, "unit", as_of=AS_OF, recompute=path == "raw")
            runs[path].append(time.perf_counter() - started)
            found[path] = [r.record() for r in (*report.rows, report.total)]
    total = found["facts"][-1]
    print(
        f"monthly rates by unit, {MONTH.label} (+ the month before for the change): "
        f"{len(found['facts']) - 1} units, {total['received']:,} tickets, "
        f"{total['callbacks']:,} callbacks, composite {total['composite']}; "
        f"facts and raw give the same numbers: {found['facts'] == found['raw']}"
    )
    return runs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=2_000_000, help="tickets in January")
    parser.add_argument("--sample", type=int, default=10_000, help="simulated for real (2 months)")
    parser.add_argument("--seed", type=int, default=2022)
    parser.add_argument("--spread", type=int, default=34, help="unit names per sample unit")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--db", help="SQLite file or postgresql:// URL (reused if it has tickets)")
    args = parser.parse_args()
    url = args.db or str(Path(tempfile.mkdtemp()) / "report.db")
    store = SqlStore(url if "://" in url else f"sqlite:///{url}")
    store.migrate()
    with store.reading() as conn:
        fresh = conn.execute(sa.select(sa.func.count()).select_from(tickets)).scalar_one() == 0
    if fresh:
        took = sample(store, args.sample, 62, args.seed, DECEMBER)
        print(f"simulated {args.sample} tickets (Dec 2021 + Jan 2022) in {took:.1f} s")
    with store.reading() as conn:
        have, last = conn.execute(sa.select(sa.func.count(), sa.func.max(tickets.c.id))).one()
    if have == last < 2 * args.tickets:  # the sample alone (a kept one, or just simulated)
        took = multiply(store, 2 * args.tickets, args.spread)
        print(f"multiplied to {2 * args.tickets:,} tickets in {took:.1f} s")
    with store.reading() as conn:
        counts = {t.name: conn.execute(sa.select(sa.func.count()).select_from(t)).scalar_one()
                  for t in (tickets, events, ticket_facts, fact_rollups)}  # fmt: skip
    print(f"{store.engine.dialect.name}: " + ", ".join(f"{n:,} {t}" for t, n in counts.items()))
    print(f"before: {load()}")
    runs = rounds(store, args.repeats)
    facts, raw = (statistics.median(runs[p]) for p in ("facts", "raw"))
    print(
        f"facts (report rates): median {facts:.2f} s  runs {[round(r, 2) for r in runs['facts']]}"
    )
    print(f"raw (--recompute):    median {raw:.2f} s  runs {[round(r, 2) for r in runs['raw']]}")
    print(f"facts / raw: {facts / raw:.3f} ({raw / facts:.0f}x faster); after: {load()}")
    print("(2 shared cores: figures are noisy)")


if __name__ == "__main__":
    main()
