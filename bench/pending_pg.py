"""A million pending deadlines on PostgreSQL: the real daemon's memory and the idle sweep's cost.

Fixture: a sample of --sample tickets is simulated through the real Service (``hotline
simulate``'s model, two days up to now), the due times of its pending rungs moved an hour ahead,
and the sample is multiplied with set-based SQL (``pgfixture.multiply``) until there are about
--pending pending deadlines, each copy's due times moved further ahead (spread over --spread-days),
so the rows have the sample's many tickets, units, kinds and ladders. A small database (--small
pending) is built the same way as the baseline.

Prints, for both databases:
(a) peak resident memory (VmHWM from /proc) of the real ``hotline run`` process (API included)
    after --seconds of running, with /metrics scraped once (target <= 200 MB at 1,000,000);
(b) the time of an idle sweep (nothing due: the claim query the daemon runs each interval),
    median of --repeats (should not grow with the number pending).
Databases are created on --url with --prefix and dropped afterwards.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pgfixture
import sqlalchemy as sa

from hotline.clock import FrozenClock
from hotline.daemon.sweeper import Sweeper
from hotline.persistence.rows import deadlines
from hotline.persistence.sql import SqlStore
from hotline.service import Service
from hotline.simulation import simulate

SERVER = os.environ.get("HOTLINE_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
PENDING = deadlines.c.status == "pending"


def simulated_sample(url: str, tickets: int, seed: int) -> int:
    """Simulate ``tickets`` over the two days up to now; move the pending rungs an hour ahead
    (none is due while measuring); return the number pending."""
    store = SqlStore(url)
    clock = FrozenClock(datetime.now(UTC) - timedelta(days=2))
    simulate.run(Service(store, clock), clock, tickets, 2, seed)
    with store.writing() as conn:
        conn.exec_driver_sql(
            "UPDATE deadlines SET fire_at = fire_at + interval '1 hour',"
            " due_at = due_at + interval '1 hour' WHERE status = 'pending'"
        )
    pending = count_pending(store)
    store.close()
    return pending


def count_pending(store: SqlStore) -> int:
    with store.reading() as conn:
        query = sa.select(sa.func.count()).select_from(deadlines).where(PENDING)
        return conn.execute(query).scalar_one()


def grown(server: str, name: str, sample: str, pending: int, days: float) -> str:
    """A copy of the sample database multiplied to about ``pending`` pending deadlines."""
    url = pgfixture.create(server, name, template=sample)
    store = SqlStore(url)
    with store.reading() as conn:
        base = conn.execute(sa.text("SELECT max(id) FROM tickets")).scalar_one()
    target = base * max(1, round(pending / count_pending(store)))
    pgfixture.multiply(store, target, spread_seconds=days * 86_400, open_only=True)
    store.close()
    return url


def idle_sweeps(url: str, repeats: int) -> float:
    """Median seconds of a sweep that finds nothing due."""
    store = SqlStore(url)
    sweeper = Sweeper(Service(store), owner="bench-idle")
    sweeper.sweep()  # connects and warms up
    took = []
    for _ in range(repeats):
        started = time.perf_counter()
        assert sweeper.sweep() == []
        took.append(time.perf_counter() - started)
    store.close()
    return statistics.median(took)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def daemon_peak_mb(url: str, seconds: float) -> float:
    """Run the real ``hotline run`` on ``url`` for ``seconds``, scrape /metrics once, stop it
    with SIGTERM; its peak resident memory (VmHWM) in MB."""
    port = free_port()
    hotline = Path(sys.executable).with_name("hotline")
    command = [str(hotline), "run", "--db", url, "--port", str(port), "--log-level", "WARNING"]
    proc = subprocess.Popen(command)
    try:
        deadline = time.monotonic() + seconds
        scraped = False
        while time.monotonic() < deadline:
            time.sleep(1)  # a benchmark waits on the real clock; tests never do
            if not scraped:
                scraped = scrape(port)
        peak = peak_mb(proc.pid)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)
    if not scraped:
        raise SystemExit("the daemon never answered /metrics")
    return peak


def scrape(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=30) as reply:
            return reply.status == 200
    except OSError:
        return False


def peak_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise SystemExit(f"no VmHWM for process {pid}")


def load() -> str:
    return "load " + " ".join(f"{x:.1f}" for x in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default=SERVER, help="PostgreSQL server to bench on")
    parser.add_argument("--prefix", default="hotline_bench", help="names of the databases")
    parser.add_argument("--pending", type=int, default=1_000_000)
    parser.add_argument("--small", type=int, default=10_000)
    parser.add_argument("--sample", type=int, default=300, help="tickets simulated for real")
    parser.add_argument("--spread-days", type=float, default=30)
    parser.add_argument("--seconds", type=float, default=20, help="how long the daemon runs")
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--seed", type=int, default=2022)
    args = parser.parse_args()
    name = f"{args.prefix}_{uuid.uuid4().hex[:8]}"
    names = [name, f"{name}_small", f"{name}_large"]
    try:
        print(f"PostgreSQL, {os.cpu_count()} cores, {load()}")
        sample = pgfixture.migrated(args.url, name)
        pending = simulated_sample(sample, args.sample, args.seed)
        print(f"simulated {args.sample} tickets: {pending} pending deadlines")
        urls = {}
        for size, db in ((args.small, names[1]), (args.pending, names[2])):
            started = time.perf_counter()
            urls[size] = grown(args.url, db, name, size, args.spread_days)
            took = time.perf_counter() - started
            found = count_pending(SqlStore(urls[size]))
            print(f"  grown to {found:,} pending in {took:.0f} s")
        sweeps = {size: idle_sweeps(url, args.repeats) for size, url in urls.items()}
        for size, url in urls.items():
            peak = daemon_peak_mb(url, args.seconds)
            print(
                f"(a) hotline run beside {size:>9,} pending: peak RSS {peak:.0f} MB "
                f"(target <= 200 MB; {load()})"
            )
        small, large = sweeps[args.small], sweeps[args.pending]
        print(
            f"(b) idle sweep, median of {args.repeats}: {small * 1000:.1f} ms beside "
            f"{args.small:,} pending, {large * 1000:.1f} ms beside {args.pending:,} "
            f"({large / small:.2f}x; {load()})"
        )
    finally:
        pgfixture.drop(args.url, *names)


if __name__ == "__main__":
    main()
