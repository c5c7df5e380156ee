"""`lifecycle.py --db postgres`: the same lifecycles on PostgreSQL, from 1 or N processes.

Each of ``--replicas`` worker processes drives its share of the tickets through the real
Service; then the same number of processes sends lifecycle.py's raw statements with plain
psycopg (placeholders translated, the ticket read ``FOR UPDATE`` as the store does). Both run on
fresh databases created on the server and dropped afterwards. With ``--replicas N`` > 1 each
round also runs the Service from one process, the baseline of "N replicas beside one"; rounds
alternate (``--repeats``) and medians are compared.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import re
import statistics
import time
import uuid
from datetime import UTC, datetime

import lifecycle
import psycopg
import sqlalchemy as sa
from psycopg.rows import dict_row
from psycopg.types.json import set_json_loads

from hotline.persistence import db
from hotline.persistence.sql import SqlStore
from hotline.service import Service
from hotline.workflows import loader

# The store reads the ticket under a row lock; so does the raw path on PostgreSQL.
OVERRIDES = {lifecycle.LOAD_TICKET: lifecycle.LOAD_TICKET + " FOR UPDATE"}
OVERRIDES[lifecycle.INSERT_TICKET] = lifecycle.INSERT_TICKET + " RETURNING id"


class Raw:
    """A psycopg connection taking lifecycle.py's sqlite3-style statements; counts them."""

    def __init__(self, url: str) -> None:
        self.conn = psycopg.connect(url, autocommit=True, row_factory=dict_row)
        set_json_loads(lambda data: bytes(data).decode(), self.conn)  # text, as in sqlite3
        self.statements, self._sql = 0, {}

    def _translate(self, sql: str) -> str:
        if sql not in self._sql:
            pg = OVERRIDES.get(sql, sql)
            self._sql[sql] = re.sub(r"(?<!:):(\w+)", r"%(\1)s", pg).replace("?", "%s")
        return self._sql[sql]

    def execute(self, sql: str, params=()):
        self.statements += 1
        return self.conn.execute(self._translate(sql), params)

    def executemany(self, sql: str, params) -> None:
        self.statements += 1
        with self.conn.cursor() as cursor:
            cursor.executemany(self._translate(sql), params)


def raw_lifecycle(raw: Raw) -> None:
    ticket_id = None
    for trigger, fields in [("submit", {}), *lifecycle.STEPS]:
        now = datetime.now(UTC)
        with raw.conn.transaction():
            if ticket_id is None:
                values = vars(lifecycle.INTAKE) | {"definition": loader.DEFAULT, "now": now}
                ticket_id = raw.execute(lifecycle.INSERT_TICKET, values).fetchone()["id"]
            lifecycle.write_transition(raw, ticket_id, trigger, fields, now)


def _hotline_worker(url: str, tickets: int, barrier, results) -> None:
    store = SqlStore(url)
    service = Service(store)
    seen: list[str] = []

    def count(_conn, _cursor, statement, *_rest) -> None:
        seen.append(statement)

    sa.event.listen(store.engine, "before_cursor_execute", count)
    lifecycle.hotline_lifecycle(service)  # warm-up: compiles the definition, counts statements
    sa.event.remove(store.engine, "before_cursor_execute", count)
    _timed(lambda: lifecycle.hotline_lifecycle(service), tickets, len(seen), barrier, results)
    store.close()


def _raw_worker(url: str, tickets: int, barrier, results) -> None:
    raw = Raw(url)
    raw_lifecycle(raw)
    _timed(lambda: raw_lifecycle(raw), tickets, raw.statements, barrier, results)
    raw.conn.close()


def _guarded(worker, url: str, tickets: int, barrier, results) -> None:
    """Run ``worker``; on failure, break the barrier and report instead of hanging."""
    try:
        worker(url, tickets, barrier, results)
    except Exception as error:
        barrier.abort()
        results.put(f"{type(error).__name__}: {error}")
        raise


def _timed(run, tickets: int, statements: int, barrier, results) -> None:
    barrier.wait()
    for _ in range(tickets):
        run()
    results.put(statements)


