"""``hotline``: the command line, a thin shell over the Service.

This module only assembles the app: each module of ``hotline.cli`` registers its command group.
Data goes to stdout, errors to stderr as one ``Error:`` line with a non-zero exit.
"""

from __future__ import annotations

import typer

from hotline.cli import (
    audit,
    calendar,
    daemon,
    published,
    report,
    serve,
    simulate,
    soak,
    status,
    tickets,
    token,
    whistle,
    workflow,
)

app = typer.Typer(
    help="Hotline: a workflow engine for citizen-complaint hotlines (12345).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
for group in (
    tickets,
    daemon,
    workflow,
    audit,
    whistle,
    report,
    simulate,
    soak,
    token,
    serve,
    status,
    calendar,
):
    group.register(app)
published.register(report.report_app)


if __name__ == "__main__":
    app()
