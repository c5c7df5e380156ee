"""Web console: server time per page (p50, p95) over many tickets on SQLite.

The database is bench/report.py's fixture (January 2022 up to the 20th simulated through the
real service, multiplied with set-based SQL; ``--db FILE`` keeps it for the next run). The
console runs in-process over the real ASGI app, with the service's clock at noon on
2022-01-20 (Beijing), so the dashboard's month is the simulated one, and no event lies after
the console's now (as in a live database: a month so far). Each page is asked
``--repeats`` times by a signed-in supervisor (an operator for the contact page); the time is
from request to the last byte of the answer, without a network. Baseline in the same run: the
JSON API's read of one ticket (``GET /api/v1/tickets/{id}``).

Target (issue 20): every page's p95 <= 300 ms at 1,000,000 tickets (``--tickets 1000000``).
"""

from __future__ import annotations

import argparse
import re
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import report  # bench/report.py: the multiplied fixture
import sqlalchemy as sa
from fastapi.testclient import TestClient

from hotline.api.app import create_app
from hotline.clock import FrozenClock
from hotline.persistence.rows import tickets
from hotline.persistence.sql import SqlStore
from hotline.service import Service

NOON = datetime(2022, 1, 20, 4, tzinfo=UTC)  # 12:00 in Beijing
NAME = "beijing-12345"
CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--sample", type=int, default=2_000, help="tickets simulated for real")
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--db", type=Path, help="keep the database here (reused if it exists)")
    args = parser.parse_args()
    path = args.db or Path(tempfile.mkdtemp()) / "console.db"
    store = SqlStore(f"sqlite:///{path}")
    if not path.exists():
        store.migrate()
        took = report.sample(store, args.sample, 19, 2022)
        print(f"simulated {args.sample} tickets in {took:.1f} s")
        print(f"multiplied to {args.tickets:,} in {report.multiply(store, args.tickets):.1f} s")
    store.migrate()
    with store.reading() as conn:
        count = conn.execute(sa.select(sa.func.count()).select_from(tickets)).scalar_one()
        last = conn.execute(sa.select(sa.func.max(tickets.c.id))).scalar_one()
    service = Service(store, FrozenClock(NOON))
    service.install_shipped()
    print(f"database {path}: {count:,} tickets")
    run = time.time_ns()  # token names differ from a kept database's earlier runs
    tokens = {r: service.create_token(f"bench-{r}-{run}", r, None) for r in ("supervisor", "admin")}
    with TestClient(create_app(service), base_url="http://localhost") as client:
        figures = {
            name: _timed(client, url, args.repeats, tokens[role])
            for name, (url, role) in _pages(last).items()
        }
        api = _api_baseline(client, tokens["supervisor"], last, args.repeats)
    print(f"{'page':<28}{'p50 ms':>10}{'p95 ms':>10}")
    print(f"{'(baseline) API ticket read':<28}{api[0]:>10.1f}{api[1]:>10.1f}")
    for name, (p50, p95) in figures.items():
        print(f"{name:<28}{p50:>10.1f}{p95:>10.1f}   {p95 / api[1]:.1f}x baseline p95")
    worst = max(p95 for _, p95 in figures.values())
    print(f"worst page p95: {worst:.0f} ms (target <= 300 ms at 1,000,000 tickets)")
    print("(2 shared cores: figures are noisy; compare ratios and repeat)")


def _pages(last: int) -> dict[str, tuple[str, str]]:
    return {
        "dashboard": ("/console/dashboard", "supervisor"),
        "tickets (first page)": ("/console/tickets", "supervisor"),
        "tickets (state filter)": ("/console/tickets?state=callback", "supervisor"),
        "tickets (overdue)": ("/console/tickets?overdue=1", "supervisor"),
        "tickets (text search)": ("/console/tickets?text=zzz-no-match", "supervisor"),
        "tickets (last page)": (f"/console/tickets?after={last - 10}", "supervisor"),
        "ticket page": (f"/console/tickets/{last}", "supervisor"),
        "operations": ("/console/operations", "supervisor"),
        "audit (access log)": ("/console/audit", "admin"),
        "definitions": ("/console/definitions", "supervisor"),
        "definition (source)": (f"/console/definitions/{NAME}", "supervisor"),
        "definition graph (SVG)": (f"/console/definitions/{NAME}/graph.svg", "supervisor"),
        "diff of two versions": (f"/console/definitions/{NAME}/diff?old=1&new=1", "supervisor"),
        "migrate (form)": (f"/console/definitions/{NAME}/migrate", "admin"),
        "what-if (form)": ("/console/definitions-what-if", "supervisor"),
        "audit seals": ("/console/audit/seals", "admin"),
    }


def _signed_in(client: TestClient, token: str) -> None:
    form = client.get("/console/sign-in")
    csrf = CSRF.search(form.text).group(1)  # type: ignore[union-attr]
    client.post("/console/sign-in", data={"token": token, "csrf": csrf}, follow_redirects=False)


def _timed(client: TestClient, url: str, repeats: int, token: str) -> tuple[float, float]:
    _signed_in(client, token)
    runs = []
    for _ in range(repeats):
        started = time.perf_counter()
        answer = client.get(url, follow_redirects=False)
        runs.append((time.perf_counter() - started) * 1000)
        assert answer.status_code == 200, (url, answer.status_code)
    return statistics.median(runs), _p95(runs)


def _api_baseline(client: TestClient, token: str, last: int, repeats: int) -> tuple[float, float]:
    headers = {"Authorization": f"Bearer {token}"}
    runs = []
    for _ in range(repeats):
        started = time.perf_counter()
        assert client.get(f"/api/v1/tickets/{last}", headers=headers).status_code == 200
        runs.append((time.perf_counter() - started) * 1000)
    return statistics.median(runs), _p95(runs)


def _p95(runs: list[float]) -> float:
    return statistics.quantiles(runs, n=20)[-1] if len(runs) > 1 else runs[0]


if __name__ == "__main__":
    main()
