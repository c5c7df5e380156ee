"""``hotline run`` serves the API beside the daemon; tokens come from ``hotline token``."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time

import httpx
from typer.testing import CliRunner

from hotline.cli.main import app

runner = CliRunner()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_until_serving(url: str, process: subprocess.Popen, timeout: float = 30) -> None:
    give_up = time.monotonic() + timeout
    while time.monotonic() < give_up:
        assert process.poll() is None, process.stderr.read()
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.TransportError:
            process.stderr.readline()  # wait on the server's log (a line per sweep), not a sleep
    raise AssertionError(f"{url} never answered")


def test_run_serves_the_api_with_a_token_and_stops_on_sigterm(tmp_path, monkeypatch):
    # Given an initialised database and an operator token made with the CLI
    url = f"sqlite:///{tmp_path / 'serve.db'}"
    monkeypatch.setenv("HOTLINE_DB_URL", url)
    assert runner.invoke(app, ["init"]).exit_code == 0
    made = runner.invoke(app, ["token", "create", "--role", "operator", "--name", "desk-1"])
    assert made.exit_code == 0, made.stderr
    token = made.stdout.strip()
    port = _free_port()

    # When `hotline run` is started on a free port
    process = subprocess.Popen(
        [sys.executable, "-m", "hotline.cli.main", "run", "--port", str(port)],
        env={**os.environ, "HOTLINE_DB_URL": url, "HOTLINE_LOG_LEVEL": "DEBUG"},
        stderr=subprocess.PIPE,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_until_serving(f"{base}/metrics", process)
        # Then the token submits a ticket, the docs are served, and a revoked token stops working
        headers = {"Authorization": f"Bearer {token}"}
        body = {"category": "noise", "summary": "drilling at night"}
        created = httpx.post(f"{base}/api/v1/tickets", json=body, headers=headers)
        assert created.status_code == 201, created.text
        assert httpx.get(f"{base}/docs").status_code == 200
        assert runner.invoke(app, ["token", "revoke", "desk-1"]).exit_code == 0
        assert httpx.post(f"{base}/api/v1/tickets", json=body, headers=headers).status_code == 401
    finally:
        process.send_signal(signal.SIGTERM)
        code = process.wait(timeout=30)
        log = process.stderr.read()
        process.stderr.close()
    assert code == 0, log
    assert "daemon" in log and "stopped" in log
    listed = runner.invoke(app, ["token", "list"], env={"COLUMNS": "200"})
    assert "desk-1" in listed.stdout and token not in listed.stdout


def test_token_mistakes_are_one_error_line_and_write_nothing(tmp_path, monkeypatch):
    monkeypatch.setenv("HOTLINE_DB_URL", f"sqlite:///{tmp_path / 'tokens.db'}")
    assert runner.invoke(app, ["init"]).exit_code == 0
    for args, message in (
        (["--role", "boss", "--name", "a"], "unknown role 'boss'; known: operator"),
        (["--role", "unit", "--name", "a"], "--unit is required for the unit role"),
        (["--role", "unit", "--unit", "nowhere", "--name", "a"], "--unit 'nowhere': no such unit"),
        (["--role", "admin", "--unit", "water-group", "--name", "a"], "and only for it"),
    ):
        result = runner.invoke(app, ["token", "create", *args])
        assert result.exit_code == 1 and message in result.stderr, result.stderr
    assert runner.invoke(app, ["token", "create", "--role", "admin", "--name", "a"]).exit_code == 0
    again = runner.invoke(app, ["token", "create", "--role", "admin", "--name", "a"])
    assert "exists already" in again.stderr
    assert "no active token named 'b'" in runner.invoke(app, ["token", "revoke", "b"]).stderr


def test_serve_with_two_workers_answers_on_one_port_and_stops_on_sigterm(tmp_path, monkeypatch):
    # Given an initialised database and an operator token
    url = f"sqlite:///{tmp_path / 'workers.db'}"
    monkeypatch.setenv("HOTLINE_DB_URL", url)
    assert runner.invoke(app, ["init"]).exit_code == 0
    made = runner.invoke(app, ["token", "create", "--role", "operator", "--name", "desk-1"])
    token, port = made.stdout.strip(), _free_port()

    # When `hotline serve --workers 2` is started
    process = subprocess.Popen(
        [sys.executable, "-m", "hotline.cli.main", "serve", "--port", str(port), "--workers", "2"],
        env={**os.environ, "HOTLINE_DB_URL": url},
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_for_port(f"{base}/metrics", process)
        # Then its workers take in tickets on the one database
        headers = {"Authorization": f"Bearer {token}"}
        body = {"category": "noise", "summary": "drilling at night"}
        ids = [
            httpx.post(f"{base}/api/v1/tickets", json=body, headers=headers, timeout=30).json()[
                "id"
            ]
            for _ in range(4)
        ]
        assert sorted(ids) == [1, 2, 3, 4]
    finally:
        # And SIGTERM stops the parent and its workers
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=60) == 0


def _wait_for_port(url: str, process: subprocess.Popen, timeout: float = 60) -> None:
    """Poll ``url``; between tries wait on the process itself, so that a crash ends the wait."""
    give_up = time.monotonic() + timeout
    while time.monotonic() < give_up:
        try:
            httpx.get(url, timeout=5)
            return
        except httpx.TransportError:
            try:
                process.wait(timeout=0.2)
            except subprocess.TimeoutExpired:
                continue
            raise AssertionError(f"the server exited with {process.returncode}") from None
    raise AssertionError(f"{url} never answered")
