"""``hotline audit …`` and ``history --at``: what auditors run on the tamper-evident history."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.progress import Progress
from rich.table import Table

from hotline import clock, errors
from hotline.cli.common import DEFAULT_DB, DbOption, err, open_service, out, user_errors

if TYPE_CHECKING:
    from hotline.service import Service


audit_app = typer.Typer(
    help="Verify, seal and export the hash-chained history.", no_args_is_help=True
)
SealFile = Annotated[
    Path | None,
    typer.Option(envvar="HOTLINE_SEAL_FILE", help="The seal file kept outside the database."),
]


def register(app: typer.Typer) -> None:
    app.add_typer(audit_app, name="audit")


def parse_time(text: str) -> datetime:
    """An ISO 8601 instant; one without a zone is taken as UTC."""
    try:
        at = datetime.fromisoformat(text)
    except ValueError:
        raise errors.HotlineError(f"{text!r} is not an ISO 8601 time (2026-03-02T09:30)") from None
    return at.replace(tzinfo=UTC) if at.tzinfo is None else clock.utc(at)


@audit_app.command("verify")
@user_errors
def audit_verify(
    ticket: Annotated[int | None, typer.Option(help="Only this ticket's chain.")] = None,
    seal_file: SealFile = None,
    db_url: DbOption = DEFAULT_DB,
) -> None:
    """Recompute every hash chain and check it against the latest seal; exit 1 if broken."""
    from hotline.admin import audit

    service = open_service(db_url)
    total = service.count_histories(ticket)
    with Progress(console=err) as progress:
        task = progress.add_task("verifying", total=total)
        report = audit.verify(service, ticket, seal_file, lambda: progress.advance(task))
    sealed = ", no seal yet"
    if report.seal:
        kind = "legacy seal (every head listed)" if report.seal.legacy else "seal"
        sealed = f", against the {kind} of {report.seal.day}"
    if report.ok:
        out.print(f"verified {report.checked} ticket(s){sealed}: every chain is intact")
        return
    for problem in report.problems:
        out.print(problem, highlight=False)
    raise errors.HotlineError(
        f"{len(report.problems)} problem(s) in {report.checked} ticket(s){sealed}"
    )


@audit_app.command("seal")
@user_errors
def audit_seal(
    file: Annotated[
        Path | None,
        typer.Option(envvar="HOTLINE_SEAL_FILE", help="Also write the seal to this file."),
    ] = None,
    db_url: DbOption = DEFAULT_DB,
) -> None:
    """Seal every chain's head with a Merkle root (and write the seal outside the database)."""
    from hotline.admin import audit

    sealed = audit.seal(open_service(db_url), file)
    where = f"; written to {file}" if file else "; no --file: kept in the database only"
    out.print(f"sealed {sealed.tickets} chain(s) on {sealed.day}: root {sealed.root}{where}")


@audit_app.command("export")
@user_errors
def audit_export(
    since: Annotated[str, typer.Option(help="ISO 8601 instant (UTC if no zone).")],
    fmt: Annotated[str, typer.Option("--format", help="jsonl or csv.")] = "jsonl",
    db_url: DbOption = DEFAULT_DB,
) -> None:
    """Stream every event since SINCE to stdout, for archiving."""
    from hotline.admin import audit

    if fmt not in audit.EXPORT_FORMATS:  # before the first line is written
        raise errors.HotlineError(f"unknown format {fmt!r}; choose jsonl or csv")
    found = audit.export(open_service(db_url), parse_time(since))
    sys.stdout.writelines(audit.export_lines(found, fmt))


def as_of_table(service: Service, ticket_id: int, at: datetime) -> Table:
    """The ticket as it was at ``at``, rebuilt from its events (``history --at``)."""
    from hotline.admin import audit

    ticket = audit.as_of(service, ticket_id, at)
    if ticket is None:
        raise errors.HotlineError(f"ticket {ticket_id} did not exist yet at {at.isoformat()}")
    table = Table(title=f"ticket {ticket_id} at {at:%Y-%m-%d %H:%M:%S} UTC", show_header=False)
    rows = [
        ("state", ticket.state),
        ("definition", f"{ticket.definition}@{ticket.definition_version}"),
        ("history", f"{ticket.seq} event(s), head {ticket.head_hash[:12]}"),
        ("round", ticket.round),
        ("category", f"{ticket.category} ({ticket.urgency})"),
        ("lead unit", ticket.lead_unit or "-"),
        ("co-units", ", ".join(ticket.co_units) or "-"),
        ("excluded", "yes" if ticket.excluded else "no"),
        *((f"field {k}", v) for k, v in ticket.fields.items()),
    ]
    for d in ticket.deadlines:
        if d.status == "paused":
            clock = f"paused, {d.consumed} of {d.window} clock seconds used"
        else:
            clock = f"due {d.due_at:%Y-%m-%d %H:%M} UTC ({d.measure} time)"
        rows.append((f"deadline {d.kind}", clock))
    for label, value in rows:
        table.add_row(label, str(value))
    return table
