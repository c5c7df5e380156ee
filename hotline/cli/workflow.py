"""``hotline workflow …``: validate, publish, list, inspect and compare workflow definitions.

Migration and graphs live in ``workflow_migrate`` and ``workflow_graph``; ``register`` adds
them to the same ``workflow`` group (they import ``common``, never this module).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.markup import escape
from rich.table import Table

from hotline import errors, workflows
from hotline.cli import workflow_graph, workflow_migrate, workflow_whatif
from hotline.cli.common import (
    DEFAULT_DB,
    DbOption,
    RefArgument,
    open_service,
    out,
    parse_ref,
    user_errors,
)

if TYPE_CHECKING:
    from hotline.service import Service

workflow_app = typer.Typer(
    help="Validate, publish, inspect, migrate and draw workflow definitions.",
    no_args_is_help=True,
)


def register(app: typer.Typer) -> None:
    workflow_graph.register(workflow_app)
    workflow_migrate.register(workflow_app)
    workflow_whatif.register(workflow_app)
    app.add_typer(workflow_app, name="workflow")


def _read(path: Path) -> str:
    if not path.is_file():
        raise errors.HotlineError(f"no such file: {path}")
    from hotline.workflows import loader

    return loader.read_file(path)  # the size is checked before reading, then UTF-8


@workflow_app.command("validate")
@user_errors
def workflow_validate(path: Path) -> None:
    """Check a definition file; print every problem with its line."""
    from hotline.workflows import loader

    definition = loader.parse(_read(path), str(path))
    out.print(
        f"{path}: valid ({len(definition.states)} states, "
        f"{len(definition.transitions)} transitions)"
    )


@workflow_app.command("publish")
@user_errors
def workflow_publish(path: Path, db_url: DbOption = DEFAULT_DB) -> None:
    """Validate a definition file and store it as the next version of its name.

    An invalid file is refused with every problem listed, and nothing is stored. New tickets
    use the newest version; running tickets stay on theirs until migrated.
    """
    from hotline.engine import diff
    from hotline.workflows import loader

    source = _read(path)
    service = open_service(db_url)
    name = loader.parse(source, str(path)).name
    previous = _latest(service, name)
    _, version = service.publish(source, str(path))
    if version == previous:
        out.print(f"{name}@{version} already holds this text: nothing published")
        return
    out.print(f"published {name}@{version}")
    if previous is not None:
        old = service.compiled(name, previous).definition
        changes = diff.diff(old, service.compiled(name, version).definition)
        out.print(f"changes from {name}@{previous}:", *changes, sep="\n  ", highlight=False)


def _latest(service: Service, name: str) -> int | None:
    try:
        return service.latest_version(name)
    except errors.UnknownDefinition:
        return None


@workflow_app.command("list")
@user_errors
def workflow_list(db_url: DbOption = DEFAULT_DB) -> None:
    """Every stored version, with the tickets pinned to it."""
    service = open_service(db_url)
    found = service.definition_versions(lambda n: service.compiled(n).definition.final)
    newest = {v.name: v.version for v in found}
    table = Table("definition", "published (UTC)", "checksum", "running", "tickets", "")
    for v in found:
        table.add_row(
            f"{v.name}@{v.version}",
            f"{v.published_at:%Y-%m-%d %H:%M}",
            v.checksum[:12],
            str(v.running),
            str(v.total),
            "newest" if newest[v.name] == v.version else "",
        )
    out.print(table)


@workflow_app.command("show")
@user_errors
def workflow_show(ref: RefArgument = workflows.DEFAULT, db_url: DbOption = DEFAULT_DB) -> None:
    """The states and transitions of a stored definition: NAME (newest) or NAME@VERSION."""
    name, version = parse_ref(ref)
    compiled = open_service(db_url).compiled(name, version)
    definition = compiled.definition
    title = f"[bold]{definition.name}@{compiled.version}[/bold] {escape(definition.title)}"
    out.print(title, markup=True)
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


@workflow_app.command("diff")
@user_errors
def workflow_diff(old: str, new: str, db_url: DbOption = DEFAULT_DB) -> None:
    """What changed from NAME@1 to NAME@2: every section, matched by name or code."""
    from hotline.engine import diff

    service = open_service(db_url)
    (old_name, old_version), (new_name, new_version) = parse_ref(old), parse_ref(new)
    before = service.compiled(old_name, old_version)
    after = service.compiled(new_name, new_version)
    changes = diff.diff(before.definition, after.definition)
    title = f"{old_name}@{before.version} -> {new_name}@{after.version}"
    if not changes:
        out.print(f"{title}: no differences")
        return
    out.print(f"{title}: {len(changes)} change(s)", *changes, sep="\n  ", highlight=False)
