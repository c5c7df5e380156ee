"""/api/v1/definitions: the stored workflows, and validation of a draft."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query
from pydantic import BaseModel, Field

from hotline.api import deps
from hotline.api.auth import EVERY_ROLE, allow
from hotline.api.schemas import Strict
from hotline.engine.access import Principal, Role
from hotline.service import Service
from hotline.workflows import loader, reading

router = APIRouter(prefix="/api/v1", tags=["definitions"])
Svc = Annotated[Service, Depends(deps.service)]
Anyone = Annotated[Principal, Depends(allow(*EVERY_ROLE))]


class DefinitionSummary(BaseModel):
    name: str
    version: int
    title: str


class DraftIn(Strict):
    source: str = Field(max_length=reading.MAX_BYTES, description="The definition's YAML text.")


class Validated(BaseModel):
    valid: bool
    name: str
    states: int
    transitions: int


@router.get("/definitions", response_model=list[DefinitionSummary])
def list_definitions(principal: Anyone, svc: Svc) -> list[DefinitionSummary]:
    """Every stored workflow at its newest version."""
    return [
        DefinitionSummary(
            name=name, version=version, title=svc.compiled(name, version).definition.title
        )
        for name, version in svc.latest_definitions()
    ]


@router.get("/definitions/{name}")
def get_definition(
    name: Annotated[str, Path(pattern=deps.CODE)],
    principal: Anyone,
    svc: Svc,
    version: Annotated[int | None, Query(ge=1, le=deps.MAX_ID)] = None,
) -> dict[str, Any]:
    """A stored definition (newest version unless ``version``): states, transitions, fields,
    categories, units, and its YAML source."""
    compiled = svc.compiled(name, version)
    _, source = svc.definition_source(name, compiled.version)
    return {
        "version": compiled.version,
        **compiled.definition.model_dump(mode="json"),
        "source": source,
    }


@router.post("/definitions/validate", response_model=Validated)
def validate(
    body: DraftIn, principal: Annotated[Principal, Depends(allow(Role.ADMIN))]
) -> Validated:
    """Check a draft definition without storing it; 422 lists every problem with its line."""
    definition = loader.parse(body.source, "draft")
    return Validated(
        valid=True,
        name=definition.name,
        states=len(definition.states),
        transitions=len(definition.transitions),
    )
