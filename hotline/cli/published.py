"""``hotline report publish`` and ``hotline report published``: a period's ranking frozen as a
sealed snapshot (月通报), listed for auditors and compared with a recomputation."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from hotline import errors, workflows
from hotline.cli.common import DEFAULT_DB, DbOption, open_service, out, user_errors
from hotline.cli.report import (
    AsOfOption,
    Format,
    FormatOption,
    RulesOption,
    WorkflowOption,
    emit,
    instant,
)
from hotline.engine import periods

if TYPE_CHECKING:
    from hotline.reports import snapshots

Actor = Annotated[str, typer.Option(help="Who publishes it (sealed into the snapshot).")]


def register(app: typer.Typer) -> None:
    app.command("publish")(user_errors(publish))
    app.command("published")(user_errors(published))


def publish(
    period: Annotated[str, typer.Option(help="The period to freeze, e.g. 2026-03.")],
    rules: RulesOption = None,
    as_of: AsOfOption = None,
    workflow: WorkflowOption = workflows.DEFAULT,
    actor: Actor = "cli",
    db_url: DbOption = DEFAULT_DB,
) -> None:
    """Freeze a period's ranking of units as a sealed snapshot; it is never replaced."""
    from hotline.reports import snapshots

    chosen = periods.parse(period)
    found = snapshots.publish(open_service(db_url), chosen, actor, workflow, rules, instant(as_of))
    out.print(
        f"published {found.definition} {found.period} (snapshot {found.id}, rules "
        f"{found.rules}, {len(found.document['rows']) - 1} units); seal {found.seal}"
    )


def published(
    period: Annotated[
        str | None, typer.Option(help="Only this period (needed with --compare).")
    ] = None,
    compare: Annotated[
        bool, typer.Option("--compare", help="Compare the snapshot with a recomputation.")
    ] = False,
    fmt: FormatOption = Format.table,
    workflow: WorkflowOption = workflows.DEFAULT,
    db_url: DbOption = DEFAULT_DB,
) -> None:
    """Published snapshots (or, with --period P --compare, one against a recomputation)."""
    from hotline.reports import snapshots

    service = open_service(db_url)
    if compare:
        if period is None:
            raise errors.HotlineError("--compare needs --period: which published period?")
        found = snapshots.compare(service, periods.parse(period), workflow)
        _show_comparison(found, fmt)
        return
    listed = [
        s
        for s in snapshots.published(service, workflow)
        if period is None or s.period == periods.parse(period).label
    ]
    rows = [
        {
            "id": s.id,
            "period": s.period,
            "rules": s.rules,
            "as_of": s.as_of.isoformat(),
            "published_at": s.published_at.isoformat(),
            "published_by": s.published_by,
            "seal": s.seal,
        }
        for s in listed
    ]
    emit({"workflow": workflow, "rows": rows}, fmt, f"published rankings of {workflow}")


def _show_comparison(found: snapshots.Comparison, fmt: Format) -> None:
    record = found.record()
    if fmt is not Format.table:
        emit({**record, "rows": record["differences"]}, fmt, "")
        return
    s = found.snapshot
    seal = "intact" if found.intact else "BROKEN (the stored document was changed)"
    out.print(f"{s.definition} {s.period}: published {s.published_at:%Y-%m-%d %H:%M} UTC under "
              f"rules {s.rules}, read up to {s.as_of:%Y-%m-%d %H:%M} UTC; seal {seal}")  # fmt: skip
    if not found.differences:
        out.print("the recomputation gives the published figures")
        return
    table = Table("group", "field", "published", "recomputed", title="differences")
    for d in found.differences:
        table.add_row(d.group, d.field, str(d.published), str(d.recomputed))
    out.print(table)
