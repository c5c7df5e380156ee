"""``hotline token …``: API tokens, stored only as hashes."""

from __future__ import annotations

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
    db_url: DbOption = DEFAULT_DB,
) -> None:
    """Create a token and print it once: only its hash is stored."""
    service = open_service(db_url)
    known = _known_units(service)
    if unit is not None and unit not in known:
        raise errors.HotlineError(f"--unit {unit!r}: no such unit; known: {', '.join(known)}")
    token = service.create_token(name, role, unit)
    err.print(f"token {name!r} ({role}{f', unit {unit}' if unit else ''}): keep it now,")
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
    table = Table("name", "role", "unit", "created (UTC)", "revoked (UTC)")
    for t in open_service(db_url).listed_tokens():
        revoked = f"{t.revoked_at:%Y-%m-%d %H:%M}" if t.revoked_at else ""
        table.add_row(t.name, t.role, t.unit or "", f"{t.created_at:%Y-%m-%d %H:%M}", revoked)
    out.print(table)


def _known_units(service: Service) -> list[str]:
    """Unit codes of every stored definition's catalogue."""
    found = {
        u.code
        for name, version in service.latest_definitions()
        for u in service.compiled(name, version).definition.units
    }
    return sorted(found)
