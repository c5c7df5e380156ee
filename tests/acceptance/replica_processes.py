"""Helpers for the replica tests: `hotline run` processes and a set-based pile of due rows.

Kept out of conftest so the names read at the call site; imported as ``replica_processes`` by the
tests next to it (pytest puts this folder on ``sys.path``).
"""

from __future__ import annotations

import inspect
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from datetime import datetime, timedelta

import sqlalchemy as sa

from hotline.cli import daemon as cli

# Where `hotline run` also serves the HTTP API (issue 6), replicas on one machine would compete
# for its port: these tests run the daemon alone.
NO_API = ["--no-api"] if "api" in inspect.signature(cli.run).parameters else []

# The real `hotline run` with its service clock shifted (hotline.clock.OffsetClock): a replica
# living past every lease, instead of a test waiting for the leases in real time.
AHEAD = """
import sys
from datetime import timedelta
from hotline.cli import common, daemon, main
from hotline.clock import OffsetClock
clock = OffsetClock(timedelta(seconds=float(sys.argv[1])))
daemon.open_service = lambda url: common.open_service(url, clock)
main.app(sys.argv[2:])
"""


class Replica:
    """A `hotline run` subprocess whose log lines can be awaited (never slept for)."""

    def __init__(self, url: str, *args: str, ahead: timedelta | None = None) -> None:
        env = {**os.environ, "HOTLINE_DB_URL": url, "HOTLINE_LOG_LEVEL": "INFO"}
        run = ["run", "--safety", "0.2", *NO_API, *args]
        if ahead is None:
            command = [sys.executable, "-m", "hotline.cli.main", *run]
        else:
            command = [sys.executable, "-c", AHEAD, str(ahead.total_seconds()), *run]
        self.process = subprocess.Popen(command, env=env, stderr=subprocess.PIPE, text=True)
        self.lines: queue.Queue[str | None] = queue.Queue()
        self.seen: list[str] = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        self.owner = ""

    def _read(self) -> None:
        for line in self.process.stderr:
            self.lines.put(line)
        self.lines.put(None)  # end of output: the process is gone

    def wait_for(self, text: str, timeout: float = 30) -> str:
        """The first line containing ``text``; fail loudly on silence, exit or timeout."""
        give_up = time.monotonic() + timeout
        while (left := give_up - time.monotonic()) > 0:
            try:
                line = self.lines.get(timeout=left)
            except queue.Empty:
                break
            if line is None:
                raise AssertionError(f"exited before {text!r}:\n{self.tail()}")
            self.seen.append(line)
            if text in line:
                return line
        raise AssertionError(f"no {text!r} within {timeout}s; saw:\n{self.tail()}")

    def started(self) -> str:
        """Wait until the daemon runs; remember its owner name (host:pid)."""
        self.owner = self.wait_for(" started on ").split("daemon ")[1].split(" started")[0]
        return self.owner

    def exit_code(self, timeout: float = 60) -> int:
        try:
            code = self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            raise AssertionError(f"still running after {timeout}s:\n{self.tail()}") from None
        self.reader.join(timeout=10)
        return code

    def kill(self) -> int:
        self.process.send_signal(signal.SIGKILL)
        return self.exit_code(timeout=10)

    def tail(self) -> str:
        while not self.lines.empty():
            line = self.lines.get()
            if line is not None:
                self.seen.append(line)
        return "".join(self.seen[-20:])

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)
        self.process.stderr.close()


def pile_of_due_deadlines(engine: sa.Engine, count: int, now: datetime) -> None:
    """``count`` received noise tickets whose 2 h intake deadline fell due an hour ago.

    A fixture shortcut: set-based SQL writes the rows the service would write at intake (one
    ticket and one pending deadline each, without the intake event), so that making 10,000 of
    them takes a second rather than a minute. Every firing still goes through the daemon.
    """
    opened, due = now - timedelta(hours=3), now - timedelta(hours=1)
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                """INSERT INTO tickets (definition_name, definition_version, state, version,
                round, category, urgency, channel, summary, co_units, excluded, fields, seq,
                head_hash, created_at, updated_at)
                SELECT 'beijing-12345', 1, 'received', 0, 1, 'noise', 'normal', 'phone',
                'bulk ' || n, '[]', false, '{}', 0, '', :opened, :opened
                FROM generate_series(1, :count) AS n"""
            ),
            {"opened": opened, "count": count},
        )
        conn.execute(
            sa.text(
                """INSERT INTO deadlines (ticket_id, kind, state, status, measure, "window",
                consumed, running_since, due_at, fire_at, rung, opened_at)
                SELECT id, 'intake', 'received', 'pending', 'calendar', 7200, 0, :opened,
                :due, :due, 0, :opened FROM tickets"""
            ),
            {"opened": opened, "due": due},
        )
