"""``hotline soak``: kill and pause real daemons on an accelerated clock, then check from the
database that nothing was lost, duplicated or left unfired (exit code 1 if anything was)."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated

import typer

from hotline import errors
from hotline.cli.common import err, out, user_errors


def register(app: typer.Typer) -> None:
    app.command("soak")(soak_command)


@user_errors
def soak_command(
    seconds: Annotated[float, typer.Option(help="Real seconds of kills, pauses and traffic.")] = 60,
    replicas: Annotated[int, typer.Option(help="`hotline run` replicas (1 on SQLite).")] = 1,
    speed: Annotated[float, typer.Option(help="Service seconds per real second.")] = 3600,
    intake: Annotated[float, typer.Option(help="New tickets per real second.")] = 10,
    lost: Annotated[float, typer.Option(help="Share of replies lost (then resent).")] = 0.05,
    seed: Annotated[int, typer.Option(help="The same seed, the same choices.")] = 1,
    db_url: Annotated[
        str | None,
        typer.Option("--db", help="An EMPTY database (default: a new SQLite file in a temp dir)."),
    ] = None,
) -> None:
    """Run real `hotline run` replicas on an accelerated clock, SIGKILL and SIGSTOP them at
    random moments while clients submit tickets and commands (some replies lost and resent),
    then check from the database: each due rung fired once, no intake lost or duplicated,
    every message delivered, every command applied once, the history chains verify."""
    from hotline.soak import run

    if seconds <= 0 or replicas < 1 or speed <= 0 or intake <= 0 or not 0 <= lost < 1:
        raise errors.HotlineError(
            "--seconds, --replicas, --speed and --intake must be positive, --lost in [0, 1)"
        )
    url = db_url or f"sqlite:///{Path(tempfile.mkdtemp(prefix='hotline-soak-')) / 'soak.db'}"
    if url.startswith("sqlite") and replicas > 1:
        raise errors.HotlineError("SQLite has one writer: soak replicas on PostgreSQL")
    plan = run.Plan(url, seconds, replicas, speed, intake, lost, seed=seed)
    verdict, chaos = run.soak(plan, say=err.print)
    for problem in verdict.problems[:20]:
        err.print(f"problem: {problem}")
    out.print(
        f"kills {chaos.kills} · pauses {chaos.pauses} · tickets {verdict.tickets} · "
        f"commands {verdict.commands} · lost replies {verdict.replies_lost} · "
        f"busy retries {verdict.busy_retries} · rungs {verdict.rungs} · "
        f"messages {verdict.messages} · "
        f"lost {verdict.lost} · duplicated {verdict.duplicated} · unfired {verdict.unfired} · "
        f"p99 lateness {verdict.p99_late / 60:.1f} min (service time) · "
        + ("OK" if verdict.ok else "FAILED"),
        soft_wrap=True,
    )
    if not verdict.ok:
        raise typer.Exit(1)
