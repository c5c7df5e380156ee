"""Signing in: an API token exchanged for a session cookie, and a CSRF token on every form.

The cookie never holds the token: it holds the token's SHA-256 digest (what the database keeps),
a CSRF token and the time it was issued, signed with the console's secret. Every request looks
the digest up again, so a revoked or expired API token ends its sessions at once; a session
also ends ``HOTLINE_CONSOLE_HOURS`` after sign-in (by the service's clock) and at sign-out.

Set ``HOTLINE_CONSOLE_SECRET`` when several replicas serve the console (or sessions should
survive a restart); without it each process signs with a random secret of its own.
"""

from __future__ import annotations

import hmac
import os
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from fastapi import Request, Response
from itsdangerous import BadSignature, URLSafeSerializer
from starlette.concurrency import run_in_threadpool

from hotline.engine.access import Principal, Role
from hotline.persistence import tokens

COOKIE = "hotline_session"
SIGN_IN_COOKIE = "hotline_sign_in"  # the CSRF token of the sign-in form (no session yet)
CSRF_FIELD = "csrf"


@dataclass(frozen=True)
class Session:
    """Who is signed in, and the CSRF token their forms carry."""

    principal: Principal
    csrf: str


class SignInNeeded(Exception):  # noqa: N818  (a redirect, not an error)
    """No valid session: the page redirects to the sign-in form, then back to ``next``."""

    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path


class Refused(Exception):  # noqa: N818
    """The signed-in role may not open the page or take the action (403)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class BadForm(Refused):
    """A POST without this session's CSRF token (a stale page, or another site's form)."""


class Sessions:
    """Issues and reads the signed session cookie."""

    def __init__(self, secret: str | None = None, hours: float | None = None) -> None:
        secret = secret or os.environ.get("HOTLINE_CONSOLE_SECRET") or secrets.token_hex(32)
        self.signer = URLSafeSerializer(secret, salt="hotline-console-session")
        self.lifetime = timedelta(hours=hours or float(os.environ.get("HOTLINE_CONSOLE_HOURS", 8)))

    def issue(self, token: str, now: datetime) -> str:
        payload = {"d": tokens.digest(token), "c": secrets.token_urlsafe(24), "t": now.timestamp()}
        return self.signer.dumps(payload)

    def read(self, value: str | None, now: datetime) -> tuple[str, str] | None:
        """(token digest, CSRF token) of a cookie that is genuine and not expired, or None."""
        if not value:
            return None
        try:
            payload = self.signer.loads(value)
        except BadSignature:
            return None
        issued = datetime.fromtimestamp(float(payload["t"]), now.tzinfo)
        if now - issued > self.lifetime:
            return None
        return payload["d"], payload["c"]

    def set_cookie(self, response: Response, value: str, request: Request) -> None:
        response.set_cookie(
            COOKIE,
            value,
            max_age=int(self.lifetime.total_seconds()),
            path="/console",
            httponly=True,
            samesite="strict",
            secure=request.url.scheme == "https",
        )


def current(request: Request) -> Session | None:
    """The request's session, or None (no cookie, forged, expired, or its token revoked)."""
    service, sessions = request.app.state.service, request.app.state.sessions
    found = sessions.read(request.cookies.get(COOKIE), service.clock.now())
    if found is None:
        return None
    principal = service.verify_token_digest(found[0])
    return Session(principal, found[1]) if principal else None


def viewer(*roles: Role) -> Callable[[Request], Awaitable[Session]]:
    """A dependency: the signed-in session, if its role is one of ``roles`` (any if none);
    a POST must also carry the session's CSRF token."""

    async def depend(request: Request) -> Session:
        session = await run_in_threadpool(current, request)
        if session is None:
            raise SignInNeeded(_here(request))
        if roles and session.principal.role not in roles:
            allowed = ", ".join(r.value for r in roles)
            raise Refused(
                f"role {session.principal.role.value!r} may not open this page; allowed: {allowed}"
            )
        if request.method == "POST":
            await check_csrf(request, session.csrf)
        return session

    return depend


async def check_csrf(request: Request, expected: str | None) -> None:
    sent = (await request.form()).get(CSRF_FIELD)
    if not expected or not isinstance(sent, str) or not hmac.compare_digest(sent, expected):
        raise BadForm("the form is not from this session: reload the page and try again")


def safe_next(path: str | None) -> str:
    """A place to go back to inside the console, never another site."""
    if path and path.startswith("/console") and not path.startswith("//"):
        return path
    return "/console/"


def _here(request: Request) -> str:
    query = f"?{request.url.query}" if request.url.query else ""
    return f"{request.url.path}{query}" if request.method == "GET" else "/console/"
