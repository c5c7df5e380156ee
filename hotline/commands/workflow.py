"""``hotline workflow …``: validate and inspect workflow definitions."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from hotline import errors
from hotline.commands.common import DbOption, open_service, out, user_errors
from hotline.persistence import db
from hotline.workflows import loader

workflow_app = typer.Typer(help="Validate and inspect workflow definitions.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(workflow_app, name="workflow")


@workflow_app.command("validate")
@user_errors
def workflow_validate(path: Path) -> None:
    """Check a definition file; print every problem with its line."""
    if not path.is_file():
        raise errors.HotlineError(f"no such file: {path}")
    definition, _ = loader.load_file(path)
    out.print(
        f"{path}: valid ({len(definition.states)} states, "
        f"{len(definition.transitions)} transitions)"
    )


@workflow_app.command("show")
@user_errors
def workflow_show(name: str = loader.DEFAULT, db_url: DbOption = db.DEFAULT_URL) -> None:
    """The states and transitions of a stored definition (newest version)."""
    compiled = open_service(db_url).compiled(name)
    definition = compiled.definition
    out.print(f"[bold]{definition.name}@{compiled.version}[/bold] {definition.title}")
    table = Table("trigger", "from", "to", "guards", "fields")
    for t in definition.transitions:
        guards = [*t.conditions, *(f"not {g}" for g in t.unless)]
        fields = [f"{k}{'*' if spec.required else ''}" for k, spec in t.fields.items()]
        table.add_row(
            t.trigger,
            ", ".join(t.source),
            t.dest or "(stays)",
            ", ".join(guards),
            ", ".join(fields),
        )
    out.print(table)
