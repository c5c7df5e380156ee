"""Several `hotline run` replicas on one PostgreSQL database share the work, firing each
deadline exactly once, and take over what a killed replica had claimed once its lease ends."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from alembic.script import ScriptDirectory
from replica_processes import Replica, pile_of_due_deadlines

from hotline.engine.history import broken_links
from hotline.persistence import db, migrations
from hotline.persistence import replicas as heartbeats
from hotline.persistence.rows import deadlines, events, outbox
from hotline.persistence.sql import SqlStore
from hotline.persistence.tables import FiringRow
from hotline.service import Intake

on_postgres = pytest.mark.parametrize("store", ["postgres"], indirect=True)
firings = FiringRow.__table__


@pytest.fixture
def spawn(store):
    """Builder: start a replica on the test database; every one is reaped at the end."""
    started: list[Replica] = []

    def build(*args: str, ahead: timedelta | None = None) -> Replica:
        started.append(Replica(store.url, *args, ahead=ahead))
        return started[-1]

    yield build
    for replica in started:
        replica.close()


def fired_by(store) -> Counter:
    """How many rungs each replica fired, and checks that none fired twice."""
    with store.engine.connect() as conn:
        rows = conn.execute(sa.select(firings.c.deadline_id, firings.c.fired_by)).all()
    assert len({deadline for deadline, _ in rows}) == len(rows)  # (deadline, rung) unique too
    return Counter(owner for _, owner in rows)


def overdue_events_per_ticket(store) -> Counter:
    query = sa.select(events.c.ticket_id).where(events.c.trigger == "overdue")
    with store.engine.connect() as conn:
        return Counter(conn.execute(query).scalars())


@on_postgres
def test_three_replicas_fire_ten_thousand_due_deadlines_exactly_once_between_them(
    store, service, spawn
):
    # Given 10,000 deadlines due at once and three replicas held at the door by a table lock
    pile_of_due_deadlines(store.engine, 10_000, datetime.now(UTC))
    with store.engine.connect() as gate:
        gate.exec_driver_sql("BEGIN; LOCK TABLE deadlines IN EXCLUSIVE MODE")
        three = [spawn("--exit-when-idle", "--batch", "100") for _ in range(3)]
        owners = {replica.started() for replica in three}
        gate.rollback()  # When they are let in together

        # Then they finish by themselves, every deadline fired once, by all three
        assert [replica.exit_code(timeout=90) for replica in three] == [0, 0, 0]
    shares = fired_by(store)
    assert sum(shares.values()) == 10_000
    assert set(shares) == owners and min(shares.values()) >= 500, shares
    assert set(overdue_events_per_ticket(store).values()) == {1}
    assert len(overdue_events_per_ticket(store)) == 10_000
    with store.engine.connect() as conn:
        left = conn.execute(
            sa.select(sa.func.count()).where(
                sa.or_(deadlines.c.fire_at.is_not(None), deadlines.c.claimed_by.is_not(None))
            )
        ).scalar_one()
    assert left == 0
    seen = heartbeats.seen_since(store, datetime.now(UTC) - timedelta(minutes=5))
    assert {r.owner for r in seen} == owners and all(r.stopped_at for r in seen)


@on_postgres
def test_a_replica_killed_mid_batch_leaves_its_claims_to_another_after_the_lease(
    store, service, spawn
):
    # Given one replica that claimed all 600 due deadlines in one batch and fired a few
    pile_of_due_deadlines(store.engine, 600, datetime.now(UTC))
    victim = spawn("--batch", "600", "--lease", "120")
    victim.started()
    victim.wait_for(": overdue intake")

    # When it is killed with SIGKILL in the middle of that batch
    assert victim.kill() == -9
    with store.engine.connect() as conn:
        stranded = set(
            conn.execute(
                sa.select(deadlines.c.id).where(
                    deadlines.c.claimed_by == victim.owner, deadlines.c.fire_at.is_not(None)
                )
            ).scalars()
        )
    before = fired_by(store)
    assert before[victim.owner] > 0 and stranded, "killed before or after its batch"

    # Then a replica started now leaves them alone: the lease holds
    early = spawn("--exit-when-idle")
    early.started()
    assert early.exit_code() == 0 and fired_by(store)[early.owner] == 0

    # And a replica whose clock is past the lease fires exactly what was left
    heir = spawn("--exit-when-idle", ahead=timedelta(seconds=121))
    heir.started()
    assert heir.exit_code() == 0
    after = fired_by(store)
    assert after[victim.owner] == before[victim.owner]
    assert after[heir.owner] == len(stranded) == 600 - before[victim.owner]
    with store.engine.connect() as conn:
        taken = conn.execute(
            sa.select(firings.c.deadline_id).where(firings.c.fired_by == heir.owner)
        ).scalars()
        assert set(taken) == stranded
        messages = Counter(conn.execute(sa.select(outbox.c.status)).scalars())
    assert set(overdue_events_per_ticket(store).values()) == {1}
    assert messages == {"delivered": 600}  # the notices too, whoever had claimed them


# Each worker fires `extend` on one ticket as soon as the test says go (a line on stdin).
EXTENDER = """
import sys
from hotline.persistence.sql import SqlStore
from hotline.service import Service
url, ticket, worker, count = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
service = Service(SqlStore(url))
service.compiled("beijing-12345")
print("ready", flush=True)
sys.stdin.readline()
for n in range(count):
    fields = {"by": "1h", "reason": f"{worker}-{n}", "approver": "li", "explained": "sms"}
    service.fire(ticket, "extend", fields, actor=worker)
