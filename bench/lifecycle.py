"""Lifecycle throughput: the real Service against the same row writes in plain sqlite3.

Tickets go submit, dispatch, respond, reply, start_callback, record_callback, a transaction each;
the raw path writes the same rows with SqlStore's statements, on a connection with the store's own
journal mode and synchronous setting. Rounds alternate the two (``--repeats``) and the medians are
compared, since the machine is shared. After a warm-up, one untimed lifecycle counts the
statements SQLite runs on every connection each side opens. ``--db postgres --replicas N`` does
the same on PostgreSQL from N processes (lifecycle_pg.py).
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa

from hotline.engine import history
from hotline.persistence.sql import SqlStore
from hotline.service import Intake, Service
from hotline.workflows import loader

# The urgency is given, so the raw path inserts what the service would default it to.
INTAKE = Intake("noise", "Construction at night", urgency="normal")
STEPS = [  # the common path after submit: (trigger, command fields)
    ("dispatch", {"lead_unit": "street-jianwai", "route": "direct"}),
    ("respond", {"method": "phone"}),
    ("reply", {"opinion": "night work stopped"}),
    ("start_callback", {}),
    ("record_callback", {"resolved": True, "satisfaction": "satisfied"}),
]
PER_LIFECYCLE = 1 + len(STEPS)  # submit counts as a transition
INTAKE_KEYS = ("category", "urgency", "channel", "summary")

# beijing-12345 on a normal 'noise' ticket, by hand: trigger -> (new state, open deadline kinds met
# (() = all), deadlines opened (kind, measure, hours; due = now + window: calendar arithmetic is
# the engine's work), the `after` handler of the transition, which gets an outbox row).
W = "working"  # working time on the definition's calendar
PLANS = {
    "submit": ("received", (), (("intake", "calendar", 2),), None),
    "dispatch": ("dispatched", (), (("response", W, 4), ("handling", W, 56)), "notify_unit"),
    "respond": ("dispatched", ("response",), (), None),
    "reply": ("handled", (), (("callback_start", "calendar", 24),), "notify_centre"),
    "start_callback": ("callback", (), (("callback", W, 16),), None),
    "record_callback": ("closed", (), (), None),
}

INSERT_TICKET = """INSERT INTO tickets (definition_name, definition_version, state, version,
    round, category, urgency, channel, summary, co_units, excluded, fields, contact_name,
    contact_phone, contact_address, idempotency_key, seq, head_hash, created_at, updated_at)
    VALUES (:definition, 1, 'received', 0, 1, :category, :urgency, :channel, :summary, '[]', FALSE,
    '{}', NULL, NULL, NULL, NULL, 0, '', :now, :now)"""
BY_VERSION = "WHERE id = :id AND version = :old_version"
INSERT_EVENT = """INSERT INTO events (ticket_id, seq, "trigger", from_state, to_state, actor,
    payload, occurred_at, prev_hash, hash) VALUES (:ticket_id, :seq, :trigger, :from_state,
    :to_state, :actor, :payload, :occurred_at, :prev_hash, :hash)"""
LOAD_TICKET = "SELECT * FROM tickets WHERE id = ?"
OPEN_DEADLINES = "SELECT * FROM deadlines WHERE ticket_id = ? AND status IN (?, ?) ORDER BY id"
DEADLINE = ("kind", "state", "status", "measure", "window", "consumed", "running_since", "due_at")
DEADLINE += ("fire_at", "rung", "opened_at", "closed_at", "claimed_by", "claimed_until")
COLUMNS = ", ".join(f'"{c}"' for c in DEADLINE)  # quoted: WINDOW is reserved in PostgreSQL
INSERT_DEADLINE = f"INSERT INTO deadlines (ticket_id, {COLUMNS}) VALUES (:ticket_id, "
INSERT_DEADLINE += ", ".join(f":{c}" for c in DEADLINE) + ")"
UPDATE_DEADLINE = "UPDATE deadlines SET " + ", ".join(f'"{c}" = :{c}' for c in DEADLINE)
UPDATE_DEADLINE += " WHERE id = :id"
MET = {"status": "met", "fire_at": None, "claimed_by": None, "claimed_until": None}
INSERT_OUTBOX = """INSERT INTO outbox (ticket_id, handler, "key", payload, status, attempts,
    next_attempt_at, created_at) VALUES (?, ?, ?, ?, 'pending', 0, ?, ?)"""
COUNT_ROWS = """SELECT 'tickets', count(*) FROM tickets
    UNION ALL SELECT 'ticket updates (sum of versions)', sum(version) FROM tickets
    UNION ALL SELECT 'events', count(*) FROM events UNION ALL SELECT 'outbox', count(*) FROM outbox
    UNION ALL SELECT 'deadlines ' || status, count(*) FROM deadlines GROUP BY status"""
PG_SERVER = os.environ.get("HOTLINE_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
# Datetimes as SQLAlchemy stores them in SQLite: naive UTC with microseconds.
sqlite3.register_adapter(datetime, lambda at: at.strftime("%Y-%m-%d %H:%M:%S.%f"))


def hotline_lifecycle(service: Service) -> None:
    ticket = service.submit(INTAKE)
    for trigger, fields in STEPS:
        service.fire(ticket.id, trigger, fields)


def durability(store: SqlStore) -> dict[str, str]:
    """The store's own settings that decide what a commit costs (read, not assumed)."""
    with store.engine.connect() as conn:
        return {p: str(conn.exec_driver_sql(f"PRAGMA {p}").scalar()) for p in DURABILITY}


