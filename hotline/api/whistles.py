"""/api/v1/whistles (吹哨报到): who is still missing, and how each department answers.

Whistle steps are transitions of the definition, fired like any other through
``POST /tickets/{id}/transitions/{trigger}`` (with ``If-Match``): their fields, guards and
history come from the definition, so no route here repeats them. These routes only read the
whistle rows, as ``hotline whistles`` does.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import AwareDatetime

from hotline.api import deps
from hotline.api.auth import allow
from hotline.api.deps import CODE
from hotline.api.problems import Problem
from hotline.engine.access import Principal, Role
from hotline.persistence import whistles
from hotline.service import Service

router = APIRouter(prefix="/api/v1", tags=["whistles"])
Svc = Annotated[Service, Depends(deps.service)]
Reader = Annotated[
    Principal, Depends(allow(Role.OPERATOR, Role.UNIT, Role.SUPERVISOR, Role.AUDITOR))
]


@router.get("/whistles", response_model=list[whistles.Listed])
def listing(
    principal: Reader,
    svc: Svc,
    open_only: Annotated[bool, Query(alias="open", description="Only open whistles.")] = False,
    department: Annotated[
        str | None, Query(pattern=CODE, description="Only whistles summoning this department.")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[whistles.Listed]:
    """Whistles newest first, with who was summoned and who is still missing (``missing``).

    A unit token lists the whistles that summon it (``department`` is its own unit).
    """
    if principal.role is Role.UNIT:
        department = _own(principal, department)
    return svc.listed_whistles(open_only, department, limit)


@router.get("/whistles/stats", response_model=list[whistles.DepartmentStats])
def stats(
    principal: Reader,
    svc: Svc,
    since: Annotated[AwareDatetime | None, Query(description="Summoned at or after.")] = None,
    until: Annotated[AwareDatetime | None, Query(description="Summoned before.")] = None,
) -> list[whistles.DepartmentStats]:
    """Per department, over whistles summoning it in [since, until): summoned, reported,
    reported in time, median seconds to report, absences (the figures of ``hotline whistles
    --stats``; rankings are published to every unit, so a unit token reads them too)."""
    return svc.whistle_stats(since, until)


def _own(principal: Principal, department: str | None) -> str | None:
    if department not in (None, principal.unit):
        raise Problem(
            403,
            "acting-for-another-unit",
            f"a unit lists only the whistles that summon it: {principal.unit!r}, not"
            f" {department!r}",
            field="department",
        )
    return principal.unit
