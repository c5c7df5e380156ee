"""``hotline report …``: the assessment (三率, composite, rankings, 每月一题, whistles) as table,
CSV, JSON or chart. The numbers come from ``hotline.reports.assessment`` and
``hotline.reports.whistles``, the documents from ``hotline.reports.documents``; this module only
formats them. They, and matplotlib for ``--chart``, are imported inside the commands."""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Sequence
from datetime import UTC, date, datetime
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from hotline import clock, errors, reports, workflows
from hotline.cli import terminal
from hotline.cli.common import DEFAULT_DB, DbOption, open_service, out, user_errors
from hotline.engine import periods

if TYPE_CHECKING:
    from hotline.reports import assessment

MAX_BEFORE = reports.MAX_MONTHS_BEFORE
report_app = typer.Typer(
    help="Assessment reports: 三率, composite, rankings, 每月一题.", no_args_is_help=True
)


class Format(StrEnum):
    table = "table"
    csv = "csv"
    json = "json"


FormatOption = Annotated[
    Format, typer.Option("--format", envvar="HOTLINE_REPORT_FORMAT", help="Output format.")
]
ChartOption = Annotated[
    Path | None, typer.Option("--chart", help="Also draw the report into this PNG file.")
]
PeriodOption = Annotated[str, typer.Option(help="2022-07, 2022-01..2022-07, 2022-W28, 2022-07-15.")]
AsOfOption = Annotated[
    str | None,
    typer.Option(
        "--as-of", envvar="HOTLINE_REPORT_AS_OF", help="Read the history up to this ISO instant."
    ),
]


RulesOption = Annotated[
    int | None,
    typer.Option(
        "--rules",
        envvar="HOTLINE_REPORT_RULES",
        help="The definition version whose rules apply (default: the one in force then).",
    ),
]
RecomputeOption = Annotated[
    bool,
    typer.Option(
        "--recompute",
        envvar="HOTLINE_REPORT_RECOMPUTE",
        help="Count from the raw history, not the tickets' facts (same numbers, slower).",
    ),
]
WorkflowOption = Annotated[
    str,
    typer.Option(
        "--workflow", envvar="HOTLINE_WORKFLOW", help="The workflow whose tickets are assessed."
    ),
]


def register(app: typer.Typer) -> None:
    app.add_typer(report_app, name="report")


@report_app.command("rates")
@user_errors
def report_rates(
    period: PeriodOption,
    by: Annotated[str, typer.Option(help="unit, district, category, day, week or month.")] = "unit",
    unit: Annotated[str | None, typer.Option(help="Only this lead unit's tickets.")] = None,
    fmt: FormatOption = Format.table,
    chart: ChartOption = None,
    as_of: AsOfOption = None,
    rules: RulesOption = None,
    workflow: WorkflowOption = workflows.DEFAULT,
    recompute: RecomputeOption = False,
    db_url: DbOption = DEFAULT_DB,
) -> None:
    """The three rates, composite, 双是/双否/非双是, rank and change by group over a period,
    under the rules in force at the period's end (or the version ``--rules`` names)."""
    from hotline.reports import assessment

    check_chart(chart)
    service = open_service(db_url)
    chosen = periods.parse(period)
    found = assessment.rates(service, chosen, by, unit, instant(as_of), workflow, rules, recompute)  # type: ignore[arg-type]
    title = f"rates {found.period} by {found.by} (previous: {found.previous}; rules {found.rules})"
    _emit_rates(found, fmt, title)
    if chart:
        _chart_rates(found, chart)


