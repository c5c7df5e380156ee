"""Acceptance fixtures: the ``hotline`` command run as a user runs it."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from hotline.cli.main import app

runner = CliRunner()


@pytest.fixture
def hotline(tmp_path, monkeypatch):
    """Run ``hotline ARGS`` against a fresh database; return (exit code, stdout, stderr)."""
    monkeypatch.setenv("HOTLINE_DB_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.setenv("COLUMNS", "200")

    def run(*args: str):
        result = runner.invoke(app, list(args))
        return result.exit_code, result.stdout, result.stderr

    return run
