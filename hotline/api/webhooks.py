"""/api/v1/webhooks: an admin registers a URL per event type; deliveries are signed."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Response
from pydantic import AnyHttpUrl, BaseModel, Field

from hotline.api import deps
from hotline.api.auth import allow
from hotline.api.problems import Problem
from hotline.api.schemas import Strict
from hotline.engine import escalation
from hotline.engine.access import Principal, Role
from hotline.engine.decide import SUBMIT
from hotline.engine.webhooks import ANY_EVENT
from hotline.service import Service

router = APIRouter(prefix="/api/v1", tags=["webhooks"])
Svc = Annotated[Service, Depends(deps.service)]
Admin = Annotated[Principal, Depends(allow(Role.ADMIN))]


class WebhookIn(Strict):
    event_type: str = Field(
        pattern=r"^(\*|[a-z][a-z0-9_]{0,99})$",
        description="A trigger (dispatch, reply, escalate…), submit, or * for every event.",
    )
    url: AnyHttpUrl
    secret: str | None = Field(default=None, min_length=16, max_length=200)


class WebhookOut(BaseModel):
    id: int
    event_type: str
    url: str
    created_at: datetime
    secret: str | None = Field(default=None, description="Shown once, at registration.")


@router.post("/webhooks", status_code=201, response_model=WebhookOut)
def register(body: WebhookIn, principal: Admin, svc: Svc) -> WebhookOut:
    """Register a URL for one event type; the answer carries the signing secret, once."""
    known = event_types(svc)
    if body.event_type not in known:
        raise Problem(
            422,
            "invalid-field",
            f"event_type {body.event_type!r} is no event; known: {', '.join(sorted(known))}",
            field="event_type",
        )
    made = svc.register_webhook(body.event_type, str(body.url), body.secret)
    return WebhookOut(**vars(made))


@router.get("/webhooks", response_model=list[WebhookOut])
def list_webhooks(principal: Admin, svc: Svc) -> list[WebhookOut]:
    return [
        WebhookOut(id=w.id, event_type=w.event_type, url=w.url, created_at=w.created_at)
        for w in svc.listed_webhooks()
    ]


@router.delete("/webhooks/{webhook_id}", status_code=204)
def remove(webhook_id: deps.RowId, principal: Admin, svc: Svc) -> Response:
    """Stop a subscription; deliveries still pending for it are dropped."""
    svc.remove_webhook(webhook_id)
    return Response(status_code=204)


def event_types(svc: Service) -> set[str]:
    """Every event a ticket's history can record under the stored definitions."""
    found = {ANY_EVENT, SUBMIT, *escalation.EVENTS.values()}
    for name, version in svc.latest_definitions():
        found |= {t.trigger for t in svc.compiled(name, version).definition.transitions}
    return found
