"""Lifecycle throughput: the real Service against the same row writes in plain sqlite3.

Tickets go submit, dispatch, respond, reply, start_callback, record_callback, a transaction each;
the raw path writes the same rows with SqlStore's statements, on a connection with the store's own
journal mode and synchronous setting: ticket, chained event, deadlines, outbox, and the ticket's
assessment facts and its unit's daily rollup (``persistence.facts``; issue 18 asks for them in
the command's transaction), which raw code computes by hand for this lifecycle. A third side,
"bare", is the same raw path without the facts rows (the rows written before issue 18's
reports). Rounds alternate the sides (``--repeats``) and the medians are compared, since the
machine is shared. After a warm-up, one untimed lifecycle counts the statements SQLite runs on
every connection each side opens, and the row counts of the files show they write the same.
``--db postgres --replicas N`` does the same on PostgreSQL from N processes (lifecycle_pg.py),
whose raw side writes no facts rows yet.
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
from datetime import time as dt_time
from pathlib import Path

import sqlalchemy as sa

from hotline.engine import history, meanings
from hotline.persistence import facts
from hotline.persistence.sql import SqlStore
from hotline.persistence.tables import ROLLUP_KEY
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
# With its facts row (raw code reads both in one statement: the facts' old rollup key).
FACTS = ("entered", "via_district", "excluded", "responses", "late", "redone")
FACTS += ("first_callback", "last_callback", "day", "basis")
LOAD_WITH_FACTS = f"""SELECT t.*, {", ".join(f"f.{c} AS f_{c}" for c in FACTS)}
    FROM tickets t JOIN ticket_facts f ON f.ticket_id = t.id WHERE t.id = ?"""
INSERT_FACTS = """INSERT INTO ticket_facts (ticket_id, definition_name, created_at, day, lead_unit,
    category, basis, entered, via_district, excluded, responses, late, redone, changed_at)
    VALUES (:id, :definition, :now, :day, NULL, :category, :basis, 0, 0, 0, 0, 0, 0, :now)"""
UNCOUNT = "UPDATE fact_rollups SET n = n - 1 WHERE "
UNCOUNT += " AND ".join(f"{c} = :{c}" for c in ROLLUP_KEY)
COUNT = f"""INSERT INTO fact_rollups ({", ".join(ROLLUP_KEY)}, n, newest)
    VALUES ({", ".join(f":{c}" for c in ROLLUP_KEY)}, 1, :newest)
    ON CONFLICT ({", ".join(ROLLUP_KEY)}) DO UPDATE SET n = n + 1,
    newest = max(coalesce(newest, excluded.newest), excluded.newest)"""
# What each counted command changes in the facts row; the callback is seq × 10 + its answers'
# code (``facts.answer_code``: 3 for resolved, 0 for the first satisfaction level).
FACT_CHANGES = {"dispatch": {"entered": 1}, "respond": {"responses": 1}, "record_callback": {}}
ANSWERED = 3
_SHIPPED = loader.compile_source(loader.shipped_text(), 1, "shipped")
ZONE = _SHIPPED.calendar.timezone
BASIS = facts.basis(meanings.reading(_SHIPPED.definition), ZONE)  # the digest the store writes
UPDATE_FACTS = """UPDATE ticket_facts SET lead_unit = :lead_unit, entered = :entered,
    responses = :responses, first_callback = :first_callback, last_callback = :last_callback,
    changed_at = :now WHERE ticket_id = :id"""
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
    UNION ALL SELECT 'deadlines ' || status, count(*) FROM deadlines GROUP BY status
    UNION ALL SELECT 'ticket facts', count(*) FROM ticket_facts
    UNION ALL SELECT 'rollup rows with tickets', count(*) FROM fact_rollups WHERE n > 0
    UNION ALL SELECT 'tickets in rollups', sum(n) FROM fact_rollups"""
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


def raw_lifecycle(conn: sqlite3.Connection, with_facts: bool = True) -> None:
    """One transaction a command, as the store does; submit first inserts the ticket."""
    ticket_id = None
    for trigger, fields in [("submit", {}), *STEPS]:
        now = datetime.now(UTC)
        conn.execute("BEGIN IMMEDIATE")
        with conn:  # COMMIT, or ROLLBACK on an exception
            if ticket_id is None:
                ticket_id, old = insert_ticket(conn, now)
                write_transition(conn, ticket_id, trigger, fields, now, old, with_facts)
            else:
                write_transition(conn, ticket_id, trigger, fields, now, None, with_facts)


def insert_ticket(conn: sqlite3.Connection, now: datetime) -> tuple[int, dict]:
    """The new ticket's row, as the store knows it without reading it back."""
    values = vars(INTAKE) | {"definition": loader.DEFAULT, "now": now}
    tid = conn.execute(INSERT_TICKET, values).lastrowid
    row = {"id": tid, "state": "received", "version": 0, "round": 1, "lead_unit": None}
    row |= {"excluded": 0, "updated_at": now}
    return tid, row | vars(INTAKE) | {"co_units": "[]", "fields": "{}", "seq": 0, "head_hash": ""}


def write_transition(conn, tid: int, trigger: str, fields, now, old=None, with_facts=False):
    """What ``SqlStore._apply`` writes: ticket, chained event, deadlines, outbox, and with
    ``with_facts`` the facts and rollup rows (SQLite's syntax: lifecycle_pg.py leaves them out)."""
    dest, met, opens, handler = PLANS[trigger]
    running = []
    if old is None:
        old = dict(conn.execute(LOAD_WITH_FACTS if with_facts else LOAD_TICKET, (tid,)).fetchone())
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
    if with_facts and first:
        insert_facts(conn, new, now)
    elif with_facts and trigger in FACT_CHANGES:
        update_facts(conn, old, new, event, now)


