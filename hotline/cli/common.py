"""What every CLI command shares: consoles, the --db option, error handling, masking."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Annotated, Any, TypeVar

import typer
from rich.markup import escape

from hotline import errors
from hotline.cli import terminal
from hotline.clock import Clock
from hotline.engine import access
from hotline.persistence.sql import SqlStore
from hotline.service import Service

out = terminal.SafeConsole()
err = terminal.SafeConsole(stderr=True)
F = TypeVar("F", bound=Callable[..., Any])

DbOption = Annotated[
    str,
    typer.Option("--db", envvar="HOTLINE_DB_URL", help="Database URL (SQLite file or PostgreSQL)."),
]
# `hotline run` on a database shared by several replicas.
LeaseOption = Annotated[
    float,
    typer.Option(
        envvar="HOTLINE_LEASE",
        help="Seconds a claimed deadline or message stays with this replica; after that "
        "another replica takes it over (a replica that died).",
    ),
]
BatchOption = Annotated[
    int, typer.Option(envvar="HOTLINE_BATCH", help="Deadline rungs claimed per transaction.")
]
IdleOption = Annotated[
    bool,
    typer.Option(
        envvar="HOTLINE_EXIT_WHEN_IDLE",
        help="Exit once nothing due is left to claim (batch runs, tests) instead of waiting.",
    ),
]


def user_errors(fn: F) -> F:
    """Turn Hotline's errors into one line on stderr and exit code 1, never a traceback."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except errors.HotlineError as error:
            # The message may quote stored text: escaped, it is never read as markup.
            err.print(f"[red]Error:[/red] {escape(str(error))}", markup=True, highlight=False)
            raise typer.Exit(1) from None

    return wrapper  # type: ignore[return-value]


def open_service(url: str, clock: Clock | None = None) -> Service:
    """The service on an initialised database; a clear error if `hotline init` never ran."""
    store = SqlStore(url)
    if not store.is_initialised():
        raise errors.HotlineError(f"database {url} is not initialised: run `hotline init`")
    return Service(store, clock)


def key_value(item: str) -> tuple[str, str]:
    """``--set key=value`` into a pair, or an error naming the malformed item."""
    key, sep, value = item.partition("=")
    if not sep or not key:
        raise errors.HotlineError(f"--set {item!r}: write it as key=value")
    return key.strip(), value


def mask(kind: str, value: str) -> str:
    """Personal data is shown masked (条例 Art. 8): 138****5678, 张*, the district only."""
    return access.mask(kind, value) or ""
