"""`hotline soak` as a user runs it: real `hotline run` replicas (three on PostgreSQL) killed and
paused on an accelerated clock while tickets and commands arrive; it must find every promise
kept. ``HOTLINE_SOAK_SECONDS`` makes the run longer (a nightly soak)."""

from __future__ import annotations

import os
import re
import subprocess
import sys

SECONDS = os.environ.get("HOTLINE_SOAK_SECONDS", "40")


def figures(line: str) -> dict[str, int]:
    """``kills 4 · pauses 4 · tickets 206 · …`` as a dict."""
    return {name: int(n) for name, n in re.findall(r"([a-z][a-z ]*?) (\d+)(?: ·|$| min)", line)}


def test_soak_finds_every_promise_kept(store):
    replicas = "3" if store.url.startswith("postgresql") else "1"
    command = ["soak", "--seconds", SECONDS, "--replicas", replicas, "--db", store.url]
    done = subprocess.run(
        [sys.executable, "-m", "hotline.cli.main", *command],
        capture_output=True,
        text=True,
        timeout=float(SECONDS) + 120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    found = figures(done.stdout.strip())
    assert done.stdout.strip().endswith("OK")
    assert found["lost"] == found["duplicated"] == found["unfired"] == 0
    assert found["kills"] >= 3 and found["pauses"] >= 3
    assert found["tickets"] > 100 and found["commands"] > 100 and found["lost replies"] > 0
    assert found["rungs"] > 20 and found["messages"] > 100


def test_soak_refuses_a_database_that_holds_tickets(store, new_ticket, service):
    new_ticket()
    done = subprocess.run(
        [sys.executable, "-m", "hotline.cli.main", "soak", "--seconds", "1", "--db", store.url],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1
    assert "holds 1 ticket(s): a soak checks every row" in done.stderr
    assert "Traceback" not in done.stderr