DURABILITY = ("journal_mode", "synchronous", "foreign_keys")


def raw_connection(path: Path, settings: dict[str, str]) -> sqlite3.Connection:
    store = SqlStore(f"sqlite:///{path}")
    store.migrate()
    store.close()
    conn = sqlite3.connect(path, isolation_level=None)
    conn.row_factory = sqlite3.Row
    for pragma, value in settings.items():
        conn.execute(f"PRAGMA {pragma}={value}")
    return conn


def raw_lifecycle(conn: sqlite3.Connection) -> None:
    """One transaction a command, as the store does; submit first inserts the ticket."""
    ticket_id = None
    for trigger, fields in [("submit", {}), *STEPS]:
        now = datetime.now(UTC)
        conn.execute("BEGIN IMMEDIATE")
        with conn:  # COMMIT, or ROLLBACK on an exception
            if ticket_id is None:
                ticket_id, old = insert_ticket(conn, now)
                write_transition(conn, ticket_id, trigger, fields, now, old)
            else:
                write_transition(conn, ticket_id, trigger, fields, now)


def insert_ticket(conn: sqlite3.Connection, now: datetime) -> tuple[int, dict]:
    """The new ticket's row, as the store knows it without reading it back."""
    values = vars(INTAKE) | {"definition": loader.DEFAULT, "now": now}
    tid = conn.execute(INSERT_TICKET, values).lastrowid
    row = {"id": tid, "state": "received", "version": 0, "round": 1, "lead_unit": None}
    row |= {"excluded": 0, "updated_at": now}
    return tid, row | vars(INTAKE) | {"co_units": "[]", "fields": "{}", "seq": 0, "head_hash": ""}


def write_transition(conn: sqlite3.Connection, tid: int, trigger: str, fields, now, old=None):
    """What ``SqlStore._apply`` writes: ticket, chained event, deadlines, outbox."""
    dest, met, opens, handler = PLANS[trigger]
    running = []
    if old is None:
        old = dict(conn.execute(LOAD_TICKET, (tid,)).fetchone())
        running = conn.execute(OPEN_DEADLINES, (tid, "pending", "paused")).fetchall()
    first = trigger == "submit"
    actor, source = ("intake", None) if first else ("system", old["state"])
    payload = {k: old[k] for k in INTAKE_KEYS} if first else fields
    chained = (tid, old["seq"] + 1, old["head_hash"], trigger, source, dest, actor, payload, now)
    event = vars(history.seal(*chained))
    new = update_ticket(conn, old, event, fields, now)
    conn.execute(INSERT_EVENT, event | {"payload": json.dumps(event["payload"])})
    if opens:
        conn.executemany(INSERT_DEADLINE, [opened(tid, dest, *rule, now) for rule in opens])
    if done := [d for d in running if not met or d["kind"] in met]:
        conn.executemany(UPDATE_DEADLINE, [dict(d) | MET | {"closed_at": now} for d in done])
    if handler:
        enqueue(conn, new, event, handler, now)


