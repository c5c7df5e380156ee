"""Definitions: every stored version, a version's graph and YAML source, and checking a draft
with the validator the API uses (each problem with its line)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Path, Query, Request
from fastapi.responses import Response

from hotline import errors
from hotline.console import menu, pages, session
from hotline.engine.machine import CompiledDefinition
from hotline.persistence import MAX_ID
from hotline.service import Service
from hotline.workflows import diagram, loader

router = APIRouter()
DRAWN = {"Cache-Control": "private"}
Anyone = Annotated[session.Session, Depends(session.viewer(*menu.DEFINITIONS))]
Admin = Annotated[session.Session, Depends(session.viewer(*menu.DRAFTS))]
Name = Annotated[str, Path(pattern=r"^[a-z0-9][a-z0-9-]{0,99}$")]
MAX_DRAFT = 200_000  # characters: the largest shipped definition is a tenth of this


@router.get("/definitions")
def listing(request: Request, viewer: Anyone) -> Response:
    svc: Service = request.app.state.service
    versions = svc.definition_versions(lambda name: svc.compiled(name).definition.final)
    return pages.render(
        request,
        "definitions.html",
        viewer,
        title="Definitions",
        versions=versions,
        may_draft=viewer.principal.role in menu.DRAFTS,
        may_plan=viewer.principal.role in menu.PLANNERS,
    )


@router.get("/definitions/{name}")
def source(
    request: Request,
    name: Name,
    viewer: Anyone,
    version: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    published: Annotated[bool, Query()] = False,
) -> Response:
    svc: Service = request.app.state.service
    found, text = svc.definition_source(name, version)
    compiled = svc.compiled(name, found)
    # Without Graphviz the page shows the graph as mermaid text, which needs nothing.
    missing = diagram.graphviz_missing()
    return pages.render(
        request,
        "definition.html",
        viewer,
        title="Definition",
        name=name,
        version=found,
        source=text,
        title_text=compiled.definition.title,
        versions=range(svc.latest_version(name), 0, -1),
        mermaid=diagram.draw(compiled.definition, found, "mermaid") if missing else None,
        may_publish=viewer.principal.role in menu.DRAFTS,
        published=published,
    )


@router.get("/definitions/{name}/graph.svg")
def graph(
    request: Request,
    name: Name,
    viewer: Anyone,
    version: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
) -> Response:
    """The version's state machine drawn by Graphviz (the page says so when it is missing)."""
    compiled = request.app.state.service.compiled(name, version)
    return Response(_drawn(request, compiled), media_type="image/svg+xml", headers=DRAWN)


def _drawn(request: Request, compiled: CompiledDefinition) -> str | bytes:
    """The SVG of a published version, drawn once per process (Graphviz takes a quarter of a
    second; a published version never changes, as the service's own cache of them assumes)."""
    key = (compiled.definition.name, compiled.version)
    drawings: dict[tuple[str, int], str | bytes] = request.app.state.drawings
    if key not in drawings:
        drawings[key] = diagram.draw(compiled.definition, compiled.version, "svg")
    return drawings[key]


@router.get("/definitions-draft")
def draft_form(request: Request, viewer: Admin) -> Response:
    return pages.render(request, "draft.html", viewer, title="Check a draft", draft="")


@router.post("/definitions-draft")
def check_draft(
    request: Request, viewer: Admin, draft: Annotated[str, Form(max_length=MAX_DRAFT)] = ""
) -> Response:
    """Validate a draft without storing it: every problem with its line, or what it holds."""
    try:
        definition = loader.parse(draft, "draft")
    except errors.DefinitionError as invalid:
        problems = [str(p) for p in invalid.problems]
        return pages.render(
            request,
            "draft.html",
            viewer,
            422,
            title="Check a draft",
            draft=draft,
            problems=problems,
        )
    return pages.render(
        request, "draft.html", viewer, title="Check a draft", draft=draft, valid=definition
    )
