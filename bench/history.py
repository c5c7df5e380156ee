"""Auditing and migration at scale: verify, seal, export, point-in-time rebuild and migrate.

Builds TICKETS tickets of six events each on a fresh SQLite file, then times each verb and
prints its rate. On a shared 2-core machine the figures are noisy (±30 %): compare runs made
back to back, not against another day's.
"""

from __future__ import annotations

import argparse
import re
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from hotline.admin import audit
from hotline.admin import versions as versioning
from hotline.clock import FrozenClock
from hotline.persistence.sql import SqlStore
from hotline.service import Intake, Service
from hotline.workflows import loader

STEPS = [
    ("dispatch", {"lead_unit": "street-jianwai", "route": "direct"}),
    ("respond", {"method": "phone"}),
    ("pause", {"reason": "away"}),
    ("resume", {}),
    ("reply", {"opinion": "done"}),
]


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def build(path: Path, count: int) -> Service:
    store = SqlStore(f"sqlite:///{path}")
    store.migrate()
    service = Service(store, FrozenClock(datetime(2026, 3, 2, 9, tzinfo=UTC)))
    service.install_shipped()
    for _ in range(count):
        ticket = service.submit(Intake("noise", "bench"))
        for trigger, fields in STEPS:
            service.fire(ticket.id, trigger, fields)
    return service


def timed(label: str, count: int, unit: str, fn) -> object:
    started = time.perf_counter()
    result = fn()
    seconds = time.perf_counter() - started
    print(f"{label:<34} {seconds:7.2f} s  {count / seconds:9.0f} {unit}/s  rss {rss_mb():5.0f} MB")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tickets", type=int, default=2000)
    args = parser.parse_args()
    n, events = args.tickets, args.tickets * (1 + len(STEPS))
    with tempfile.TemporaryDirectory() as folder:
        service = timed(
            "build (submit + 5 commands)", n, "tickets", lambda: build(Path(folder) / "b.db", n)
        )
        report = timed(
            "audit verify (every chain)", events, "events", lambda: audit.verify(service)
        )
        assert report.ok, report.problems[:3]
        timed("audit seal", n, "heads", lambda: audit.seal(service, Path(folder) / "seal.json"))
        since = datetime(2000, 1, 1, tzinfo=UTC)
        timed(
            "audit export (iterate)",
            events,
            "events",
            lambda: sum(1 for _ in audit.export(service, since)),
        )
        sample = min(n, 200)
        timed(
            f"history --at ({sample} tickets)",
            sample,
            "tickets",
            lambda: [audit.as_of(service, i, None) for i in range(1, sample + 1)],
        )
        text = re.sub(r"\bcallback\b", "recheck", loader.shipped_text())
        service.publish(text, "v2.yaml")
        plan = versioning.plan(service, loader.DEFAULT, 1, 2, {})
        moved = timed(
            "workflow migrate (batches of 200)",
            n,
            "tickets",
            lambda: versioning.migrate(service, plan),
        )
        assert moved == n
        service.store.close()


if __name__ == "__main__":
    main()
