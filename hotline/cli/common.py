"""What every CLI command shares: consoles, the --db option, error handling, masking.

CLI modules import only typer, rich and light modules at the top: ``hotline --help`` must not
load SQLAlchemy, FastAPI or matplotlib. Each command imports the service and what it needs
inside its body.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer
from rich.markup import escape

from hotline import errors, persistence
from hotline.cli import terminal
from hotline.engine import access

if TYPE_CHECKING:
    from hotline.clock import Clock
    from hotline.service import Service

# Messages and tables carry user data (names, summaries, "[x]", ANSI escapes): never read them
# as Rich markup, and show control characters as escapes. A message that wants markup says so
# (markup=True) and escapes what it quotes.
out = terminal.SafeConsole()
err = terminal.SafeConsole(stderr=True)
F = TypeVar("F", bound=Callable[..., Any])

DEFAULT_DB = persistence.DEFAULT_URL
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
    from hotline.persistence.sql import SqlStore
    from hotline.service import Service

    store = SqlStore(url)
    if not store.is_initialised():
        raise errors.HotlineError(f"database {url} is not initialised: run `hotline init`")
    return Service(store, clock)


def migrated_service(url: str, clock: Clock | None = None) -> Service:
    """The service on a database created or upgraded to the newest schema (init, demo,
    simulate); the caller installs the shipped workflows."""
    from hotline.persistence.sql import SqlStore
    from hotline.service import Service

    store = SqlStore(url)
    store.migrate()
    return Service(store, clock)


RefArgument = Annotated[str, typer.Argument(help="NAME (newest version) or NAME@VERSION.")]


def parse_ref(ref: str) -> tuple[str, int | None]:
    """``NAME`` or ``NAME@VERSION`` into its parts, or an error naming the bad reference."""
    name, sep, version = ref.partition("@")
    if not name or (sep and not version.isdigit()):
        raise errors.HotlineError(f"{ref!r}: write a definition as NAME or NAME@VERSION")
    return name, int(version) if sep else None


def key_value(item: str) -> tuple[str, str]:
    """``--set key=value`` into a pair, or an error naming the malformed item."""
    key, sep, value = item.partition("=")
    if not sep or not key:
        raise errors.HotlineError(f"--set {item!r}: write it as key=value")
    return key.strip(), value


def mask(kind: str, value: str) -> str:
    """Personal data is shown masked (条例 Art. 8): 138****5678, 张*, the district only."""
    return access.mask(kind, value) or ""
