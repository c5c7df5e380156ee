"""ASGI middleware: a request-body size limit and API latency, around every route."""

from __future__ import annotations

import json
import time
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hotline.api.problems import MEDIA_TYPE, OPEN311
from hotline.daemon import metrics

MAX_BODY = 1_000_000  # bytes; a definition's YAML is the largest body, some tens of KB
# Smaller limits where parsing costs more than reading: YAML (the shipped definition is 16 KB).
ROUTE_LIMITS = {"/api/v1/definitions/validate": 256_000}
BODY_METHODS = {"POST", "PUT", "PATCH"}


class BodyTooLarge(Exception):
    pass


class Guard:
    """Refuse bodies over ``limit`` bytes with 413 (by Content-Length, or, for a chunked body,
    once it is read) and observe each request's latency by route template and status, failed
    requests included."""

    def __init__(self, app: ASGIApp, limit: int = MAX_BODY) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = {"code": 500}
        try:
            await self._guarded(scope, receive, send, status)
        except Exception:
            # The server-error handler outside answers 500; count it here all the same.
            status["code"] = 500
            raise
        finally:
            route = scope.get("route")
            template = getattr(route, "path", "unmatched")
            metrics.API_LATENCY.labels(scope["method"], template, str(status["code"])).observe(
                time.perf_counter() - started
            )

    async def _guarded(self, scope: Scope, receive: Receive, send: Send, status: dict) -> None:
        limit = min(self.limit, ROUTE_LIMITS.get(scope["path"], self.limit))
        headers = dict(scope["headers"])
        declared = headers.get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            await self._refuse(scope, send, status, limit)
            return
        if declared is None and scope["method"] in BODY_METHODS:
            # A chunked body: read it here, so that going over the limit is a 413 and not a
            # parse error inside the route.
            try:
                receive = await _buffered(receive, limit)
            except BodyTooLarge:
                await self._refuse(scope, send, status, limit)
                return
        await self._call(scope, receive, send, status, limit)

    async def _call(
        self, scope: Scope, receive: Receive, send: Send, status: dict, limit: int
    ) -> None:
        seen = 0

        async def limited() -> Message:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > limit:
                raise BodyTooLarge
            return message

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            await send(message)

        try:
            await self.app(scope, limited, sending)
        except BodyTooLarge:
            await self._refuse(scope, send, status, limit)

    async def _refuse(self, scope: Scope, send: Send, status: dict[str, Any], limit: int) -> None:
        status["code"] = 413
        detail = f"the request body is over the limit of {limit} bytes"
        problem: Any = {
            "type": "urn:hotline:problem:too-large",
            "title": "Content too large",
            "status": 413,
            "detail": detail,
            "instance": scope["path"],
        }
        media_type = MEDIA_TYPE
        if scope["path"].startswith(OPEN311):  # GeoReport v2's own error list
            problem, media_type = [{"code": 413, "description": detail}], "application/json"
        body = json.dumps(problem).encode()
        headers = [
            (b"content-type", media_type.encode()),
            (b"content-length", str(len(body)).encode()),
        ]
        await send({"type": "http.response.start", "status": 413, "headers": headers})
        await send({"type": "http.response.body", "body": body})


async def _buffered(receive: Receive, limit: int) -> Receive:
    """Read a whole request body of at most ``limit`` bytes; a ``receive`` that replays it."""
    chunks, size, more = [], 0, True
    while more:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        size += len(chunks[-1])
        if size > limit:
            raise BodyTooLarge
        more = message.get("more_body", False)
    replay: list[Message] = [{"type": "http.request", "body": b"".join(chunks)}]

    async def replaying() -> Message:
        return replay.pop() if replay else await receive()

    return replaying
