"""``hotline run`` as a real process: it catches up after downtime and stops cleanly."""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta

import pytest

from hotline.clock import FrozenClock
from hotline.persistence.sql import SqlStore
from hotline.service import Intake, Service

DISPATCH = {"lead_unit": "water-group", "route": "direct"}


class Daemon:
    """A `hotline run` subprocess whose log lines can be awaited (never slept for)."""

    def __init__(self, url: str) -> None:
        env = {**os.environ, "HOTLINE_DB_URL": url, "HOTLINE_LOG_LEVEL": "DEBUG"}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "hotline.cli.main", "run", "--safety", "0.2", "--no-api"],
            env=env,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        for line in self.process.stderr:
            self.lines.put(line)

    def wait_for(self, text: str, timeout: float = 30) -> str:
        give_up = time.monotonic() + timeout
        while time.monotonic() < give_up:
            line = self.lines.get(timeout=timeout)  # raises queue.Empty if the process is mute
            self.seen.append(line)
            if text in line:
                return line
        raise AssertionError(f"no {text!r} within {timeout}s; saw:\n{''.join(self.seen[-20:])}")

    def stop(self) -> int:
        self.process.send_signal(signal.SIGTERM)
        code = self.process.wait(timeout=30)
        self.reader.join(timeout=30)  # every line read, up to end of file
        self.process.stderr.close()
        return code


@pytest.fixture
def overdue_database(tmp_path):
    """Three utility tickets dispatched three days ago: every rung of theirs is overdue."""
    url = f"sqlite:///{tmp_path / 'daemon.db'}"
    store = SqlStore(url)
    store.migrate()
    service = Service(store, FrozenClock(datetime.now(UTC) - timedelta(days=3)))
    service.install_shipped()
    for _ in range(3):
        ticket = service.submit(Intake("water-supply", "no water"))
        service.fire(ticket.id, "dispatch", DISPATCH)
    yield url, store
    store.close()


def test_the_daemon_fires_what_fell_due_while_it_was_down_then_stops_on_sigterm(
    overdue_database,
):
    url, store = overdue_database
    daemon = Daemon(url)
    daemon.wait_for("started")
    daemon.wait_for("sweep done: 6 fired")  # response and handling of three tickets

    assert daemon.stop() == 0
    daemon.wait_for("stopped")
    fired = [line for line in daemon.seen if "escalate handling level" in line]
    assert len(fired) == 9  # levels 1, 2 and 3 of three tickets, one log line each

    again = Daemon(url)  # restarted: nothing fires twice
    again.wait_for("sweep done: 0 fired")
    assert again.stop() == 0
    levels = [
        e.payload["level"] for t in (1, 2, 3) for e in store.events(t) if e.trigger == "escalate"
    ]
    assert levels == [1, 2, 3] * 3
