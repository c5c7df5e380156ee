"""Operations: dead outbox messages with their error and a requeue action (recorded on the
ticket's history), and the overdue deadlines."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import RedirectResponse, Response

from hotline.console import menu, pages, session
from hotline.persistence import MAX_ID
from hotline.service import Service

router = APIRouter()
Operator = Annotated[session.Session, Depends(session.viewer(*menu.OPERATIONS))]
SHOWN = 200


@router.get("/operations")
def operations(request: Request, viewer: Operator, requeued: str = "") -> Response:
    svc: Service = request.app.state.service
    now = svc.clock.now()
    return pages.render(
        request,
        "operations.html",
        viewer,
        title="Operations",
        dead=svc.outbox(status="dead")[-SHOWN:],
        overdue=svc.pending_deadlines(due_before=now)[:SHOWN],
        requeued=requeued,
        now=now,
    )


@router.post("/operations/messages/{message_id}/requeue")
def requeue(
    request: Request, message_id: Annotated[int, Path(ge=1, le=MAX_ID)], viewer: Operator
) -> Response:
    """Deliver a dead message again; its ticket's history records who did it."""
    svc: Service = request.app.state.service
    svc.requeue(message_id, viewer.principal.name)
    return RedirectResponse(f"/console/operations?requeued={message_id}", status_code=303)
