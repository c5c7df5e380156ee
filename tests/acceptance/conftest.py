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


def simulated(folder, *simulate: str):
    """``hotline ARGS`` on a database in ``folder`` that ``hotline simulate SIMULATE``
    filled first; returns (exit code, stdout, stderr) of each run."""
    url = f"sqlite:///{folder / 'sim.db'}"

    def run(*args: str):
        result = runner.invoke(app, [*args, "--db", url], env={"COLUMNS": "200"})
        return result.exit_code, result.stdout, result.stderr

    code, out, _ = run("simulate", *simulate)
    assert code == 0, out
    return run
