"""The OpenAPI document describes every error a route can answer, as it is sent.

Errors are RFC 9457 problem details (``application/problem+json``), GeoReport v2's error list
on Open311 routes. FastAPI documents only its own 422 (as ``application/json``); this adds the
statuses every route may answer and replaces that 422, so client generators and schemathesis's
conformance checks see what the server sends.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI

from hotline.api.problems import MEDIA_TYPE, OPEN311, TITLES

ERRORS = (400, 401, 403, 404, 409, 413, 422, 428, 500)
PROBLEM = {
    "title": "Problem",
    "description": "RFC 9457 problem details; members beyond these name what was wrong "
    "(field, errors, allowed, current_version …).",
    "type": "object",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string", "examples": ["urn:hotline:problem:invalid-field"]},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
    },
    "additionalProperties": True,
}
GEOREPORT_ERRORS = {
    "title": "GeoReportErrors",
    "type": "array",
    "items": {
        "type": "object",
        "required": ["code", "description"],
        "properties": {"code": {"type": "integer"}, "description": {"type": "string"}},
    },
}
METHODS = {"get", "put", "post", "delete", "patch", "head", "options"}


def install(app: FastAPI) -> None:
    """Make ``app.openapi()`` describe the error responses of every operation."""
    generate: Callable[[], dict[str, Any]] = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = describe_errors(generate())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def describe_errors(document: dict[str, Any]) -> dict[str, Any]:
    components = document.setdefault("components", {}).setdefault("schemas", {})
    components["Problem"] = PROBLEM
    components["GeoReportErrors"] = GEOREPORT_ERRORS
    for path, item in document.get("paths", {}).items():
        for method, operation in item.items():
            if method in METHODS:
                _describe(operation, open311=path.startswith(OPEN311))
    # FastAPI's own 422 schemas are no longer referenced.
    for unused in ("HTTPValidationError", "ValidationError"):
        components.pop(unused, None)
    return document


def _describe(operation: dict[str, Any], open311: bool) -> None:
    responses = operation.setdefault("responses", {})
    if open311:
        content = {"application/json": {"schema": {"$ref": "#/components/schemas/GeoReportErrors"}}}
    else:
        content = {MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}}
    for status in ERRORS:
        responses[str(status)] = {"description": TITLES[status], "content": content}
