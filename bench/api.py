"""API throughput, latency and CPU over HTTP on loopback, 50 concurrent clients, per store.

Starts `hotline serve` on 127.0.0.1 (a free port; the worker processes the README recommends
for the store: 1 on SQLite, 2 on PostgreSQL, or ``--workers``) over a fresh SQLite file or a
fresh PostgreSQL database, then a local load generator runs three phases, each a fixed number
of requests shared by the clients: submit (POST a ticket), get (GET one of those tickets:
ticket, deadlines, contact, links, rounds) and fire (POST dispatch with If-Match), ``--repeats``
times. Each phase prints requests/s and p50/p99 latency (medians over the repeats) beside its
baseline in the same run: the same calls made on ``Service`` directly, in one thread, on the
same database (what the request path adds is the difference).

The machine's two cores are shared by the server, the database (PostgreSQL), the load
generator and whatever else runs: each phase also prints the CPU milliseconds a request costs
the server processes, the database backends and the client, and the client's share of them.
The client is ``rawhttp`` (HTTP/1.1 keep-alive over real sockets, a connection a client) on
uvloop when it is installed. Loopback only; bounded by ``--max-seconds`` a phase.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import rawhttp
from sqlalchemy.engine import make_url

from hotline.persistence import tokens
from hotline.persistence.sql import SqlStore
from hotline.service import Intake, Service

DISPATCH = {"lead_unit": "street-jianwai", "route": "direct"}
SUBMIT = {"category": "noise", "summary": "b", "contact": {"phone": "13812345678"}}
PG_SERVER = os.environ.get("HOTLINE_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
TARGETS = {"submit": 300, "get": 1000}  # requests/s (issue 18), and p99 <= 250 ms
RECOMMENDED_WORKERS = {"sqlite": 1, "postgres": 2}  # README, Serving: Workers
PHASES = ("submit", "get", "fire")
TICK = os.sysconf("SC_CLK_TCK")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--url", default=PG_SERVER, help="PostgreSQL server to bench on")
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--requests", type=int, default=2000, help="requests a phase")
    parser.add_argument("--repeats", type=int, default=3, help="runs of the three phases")
    parser.add_argument("--workers", type=int, help="`hotline serve --workers` (README's)")
    parser.add_argument("--max-seconds", type=float, default=120, help="a phase at most")
    args = parser.parse_args()
    print(f"{args.clients} clients, {args.requests} requests a phase, {args.repeats} repeats")
    for db in ("sqlite", "postgres") if args.db == "both" else (args.db,):
        with _database(db, args.url) as url:
            _bench(db, url, args.workers or RECOMMENDED_WORKERS[db], args)


def _bench(db: str, url: str, workers: int, args: argparse.Namespace) -> None:
    store = SqlStore(url)
    store.migrate()
    service = Service(store)
    service.install_shipped()
    token = tokens.create(store, "bench", "operator", None, datetime.now(UTC))
    direct = _direct(service, args.requests // 4)
    store.close()
    port = _free_port()
    command = [sys.executable, "-m", "hotline.cli.main", "serve", "--port", str(port)]
    server = subprocess.Popen(
        [*command, "--workers", str(workers)],
        env={**os.environ, "HOTLINE_DB_URL": url, "HOTLINE_LOG_LEVEL": "WARNING"},
    )
    database = make_url(url).database if db == "postgres" else None
    try:
        runs = _run_client(_drive(port, token, args, _Meter(server.pid, database)))
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=60)
    _report(db, workers, runs, direct)


def _report(db: str, workers: int, runs: list[dict], direct: dict[str, float]) -> None:
    load = " ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"{db}, {workers} worker(s) (load {load}); medians of {len(runs)} runs")
    print(
        "  phase    req/s  p50 ms  p99 ms  direct/s | CPU ms a request: server   db  client"
        "  (client share)"
    )
    for phase in PHASES:

        def median(key: str, phase: str = phase) -> float:
            return statistics.median(run[phase][key] for run in runs)

        cpu = {k: median(k) for k in ("server", "db", "client")}
        share = cpu["client"] / (sum(cpu.values()) or 1)
        target = f"  target >= {TARGETS[phase]}/s" if phase in TARGETS else ""
        print(
            f"  {phase:7}{median('rate'):7,.0f}{median('p50'):8.1f}{median('p99'):8.1f}"
            f"{direct[phase]:10,.0f} |{cpu['server']:23.2f}{cpu['db']:5.2f}{cpu['client']:8.2f}"
            f"  ({share:.0%}){target}"
        )


def _direct(service: Service, calls: int) -> dict[str, float]:
    """Calls/s of the same work on ``Service`` in one thread: the baseline of each phase."""
    intake = Intake("noise", "b", contact_phone="13812345678")
    rates, ids = {}, []
    started = time.perf_counter()
    for _ in range(calls):
        ids.append(service.submit(intake, "bench").id)
    rates["submit"] = calls / (time.perf_counter() - started)
    started = time.perf_counter()
    for ticket_id in ids:  # what GET /tickets/{id} reads
        ticket = service.get(ticket_id)
        service.contact(ticket_id), service.links(ticket_id), service.rounds(ticket)
        service.allowed(ticket)
    rates["get"] = calls / (time.perf_counter() - started)
    started = time.perf_counter()
    for ticket_id in ids:
        service.fire(ticket_id, "dispatch", DISPATCH, "bench", 1)
    rates["fire"] = calls / (time.perf_counter() - started)
    return rates


def _run_client(work: Awaitable[list[dict]]) -> list[dict]:
    """Run the load generator on uvloop if it is installed (as the server does)."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(work)  # type: ignore[arg-type]
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(work)  # type: ignore[arg-type]