def update_ticket(conn: sqlite3.Connection, old: dict, event: dict, fields, now) -> dict:
    """The optimistic-lock UPDATE; command fields other than columns go to the JSON fields."""
    merged = json.loads(old["fields"]) | {k: v for k, v in fields.items() if k != "lead_unit"}
    if event["trigger"] == "respond":  # the record_response action
        merged |= {"responded_round": old["round"], "responded_at": now.isoformat()}
    new = {"state": event["to_state"], "version": old["version"] + 1, "seq": event["seq"]}
    new |= {"head_hash": event["hash"], "fields": json.dumps(merged), "updated_at": now}
    new |= {"lead_unit": fields.get("lead_unit", old["lead_unit"])}
    changed = {k: v for k, v in new.items() if v != old[k]}  # as the store: changed columns only
    sql = f"UPDATE tickets SET {', '.join(f'{k} = :{k}' for k in changed)} {BY_VERSION}"
    if conn.execute(sql, changed | {"id": old["id"], "old_version": old["version"]}).rowcount != 1:
        raise RuntimeError(f"ticket {old['id']} changed under us")
    return old | new


def opened(tid: int, state: str, kind: str, measure: str, hours: int, now: datetime) -> dict:
    window, due = hours * 3600, now + timedelta(hours=hours)
    row = dict.fromkeys(DEADLINE) | {"ticket_id": tid, "kind": kind, "state": state, "rung": 0}
    row |= {"status": "pending", "measure": measure, "window": window, "consumed": 0}
    return row | {"running_since": now, "due_at": due, "fire_at": due, "opened_at": now}


def enqueue(conn: sqlite3.Connection, new: dict, event: dict, handler: str, now) -> None:
    message = {"ticket_id": new["id"], "trigger": event["trigger"], "from": event["from_state"]}
    message |= {"to": event["to_state"], "seq": event["seq"], "category": new["category"]}
    message |= {"lead_unit": new["lead_unit"], "co_units": json.loads(new["co_units"])}
    key = f"{new['id']}:{event['seq']}:{handler}"
    conn.execute(INSERT_OUTBOX, (new["id"], handler, key, json.dumps(message), now, now))


@contextmanager
def every_connection(engine: sa.Engine, seen: list[str]) -> Iterator[None]:
    """Trace what SQLite runs on every connection ``engine`` hands out, whether through
    SQLAlchemy or straight on the DB-API connection (BEGIN and COMMIT included)."""

    def trace(dbapi_connection: sqlite3.Connection, *_: object) -> None:
        dbapi_connection.set_trace_callback(seen.append)

    def untrace(dbapi_connection: sqlite3.Connection, *_: object) -> None:
        dbapi_connection.set_trace_callback(None)

    sa.event.listen(engine, "checkout", trace)
    sa.event.listen(engine, "checkin", untrace)
    try:
        yield
    finally:
        sa.event.remove(engine, "checkout", trace)
        sa.event.remove(engine, "checkin", untrace)


@contextmanager
def one_connection(conn: sqlite3.Connection, seen: list[str]) -> Iterator[None]:
    conn.set_trace_callback(seen.append)
    try:
        yield
    finally:
        conn.set_trace_callback(None)