def insert_facts(conn: sqlite3.Connection, new: dict, now: datetime) -> None:
    """The new ticket's facts row (nothing counted yet) and its place in its day's rollup."""
    local = now.astimezone(ZONE)
    day = datetime.combine(local.date(), dt_time(), ZONE).astimezone(UTC)
    row = {"id": new["id"], "definition": loader.DEFAULT, "now": now, "day": day}
    conn.execute(INSERT_FACTS, row | {"category": new["category"], "basis": BASIS})
    zero = dict.fromkeys(FACTS[:6], 0) | {"first_callback": None, "last_callback": None}
    conn.execute(COUNT, rollup_key(zero | {"day": day}, None) | {"newest": now})


def update_facts(conn: sqlite3.Connection, old: dict, new: dict, event: dict, now) -> None:
    """The facts row after a counted command, and the ticket moved between rollup rows."""
    before = {c: old[f"f_{c}"] for c in FACTS}
    after = before.copy()
    for name, added in FACT_CHANGES[event["trigger"]].items():
        after[name] = max(after[name], added) if name == "entered" else after[name] + added
    if event["trigger"] == "record_callback":
        code = event["seq"] * 10 + ANSWERED
        after["first_callback"] = before["first_callback"] or code
        after["last_callback"] = code
    conn.execute(UNCOUNT, rollup_key(before, old["lead_unit"]))
    changed = {c: after[c] for c in ("entered", "responses", "first_callback", "last_callback")}
    values = changed | {"lead_unit": new["lead_unit"], "now": now, "id": new["id"]}
    conn.execute(UPDATE_FACTS, values)
    conn.execute(COUNT, rollup_key(after, new["lead_unit"]) | {"newest": now})


def rollup_key(facts: dict, lead_unit: str | None) -> dict:
    """The rollup row a ticket with these facts counts in (``facts._rolled``)."""
    in_time = int(facts["responses"] > 0 and facts["late"] == 0)
    first, last = facts["first_callback"], facts["last_callback"]
    key = {c: facts[c] for c in ("day", "entered", "via_district", "excluded", "redone")}
    key |= {"definition_name": loader.DEFAULT, "lead_unit": lead_unit or "", "basis": BASIS}
    key |= {"first_answer": -1 if first is None else first % 10}
    return key | {"in_time": in_time, "last_answer": -1 if last is None else last % 10}


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
    bare = raw_connection(path.with_name(path.name + ".bare"), settings)
    sides = {
        "hotline": lambda: hotline_lifecycle(service),
        "raw": lambda: raw_lifecycle(conn),
        "bare": lambda: raw_lifecycle(bare, with_facts=False),
    }
    for run in sides.values():
        run()  # warm-up: compiles the definition, reads the webhook subscriptions
    statements: dict[str, list[str]] = {name: [] for name in sides}
    with every_connection(store.engine, statements["hotline"]):
        sides["hotline"]()
    for name, raw in (("raw", conn), ("bare", bare)):
        with one_connection(raw, statements[name]):
            sides[name]()
    print(f"SQLite {', '.join(f'{k}={v}' for k, v in settings.items())} on every side")
    rates: dict[str, list[float]] = {name: [] for name in sides}
    cpu: dict[str, list[float]] = {name: [] for name in sides}
    for round_ in range(1, args.repeats + 1):
        for label, run in sides.items():
            rate, cpu_us = timed(run, args.tickets)
            rates[label].append(rate)
            cpu[label].append(cpu_us)
        shown = "  ".join(f"{label} {r[-1]:8.1f}" for label, r in rates.items())
        print(f"round {round_}: transitions/s  {shown}")
    rate = {name: statistics.median(r) for name, r in rates.items()}
    used = {name: statistics.median(c) for name, c in cpu.items()}
    print(f"{'':40}{'hotline':>9}{'raw':>9}{'bare':>9}")
    print(f"{'median transitions/s':40}" + "".join(f"{rate[n]:9.1f}" for n in sides))
    print(f"{'median CPU µs a transition':40}" + "".join(f"{used[n]:9.1f}" for n in sides))
    print(f"{'median lifecycles/s':40}" + "".join(f"{rate[n] / PER_LIFECYCLE:9.1f}" for n in sides))
    for base in ("raw", "bare"):
        paired = statistics.median(
            h / r for h, r in zip(rates["hotline"], rates[base], strict=True)
        )
        print(
            f"ratio hotline/{base} {rate['hotline'] / rate[base]:.2f} of the medians,"
            f" {paired:.2f} the median of the rounds' ratios,"
            f" {used[base] / used['hotline']:.2f} of the CPU a transition"
        )
    print(f"({PER_LIFECYCLE} transitions a lifecycle; targets >= 5,000/s and >= 0.5x raw, the same")
    print("rows; bare is the raw path without the facts rows issue 18's reports added)")
    store.close()
    print(f"{'files in ' + str(path.parent):40}{'hotline':>9}{'raw':>9}{'bare':>9}")
    counts = [len(statements[n]) for n in sides]
    print(f"{'statements a lifecycle (every connection)':40}" + "".join(f"{c:>9}" for c in counts))
    files = (path, raw_path, path.with_name(path.name + ".bare"))
    found = [dict(sqlite3.connect(f).execute(COUNT_ROWS)) for f in files]
    for label in {k: None for rows in found for k in rows}:
        print(f"{label:40}" + "".join(f"{rows.get(label, 0) or 0:>9}" for rows in found))
    conn.close()
    bare.close()


if __name__ == "__main__":
    main()
