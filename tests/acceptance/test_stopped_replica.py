"""A replica stopped (SIGSTOP) while it holds its claim transaction open does not stall the
others: on PostgreSQL they skip its locked rows and the server ends its session after
``HOTLINE_PG_IDLE_IN_TRANSACTION_TIMEOUT``; on SQLite the others get a clear busy error after
the busy timeout instead of waiting forever.

The victim stops itself at the worst moment through a test hook (``HOTLINE_TEST_STOP_IN_CLAIM``:
after its claim statement, before its commit), so nothing here races it; the tests then wait,
bounded, on what the database and the logs say.
"""

from __future__ import annotations

import signal
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from replica_processes import Replica, pile_of_due_deadlines

from hotline import errors
from hotline.clock import FrozenClock
from hotline.persistence.sql import SqlStore
from hotline.persistence.tables import FiringRow
from hotline.service import Intake, Service

firings = FiringRow.__table__
DISPATCH = {"lead_unit": "street-jianwai", "route": "direct"}


@pytest.fixture
def spawn(store, monkeypatch):
    """Builder: a replica on the test database with extra environment; all reaped at the end."""
    started: list[Replica] = []

    def build(*args: str, **env: str) -> Replica:
        with monkeypatch.context() as patched:
            for name, value in env.items():
                patched.setenv(name, value)
            started.append(Replica(store.url, *args))
        return started[-1]

    yield build
    for replica in started:
        if replica.process.poll() is None:
            replica.process.send_signal(signal.SIGCONT)
        replica.close()


def until(condition: Callable[[], object], timeout: float = 60, what: str = "") -> object:
    """Poll ``condition`` until it is truthy; fail after ``timeout`` seconds."""
    give_up = time.monotonic() + timeout
    while time.monotonic() < give_up:
        if found := condition():
            return found
        time.sleep(0.05)
    raise AssertionError(f"not within {timeout}s: {what}")


def stopped(replica: Replica) -> bool:
    """Is the process stopped by a signal (state T in /proc)?"""
    stat = Path(f"/proc/{replica.process.pid}/stat").read_text()
    return stat.rsplit(")", 1)[1].split()[0] == "T"


def firings_by(store) -> dict[str, int]:
    """How many rungs each replica fired; fails if any (deadline, rung) fired twice."""
    with store.engine.connect() as conn:
        rows = conn.execute(sa.select(firings.c.deadline_id, firings.c.fired_by)).all()
    assert len({deadline for deadline, _ in rows}) == len(rows)
    counts: dict[str, int] = {}
    for _, owner in rows:
        counts[owner] = counts.get(owner, 0) + 1
    return counts


# Sessions on this database sitting in an open transaction for over a second.
HELD_OPEN = """SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()
    AND state = 'idle in transaction' AND state_change < now() - interval '1 second'"""


def progress_while_held(store, owner: str) -> bool:
    """In one snapshot: has ``owner`` fired rows while a transaction is still held open?"""
    query = f"""SELECT (SELECT count(*) FROM deadline_firings WHERE fired_by = :owner),
        ({HELD_OPEN})"""
    with store.engine.connect() as conn:
        fired, held = conn.execute(sa.text(query), {"owner": owner}).one()
    return fired > 0 and held > 0


@pytest.mark.parametrize("store", ["postgres"], indirect=True)
def test_a_replica_stopped_inside_its_claim_does_not_stall_the_others(store, service, spawn):
    # Given 200 due deadlines and a replica stopped right after claiming 50 of them, before
    # its commit: its transaction and its row locks stay open
    pile_of_due_deadlines(store.engine, 200, datetime.now(UTC))
    victim = spawn(
        "--batch",
        "50",
        HOTLINE_TEST_STOP_IN_CLAIM="deadlines",
        HOTLINE_PG_IDLE_IN_TRANSACTION_TIMEOUT="10s",
    )
    victim.started()
    until(lambda: stopped(victim), 30, "the victim stopping itself in its claim")

    # When another replica runs beside it
    other = spawn("--batch", "20")
    owner = other.started()

    # Then it fires other due rows while the victim still holds its transaction open ...
    until(lambda: progress_while_held(store, owner), 30, "firing beside the held transaction")
    # ... and, once the server has ended the victim's idle session, the victim's rows too:
    # every rung fired exactly once, all by the replica that kept going
    until(lambda: sum(firings_by(store).values()) == 200, 60, "all 200 rungs fired")
    assert firings_by(store) == {owner: 200} and stopped(victim)

    # And the victim, let go, finds its session gone, skips that claim and carries on
    victim.process.send_signal(signal.SIGCONT)
    victim.wait_for("claiming deadlines skipped")
    for replica in (victim, other):
        replica.process.send_signal(signal.SIGINT)
        assert replica.exit_code(timeout=30) == 0
    assert firings_by(store) == {owner: 200}


@pytest.mark.parametrize("store", ["sqlite"], indirect=True)
def test_a_writer_stopped_inside_its_transaction_makes_sqlite_writers_busy_not_hung(
    store, spawn, monkeypatch
):
    # Given due deadlines on SQLite and a replica stopped inside its claim transaction, which
    # holds the file's write lock
    service = Service(store, FrozenClock(datetime.now(UTC) - timedelta(days=1)))
    service.install_shipped()
    tickets = [service.submit(Intake("noise", "stopped writer")) for _ in range(5)]
    victim = spawn("--batch", "2", HOTLINE_TEST_STOP_IN_CLAIM="deadlines")
    victim.started()
    until(lambda: stopped(victim), 30, "the victim stopping itself in its claim")

    # When another replica sweeps, and an operator fires a command, with a short busy timeout
    other = spawn("--batch", "2", HOTLINE_SQLITE_BUSY_TIMEOUT="300ms")
    other.started()
    monkeypatch.setenv("HOTLINE_SQLITE_BUSY_TIMEOUT", "300ms")
    impatient = Service(SqlStore(store.url))
    started = time.monotonic()
    with pytest.raises(errors.Busy, match="HOTLINE_SQLITE_BUSY_TIMEOUT.*nothing was written"):
        impatient.fire(tickets[0].id, "dispatch", DISPATCH)
    waited = time.monotonic() - started

    # Then the command fails with a clear error after the busy timeout, not forever, and the
    # other replica skips its claim and keeps running
    assert 0.25 < waited < 10
    other.wait_for("claiming deadlines skipped")
    assert other.process.poll() is None

    # And once the writer resumes, every due rung is fired exactly once between them
    victim.process.send_signal(signal.SIGCONT)
    until(lambda: sum(firings_by(store).values()) == 5, 60, "all five rungs fired")
    assert "dispatch" not in [e.trigger for e in impatient.history(tickets[0].id)]  # refused
    impatient.store.close()
