"""``hotline ARGS`` run on a database ``hotline simulate`` filled (shared by report tests)."""

from __future__ import annotations

from typer.testing import CliRunner

from hotline.cli.main import app

runner = CliRunner()


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