async def _drive(port: int, token: str, args: argparse.Namespace, meter: _Meter) -> list[dict]:
    """``args.repeats`` runs of the three phases; each phase's figures, by run."""
    await _until_up(port)
    clients = [await rawhttp.Connection.open("127.0.0.1", port) for _ in range(args.clients)]
    calls = _calls(token)
    runs = []
    try:
        for _ in range(args.repeats):
            ids: list[int] = []  # the tickets this run submits, then reads and fires
            runs.append(
                {name: await _phase(calls[name], ids, clients, meter, args) for name in PHASES}
            )
    finally:
        for conn in clients:
            conn.close()
    return runs


Call = Callable[[rawhttp.Connection, list[int], int], Awaitable[None]]


def _calls(token: str) -> dict[str, Call]:
    """Each phase's request, given a connection, the run's ticket ids and the request's number."""
    auth = {"Authorization": f"Bearer {token}"}
    body = rawhttp.json_body(SUBMIT)
    submit_head = rawhttp.request_head("POST", "/api/v1/tickets", auth, body)
    fire_body = rawhttp.json_body({"fields": DISPATCH})
    fire_auth = {**auth, "If-Match": '"1"'}

    async def submit(conn: rawhttp.Connection, ids: list[int], _: int) -> None:
        answer = rawhttp.expect(*await conn.request(submit_head, body), 201)
        ids.append(json.loads(answer)["id"])

    async def get(conn: rawhttp.Connection, ids: list[int], _: int) -> None:
        head = rawhttp.request_head("GET", f"/api/v1/tickets/{random.choice(ids)}", auth)
        rawhttp.expect(*await conn.request(head), 200)

    async def fire(conn: rawhttp.Connection, ids: list[int], i: int) -> None:
        path = f"/api/v1/tickets/{ids[i]}/transitions/dispatch"
        head = rawhttp.request_head("POST", path, fire_auth, fire_body)
        rawhttp.expect(*await conn.request(head, fire_body), 200)

    return {"submit": submit, "get": get, "fire": fire}


