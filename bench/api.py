"""API throughput: submit + dispatch + reply over HTTP on loopback, 50 concurrent clients.

Starts `hotline serve` on 127.0.0.1 (a free port) over a fresh SQLite file, then a local
asyncio/httpx load generator drives whole lifecycles (three requests each) and prints
requests/s and p50/p99 latency. Bounded by --lifecycles and --max-seconds; loopback only.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx

from hotline.persistence import tokens
from hotline.persistence.sql import SqlStore
from hotline.service import Service

DISPATCH = {"lead_unit": "street-jianwai", "route": "direct"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--lifecycles", type=int, default=1000)
    parser.add_argument("--max-seconds", type=float, default=120)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        store = SqlStore(url)
        store.migrate()
        Service(store).install_shipped()
        token = tokens.create(store, "bench", "operator", None, datetime.now(UTC))
        store.close()
        port = _free_port()
        server = subprocess.Popen(
            [sys.executable, "-m", "hotline.cli.main", "serve", "--port", str(port)],
            env={**os.environ, "HOTLINE_DB_URL": url, "HOTLINE_LOG_LEVEL": "WARNING"},
        )
        try:
            latencies, elapsed = asyncio.run(_drive(port, token, args))
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=30)
    _report(latencies, elapsed, args)


async def _drive(port: int, token: str, args: argparse.Namespace) -> tuple[list[float], float]:
    base = f"http://127.0.0.1:{port}"
    limits = httpx.Limits(max_connections=args.clients)
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=base, headers=headers, limits=limits) as http:
        await _until_up(http)
        latencies: list[float] = []
        todo = iter(range(args.lifecycles))
        deadline = time.perf_counter() + args.max_seconds
        started = time.perf_counter()
        await asyncio.gather(
            *(_client(http, todo, latencies, deadline) for _ in range(args.clients))
        )
        return latencies, time.perf_counter() - started


async def _client(http: httpx.AsyncClient, todo, latencies: list[float], deadline: float) -> None:
    for _ in todo:
        if time.perf_counter() > deadline:
            return
        ticket = await _timed(
            latencies, http.post("/api/v1/tickets", json={"category": "noise", "summary": "b"})
        )
        for trigger, fields in (("dispatch", DISPATCH), ("reply", {"opinion": "done"})):
            ticket = await _timed(
                latencies,
                http.post(
                    f"/api/v1/tickets/{ticket['id']}/transitions/{trigger}",
                    json={"fields": fields},
                    headers={"If-Match": f'"{ticket["version"]}"'},
                ),
            )


async def _timed(latencies: list[float], request) -> dict:
    started = time.perf_counter()
    response = await request
    latencies.append(time.perf_counter() - started)
    response.raise_for_status()
    return response.json()


async def _until_up(http: httpx.AsyncClient) -> None:
    for _ in range(300):
        try:
            await http.get("/metrics")
            return
        except httpx.TransportError:
            await asyncio.sleep(0.1)  # a benchmark, not a test: waiting for the port is fine
    raise SystemExit("the server did not start")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _report(latencies: list[float], elapsed: float, args: argparse.Namespace) -> None:
    ordered = sorted(latencies)
    p50 = statistics.median(ordered) * 1000
    p99 = ordered[int(len(ordered) * 0.99) - 1] * 1000
    print(
        f"{len(ordered)} requests ({len(ordered) // 3} lifecycles: submit, dispatch, reply) "
        f"by {args.clients} clients in {elapsed:.1f} s on SQLite"
    )
    print(f"  {len(ordered) / elapsed:,.0f} requests/s   p50 {p50:.1f} ms   p99 {p99:.1f} ms")
    print("  (2 shared cores, one uvicorn worker: figures are noisy)")


if __name__ == "__main__":
    main()
