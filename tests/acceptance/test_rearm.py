"""The daemon's real scheduler rearms the sweep after it has returned: a rung that falls due
while a sweep is still running fires as soon as that sweep ends, not at the safety interval
(APScheduler skips a run whose previous one is still going)."""

from __future__ import annotations

import sqlite3
import threading
import time
from datetime import UTC, datetime, timedelta

from apscheduler.executors.base import BaseExecutor

from hotline.daemon.scheduler import Daemon
from hotline.persistence.sql import SqlStore
from hotline.service import Intake, Service

SAFETY = 60.0  # seconds: far longer than the test may wait


def due_at(path, ticket_id: int, at: datetime) -> None:
    """Move the ticket's pending rungs to fall due at ``at`` (as ``bench/deadlines.py`` does)."""
    stamp = at.replace(tzinfo=None).isoformat(" ")
    with sqlite3.connect(path) as db:
        db.execute(
            "UPDATE deadlines SET fire_at = ?, due_at = ?"
            " WHERE ticket_id = ? AND status = 'pending'",
            (stamp, stamp, ticket_id),
        )


def fired(path) -> list[int]:
    with sqlite3.connect(path) as db:
        query = (
            "SELECT d.ticket_id FROM deadline_firings AS f"
            " JOIN deadlines AS d ON d.id = f.deadline_id"
        )
        return sorted(row[0] for row in db.execute(query))


def test_a_rung_due_while_a_sweep_runs_fires_when_it_ends_not_at_the_safety_interval(
    tmp_path, monkeypatch
):
    # Given a ticket whose rung is due now and one whose rung falls due while the first sweep is
    # still firing (a slow firing), with a safety interval of a minute, on a busy machine: the
    # worker thread is slow to tell the scheduler its sweep has ended (as under load)
    finish = BaseExecutor._run_job_success

    def slow_to_finish(executor, job_id, events):
        threading.Event().wait(0.2)
        finish(executor, job_id, events)

    monkeypatch.setattr(BaseExecutor, "_run_job_success", slow_to_finish)
    path = tmp_path / "hotline.db"
    store = SqlStore(f"sqlite:///{path}")
    store.migrate()
    service = Service(store)
    service.install_shipped()
    first, second = (service.submit(Intake("noise", "loud")).id for _ in range(2))
    now = datetime.now(UTC)
    due_at(path, first, now - timedelta(seconds=1))
    due_at(path, second, now + timedelta(seconds=0.3))
    fire = service.fire_deadlines

    def slow_firing(claims):
        while datetime.now(UTC) < now + timedelta(seconds=0.5):  # the second falls due meanwhile
            threading.Event().wait(0.01)
        return fire(claims)

    service.fire_deadlines = slow_firing  # type: ignore[method-assign]

    # When the daemon runs (polled, bounded: the outcome is the scheduler thread's)
    daemon = Daemon(service, safety=SAFETY)
    daemon.start()
    try:
        give_up = time.monotonic() + 20
        while len(fired(path)) < 2 and time.monotonic() < give_up:
            threading.Event().wait(0.05)
    finally:
        daemon.stop()

    # Then both fired, the second right after the first sweep, not a minute later
    assert fired(path) == [first, second]