def measure(label: str, worker, url: str, tickets: int, replicas: int) -> tuple[float, int]:
    """Start ``replicas`` workers, release them together, time until the last finishes."""
    ctx = mp.get_context("spawn")
    barrier, results = ctx.Barrier(replicas + 1), ctx.Queue()
    shares = [tickets // replicas + (n < tickets % replicas) for n in range(replicas)]
    args = [(worker, url, share, barrier, results) for share in shares]
    procs = [ctx.Process(target=_guarded, args=a) for a in args]
    for proc in procs:
        proc.start()
    barrier.wait(timeout=300)  # broken (and raising) if a worker failed while warming up
    start = time.perf_counter()
    statements = [results.get(timeout=3600) for _ in procs]
    elapsed = time.perf_counter() - start
    if failed := [s for s in statements if isinstance(s, str)]:
        raise SystemExit(f"{label}: a worker failed: {failed[0]}")
    for proc in procs:
        proc.join()
    rate, lifecycles = tickets * lifecycle.PER_LIFECYCLE / elapsed, tickets / elapsed
    print(f"{label:8}{lifecycles:9.1f} lifecycles/s{rate:10.1f} transitions/s{elapsed:8.2f} s")
    return rate, statements[0]


def fresh_database(server: str, name: str) -> str:
    url = sa.make_url(db.normalise(server))
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    admin.dispose()
    made = url.set(database=name).render_as_string(hide_password=False)
    store = SqlStore(made)
    store.migrate()
    Service(store).install_shipped()
    store.close()
    return made


def drop_database(server: str, name: str) -> None:
    admin = sa.create_engine(db.normalise(server), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.dispose()


def counts(url: str) -> dict[str, int]:
    with psycopg.connect(url.replace("+psycopg", "")) as conn:
        return {label: n for label, n in conn.execute(lifecycle.COUNT_ROWS)}


def main(server: str, tickets: int, replicas: int, repeats: int = 1) -> None:
    name = f"hotline_bench_{uuid.uuid4().hex[:8]}"
    try:
        ours = fresh_database(server, name)
        theirs = fresh_database(server, name + "_raw")
        print(f"PostgreSQL {sa.make_url(ours).host}, {replicas} worker process(es)")
        raw_url = sa.make_url(theirs).set(drivername="postgresql")
        raw_url = raw_url.render_as_string(hide_password=False)
        rates: dict[str, list[float]] = {"hotline": [], "raw": [], "hotline 1": []}
        for _ in range(repeats):  # rounds alternate; with N > 1, one replica is the baseline
            h_rate, h_sql = measure("hotline", _hotline_worker, ours, tickets, replicas)
            r_rate, r_sql = measure("raw", _raw_worker, raw_url, tickets, replicas)
            rates["hotline"].append(h_rate)
            rates["raw"].append(r_rate)
            if replicas > 1:
                rates["hotline 1"].append(
                    measure("hotline 1", _hotline_worker, ours, tickets, 1)[0]
                )
        h_rate, r_rate = statistics.median(rates["hotline"]), statistics.median(rates["raw"])
        per = lifecycle.PER_LIFECYCLE
        print(
            f"ratio hotline/raw {h_rate / r_rate:.2f} with {replicas} process(es), medians of "
            f"{repeats} ({per} transitions a lifecycle; target >= 0.5 with 3)"
        )
        if rates["hotline 1"]:
            one = statistics.median(rates["hotline 1"])
            print(
                f"hotline {replicas} replicas / 1 replica: {h_rate:.1f} / {one:.1f} transitions/s"
                f" = {h_rate / one:.2f}x (target >= 1.5x with 3; load "
                + " ".join(f"{x:.1f}" for x in os.getloadavg())
                + ")"
            )
        print(f"{'':40}{'hotline':>9}{'raw':>9}")
        print(f"{'statements a lifecycle (untimed warm-up)':40}{h_sql:>9}{r_sql:>9}")
        mine, raws = counts(ours), counts(theirs)
        for label in mine | raws:
            print(f"{label:40}{mine.get(label) or 0:>9}{raws.get(label) or 0:>9}")
    finally:
        drop_database(server, name)
        drop_database(server, name + "_raw")
