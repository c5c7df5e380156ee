"""``hotline workflow graph``: draw a stored definition's state machine."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from hotline import workflows
from hotline.cli.common import (
    DEFAULT_DB,
    DbOption,
    RefArgument,
    open_service,
    out,
    parse_ref,
    user_errors,
)


def register(workflow_app: typer.Typer) -> None:
    workflow_app.command("graph")(user_errors(workflow_graph))


def workflow_graph(
    ref: RefArgument = workflows.DEFAULT,
    fmt: Annotated[
        str,
        typer.Option(
            "--format", help="mermaid (text, needs nothing installed), svg or png (Graphviz)."
        ),
    ] = "mermaid",
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write here instead of stdout.")
    ] = None,
    db_url: DbOption = DEFAULT_DB,
) -> None:
    """Draw the state machine of a definition (mermaid, or SVG/PNG with Graphviz)."""
    from hotline.workflows import diagram

    name, version = parse_ref(ref)
    compiled = open_service(db_url).compiled(name, version)
    drawn = diagram.draw(compiled.definition, compiled.version, fmt)
    data = drawn.encode() if isinstance(drawn, str) else drawn
    if output is not None:
        output.write_bytes(data)
        out.print(f"wrote {output} ({fmt}, {len(data)} bytes)")
    elif isinstance(drawn, str):
        out.print(drawn, markup=False, highlight=False, soft_wrap=True)
    else:
        sys.stdout.buffer.write(data)
