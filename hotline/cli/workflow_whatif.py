"""``hotline workflow what-if``: replay a past period under a draft (or another published
version) and show its figures beside what happened. The replay is
``hotline.simulation.whatif``; this module reads the options and formats its document."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.progress import Progress
from rich.table import Table

from hotline import errors
from hotline.cli import report, terminal
from hotline.cli.common import DEFAULT_DB, DbOption, err, open_service, parse_ref, user_errors
from hotline.engine import periods

if TYPE_CHECKING:
    from hotline.engine.machine import CompiledDefinition
    from hotline.service import Service

SHOWN = 20  # refused commands listed in the table (json lists them all, up to its limit)


def register(workflow_app: typer.Typer) -> None:
    workflow_app.command("what-if")(user_errors(workflow_whatif))


def workflow_whatif(
    draft: Annotated[
        str,
        typer.Argument(help="A draft definition file, or a published NAME@VERSION."),
    ],
    period: report.PeriodOption,
    unit: Annotated[
        str | None,
        typer.Option(envvar="HOTLINE_WHATIF_UNIT", help="Only this lead unit's tickets."),
    ] = None,
    category: Annotated[
        str | None,
        typer.Option(envvar="HOTLINE_WHATIF_CATEGORY", help="Only this category's tickets."),
    ] = None,
    against: Annotated[
        int | None,
        typer.Option(
            envvar="HOTLINE_WHATIF_AGAINST",
            help="Compare with this published version replayed the same way "
            "(default: what was recorded, judged by the rules in force then).",
        ),
    ] = None,
    sweep: Annotated[
        str | None,
        typer.Option(
            envvar="HOTLINE_WHATIF_SWEEP",
            help="Fire due rungs at sweeps this far apart, e.g. 1h (default: when due).",
        ),
    ] = None,
    fmt: report.FormatOption = report.Format.table,
    chart: report.ChartOption = None,
    as_of: report.AsOfOption = None,
    db_url: DbOption = DEFAULT_DB,
) -> None:
    """Replay every ticket received in --period under DRAFT, in memory (nothing is written):
    deadlines missed, reminders, escalations, automatic whistles, callbacks, and each unit's
    three rates, composite and rank beside what happened, with the change; commands DRAFT
    would refuse are counted and listed."""
    from hotline.simulation import whatif

    report.check_chart(chart)
    service = open_service(db_url)
    compiled, label = _draft(service, draft)
    request = whatif.Request(
        periods.parse(period), unit, category, report.instant(as_of), whatif.sweep_interval(sweep)
    )
    total = whatif.count(service, compiled, request)
    with Progress(console=err, transient=True) as bar:
        task = bar.add_task("replaying", total=total)
        found = whatif.run(
            service, compiled, request, label, against, lambda n: bar.advance(task, n)
        )
    document = found.document()
    _emit(document, fmt)
    if chart:
        _chart(document, chart)


def _draft(service: Service, given: str) -> tuple[CompiledDefinition, str]:
    """The definition to replay under: a file's draft, or a published version."""
    from hotline.simulation import whatif
    from hotline.workflows import loader

    path = Path(given)
    if path.suffix.lower() in (".yaml", ".yml") or path.exists():
        if not path.is_file():
            raise errors.HotlineError(f"no such file: {path}")
        return whatif.draft(service, loader.read_file(path), str(path)), str(path)
    name, version = parse_ref(given)
    compiled = service.compiled(name, version)
    return compiled, f"{name}@{compiled.version}"


def _emit(document: dict[str, Any], fmt: report.Format) -> None:
    from hotline.simulation import whatif

    if fmt is report.Format.json:
        sys.stdout.write(json.dumps(document, ensure_ascii=False, indent=2) + "\n")
    elif fmt is report.Format.csv:
        report.emit({"rows": whatif.rows(document)}, fmt, "")
    else:
        _tables(document)


def _tables(document: dict[str, Any]) -> None:
    """Three tables: units side by side, what the deadlines did, what was refused."""
    console = terminal.SafeConsole(width=1000)
    title = f"what-if {document['period']}: {document['draft']} against {document['baseline']}"
    units = Table("unit", "composite", "change", "rank", "response", "resolution", "satisfaction")
    for unit in [*document["units"], document["total"]]:
        change = unit["change"]
        units.add_row(
            unit["group"],
            _pair(unit, "composite"),
            _signed(change["composite"]),
            _pair(unit, "rank"),
            _pair(unit, "response_rate"),
            _pair(unit, "resolution_rate"),
            _pair(unit, "satisfaction_rate"),
        )
    units.title = title
    console.print(units)
    activity = document["activity"]
    deeds = Table("figure", "actual", "draft", "change", title="what deadlines and whistles did")
    for name, value in activity["baseline"].items():
        if isinstance(value, int):
            deeds.add_row(
                name, str(value), str(activity["draft"][name]), _signed(activity["change"][name])
            )
    console.print(deeds)
    refused = document["refused"]
    console.print(f"commands the draft refuses: {refused['count']}")
    for r in refused["listed"][:SHOWN]:
        console.print(f"  ticket {r['ticket']} {r['trigger']} at {r['at']}: {r['reason']}")


def _pair(unit: dict[str, Any], name: str) -> str:
    before = (unit["baseline"] or {}).get(name)
    after = (unit["draft"] or {}).get(name)
    return f"{'-' if before is None else before} → {'-' if after is None else after}"


def _signed(value: float | None) -> str:
    return "-" if value is None else f"{value:+g}"


def _chart(document: dict[str, Any], path: Path) -> None:
    from hotline.reports import charts

    units = document["units"]
    series = {
        side: [(u[side] or {}).get("composite") for u in units] for side in ("baseline", "draft")
    }
    title = f"composite by unit, {document['period']}: actual and draft"
    charts.paired_bars(path, title, [u["group"] for u in units], series, "points")
