"""Bearer tokens and the role policy every route declares.

A route states who may call it with ``Depends(allow(Role.OPERATOR, …))`` (or ``ANYONE``); the
dependency is a ``Policy`` that tests find on each route (``policy_of``), so a route without a
declared policy cannot go unnoticed. Open311 clients may send the token as ``api_key``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.routing import APIRoute
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool
from starlette.routing import BaseRoute

from hotline.api.problems import Problem
from hotline.engine.access import Principal, Role

bearer = HTTPBearer(auto_error=False, description="An API token from `hotline token create`.")
FORMS = ("application/x-www-form-urlencoded", "multipart/form-data")


class Policy:
    """Who may call a route: a set of roles, or ``None`` for anyone (no token needed)."""

    def __init__(self, roles: frozenset[Role] | None) -> None:
        self.roles = roles

    async def __call__(
        self,
        request: Request,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
    ) -> Principal | None:
        if self.roles is None:
            return None
        token = credentials.credentials if credentials else await _api_key(request)
        if not token:
            raise _unauthorized("this route needs an API token (Authorization: Bearer …)")
        service = request.app.state.service
        principal = await run_in_threadpool(service.verify_token, token)
        if principal is None:
            raise _unauthorized("the API token is unknown, revoked or expired")
        if principal.role not in self.roles:
            allowed = ", ".join(sorted(r.value for r in self.roles))
            raise Problem(
                403,
                "forbidden-role",
                f"role {principal.role.value!r} may not {request.method} {request.url.path};"
                f" allowed: {allowed}",
                allowed_roles=sorted(r.value for r in self.roles),
            )
        return principal


def allow(*roles: Role) -> Policy:
    return Policy(frozenset(roles))


ANYONE = Policy(None)
EVERY_ROLE = tuple(Role)


def policy_of(route: APIRoute) -> Policy | None:
    """The policy a route declared, found among its dependencies."""
    found = [d.call for d in route.dependant.dependencies if isinstance(d.call, Policy)]
    return found[0] if len(found) == 1 else None


async def _api_key(request: Request) -> str | None:
    """Open311's way: ``api_key`` in the query string or the form body (either encoding)."""
    if "api_key" in request.query_params:
        return request.query_params["api_key"]
    if request.method == "POST" and request.headers.get("content-type", "").startswith(FORMS):
        value = (await request.form()).get("api_key")
        return value if isinstance(value, str) else None
    return None


def _unauthorized(detail: str) -> Problem:
    problem = Problem(401, "unauthorized", detail)
    problem.headers["WWW-Authenticate"] = "Bearer"
    return problem


def api_routes(routes: list[BaseRoute]) -> Iterator[APIRoute]:
    """Every API route of an app, also inside included routers (FastAPI may keep them nested)."""
    for route in routes:
        nested = getattr(route, "original_router", None)
        if nested is not None:
            yield from api_routes(nested.routes)
        elif isinstance(route, APIRoute):
            yield route
