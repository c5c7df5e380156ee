"""Errors as RFC 9457 problem details (``application/problem+json``); Open311's own shape there.

Every refusal names what was wrong: the field, the rule, the allowed triggers, the current
version. Hotline's own errors map to statuses here, in one table.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from hotline import errors

MEDIA_TYPE = "application/problem+json"
OPEN311 = "/open311/"
TITLES = {
    400: "Bad request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    413: "Content too large",
    415: "Unsupported media type",
    422: "Unprocessable content",
    428: "Precondition required",
    500: "Internal server error",
    503: "Service unavailable",
}


class Problem(Exception):
    """Raise from a route to answer with a problem; ``extra`` members join the body."""

    def __init__(self, status: int, kind: str, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.status, self.kind, self.detail, self.extra = status, kind, detail, extra
        self.headers: dict[str, str] = {}


def response(request: Request, problem: Problem) -> JSONResponse:
    if request.url.path.startswith(OPEN311):
        # GeoReport v2 clients expect its own error list, not RFC 9457.
        errors_ = [{"code": problem.status, "description": problem.detail}]
        return JSONResponse(errors_, problem.status, problem.headers)
    body = {
        "type": f"urn:hotline:problem:{problem.kind}",
        "title": TITLES.get(problem.status, "Error"),
        "status": problem.status,
        "detail": problem.detail,
        "instance": request.url.path,
        **problem.extra,
    }
    return JSONResponse(body, problem.status, problem.headers, media_type=MEDIA_TYPE)


def from_hotline(error: errors.HotlineError) -> Problem:
    """The one table from Hotline's errors to HTTP."""
    detail = str(error)
    match error:
        case errors.StaleVersion():
            problem = Problem(409, "stale-version", detail, current_version=error.actual)
            problem.headers["ETag"] = f'"{error.actual}"'
            return problem
        case errors.IllegalTransition():
            return Problem(
                409, "illegal-transition", detail, state=error.state, allowed=error.allowed
            )
        case errors.GuardRejected():
            return Problem(409, "condition-not-met", detail, state=error.state, failed=error.failed)
        case errors.MissingField() | errors.InvalidField():
            return Problem(422, "invalid-field", detail, field=error.field)
        case errors.DefinitionError():
            problems = [{"line": p.line, "message": p.message} for p in error.problems]
            return Problem(422, "invalid-definition", detail, problems=problems)
        case errors.KeyReused():
            return Problem(
                422, "idempotency-key-reused", detail, key=error.key, ticket_id=error.ticket_id
            )
        case errors.NotFound():
            return Problem(404, "not-found", detail)
        case errors.Busy():
            problem = Problem(503, "database-busy", detail)
            problem.headers["Retry-After"] = "1"
            return problem
        case errors.Unavailable():
            problem = Problem(503, "database-unavailable", detail)
            problem.headers["Retry-After"] = "5"
            return problem
    return Problem(400, "refused", detail)


def _validation(request: Request, error: RequestValidationError) -> JSONResponse:
    found = [
        {"field": ".".join(str(p) for p in e["loc"]), "message": e["msg"], "type": e["type"]}
        for e in error.errors()
    ]
    malformed = any(e["type"] == "json_invalid" for e in found)
    detail = "; ".join(f"{e['field']}: {e['message']}" for e in found)
    if malformed:
        return response(request, Problem(400, "malformed-json", detail, errors=found))
    return response(request, Problem(422, "invalid-request", detail, errors=found))


def _http(request: Request, error: HTTPException) -> JSONResponse:
    problem = Problem(error.status_code, "http", str(error.detail))
    problem.headers = dict(error.headers or {})
    return response(request, problem)


def _unexpected(request: Request, error: Exception) -> JSONResponse:
    # The traceback goes to the server log; the caller gets a problem, never a stack.
    return response(request, Problem(500, "internal", "an internal error occurred; it is logged"))


def install(app: FastAPI) -> None:
    app.add_exception_handler(Problem, lambda r, e: response(r, e))  # type: ignore[arg-type]
    app.add_exception_handler(
        errors.HotlineError,
        lambda r, e: response(r, from_hotline(e)),  # type: ignore[arg-type]
    )
    app.add_exception_handler(RequestValidationError, _validation)  # type: ignore[arg-type]
    app.add_exception_handler(HTTPException, _http)  # type: ignore[arg-type]
    app.add_exception_handler(Exception, _unexpected)
