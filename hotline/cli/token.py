"""``hotline token …``: API tokens, stored only as hashes."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from hotline import errors
from hotline.cli.common import DEFAULT_DB, DbOption, err, open_service, out, user_errors
from hotline.engine.access import Role

if TYPE_CHECKING:
    from hotline.service import Service

token_app = typer.Typer(help="Create, list and revoke API tokens.", no_args_is_help=True)
ROLES = ", ".join(r.value for r in Role)


def register(app: typer.Typer) -> None:
    app.add_typer(token_app, name="token")


@token_app.command("create")
@user_errors
def token_create(
    role: Annotated[str, typer.Option(help=f"One of: {ROLES}.")],
    name: Annotated[str, typer.Option(help="Who holds it (unique), e.g. app-gateway.")],
    unit: Annotated[str | None, typer.Option(help="The unit code, for the unit role.")] = None,
    expires: Annotated[
        str | None,
        typer.Option(
            envvar="HOTLINE_TOKEN_EXPIRES",
            help="Lifetime, e.g. 90d, 12h or 2w; refused with 401 after it (default: never).",
        ),
    ] = None,
    db_url: DbOption = DEFAULT_DB,
) -> None:
    """Create a token and print it once: only its hash is stored."""
    service = open_service(db_url)
    known = _known_units(service)
    if unit is not None and unit not in known:
        raise errors.HotlineError(f"--unit {unit!r}: no such unit; known: {', '.join(known)}")
    expires_at = service.clock.now() + _lifetime(expires) if expires is not None else None
    token = service.create_token(name, role, unit, expires_at)
    until = f", expires {expires_at:%Y-%m-%d %H:%M} UTC" if expires_at else ""
    err.print(f"token {name!r} ({role}{f', unit {unit}' if unit else ''}{until}): keep it now,")
    err.print("it cannot be shown again.")
    out.print(token, highlight=False)


@token_app.command("revoke")
@user_errors
def token_revoke(name: str, db_url: DbOption = DEFAULT_DB) -> None:
    """Revoke a token by name: it stops working at once."""
    open_service(db_url).revoke_token(name)
    out.print(f"token {name!r} revoked")


@token_app.command("list")
@user_errors
def token_list(db_url: DbOption = DEFAULT_DB) -> None:
    """Tokens by name, role and unit (never the tokens themselves)."""
    table = Table("name", "role", "unit", "created (UTC)", "expires (UTC)", "revoked (UTC)")
    service = open_service(db_url)
    now = service.clock.now()
    for t in service.listed_tokens():
        revoked = f"{t.revoked_at:%Y-%m-%d %H:%M}" if t.revoked_at else ""
        expires = f"{t.expires_at:%Y-%m-%d %H:%M}" if t.expires_at else "never"
        if t.expires_at and t.expires_at <= now:
            expires += " (expired)"
        created = f"{t.created_at:%Y-%m-%d %H:%M}"
        table.add_row(t.name, t.role, t.unit or "", created, expires, revoked)
    out.print(table)


UNITS = {"h": timedelta(hours=1), "d": timedelta(days=1), "w": timedelta(weeks=1)}


def _lifetime(text: str) -> timedelta:
    """``90d``, ``12h``, ``2w`` as a duration; an error naming the text otherwise."""
    number, unit = text.strip()[:-1], text.strip()[-1:]
    if not (number.isascii() and number.isdigit() and unit in UNITS and 0 < int(number) < 10**5):
        raise errors.HotlineError(f"--expires {text!r}: write a lifetime like 90d, 12h or 2w")
    return int(number) * UNITS[unit]


def _known_units(service: Service) -> list[str]:
    """Unit codes of every stored definition's catalogue."""
    found = {
        u.code
        for name, version in service.latest_definitions()
        for u in service.compiled(name, version).definition.units
    }
    return sorted(found)
