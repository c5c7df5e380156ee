"""/api/v1/definitions/what-if: replay a past period under a draft as a background job.

``POST`` checks everything it can before any work starts (the draft, with every problem and
its line; the period; the unit; the sweep), answers 202 with the job's URL, and replays on a
thread of its own (``api.jobs``); ``GET`` on that URL gives its progress and, once done, the
same document ``hotline workflow what-if --format json`` prints. Admins and supervisors only.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request, Response
from pydantic import AwareDatetime, Field, model_validator

from hotline.api import deps
from hotline.api.auth import allow
from hotline.api.jobs import Job, Jobs
from hotline.api.problems import MEDIA_TYPE, Problem
from hotline.api.reports import _instant, _parameter, _period
from hotline.api.schemas import Strict
from hotline.engine.access import Principal, Role
from hotline.engine.machine import CompiledDefinition
from hotline.reports import assessment
from hotline.service import Service
from hotline.simulation import whatif
from hotline.workflows import loader, reading

router = APIRouter(prefix="/api/v1/definitions/what-if", tags=["definitions"])
Svc = Annotated[Service, Depends(deps.service)]
Planner = Annotated[Principal, Depends(allow(Role.ADMIN, Role.SUPERVISOR))]
KIND = "what-if"


class WhatIfIn(Strict):
    """A draft (its YAML ``source``) or a published ``version`` of ``name``, and the period."""

    period: str = Field(min_length=4, max_length=40, description="e.g. 2026-03 (local time).")
    source: str | None = Field(default=None, max_length=reading.MAX_BYTES)
    name: str = Field(default=loader.DEFAULT, pattern=deps.CODE)
    version: int | None = Field(default=None, ge=1, le=deps.MAX_ID)
    against: int | None = Field(default=None, ge=1, le=deps.MAX_ID)
    unit: str | None = Field(default=None, pattern=deps.CODE)
    category: str | None = Field(default=None, pattern=deps.CODE)
    sweep: str | None = Field(default=None, max_length=20, description="e.g. 1h")
    as_of: AwareDatetime | None = None

    @model_validator(mode="after")
    def _one_definition(self) -> WhatIfIn:
        if (self.source is None) == (self.version is None):
            raise ValueError("give either a draft's source or a published version")
        return self


def jobs(request: Request) -> Jobs:
    if not hasattr(request.app.state, "jobs"):
        request.app.state.jobs = Jobs()
    return request.app.state.jobs


PROBLEM = {MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}}
# More jobs than ``Jobs.running`` at once: retry later.
BUSY = {503: {"description": "Too many jobs are running; retry later", "content": PROBLEM}}


@router.post("", status_code=202, responses=BUSY)  # type: ignore[arg-type]
def start(
    body: WhatIfIn, principal: Planner, svc: Svc, request: Request, response: Response
) -> dict[str, Any]:
    """Start replaying ``period`` under the draft; 202 with the job (poll its ``url``)."""
    compiled, label = _definition(svc, body)
    with _parameter("sweep"):
        sweep = whatif.sweep_interval(body.sweep)
    asked = whatif.Request(
        _period(body.period, "period"), body.unit, body.category, _instant(body.as_of), sweep
    )
    with _parameter("unit"):
        assessment.check_unit(compiled.definition, body.unit, "unit")
    with _parameter("category"):
        whatif.check_category(compiled.definition, body.category)
    if body.against is not None:
        svc.compiled(compiled.definition.name, body.against)  # 404 if there is no such version

    def work(progress: Any) -> dict[str, Any]:
        found = whatif.run(svc, compiled, asked, label, body.against, progress)
        return found.document()

    job = jobs(request).start(KIND, whatif.count(svc, compiled, asked), work)
    response.headers["Location"] = _url(request, job)
    return job.record(_url(request, job))


@router.get("/{job_id}")
def status(
    job_id: Annotated[str, Path(pattern=r"^[0-9a-f]{32}$")], principal: Planner, request: Request
) -> dict[str, Any]:
    """The job's progress (``done`` of ``total`` tickets) and, once done, its ``result``."""
    job = jobs(request).get(job_id)
    if job.kind != KIND:
        raise Problem(404, "not-found", f"no job {job_id}")
    return job.record(_url(request, job))


def _definition(svc: Service, body: WhatIfIn) -> tuple[CompiledDefinition, str]:
    if body.source is not None:
        return whatif.draft(svc, body.source, "draft"), "draft"
    compiled = svc.compiled(body.name, body.version)
    return compiled, f"{body.name}@{compiled.version}"


def _url(request: Request, job: Job) -> str:
    return str(request.url_for("status", job_id=job.id).path)
