"""API throughput and latency over HTTP on loopback, 50 concurrent clients, per store.

Starts `hotline serve` on 127.0.0.1 (a free port; ``--workers`` processes) over a fresh SQLite
file or a fresh PostgreSQL database, then a local asyncio/httpx load generator runs three
phases, each a fixed number of requests shared by the clients: submit (POST a ticket), get
(GET one of those tickets: ticket, deadlines, contact, links, rounds) and fire (POST
dispatch with If-Match). Each phase prints requests/s and p50/p99 latency beside its baseline
in the same run: the same calls made on ``Service`` directly, in one thread, on the same
database (what the request path adds is the difference). Loopback only; bounded by
``--max-seconds`` a phase.
"""

from __future__ import annotations

import argparse
import asyncio
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

import httpx
import psycopg
from sqlalchemy.engine import make_url

from hotline.persistence import tokens
from hotline.persistence.sql import SqlStore
from hotline.service import Intake, Service

DISPATCH = {"lead_unit": "street-jianwai", "route": "direct"}
SUBMIT = {"category": "noise", "summary": "b", "contact": {"phone": "13812345678"}}
PG_SERVER = os.environ.get("HOTLINE_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
TARGETS = {"submit": 300, "get": 1000}  # requests/s (issue 18), and p99 <= 250 ms


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--url", default=PG_SERVER, help="PostgreSQL server to bench on")
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--requests", type=int, default=2000, help="requests a phase")
    parser.add_argument("--workers", type=int, default=1, help="`hotline serve --workers`")
    parser.add_argument("--max-seconds", type=float, default=120, help="a phase at most")
    args = parser.parse_args()
    print(f"{args.clients} clients, {args.requests} requests a phase, {args.workers} worker(s)")
    for db in ("sqlite", "postgres") if args.db == "both" else (args.db,):
        with _database(db, args.url) as url:
            _bench(db, url, args)


def _bench(db: str, url: str, args: argparse.Namespace) -> None:
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
        [*command, "--workers", str(args.workers)],
        env={**os.environ, "HOTLINE_DB_URL": url, "HOTLINE_LOG_LEVEL": "WARNING"},
    )
    try:
        phases = asyncio.run(_drive(port, token, args))
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=60)
    load = os.getloadavg()[0]
    print(f"{db} (load {load:.1f}): phase  requests/s  p50 ms  p99 ms  direct Service calls/s")
    for phase, (latencies, elapsed) in phases.items():
        ordered = sorted(latencies)
        p50, p99 = statistics.median(ordered) * 1000, ordered[int(len(ordered) * 0.99) - 1] * 1000
        target = f"(target >= {TARGETS[phase]}/s)" if phase in TARGETS else ""
        print(
            f"  {phase:7}{len(ordered) / elapsed:12,.0f}{p50:8.1f}{p99:8.1f}"
            f"{direct[phase]:12,.0f}  {target}"
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


async def _drive(port: int, token: str, args: argparse.Namespace) -> dict:
    base = f"http://127.0.0.1:{port}"
    limits = httpx.Limits(max_connections=args.clients)
    headers = {"Authorization": f"Bearer {token}"}
    # A slow answer is a latency to report, not an error (httpx gives up after 5 s by default).
    timeout = httpx.Timeout(args.max_seconds)
    async with httpx.AsyncClient(
        base_url=base, headers=headers, limits=limits, timeout=timeout
    ) as http:
        await _until_up(http)
        ids: list[int] = []

        async def submit(_: int) -> None:
            response = await http.post("/api/v1/tickets", json=SUBMIT)
            response.raise_for_status()
            ids.append(response.json()["id"])

        async def get(i: int) -> None:
            (await http.get(f"/api/v1/tickets/{random.choice(ids)}")).raise_for_status()

        async def fire(i: int) -> None:
            response = await http.post(
                f"/api/v1/tickets/{ids[i]}/transitions/dispatch",
                json={"fields": DISPATCH},
                headers={"If-Match": '"1"'},
            )
            response.raise_for_status()

        return {
            name: await _phase(call, args)
            for name, call in (("submit", submit), ("get", get), ("fire", fire))
        }


async def _phase(
    call: Callable[[int], Awaitable[None]], args: argparse.Namespace
) -> tuple[list[float], float]:
    """``args.requests`` calls by ``args.clients`` clients; their latencies and the time."""
    latencies: list[float] = []
    todo = iter(range(args.requests))
    deadline = time.perf_counter() + args.max_seconds

    async def client() -> None:
        for i in todo:
            if time.perf_counter() > deadline:
                return
            started = time.perf_counter()
            await call(i)
            latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(args.clients)))
    return latencies, time.perf_counter() - started


async def _until_up(http: httpx.AsyncClient) -> None:
    for _ in range(600):
        try:
            await http.get("/metrics")
            return
        except httpx.TransportError:
            await asyncio.sleep(0.1)  # a benchmark, not a test: waiting for the port is fine
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
