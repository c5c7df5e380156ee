"""Deadline timers on PostgreSQL: firings/s from 1 and N sweeper processes.

(d) Catching up: one fixture of --firings tickets whose deadlines are overdue (a sample
dispatched two days ago through the real Service, multiplied with set-based SQL, see
``pgfixture``; a claim fires its deadline's due rungs in one decision) is copied for each round
(``CREATE DATABASE … TEMPLATE``). Each round starts 1 or --replicas processes, each running
the real ``Sweeper.sweep`` as the daemon does, releases them together and times until the last
has nothing left to claim; rounds alternate 1 and N; medians and their ratio are printed, with
the same sweep one firing a commit (the path before batching) as a second baseline. Keeping
up: the same over five times as many tickets just taken in, each with one rung due (a decision
a rung).
(c) Lateness: --live deadlines (intake deadlines of tickets submitted through the Service,
multiplied) are set to fall due evenly at --rate a second, and 1 or --replicas real ``hotline
run`` processes fire them; the lateness of each firing (fired_at - due) gives p50/p99/max.
Databases are created on --url with --prefix and dropped afterwards.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import signal
import statistics
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pgfixture
import psycopg

from hotline.clock import FrozenClock
from hotline.daemon.sweeper import Sweeper
from hotline.persistence.sql import SqlStore
from hotline.service import Intake, Service
from hotline.workflows import loader

SERVER = os.environ.get("HOTLINE_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
DISPATCH = {"lead_unit": "water-group", "route": "direct"}
UNITS = ("water-group", "street-jianwai", "street-chaowai", "chaoyang-water", "haidian-urban")


def dispatched_long_ago(url: str, sample: int, target: int) -> None:
    """``sample`` utility tickets dispatched two days ago through the Service (their response
    and handling rungs are due), multiplied to ``target`` tickets."""
    store = SqlStore(url)
    service = Service(store, FrozenClock(datetime.now(UTC) - timedelta(days=2)))
    for n in range(sample):
        ticket = service.submit(Intake("water-supply", "no water"))
        service.fire(ticket.id, "dispatch", DISPATCH | {"lead_unit": UNITS[n % len(UNITS)]})
    pgfixture.multiply(store, target)
    store.close()


def _sweeper(url: str, per_commit: int | None, barrier, results, finished) -> None:
    try:
        store = SqlStore(url)
        service = Service(store)
        service.compiled(loader.DEFAULT)  # compiled once per process, not per sweep
        batching = {"per_commit": per_commit} if per_commit else {}
        sweeper = Sweeper(service, owner=f"bench-{os.getpid()}", **batching)
        barrier.wait()
        started = time.process_time()
        fired = sweeper.sweep()
        results.put((sum(len(d.firings) for d in fired), time.process_time() - started))
        finished.wait(60)  # keep the server's backends until their CPU time is read
        store.close()
    except Exception as error:
        barrier.abort()
        results.put(f"{type(error).__name__}: {error}")
        raise


def timed_round(url: str, replicas: int, per_commit: int | None) -> tuple[float, int, float, float]:
    """Seconds until every sweeper is done, rungs fired, CPU seconds of the sweepers and of
    the server processes serving them."""
    ctx = mp.get_context("spawn")
    barrier, results, finished = ctx.Barrier(replicas + 1), ctx.Queue(), ctx.Event()
    procs = [
        ctx.Process(target=_sweeper, args=(url, per_commit, barrier, results, finished))
        for _ in range(replicas)
    ]
    for proc in procs:
        proc.start()
    barrier.wait(timeout=120)
    server_before = backend_cpu(url)
    started = time.perf_counter()
    done = [results.get(timeout=3600) for _ in procs]
    elapsed = time.perf_counter() - started
    server = sum(cpu - server_before.get(pid, 0.0) for pid, cpu in backend_cpu(url).items())
    finished.set()
    for proc in procs:
        proc.join()
    if failed := [d for d in done if isinstance(d, str)]:
        raise SystemExit(f"a sweeper failed: {failed[0]}")
    return elapsed, sum(d[0] for d in done), sum(d[1] for d in done), server


def backend_cpu(url: str) -> dict[int, float]:
    """CPU seconds (user + system) of each server process connected to ``url``'s database
    (the server runs on this machine: read from /proc)."""
    with psycopg.connect(url.replace("+psycopg", ""), autocommit=True) as conn:
        pids = conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
            " AND pid <> pg_backend_pid()"
        ).fetchall()
    found = {}
    for (pid,) in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        found[pid] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return found


def fired_rows(url: str) -> tuple[int, int]:
    """Firing rows, and (deadline, rung) pairs fired more than once (must be 0)."""
    with psycopg.connect(url.replace("+psycopg", "")) as conn:
        total = conn.execute("SELECT count(*) FROM deadline_firings").fetchone()[0]
        twice = conn.execute(
            "SELECT count(*) FROM (SELECT 1 FROM deadline_firings"
            " GROUP BY deadline_id, rung HAVING count(*) > 1) AS d"
        ).fetchone()[0]
    return total, twice


def load() -> str:
    return "load " + " ".join(f"{x:.1f}" for x in os.getloadavg())


def due_once(server: str, name: str, tickets: int) -> None:
    """``tickets`` tickets just taken in, each with one rung that fell due a second ago: one
    rung a ticket, as rungs fall due while the daemon keeps up (the next is hours away)."""
    url = live_fixture(server, name, tickets)
    with psycopg.connect(url.replace("+psycopg", "")) as conn:
        conn.execute(
            "UPDATE deadlines SET fire_at = now() - interval '1 second', due_at = now()"
            " - interval '1 second' WHERE status = 'pending'"
        )


def firing_rate(args: argparse.Namespace, fixture: str, scenario: str) -> None:
    kinds = [("1 replica", 1, None), (f"{args.replicas} replicas", args.replicas, None)]
    kinds.append((f"{args.replicas} one a commit", args.replicas, 1))
    rates: dict[str, list[float]] = {label: [] for label, _, _ in kinds}
    cpu: dict[str, list[float]] = {label: [] for label, _, _ in kinds}
    server_cpu: dict[str, list[float]] = {label: [] for label, _, _ in kinds}
    for round_ in range(args.repeats):
        for label, replicas, per_commit in kinds:
            name = f"{fixture}_r{round_}_{replicas}_{per_commit or 0}"
            url = pgfixture.create(args.url, name, template=fixture)
            try:
                seconds, rungs, used, server = timed_round(url, replicas, per_commit)
                rows, twice = fired_rows(url)
            finally:
                pgfixture.drop(args.url, name)
            assert rows == rungs and twice == 0, f"{rows} rows for {rungs} rungs, {twice} twice"
            rates[label].append(rungs / seconds)
            cpu[label].append(used / rungs * 1e6)
            server_cpu[label].append(server / rungs * 1e6)
            print(f"  round {round_} {label}: {rungs / seconds:,.0f} firings/s ({load()})")
    one, many, alone = (statistics.median(rates[label]) for label, _, _ in kinds)
    print(
        f"(d) {scenario}: firings/s of {rungs:,} rungs, median of "
        f"{args.repeats}: {one:,.0f} with 1 replica, {many:,.0f} with {args.replicas} "
        f"({many / one:.2f}x; target >= 1.5x and >= 10,000/s), {alone:,.0f} with "
        f"{args.replicas} one a commit ({many / alone:.1f}x)"
    )
    for label in rates:
        client, server = statistics.median(cpu[label]), statistics.median(server_cpu[label])
        print(
            f"    {label}: CPU per firing {client:.0f} µs in the sweepers + {server:.0f} µs in "
            f"the server = at most {2e6 / (client + server):,.0f} firings/s on 2 idle cores"
        )


def live_fixture(server: str, name: str, live: int) -> str:
    url = pgfixture.migrated(server, name)
    store = SqlStore(url)
    service = Service(store)
    for _ in range(100):
        service.submit(Intake("noise", "falls due while the daemon runs"))
    pgfixture.multiply(store, live)
    store.close()
    return url


def falling_due(url: str, rate: float, lead: float) -> dict[int, datetime]:
    """Every pending rung falls due ``lead`` seconds from now and after, ``rate`` a second;
    when each falls due, by deadline id (the engine moves ``due_at`` once it fires)."""
    start = datetime.now(UTC) + timedelta(seconds=lead)
    with psycopg.connect(url.replace("+psycopg", "")) as conn:
        conn.execute(
            "UPDATE deadlines AS d SET fire_at = %(start)s + make_interval(secs => o.n / %(rate)s),"
            " due_at = %(start)s + make_interval(secs => o.n / %(rate)s)"
            " FROM (SELECT id, row_number() OVER (ORDER BY id) - 1 AS n FROM deadlines"
            " WHERE status = 'pending') AS o WHERE d.id = o.id",
            {"start": start, "rate": rate},
        )
        found = conn.execute("SELECT id, fire_at FROM deadlines WHERE status = 'pending'")
        return dict(found.fetchall())


def running(url: str) -> int:
    with psycopg.connect(url.replace("+psycopg", "")) as conn:
        return conn.execute("SELECT count(*) FROM replicas").fetchone()[0]


def lateness(args: argparse.Namespace, fixture: str, replicas: int) -> None:
    name = f"{fixture}_live{replicas}"
    url = pgfixture.create(args.url, name, template=f"{fixture}_live")
    try:
        hotline = Path(sys.executable).with_name("hotline")
        command = [str(hotline), "run", "--db", url, "--no-api", "--log-level", "WARNING"]
        procs = [subprocess.Popen(command) for _ in range(replicas)]
        while running(url) < replicas:  # started (heartbeat written) before anything falls due
            time.sleep(0.2)
        planned = falling_due(url, args.rate, lead=1.0)
        give_up = time.monotonic() + args.live / args.rate + 60
        while fired_rows(url)[0] < args.live and time.monotonic() < give_up:
            time.sleep(0.5)  # a benchmark waits on the real clock; tests never do
        for proc in procs:
            proc.send_signal(signal.SIGTERM)
        for proc in procs:
            proc.wait(timeout=60)
        with psycopg.connect(url.replace("+psycopg", "")) as conn:
            found = conn.execute("SELECT deadline_id, fired_at FROM deadline_firings")
            late = sorted((at - planned[d]).total_seconds() * 1000 for d, at in found)
    finally:
        pgfixture.drop(args.url, name)
    if not late:
        print(f"(c) {replicas} replica(s): nothing fired")
        return
    p99 = late[max(0, int(len(late) * 0.99) - 1)]
    print(
        f"(c) {replicas} replica(s), {len(late):,}/{args.live:,} fired, {args.rate:,.0f}/s "
        f"falling due: lateness p50 {statistics.median(late):.0f} ms, p99 {p99:.0f} ms, "
        f"max {late[-1]:.0f} ms (target p99 <= 1000 ms; {load()})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default=SERVER, help="PostgreSQL server to bench on")
    parser.add_argument("--prefix", default="hotline_bench", help="names of the databases")
    parser.add_argument("--firings", type=int, default=4000, help="tickets with overdue rungs")
    parser.add_argument("--sample", type=int, default=200, help="tickets driven for real")
    parser.add_argument("--replicas", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--live", type=int, default=20_000, help="deadlines for (c)")
    parser.add_argument("--rate", type=float, default=5_000, help="falling due a second (c)")
    parser.add_argument("--only", choices=("firings", "lateness"), help="print (d) or (c) alone")
    args = parser.parse_args()
    fixture = f"{args.prefix}_{uuid.uuid4().hex[:8]}"
    try:
        print(f"PostgreSQL, {os.cpu_count()} cores, {load()}")
        if args.only != "lateness":
            url = pgfixture.migrated(args.url, fixture)
            dispatched_long_ago(url, args.sample, args.firings)
            firing_rate(args, fixture, f"catching up over {args.firings:,} tickets")
            due_once(args.url, f"{fixture}_once", args.firings * 5)
            firing_rate(args, f"{fixture}_once", "keeping up, one rung due a ticket")
        if args.only != "firings":
            live_fixture(args.url, f"{fixture}_live", args.live)
            for replicas in (1, args.replicas):
                lateness(args, fixture, replicas)
    finally:
        pgfixture.drop(args.url, fixture, f"{fixture}_live", f"{fixture}_once")


if __name__ == "__main__":
    main()
