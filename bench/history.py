"""Auditing and migration at scale: verify, seal, export, point-in-time rebuild and migrate;
then verifying one ticket against a seal, and the seal file's size, as the history grows.

Rates: builds TICKETS tickets of six events each on a fresh SQLite file, then times each verb.

Seal scaling (``--sizes``, default 10 k and 100 k; add 1 M with ``--million``): the same kind of
sample is multiplied in the database with set-based SQL (as bench/report.py does: each copy
re-inserts the sample's tickets and events with shifted ids; the copies' hashes are the
sample's, so only the sample's own chains verify, and the one ticket timed is one of those).
At each size a legacy seal (every head in the file, as before 0007) and a Merkle seal are
written and ``audit verify --ticket N --seal-file F`` is timed against each, in the same run.

On a shared 2-core machine the figures are noisy (±30 %): compare runs made back to back, not
against another day's.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa

from hotline.admin import audit
from hotline.admin import versions as versioning
from hotline.clock import FrozenClock
from hotline.engine import history as chain
from hotline.persistence import history
from hotline.persistence.rows import events as events_table
from hotline.persistence.rows import tickets
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


def rates(n: int) -> None:
    events = n * (1 + len(STEPS))
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


COPY = """WITH RECURSIVE copies(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM copies WHERE n < :k)
INSERT INTO {table} ({columns}) SELECT {values} FROM {table} AS t, copies WHERE t.{key} <= :base"""


def grow(service: Service, base: int, target: int) -> float:
    """Copy the first ``base`` tickets (and their events) until there are ``target``."""
    have = history.count_tickets(service.store)
    if have >= target:
        return 0.0
    started = time.perf_counter()
    k = -(-(target - have) // base) - 1
    shift = ":have + copies.n * :base"
    shifted = {
        "tickets": {"id": f"t.id + {shift}", "idempotency_key": "NULL"},
        "events": {"ticket_id": f"t.ticket_id + {shift}"},
    }
    with service.store.writing() as conn:
        for table, key in ((tickets, "id"), (events_table, "ticket_id")):
            names = [c.name for c in table.columns if c.name != "id" or table is tickets]
            values = [shifted[table.name].get(name, f't."{name}"') for name in names]
            sql = COPY.format(
                table=table.name,
                columns=", ".join(f'"{name}"' for name in names),
                values=", ".join(values),
                key=key,
            )
            conn.execute(sa.text(sql), {"k": k, "base": base, "have": have})
        conn.execute(sa.text("DELETE FROM events WHERE ticket_id > :n"), {"n": target})
        conn.execute(sa.text("DELETE FROM tickets WHERE id > :n"), {"n": target})
    with service.store.writing() as conn:
        conn.exec_driver_sql("ANALYZE")
    return time.perf_counter() - started


def legacy_seal(service: Service, path: Path) -> history.Seal:
    """A seal as written before 0007: every ticket's head, in the database and the file."""
    now = service.clock.now()
    heads = {str(h.ticket_id): [h.seq, h.hash] for h in history.heads(service.store)}
    ordered = sorted((int(k), v[0], v[1]) for k, v in heads.items())
    sealed = history.Seal(
        now.date().isoformat(), now, len(heads), chain.heads_digest(ordered), heads
    )
    history.save_seal(service.store, sealed)
    record = {k: getattr(sealed, k) for k in ("day", "tickets", "digest", "heads")}
    text = json.dumps(record | {"sealed_at": now.isoformat()}, indent=1)
    path.write_text(text + "\n", encoding="utf-8")
    return sealed


def db_bytes(service: Service) -> int:
    """The SQLite database's size in pages in use (what a seal's rows add to it)."""
    with service.store.reading() as conn:
        pages = conn.exec_driver_sql("PRAGMA page_count").scalar_one()
        free = conn.exec_driver_sql("PRAGMA freelist_count").scalar_one()
        return (pages - free) * conn.exec_driver_sql("PRAGMA page_size").scalar_one()


def verify_one(service: Service, ticket_id: int, seal_file: Path, repeats: int) -> float:
    """Median milliseconds of ``audit verify --ticket N --seal-file F`` (clean, checked)."""
    runs = []
    for _ in range(repeats):
        started = time.perf_counter()
        report = audit.verify(service, ticket_id, seal_file)
        runs.append(time.perf_counter() - started)
        assert report.ok and report.checked == 1, report.problems
    return statistics.median(runs) * 1000


def seal_scaling(sizes: list[int], base: int, repeats: int) -> None:
    """Verify-one-ticket and seal-file size, legacy against Merkle, at each size."""
    with tempfile.TemporaryDirectory() as folder:
        service = build(Path(folder) / "s.db", base)
        victim = base // 2
        print(f"{'tickets':>9}  {'legacy verify':>13}  {'merkle verify':>13}  {'legacy file':>12}"
              f"  {'merkle file':>11}  {'merkle seal':>11}  {'its rows':>11}")  # fmt: skip
        for size in sizes:
            grow(service, base, size)
            old, new = Path(folder) / f"legacy-{size}.json", Path(folder) / f"seal-{size}.json"
            legacy_seal(service, old)
            legacy_ms = verify_one(service, victim, old, repeats)
            pages, started = db_bytes(service), time.perf_counter()
            audit.seal(service, new)
            sealing, rows_mb = time.perf_counter() - started, (db_bytes(service) - pages) / 1e6
            merkle_ms = verify_one(service, victim, new, repeats)
            print(
                f"{size:>9,}  {legacy_ms:>10.1f} ms  {merkle_ms:>10.1f} ms  "
                f"{old.stat().st_size:>10,} B  {new.stat().st_size:>9,} B  {sealing:>9.1f} s"
                f"  {rows_mb:>8.1f} MB",
                flush=True,
            )
        service.store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=2000, help="tickets for the rates")
    parser.add_argument("--sizes", default="10000,100000", help="seal scaling sizes")
    parser.add_argument("--million", action="store_true", help="also 1,000,000 (minutes)")
    parser.add_argument("--base", type=int, default=1000, help="tickets built for real")
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--skip-rates", action="store_true")
    args = parser.parse_args()
    if not args.skip_rates:
        rates(args.tickets)
    sizes = [int(s) for s in args.sizes.split(",") if s] + ([1_000_000] if args.million else [])
    seal_scaling(sizes, args.base, args.repeats)
    print("(2 shared cores: figures are noisy; medians of --repeats runs)")


if __name__ == "__main__":
    main()