@report_app.command("ranking")
@user_errors
def report_ranking(
    period: Annotated[
        str, typer.Option(help="day, week or month (the one containing --as-of).")
    ] = "day",
    fmt: FormatOption = Format.table,
    chart: ChartOption = None,
    as_of: AsOfOption = None,
    rules: RulesOption = None,
    workflow: WorkflowOption = workflows.DEFAULT,
    recompute: RecomputeOption = False,
    db_url: DbOption = DEFAULT_DB,
) -> None:
    """日监控排名 / 周调度 / 月通报: units ranked by composite score."""
    from hotline.reports import assessment, charts

    check_chart(chart)
    service = open_service(db_url)
    found = assessment.ranking(service, period, instant(as_of), workflow, rules, recompute)  # type: ignore[arg-type]
    _emit_rates(found, fmt, f"ranking of units, {found.period} (rules {found.rules})")
    if chart:
        labels = [r.group for r in found.rows]
        values = [r.rates.composite for r in found.rows]
        charts.bars(chart, f"composite score, {found.period}", labels, values, "points")


@report_app.command("hot-topics")
@user_errors
def report_hot_topics(
    month: Annotated[str, typer.Option(help="The month, e.g. 2022-07.")],
    months_before: Annotated[
        int, typer.Option(help=f"Months the growth compares with (1 to {MAX_BEFORE}).")
    ] = 3,
    fmt: FormatOption = Format.table,
    chart: ChartOption = None,
    as_of: AsOfOption = None,
    workflow: WorkflowOption = workflows.DEFAULT,
    recompute: RecomputeOption = False,
    db_url: DbOption = DEFAULT_DB,
) -> None:
    """每月一题 candidates: categories by volume, growth, 非双是 share and units spanned."""
    from hotline.reports import assessment, charts
    from hotline.reports import documents as report_documents

    check_chart(chart)
    chosen = periods.parse(month)
    if chosen.grain != "month" or chosen.count != 1:
        raise errors.HotlineError(f"--month {month!r}: name one month, e.g. 2022-07")
    if not 1 <= months_before <= MAX_BEFORE:
        raise errors.HotlineError(
            f"--months-before {months_before}: must be from 1 to {MAX_BEFORE} months"
        )
    service = open_service(db_url)
    topics = assessment.hot_topics(
        service, chosen, months_before, instant(as_of), workflow, recompute
    )
    document = report_documents.hot_topics(chosen.label, topics)
    emit(document, fmt, f"每月一题 candidates, {chosen.label}")
    if chart:
        labels = [t.category for t in topics]
        charts.bars(
            chart,
            f"tickets by category, {chosen.label}",
            labels,
            [t.received for t in topics],
            "tickets",
        )


@report_app.command("whistles")
@user_errors
def report_whistles(
    period: PeriodOption,
    unit: Annotated[
        str | None, typer.Option(help="Only this department's row (ranked among all).")
    ] = None,
    fmt: FormatOption = Format.table,
    chart: ChartOption = None,
    db_url: DbOption = DEFAULT_DB,
) -> None:
    """吹哨报到: departments by in-time report rate; summoned, reported, median, absences."""
    from hotline.reports import charts
    from hotline.reports import documents as report_documents
    from hotline.reports import whistles as whistle_report

    check_chart(chart)
    found = whistle_report.report(open_service(db_url), periods.parse(period), unit)
    title = f"whistle answers by department, {found.period} (previous: {found.previous})"
    emit(report_documents.whistles(found), fmt, title)
    if chart:
        labels = [r.stats.department for r in found.rows]
        values = [r.rate for r in found.rows]
        charts.bars(chart, f"in-time report rate, {found.period}", labels, values, "percent")


@report_app.command("outcomes")
@user_errors
def report_outcomes(
    period: PeriodOption,
    field: Annotated[
        str | None,
        typer.Option(help="Count by this field of the events too, e.g. reason_code (Art. 11)."),
    ] = None,
    trigger: Annotated[
        list[str] | None, typer.Option(help="Only these triggers (repeat the option).")
    ] = None,
    by_unit: Annotated[
        bool, typer.Option("--by-unit", help="Also by the unit holding the ticket at the time.")
    ] = False,
    fmt: FormatOption = Format.table,
    db_url: DbOption = DEFAULT_DB,
) -> None:
    """Events of a period by trigger (by a field's value, by unit): closings by Art. 11 reason
    code (--field reason_code), objections filed, confirmed and rejected per unit (Art. 12:
    --trigger return --trigger confirm_objection --trigger reject_objection --by-unit)."""
    service = open_service(db_url)
    zone = service.compiled(workflows.DEFAULT).calendar.timezone
    start, end = periods.parse(period).instants(zone)
    found = service.count_outcomes(start, end, field, trigger or (), by_unit)
    rows = [
        {"trigger": o.trigger}
        | ({field: o.value} if field else {})
        | ({"unit": o.unit} if by_unit else {})
        | {"count": o.count}
        for o in found
    ]
    emit({"period": period, "field": field, "rows": rows}, fmt, f"outcomes, {period}")