async def _phase(
    call: Call,
    ids: list[int],
    clients: list[rawhttp.Connection],
    meter: _Meter,
    args: argparse.Namespace,
) -> dict[str, float]:
    """``args.requests`` calls shared by the clients: requests/s, p50 and p99 latency (ms),
    and the CPU milliseconds a request cost the server, the database and the client."""
    latencies: list[float] = []
    todo = iter(range(args.requests))
    deadline = time.perf_counter() + args.max_seconds

    async def client(conn: rawhttp.Connection) -> None:
        for i in todo:
            if time.perf_counter() > deadline:
                return
            started = time.perf_counter()
            await call(conn, ids, i)
            latencies.append(time.perf_counter() - started)

    before, client_before = meter.cpu(), time.process_time()
    started = time.perf_counter()
    await asyncio.gather(*(client(conn) for conn in clients))
    elapsed = time.perf_counter() - started
    client_cpu, (server, db) = time.process_time() - client_before, meter.since(before)
    ordered, n = sorted(latencies), len(latencies)
    return {
        "rate": n / elapsed,
        "p50": statistics.median(ordered) * 1000,
        "p99": ordered[max(0, int(n * 0.99) - 1)] * 1000,
        "server": server * 1000 / n,
        "db": db * 1000 / n,
        "client": client_cpu * 1000 / n,
    }


class _Meter:
    """CPU seconds used by the server process and its workers, and by the PostgreSQL backends
    serving ``database`` (None: SQLite, inside the server), read from /proc."""

    def __init__(self, server_pid: int, database: str | None) -> None:
        self.server_pid, self.database = server_pid, database

    def cpu(self) -> tuple[dict[int, float], dict[int, float]]:
        processes = _processes()
        server = _descendants(self.server_pid, processes)
        backends = {p for p, (_, cmd, _) in processes.items() if self._serves(cmd)}
        return (
            {p: processes[p][2] for p in server},
            {p: processes[p][2] for p in backends},
        )

    def since(self, before: tuple[dict[int, float], dict[int, float]]) -> tuple[float, float]:
        now = self.cpu()
        return tuple(  # type: ignore[return-value]
            sum(seconds - then.get(pid, 0.0) for pid, seconds in current.items())
            for current, then in zip(now, before, strict=True)
        )

    def _serves(self, cmdline: str) -> bool:
        backend = cmdline.startswith("postgres: ")
        return self.database is not None and backend and f" {self.database} " in cmdline


def _processes() -> dict[int, tuple[int, str, float]]:
    """Every process: its parent, command line and CPU seconds (user + system)."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue  # ended meanwhile
        seconds = (int(fields[11]) + int(fields[12])) / TICK
        found[int(entry.name)] = (int(fields[1]), cmdline, seconds)
    return found


def _descendants(root: int, processes: dict[int, tuple[int, str, float]]) -> set[int]:
    found, grown = {root}, True
    while grown:
        more = {p for p, (parent, _, _) in processes.items() if parent in found} - found
        found |= more
        grown = bool(more)
    return found & processes.keys()


async def _until_up(port: int) -> None:
    head = rawhttp.request_head("GET", "/metrics", {})
    for _ in range(600):
        try:
            conn = await rawhttp.Connection.open("127.0.0.1", port)
        except OSError:
            await asyncio.sleep(0.1)  # a benchmark, not a test: waiting for the port is fine
            continue
        await conn.request(head)
        conn.close()
        return
    raise SystemExit("the server did not start")


@contextmanager
def _database(db: str, server: str) -> Iterator[str]:
    """A fresh SQLite file or PostgreSQL database (``bench_api_…``, dropped afterwards)."""
    if db == "sqlite":
        with tempfile.TemporaryDirectory() as tmp:
            yield f"sqlite:///{Path(tmp) / 'bench.db'}"
        return
    name = f"bench_api_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(server, autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name}")
    try:
        yield make_url(server).set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(server, autocommit=True) as admin:
            admin.execute(f"DROP DATABASE {name} WITH (FORCE)")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


if __name__ == "__main__":
    main()
