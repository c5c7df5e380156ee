"""``hotline workflow migrate``: move running tickets to another version of their definition."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer
from rich.progress import Progress
from rich.table import Table

from hotline import admin
from hotline.cli.common import DEFAULT_DB, DbOption, err, open_service, out, user_errors

if TYPE_CHECKING:
    from hotline.admin import versions as versioning


def register(workflow_app: typer.Typer) -> None:
    workflow_app.command("migrate")(user_errors(workflow_migrate))


def workflow_migrate(
    name: Annotated[str, typer.Argument(help="The definition's name.")],
    from_version: Annotated[int, typer.Option("--from", help="Version the tickets are on.")],
    to_version: Annotated[int, typer.Option("--to", help="Version to move them to.")],
    map_: Annotated[
        list[str] | None,
        typer.Option("--map", help="old_state=new_state for a state the new version lacks."),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Only say what would move; write nothing.")
    ] = False,
    batch: Annotated[
        int, typer.Option(envvar="HOTLINE_MIGRATE_BATCH", help="Tickets per transaction.")
    ] = admin.MIGRATION_BATCH,
    actor: str = "admin",
    db_url: DbOption = DEFAULT_DB,
) -> None:
    """Move running tickets from --from to --to, keeping every deadline clock.

    Refused, naming them, if some tickets are in states the new version lacks and --map does
    not place. Safe to run again after an interruption: moved tickets are skipped.
    """
    from hotline.admin import versions as versioning

    service = open_service(db_url)
    pairs = versioning.mapping(map_ or [])
    chosen = versioning.plan(service, name, from_version, to_version, pairs)
    out.print(_moves(chosen))
    if dry_run:
        out.print("dry run: nothing was written")
        return
    with Progress(console=err, transient=False) as progress:
        task = progress.add_task("migrating", total=chosen.total)
        moved = versioning.migrate(
            service, chosen, actor, batch, lambda n: progress.advance(task, n)
        )
    out.print(f"migrated {moved} ticket(s) from {name}@{from_version} to {name}@{to_version}")


def _moves(chosen: versioning.Plan) -> Table:
    source, target = chosen.source, chosen.target
    title = f"{chosen.total} running ticket(s): {chosen.name}@{source.version} -> @{target.version}"
    table = Table("from state", "to state", "tickets", title=title, title_justify="left")
    for (old, new), n in chosen.moves.items():
        table.add_row(old, new, str(n))
    return table