@report_app.command("adjust")
@user_errors
def report_adjust(
    unit: Annotated[str, typer.Option(help="The unit the points are for.")],
    day: Annotated[str, typer.Option(help="The day they count on (YYYY-MM-DD).")],
    points: Annotated[float, typer.Option(help="Bonus (positive) or penalty (negative).")],
    reason: Annotated[str, typer.Option(help="Why, e.g. a hard case resolved.")],
    approver: Annotated[str, typer.Option(help="Who signed it off.")],
    db_url: DbOption = DEFAULT_DB,
) -> None:
    """Record bonus or penalty points on a unit's composite score (加分 / 扣分)."""
    from hotline import workflows
    from hotline.reports import assessment

    service = open_service(db_url)
    assessment.check_unit(service.compiled(workflows.DEFAULT).definition, unit)
    if not reason.strip() or not approver.strip():
        raise errors.HotlineError("an adjustment needs a reason and an approver")
    try:
        on = date.fromisoformat(day)
    except ValueError:
        raise errors.HotlineError(f"--day {day!r}: write it as YYYY-MM-DD") from None
    number = service.add_adjustment(unit, on, points, reason, approver)
    out.print(f"adjustment {number}: {points:+g} points for {unit} on {on}")


def check_chart(path: Path | None) -> None:
    """Refuse a chart that could not be written before any work is done."""
    if path is None:
        return
    if path.suffix.lower() != ".png":
        raise errors.HotlineError(f"--chart {path}: charts are PNG files; name it *.png")
    if not path.parent.is_dir():
        raise errors.HotlineError(f"--chart {path}: no such directory {path.parent}")


def instant(text: str | None) -> datetime | None:
    if text is None:
        return None
    try:
        at = datetime.fromisoformat(text)
    except ValueError:
        raise errors.HotlineError(f"--as-of {text!r}: write an ISO date or instant") from None
    return clock.utc(at) if at.tzinfo else at.replace(tzinfo=UTC)


def _emit_rates(found: assessment.RatesReport, fmt: Format, title: str) -> None:
    from hotline.reports import documents as report_documents

    emit(report_documents.rates(found), fmt, title)


def emit(document: dict[str, Any], fmt: Format, title: str) -> None:
    """Write a report document to stdout: its rows as a rich table or CSV with a header, or
    the whole document as JSON."""
    if fmt is Format.json:
        sys.stdout.write(json.dumps(document, ensure_ascii=False, indent=2) + "\n")
        return
    records: Sequence[dict[str, Any]] = document["rows"]
    columns = list(records[0]) if records else ["group"]
    if fmt is Format.csv:
        writer = csv.DictWriter(sys.stdout, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        writer.writerows(records)
        return
    table = Table(*columns, title=title)
    for record in records:
        table.add_row(*("-" if v is None else str(v) for v in record.values()))
    terminal.SafeConsole(width=1000).print(table)  # as wide as it needs: numbers are never cut


def _chart_rates(found: assessment.RatesReport, path: Path) -> None:
    from hotline.reports import charts

    labels = [r.group for r in found.rows]
    if found.by in periods.GRAINS:
        series = {name: [getattr(r.rates, name) for r in found.rows] for name in charts.RATES}
        charts.trend(path, f"rates by {found.by}, {found.period}", labels, series)
    else:
        values = [r.rates.composite for r in found.rows]
        charts.bars(path, f"composite by {found.by}, {found.period}", labels, values, "points")
