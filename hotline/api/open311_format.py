"""GeoReport v2 bodies in its two formats, JSON and XML, and its error list in both.

The XML follows the spec's examples: a list is a wrapper element (``service_requests``) holding
one element per item (``request``); an absent value is an empty element.
"""

from __future__ import annotations

import json
import re
from typing import Any
from xml.etree import ElementTree

from fastapi.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

FORMATS = ("json", "xml")
XML_TYPE = "text/xml; charset=utf-8"
PREFIX = "/open311/"
# The element of each item inside a list's wrapper element.
ITEM = {
    "services": "service",
    "service_requests": "request",
    "attributes": "attribute",
    "values": "value",
    "endpoints": "endpoint",
    "formats": "format",
    "errors": "error",
}
# XML 1.0 has no way to write these characters, not even escaped; lone surrogates have no UTF-8.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def render(body: Any, fmt: str, root: str, status: int = 200) -> Response:
    """``body`` as JSON, or as XML under the element ``root`` (e.g. ``services``)."""
    if fmt == "xml":
        return Response(to_xml(root, body), status, media_type=XML_TYPE)
    return JSONResponse(body, status)


def to_xml(root: str, body: Any) -> bytes:
    element = ElementTree.Element(root)
    _fill(element, root, body)
    return ElementTree.tostring(element, encoding="utf-8", xml_declaration=True)


def _fill(element: ElementTree.Element, tag: str, value: Any) -> None:
    if isinstance(value, dict):
        for key, child in value.items():
            _fill(ElementTree.SubElement(element, key), key, child)
    elif isinstance(value, list):
        item = ITEM.get(tag, "item")
        for child in value:
            _fill(ElementTree.SubElement(element, item), item, child)
    elif isinstance(value, bool):
        element.text = "true" if value else "false"
    elif value is not None:
        element.text = _NOT_XML.sub("\ufffd", str(value))


def format_of(path: str) -> str:
    """The format a GeoReport path asks for by its extension (JSON when it names none)."""
    return "xml" if path.rsplit("/", 1)[-1].endswith(".xml") else "json"


def error_list(status: int, body: bytes) -> list[dict[str, Any]]:
    """GeoReport's ``[{"code", "description"}]`` from any error body Hotline produced."""
    try:
        found = json.loads(body)
    except ValueError:
        found = None
    if isinstance(found, list) and all(isinstance(e, dict) and "code" in e for e in found):
        return found
    if isinstance(found, dict) and "detail" in found:
        return [{"code": status, "description": str(found["detail"])}]
    return [{"code": status, "description": body.decode("utf-8", "replace") or "error"}]


class Errors:
    """Every error answer under /open311/ in GeoReport's error-list shape and the path's format.

    It wraps the whole app, so answers made outside the routes (the body-size guard's 413, an
    unknown route's 404) take the same shape as a route's own refusals.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(PREFIX):
            await self.app(scope, receive, send)
            return
        start: Message | None = None
        chunks: list[bytes] = []

        async def sending(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start" and message["status"] >= 400:
                start = message
                return
            if start is None or message["type"] != "http.response.body":
                await send(message)
                return
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                await self._send_errors(scope, start, b"".join(chunks), send)

        await self.app(scope, receive, sending)

    async def _send_errors(self, scope: Scope, start: Message, body: bytes, send: Send) -> None:
        status = start["status"]
        fmt = format_of(scope["path"])
        errors = error_list(status, body)
        if fmt == "xml":
            content, media = to_xml("errors", errors), XML_TYPE
        else:
            content, media = json.dumps(errors, ensure_ascii=False).encode(), "application/json"
        replaced = (b"content-type", b"content-length")
        kept = [(k, v) for k, v in start.get("headers", []) if k not in replaced]
        headers = [
            *kept,
            (b"content-type", media.encode()),
            (b"content-length", str(len(content)).encode()),
        ]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": content})
