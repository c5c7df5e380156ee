"""Rendering pages: the templates, what every page knows (who, language, CSRF, menu) and the
error pages (sign in needed, refused, not found, bad input)."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from starlette.concurrency import run_in_threadpool

from hotline import errors
from hotline.console import i18n, menu, session
from hotline.console.names import Names
from hotline.engine import access

BEIJING = ZoneInfo("Asia/Shanghai")
templates = Jinja2Templates(directory=Path(__file__).parent / "templates")


def beijing(moment: datetime | str | None) -> str:
    """A moment as Beijing shows it, with the year: 2026-03-02 14:05."""
    if moment is None or moment == "":
        return "-"
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    return moment.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M")


def span(seconds: float, gettext: Any) -> str:
    """A length of time in the largest two units: 2 d 3 h, 45 min."""
    left = timedelta(seconds=abs(int(seconds)))
    days, hours, minutes = left.days, left.seconds // 3600, left.seconds % 3600 // 60
    parts = [(days, "{n} d"), (hours, "{n} h"), (minutes, "{n} min")]
    shown = [gettext(unit).format(n=n) for n, unit in parts if n][:2]
    return " ".join(shown) or gettext("{n} min").format(n=0)


templates.env.filters["beijing"] = beijing
templates.env.filters["mask"] = access.mask_text


def render(
    request: Request,
    template: str,
    viewer: session.Session | None = None,
    status: int = 200,
    **context: Any,
) -> Response:
    """Render ``template`` in the request's language, with the viewer's menu."""
    language = i18n.chosen(request.cookies.get(i18n.COOKIE))
    gettext = i18n.translations(language).gettext
    principal = viewer.principal if viewer else None
    context |= {
        "_": gettext,
        "lang": language,
        "viewer": principal,
        "csrf": viewer.csrf if viewer else "",
        "menu": menu.entries(principal) if principal else [],
        "here": request.url.path,
        "span": lambda seconds: span(seconds, gettext),
        "private": not access.sees_personal_data(principal),
        "tz": BEIJING,
        "names": Names(request.app.state.service, language),
    }
    return templates.TemplateResponse(request, template, context, status_code=status)


def install(app: FastAPI) -> None:
    """Error pages: each says what went wrong, in the viewer's language, never a traceback."""

    @app.exception_handler(session.SignInNeeded)
    async def sign_in(request: Request, exc: session.SignInNeeded) -> Response:
        return RedirectResponse(f"/console/sign-in?next={exc.next_path}", status_code=303)

    @app.exception_handler(session.Refused)
    async def refused(request: Request, exc: session.Refused) -> Response:
        bad_form = isinstance(exc, session.BadForm)
        viewer = None if bad_form else await run_in_threadpool(session.current, request)
        return render(request, "error.html", viewer, 403, title="Not allowed", detail=exc.message)

    @app.exception_handler(errors.NotFound)
    async def not_found(request: Request, exc: errors.NotFound) -> Response:
        viewer = await run_in_threadpool(session.current, request)
        return render(request, "error.html", viewer, 404, title="Not found", detail=str(exc))

    @app.exception_handler(errors.HotlineError)
    async def refused_input(request: Request, exc: errors.HotlineError) -> Response:
        viewer = await run_in_threadpool(session.current, request)
        return render(request, "error.html", viewer, 400, title="Cannot do that", detail=str(exc))

    @app.exception_handler(RequestValidationError)
    async def bad_input(request: Request, exc: RequestValidationError) -> Response:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ())[1:]) or "input"
        detail = f"{where}: {first.get('msg', 'invalid')}"
        viewer = await run_in_threadpool(session.current, request)
        return render(request, "error.html", viewer, 400, title="Cannot do that", detail=detail)


def gettext_of(request: Request) -> Any:
    """The gettext of the request's language, for text made outside a template."""
    return i18n.translations(i18n.chosen(request.cookies.get(i18n.COOKIE))).gettext
