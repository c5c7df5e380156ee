"""Whistle queries: `hotline whistles` and per-department statistics over many whistles.

Builds TICKETS whistled tickets through the real Service on a fresh SQLite file (four of twelve
departments each; most report at once, some hours late, some never, swept as absent), then
times the listing and the statistics queries, which read the whistle rows and never a ticket.
Figures on a shared 2-core machine are noisy: run it more than once.
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from hotline.clock import FrozenClock
from hotline.daemon.sweeper import Sweeper
from hotline.persistence import whistles
from hotline.persistence.sql import SqlStore
from hotline.service import Intake, Service

DEPARTMENTS = [
    "chaoyang-housing",
    "chaoyang-urban",
    "chaoyang-development",
    "chaoyang-planning",
    "chaoyang-finance",
    "chaoyang-civil-defence",
    "chaoyang-roads",
    "chaoyang-water",
    "water-group",
    "water-repair",
    "jianwai-property",
    "gas-group",
]
H = timedelta(hours=1)


def build(service: Service, clock: FrozenClock, tickets: int, rng: random.Random) -> float:
    """Whistle ``tickets`` tickets; return the whistle commands per second."""
    commands, started, start = 0, time.perf_counter(), clock.now()
    for number in range(tickets):
        clock.set(start + number * timedelta(minutes=1))
        ticket = service.submit(Intake("parking", "car park unusable"))
        service.fire(ticket.id, "dispatch", {"lead_unit": "township-sunhe", "route": "direct"})
        summoned = rng.sample(DEPARTMENTS, 4)
        service.fire(ticket.id, "whistle", {"to": summoned, "reason": "bench", "within": "24h"})
        answering = summoned[: rng.choice((2, 3, 4))]
        for department in answering:
            clock.advance(timedelta(minutes=rng.randint(1, 600)))
            service.fire(ticket.id, "whistle_report", {"department": department, "person": "x"})
        commands += 1 + len(answering)
    return commands / (time.perf_counter() - started)


def timed(label: str, run, repeat: int = 5) -> None:
    best = min(_once(run) for _ in range(repeat))
    print(f"{label:<42} {best * 1000:8.1f} ms (best of {repeat})")


def _once(run) -> float:
    started = time.perf_counter()
    run()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=2000)
    parser.add_argument("--db", type=Path, help="a new SQLite file")
    args = parser.parse_args()
    path = args.db or Path(tempfile.mkdtemp()) / "whistles.db"
    store = SqlStore(f"sqlite:///{path}")
    store.migrate()
    clock = FrozenClock(datetime(2026, 3, 2, 1, 0, tzinfo=UTC))
    service = Service(store, clock)
    service.install_shipped()
    rate = build(service, clock, args.tickets, random.Random(4))
    print(f"{args.tickets} whistled tickets: {rate:.0f} whistle commands/s (open, report)")
    clock.set(datetime(2026, 3, 2, 1, 0, tzinfo=UTC) + args.tickets * timedelta(minutes=1) + 48 * H)
    started = time.perf_counter()
    fired = [e.trigger for d in Sweeper(service, owner="bench").sweep() for e in d.events]
    print(
        f"one sweep: {fired.count('whistle_absent')} absences among {len(fired)} events "
        f"in {time.perf_counter() - started:.2f} s"
    )
    with store.reading() as conn:
        timed("whistles --open", lambda: whistles.listing(conn, open_only=True))
        timed(
            "whistles --department chaoyang-roads",
            lambda: whistles.listing(conn, False, "chaoyang-roads"),
        )
        timed("whistles --stats (12 departments)", lambda: whistles.department_stats(conn))
        print(f"open whistles: {len(whistles.listing(conn, open_only=True))}")


if __name__ == "__main__":
    main()
