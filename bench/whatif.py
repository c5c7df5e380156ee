"""What-if replay speed: transitions per second of ``hotline workflow what-if`` in one process.

Fixture shortcut (as ``bench/report.py``): a month of tickets is simulated through the real
service (hourly sweeps), then multiplied in the database with set-based SQL to ``--tickets``
(each copy re-inserts the sample's tickets and events with shifted ids: same times, units and
inputs). The replay reads each ticket's history from the database and replays it in memory, so
every copy costs what a real ticket of that shape costs.

Printed, each the median of ``--repeats`` runs on the same database:

- the replay under a draft (basic utilities answered within 12 h instead of 24 h): tickets,
  transitions (events the replay decided: commands and firings) and transitions/s, and the
  seconds a month of this size takes (the issue's target: ≥ 20,000 transitions/s, so a
  100,000-ticket month in ≤ 30 s);
- the baseline in the same run: the same histories rebuilt by ``engine.replay.rebuild`` (what
  ``hotline history --at`` runs: the engine alone, no sweeps, no store, no counting), in
  transitions/s, and the ratio of the two.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from report import multiply, sample

from hotline.clock import FrozenClock
from hotline.engine import periods, replay
from hotline.persistence import histories
from hotline.persistence.sql import SqlStore
from hotline.service import Service
from hotline.simulation import whatif
from hotline.workflows import loader

MONTH = periods.parse("2022-01")
AS_OF = datetime(2022, 3, 1, tzinfo=UTC)
TARGET = 20_000


def draft() -> str:
    return loader.shipped_text().replace(
        "within: 24h\n        kinds: [utility]", "within: 12h\n        kinds: [utility]"
    )


def timed_replay(service: Service, sweep: timedelta | None) -> tuple[float, int, int]:
    """Seconds, tickets and transitions of one what-if run over the month."""
    compiled = whatif.draft(service, draft(), "draft.yaml")
    started = time.perf_counter()
    found = whatif.run(service, compiled, whatif.Request(MONTH, as_of=AS_OF, sweep=sweep), "d")
    took = time.perf_counter() - started
    return took, found.draft.activity.tickets, found.draft.activity.transitions


def timed_rebuild(service: Service, sampled: int) -> tuple[float, int]:
    """Seconds and transitions of rebuilding the month's histories (the baseline): those of
    the ``sampled`` tickets simulated for real, as only their hash chains verify."""
    compiled = service.compiled(loader.DEFAULT, 1)
    start, end = MONTH.instants(compiled.calendar.timezone)
    scope = histories.Received(start, end, loader.DEFAULT)
    started, count = time.perf_counter(), 0
    for ticket, events in histories.stream(service.store, scope):
        if ticket.id > sampled:
            break
        replay.rebuild(events, ticket.definition, 1, lambda _: compiled, None)
        count += len(events)
    return time.perf_counter() - started, count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=20_000)
    parser.add_argument("--sample", type=int, default=2_000, help="tickets simulated for real")
    parser.add_argument("--seed", type=int, default=2022)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--db", type=Path, help="keep the database here (reused if it exists, same --sample)"
    )
    args = parser.parse_args()
    path = args.db or Path(tempfile.mkdtemp()) / "whatif.db"
    fresh = not path.exists()
    store = SqlStore(f"sqlite:///{path}")
    store.migrate()
    if fresh:
        print(
            f"simulated {args.sample} tickets in {sample(store, args.sample, 31, args.seed):.1f} s"
        )
        print(f"multiplied to {args.tickets} tickets in {multiply(store, args.tickets):.1f} s")
    service = Service(store, FrozenClock(AS_OF))
    replays, rebuilds = [], []
    for _ in range(args.repeats):
        replays.append(timed_replay(service, timedelta(hours=1)))
        rebuilds.append(timed_rebuild(service, args.sample))
    took = statistics.median(r[0] for r in replays)
    _, tickets, transitions = replays[0]
    rate = transitions / took
    base = statistics.median(t for t, _ in rebuilds)
    base_rate = rebuilds[0][1] / base
    print(f"what-if replay, {MONTH.label}: {tickets:,} tickets, {transitions:,} transitions")
    print(f"  median {took:.2f} s: {rate:,.0f} transitions/s (target {TARGET:,}/s)")
    per_ticket = took / tickets
    print(f"  a 100,000-ticket month of this shape: {100_000 * per_ticket:.0f} s (target 30 s)")
    print(f"baseline, engine.replay.rebuild of the same histories: {base_rate:,.0f} transitions/s")
    print(f"ratio replay / rebuild: {rate / base_rate:.2f}")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    print(f"peak memory of this process: {peak:.0f} MiB (tickets are streamed)")
    print("(medians of", args.repeats, "runs; 2 shared cores: compare the ratio, not the rate)")


if __name__ == "__main__":
    main()
