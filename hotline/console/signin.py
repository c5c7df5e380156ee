"""Sign in (an API token for a session cookie), sign out, and the choice of language."""

from __future__ import annotations

import hmac
import secrets
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from hotline.console import i18n, menu, pages, session

router = APIRouter()
Viewer = Annotated[session.Session, Depends(session.viewer())]


@router.get("/")
def home(viewer: Viewer) -> Response:
    return RedirectResponse(menu.landing(viewer.principal), status_code=303)


@router.get("/sign-in")
def sign_in_form(request: Request, next: str = "/console/") -> Response:  # noqa: A002
    """The sign-in form; its CSRF token rides in a short-lived cookie (no session yet)."""
    csrf = secrets.token_urlsafe(24)
    page = pages.render(request, "sign_in.html", csrf_sign_in=csrf, next=session.safe_next(next))
    page.set_cookie(
        session.SIGN_IN_COOKIE, csrf, max_age=1800, path="/console", httponly=True,
        samesite="strict", secure=request.url.scheme == "https",
    )  # fmt: skip
    return page


@router.post("/sign-in")
async def sign_in(
    request: Request,
    token: Annotated[str, Form(max_length=200)] = "",
    csrf: Annotated[str, Form(max_length=100)] = "",
    next: Annotated[str, Form(max_length=500)] = "/console/",  # noqa: A002
) -> Response:
    expected = request.cookies.get(session.SIGN_IN_COOKIE, "")
    if not expected or not hmac.compare_digest(csrf, expected):
        raise session.BadForm("the sign-in form has expired: reload the page and try again")
    service, sessions = request.app.state.service, request.app.state.sessions
    principal = await run_in_threadpool(service.verify_token, token.strip())
    if principal is None:
        page = pages.render(
            request,
            "sign_in.html",
            status=401,
            csrf_sign_in=expected,
            next=session.safe_next(next),
            failed=True,
        )
        return page
    response = RedirectResponse(session.safe_next(next), status_code=303)
    sessions.set_cookie(response, sessions.issue(token.strip(), service.clock.now()), request)
    response.delete_cookie(session.SIGN_IN_COOKIE, path="/console")
    return response


@router.post("/sign-out")
def sign_out(viewer: Viewer) -> Response:
    response = RedirectResponse("/console/sign-in", status_code=303)
    response.delete_cookie(session.COOKIE, path="/console")
    return response


@router.get("/language/{language}")
def choose_language(language: str, next: str = "/console/") -> Response:  # noqa: A002
    """Switch the language (a cookie for a year); back to the page it was chosen on."""
    response = RedirectResponse(session.safe_next(next), status_code=303)
    response.set_cookie(
        i18n.COOKIE, i18n.chosen(language), max_age=365 * 86400, path="/console",
        samesite="lax",
    )  # fmt: skip
    return response