def timed(run: Callable[[], None], tickets: int) -> tuple[float, float]:
    """Transitions a second over ``tickets`` lifecycles, and the CPU time (µs) of one: the
    machine is shared, and CPU time is what another process's load changes least."""
    start, cpu = time.perf_counter(), time.process_time()
    for _ in range(tickets):
        run()
    transitions = tickets * PER_LIFECYCLE
    cpu_us = (time.process_time() - cpu) / transitions * 1e6
    return transitions / (time.perf_counter() - start), cpu_us


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=400, help="lifecycles a round and side")
    parser.add_argument("--repeats", type=int, default=5, help="rounds (medians are compared)")
    parser.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--file", type=Path, help="a new SQLite file (the raw one adds .raw)")
    parser.add_argument("--url", default=PG_SERVER, help="PostgreSQL server to bench on")
    parser.add_argument("--replicas", type=int, default=1, help="worker processes (postgres)")
    args = parser.parse_args()
    if args.db == "postgres":
        import lifecycle_pg  # beside this file

        return lifecycle_pg.main(args.url, args.tickets, args.replicas, args.repeats)
    if args.replicas != 1:
        parser.error("--replicas needs --db postgres: SQLite takes one writer at a time")
    path = args.file or Path(tempfile.mkdtemp(prefix="hotline-bench-")) / "hotline.db"
    raw_path = path.with_name(path.name + ".raw")
    if path.exists() or raw_path.exists():
        parser.error(f"{path} or {raw_path} exists: the benchmark needs fresh files")

    store = SqlStore(f"sqlite:///{path}")
    store.migrate()
    service = Service(store)
    service.install_shipped()
    settings = durability(store)
    conn = raw_connection(raw_path, settings)
    ours, theirs = (lambda: hotline_lifecycle(service)), (lambda: raw_lifecycle(conn))
    ours()  # warm-up: compiles the definition, reads the webhook subscriptions
    theirs()
    h_sql: list[str] = []
    r_sql: list[str] = []
    with every_connection(store.engine, h_sql):
        ours()
    with one_connection(conn, r_sql):
        theirs()
    print(f"SQLite {', '.join(f'{k}={v}' for k, v in settings.items())} on both sides")
    rates: dict[str, list[float]] = {"hotline": [], "raw": []}
    cpu: dict[str, list[float]] = {"hotline": [], "raw": []}
    for round_ in range(1, args.repeats + 1):
        for label, run in (("hotline", ours), ("raw", theirs)):
            rate, cpu_us = timed(run, args.tickets)
            rates[label].append(rate)
            cpu[label].append(cpu_us)
        shown = "  ".join(f"{label} {r[-1]:8.1f}" for label, r in rates.items())
        print(f"round {round_}: transitions/s  {shown}")
    h_rate, r_rate = (statistics.median(r) for r in rates.values())
    paired = statistics.median(h / r for h, r in zip(*rates.values(), strict=True))
    h_cpu, r_cpu = (statistics.median(c) for c in cpu.values())
    print(f"{'median transitions/s':40}{h_rate:9.1f}{r_rate:9.1f}")
    print(f"{'median CPU µs a transition':40}{h_cpu:9.1f}{r_cpu:9.1f}  (ratio {r_cpu / h_cpu:.2f})")
    print(f"{'median lifecycles/s':40}{h_rate / PER_LIFECYCLE:9.1f}{r_rate / PER_LIFECYCLE:9.1f}")
    print(f"ratio hotline/raw {h_rate / r_rate:.2f} of the medians, {paired:.2f} the median of")
    print(f"the rounds' ratios ({PER_LIFECYCLE} transitions a lifecycle; targets >= 5,000/s, 0.5)")
    store.close()
    print(f"{'files in ' + str(path.parent):40}{'hotline':>9}{'raw':>9}")
    print(f"{'statements a lifecycle (every connection)':40}{len(h_sql):>9}{len(r_sql):>9}")
    ours_rows, theirs_rows = (
        dict(sqlite3.connect(f).execute(COUNT_ROWS)) for f in (path, raw_path)
    )
    for label in ours_rows | theirs_rows:
        print(f"{label:40}{ours_rows.get(label, 0):>9}{theirs_rows.get(label, 0):>9}")
    conn.close()


if __name__ == "__main__":
    main()
