"""Changing definitions: the diff of two versions in words, publishing a checked draft, and
migrating running tickets with a dry run first (admins), as ``hotline workflow diff``,
``publish`` and ``migrate`` do. A confirmed migration runs as a background job
(``console.jobs``): a city's running tickets take minutes."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import RedirectResponse, Response

from hotline import errors
from hotline.admin import versions as versioning
from hotline.console import jobs, menu, pages, session
from hotline.console.definitions import MAX_DRAFT, Name
from hotline.engine import diff
from hotline.persistence import MAX_ID
from hotline.service import Service
from hotline.workflows import loader

router = APIRouter()
Anyone = Annotated[session.Session, Depends(session.viewer(*menu.DEFINITIONS))]
Admin = Annotated[session.Session, Depends(session.viewer(*menu.DRAFTS))]
Version = Annotated[int, Query(ge=1, le=MAX_ID)]
FormVersion = Annotated[int, Form(ge=1, le=MAX_ID)]
MIGRATE = "migrate"
MAX_MAPPING = 5_000  # characters of old=new lines: a definition has a few dozen states


@router.get("/definitions/{name}/diff")
def compare(
    request: Request,
    name: Name,
    viewer: Anyone,
    old: Version,
    new: Version,
    published: Annotated[bool, Query()] = False,
) -> Response:
    """Every change from ``old`` to ``new``, one line each (``+`` added, ``-`` removed, ``~``)."""
    svc: Service = request.app.state.service
    before, after = svc.compiled(name, old), svc.compiled(name, new)
    return pages.render(
        request,
        "definition_diff.html",
        viewer,
        title="Compare versions",
        name=name,
        old=before.version,
        new=after.version,
        changes=diff.diff(before.definition, after.definition),
        published=published,
    )


@router.post("/definitions-draft/publish")
def publish(
    request: Request, viewer: Admin, draft: Annotated[str, Form(max_length=MAX_DRAFT)] = ""
) -> Response:
    """Store a valid draft as its name's next version; then show what changed."""
    svc: Service = request.app.state.service
    try:
        name = loader.parse(draft, "draft").name
    except errors.DefinitionError as invalid:
        problems = [str(p) for p in invalid.problems]
        context = {"title": "Check a draft", "draft": draft, "problems": problems}
        return pages.render(request, "draft.html", viewer, 422, **context)
    previous = _newest(svc, name)
    _, version = svc.publish(draft, "console")
    if previous is None or previous == version:
        return _see(f"/console/definitions/{name}?version={version}&published=1")
    return _see(f"/console/definitions/{name}/diff?old={previous}&new={version}&published=1")


@router.get("/definitions/{name}/migrate")
def migrate_form(request: Request, name: Name, viewer: Admin) -> Response:
    svc: Service = request.app.state.service
    newest = svc.latest_version(name)
    return _migrate_page(request, viewer, name, max(newest - 1, 1), newest, "")


@router.post("/definitions/{name}/migrate")
def migrate(
    request: Request,
    name: Name,
    viewer: Admin,
    old: FormVersion,
    new: FormVersion,
    mapping: Annotated[str, Form(max_length=MAX_MAPPING)] = "",
    confirm: Annotated[bool, Form()] = False,
) -> Response:
    """A dry run (what would move, nothing written) unless ``confirm``; a state the new
    version lacks and the mapping does not place is refused before anything is written."""
    svc: Service = request.app.state.service
    try:
        pairs = versioning.mapping(mapping.split(), "mapping")
        chosen = versioning.plan(svc, name, old, new, pairs)
    except errors.NotFound:
        raise  # an unknown version: the not-found page
    except errors.HotlineError as refused:
        return _migrate_page(request, viewer, name, old, new, mapping, 422, problem=str(refused))
    if not confirm:
        return _migrate_page(request, viewer, name, old, new, mapping, plan=chosen)

    def work(progress: Any) -> dict[str, Any]:
        return {"moved": versioning.migrate(svc, chosen, viewer.principal.name, on_batch=progress)}

    under = f"/console/definitions/{name}/migrate/jobs"
    return jobs.started(request, viewer, under, MIGRATE, chosen.total, work, **_job_page(name))


@router.get("/definitions/{name}/migrate/jobs/{job_id}")
def migrate_job(request: Request, name: Name, job_id: jobs.JobId, viewer: Admin) -> Response:
    """The migration's progress (the page reloads itself while it runs), then how many moved."""
    return jobs.page(request, viewer, jobs.find(request, job_id, MIGRATE), **_job_page(name))


def _job_page(name: str) -> dict[str, Any]:
    back = ((f"/console/definitions/{name}/migrate", "Migrate running tickets"),)
    return {"title": "Migrate running tickets", "back": back}


def _migrate_page(
    request: Request,
    viewer: session.Session,
    name: str,
    old: int,
    new: int,
    mapping: str,
    status: int = 200,
    **found: object,
) -> Response:
    svc: Service = request.app.state.service
    versions = range(svc.latest_version(name), 0, -1)
    asked = {"name": name, "old": old, "new": new, "mapping": mapping, "versions": versions}
    title = "Migrate running tickets"
    return pages.render(request, "migrate.html", viewer, status, title=title, **asked, **found)


def _newest(svc: Service, name: str) -> int | None:
    try:
        return svc.latest_version(name)
    except errors.UnknownDefinition:
        return None


def _see(path: str) -> Response:
    return RedirectResponse(path, status_code=303)
