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
- the baseline in the same run: the sampled tickets' histories, read beforehand, rebuilt by
  ``engine.replay.rebuild`` (what ``hotline history --at`` runs: the engine alone, no sweeps,
  no store, no counting), in transitions/s, and the ratio of the two;
- with ``--against REV`` (say ``main``), the same what-if run by that commit's code (a
  ``git archive`` copy) in rounds alternating with this tree's, each in a child process of its
  own, on the same database: medians of wall and CPU seconds, transitions/s, and the speed-up.
  The machine is shared, so the CPU-time ratio is the figure to trust.

Every what-if run counts all its work: reading the histories from SQLite, the replay, and
both sides' counting.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tarfile
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


def timed_replay(service: Service, sweep: timedelta | None) -> tuple[float, float, int, int]:
    """Wall and CPU seconds, tickets and transitions of one what-if run over the month."""
    compiled = whatif.draft(service, draft(), "draft.yaml")
    started, cpu = time.perf_counter(), time.process_time()
    found = whatif.run(service, compiled, whatif.Request(MONTH, as_of=AS_OF, sweep=sweep), "d")
    took, used = time.perf_counter() - started, time.process_time() - cpu
    return took, used, found.draft.activity.tickets, found.draft.activity.transitions


def measure(path: Path) -> None:
    """One what-if run, printed as JSON (a child process: ``--measure``)."""
    service = Service(SqlStore(f"sqlite:///{path}"), FrozenClock(AS_OF))
    took, used, tickets, transitions = timed_replay(service, timedelta(hours=1))
    print(json.dumps({"wall": took, "cpu": used, "tickets": tickets, "transitions": transitions}))


def checkout(rev: str) -> Path:
    """This repository's code at ``rev``, unpacked into a temporary directory."""
    root = Path(__file__).resolve().parent.parent
    target = Path(tempfile.mkdtemp(prefix="whatif-against-"))
    archive = subprocess.run(["git", "archive", rev], cwd=root, capture_output=True, check=True)
    with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
        tar.extractall(target, filter="data")
    return target


def child(code: Path, path: Path) -> dict[str, float]:
    """One what-if run of ``code`` (a tree holding ``hotline/``) in a process of its own."""
    env = {**os.environ, "PYTHONPATH": str(code)}
    script = Path(__file__).resolve()
    out = subprocess.run(
        [sys.executable, str(script), "--measure", "--db", str(path)],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout.splitlines()[-1])


def against(rev: str, path: Path, repeats: int) -> None:
    """This tree's what-if beside ``rev``'s, rounds alternating; medians and the ratios."""
    here, there = Path(__file__).resolve().parent.parent, checkout(rev)
    runs: dict[str, list[dict[str, float]]] = {"this tree": [], rev: []}
    for _ in range(repeats):
        runs[rev].append(child(there, path))
        runs["this tree"].append(child(here, path))
    medians = {}
    for name, found in runs.items():
        wall = statistics.median(r["wall"] for r in found)
        cpu = statistics.median(r["cpu"] for r in found)
        rate = found[0]["transitions"] / cpu
        medians[name] = (wall, cpu)
        print(f"  {name:>10}: wall {wall:.2f} s, cpu {cpu:.2f} s: {rate:,.0f} transitions/cpu-s")
    (wall, cpu), (old_wall, old_cpu) = medians["this tree"], medians[rev]
    print(f"  speed-up over {rev}: {old_cpu / cpu:.2f}x cpu, {old_wall / wall:.2f}x wall")


def timed_rebuild(service: Service, sampled: int) -> tuple[float, int]:
    """Seconds and transitions of rebuilding the histories of the ``sampled`` tickets
    simulated for real (the baseline; only their hash chains verify), read beforehand: the
    engine alone."""
    compiled = service.compiled(loader.DEFAULT, 1)
    start, end = MONTH.instants(compiled.calendar.timezone)
    scope = histories.Received(start, end, loader.DEFAULT)
    found = [(t, e) for t, e in histories.stream(service.store, scope) if t.id <= sampled]
    started = time.perf_counter()
    for _, events in found:
        replay.rebuild(events, loader.DEFAULT, 1, lambda _: compiled, None)
    return time.perf_counter() - started, sum(len(events) for _, events in found)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=20_000)
    parser.add_argument("--sample", type=int, default=2_000, help="tickets simulated for real")
    parser.add_argument("--seed", type=int, default=2022)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--db", type=Path, help="keep the database here (reused if it exists, same --sample)"
    )
    parser.add_argument("--against", metavar="REV", help="also time this commit's what-if")
    parser.add_argument("--measure", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    path = args.db or Path(tempfile.mkdtemp()) / "whatif.db"
    if args.measure:
        return measure(path)
    fresh = not path.exists()
    store = SqlStore(f"sqlite:///{path}")
    store.migrate()
    if fresh:
        print(
            f"simulated {args.sample} tickets in {sample(store, args.sample, 31, args.seed):.1f} s"
        )
        print(f"multiplied to {args.tickets} tickets in {multiply(store, args.tickets):.1f} s")
    service = Service(store, FrozenClock(AS_OF))
    report(service, args.sample, args.repeats)
    if args.against:
        print(f"what-if of this tree beside {args.against} (child processes, alternating):")
        against(args.against, path, args.repeats)
    print("(medians of", args.repeats, "runs; 2 shared cores: compare ratios and cpu, not wall)")
    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    # The interpreter's build counts: pyenv's default (no profile-guided optimisation) ran
    # this a sixth slower than Debian's python3.11 on the same machine.
    built = platform.python_build()[1]
    print(f"python {platform.python_version()} ({sys.executable}, built {built})")


def report(service: Service, sampled: int, repeats: int) -> None:
    """The replay's rate beside the rebuild's, rounds alternating."""
    replays, rebuilds = [], []
    for _ in range(repeats):
        replays.append(timed_replay(service, timedelta(hours=1)))
        rebuilds.append(timed_rebuild(service, sampled))
    took = statistics.median(r[0] for r in replays)
    cpu = statistics.median(r[1] for r in replays)
    _, _, tickets, transitions = replays[0]
    rate = transitions / took
    base = statistics.median(t for t, _ in rebuilds)
    base_rate = rebuilds[0][1] / base
    print(f"what-if replay, {MONTH.label}: {tickets:,} tickets, {transitions:,} transitions")
    print(f"  median {took:.2f} s: {rate:,.0f} transitions/s (target {TARGET:,}/s)")
    print(f"  median cpu {cpu:.2f} s: {transitions / cpu:,.0f} transitions per cpu-second")
    per_ticket = took / tickets
    print(f"  a 100,000-ticket month of this shape: {100_000 * per_ticket:.0f} s (target 30 s)")
    print("baseline, engine.replay.rebuild of the sampled histories (read beforehand):")
    print(f"  {base_rate:,.0f} transitions/s")
    print(f"ratio replay / rebuild: {rate / base_rate:.2f}")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    print(f"peak memory of this process: {peak:.0f} MiB (tickets are streamed)")


if __name__ == "__main__":
    main()
