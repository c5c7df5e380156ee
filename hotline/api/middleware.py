"""ASGI middleware: a request-body size limit and API latency, around every route."""

from __future__ import annotations

import json
import time
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hotline.api.problems import MEDIA_TYPE
from hotline.daemon import metrics

MAX_BODY = 1_000_000  # bytes; a definition's YAML is the largest body, some tens of KB


class BodyTooLarge(Exception):
    pass


class Guard:
    """Refuse bodies over ``limit`` bytes with 413 (by Content-Length, or while streaming) and
    observe each request's latency by route template."""

    def __init__(self, app: ASGIApp, limit: int = MAX_BODY) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = {"code": 500}
        declared = dict(scope["headers"]).get(b"content-length", b"0")
        if not declared.isdigit() or int(declared) > self.limit:
            await self._refuse(scope, send, status)
        else:
            await self._call(scope, receive, send, status)
        route = scope.get("route")
        template = getattr(route, "path", "unmatched")
        metrics.API_LATENCY.labels(scope["method"], template, str(status["code"])).observe(
            time.perf_counter() - started
        )

    async def _call(self, scope: Scope, receive: Receive, send: Send, status: dict) -> None:
        seen = 0

        async def limited() -> Message:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.limit:
                raise BodyTooLarge
            return message

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            await send(message)

        try:
            await self.app(scope, limited, sending)
        except BodyTooLarge:
            await self._refuse(scope, send, status)

    async def _refuse(self, scope: Scope, send: Send, status: dict[str, Any]) -> None:
        status["code"] = 413
        body = json.dumps(
            {
                "type": "urn:hotline:problem:too-large",
                "title": "Content too large",
                "status": 413,
                "detail": f"the request body is over the limit of {self.limit} bytes",
                "instance": scope["path"],
            }
        ).encode()
        headers = [
            (b"content-type", MEDIA_TYPE.encode()),
            (b"content-length", str(len(body)).encode()),
        ]
        await send({"type": "http.response.start", "status": 413, "headers": headers})
        await send({"type": "http.response.body", "body": body})