print("done", flush=True)
"""


@on_postgres
def test_two_hundred_concurrent_fires_on_one_ticket_leave_a_gap_free_history(store, service):
    # Given a dispatched ticket and four processes ready to extend it fifty times each
    ticket = service.submit(Intake("noise", "night works"))
    ticket = service.fire(ticket.id, "dispatch", {"lead_unit": "street-jianwai", "route": "direct"})
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", EXTENDER, store.url, str(ticket.id), f"p{k}", "50"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for k in range(4)
    ]
    try:
        assert [w.stdout.readline() for w in workers] == ["ready\n"] * 4

        # When they all fire at once
        for w in workers:
            w.stdin.write("go\n")
            w.stdin.flush()
        outputs = [w.communicate(timeout=60) for w in workers]
    finally:
        for w in workers:
            w.kill()
    assert [w.returncode for w in workers] == [0] * 4, outputs

    # Then every write is in the history once, in a gap-free, verifying chain
    history = service.history(ticket.id)
    extends = [e for e in history if e.trigger == "extend"]
    assert [e.seq for e in history] == list(range(1, 203))
    assert broken_links(history) == []
    assert service.get(ticket.id).version == len(history) == 202
    assert Counter(e.actor for e in extends) == {f"p{k}": 50 for k in range(4)}
    assert len({e.payload["reason"] for e in extends}) == 200
    [before] = [d for d in ticket.deadlines if d.kind == "handling"]
    [after] = [d for d in service.store.deadlines(ticket.id) if d.kind == "handling"]
    assert after.window == before.window + 200 * 3600  # 1 h of working time, 200 times


WAITING = "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"


def test_replicas_running_init_together_on_an_empty_database_all_succeed(empty_database):
    # Given an empty database, and three replicas' `hotline init` queued on the migration lock
    plain = empty_database.replace("postgresql+psycopg://", "postgresql://")
    gate = sa.create_engine(empty_database, isolation_level="AUTOCOMMIT")
    with gate.connect() as conn:
        conn.exec_driver_sql(f"SELECT pg_advisory_lock({migrations.LOCK_KEY})")
        inits = [
            subprocess.Popen(
                [sys.executable, "-m", "hotline.cli.main", "init"],
                env={**os.environ, "HOTLINE_DB_URL": plain},
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(3)
        ]
        give_up = time.monotonic() + 30
        while conn.exec_driver_sql(WAITING).scalar_one() < 3:  # a query, not a sleep
            assert time.monotonic() < give_up, "the inits never queued on the lock"
            assert all(p.poll() is None for p in inits), [p.communicate() for p in inits]

        # When they are let go together
        conn.exec_driver_sql(f"SELECT pg_advisory_unlock({migrations.LOCK_KEY})")
    gate.dispose()
    outputs = [p.communicate(timeout=60) for p in inits]

    # Then each succeeds, and the schema and the shipped workflows are there once
    assert [p.returncode for p in inits] == [0, 0, 0], outputs
    assert all("database ready" in out and "beijing-12345@1" in out for out, _ in outputs)
    migrated = SqlStore(db.normalise(plain))
    try:
        assert migrated.latest_definition_version("beijing-12345") == 1
        with migrated.engine.connect() as conn:
            current = conn.exec_driver_sql("SELECT version_num FROM alembic_version").all()
        assert current == [(ScriptDirectory.from_config(migrations.config()).get_current_head(),)]
    finally:
        migrated.close()
