"""The cheapest honest HTTP client for a load generator: HTTP/1.1 over a real TCP socket,
one keep-alive connection a client, requests written as prebuilt bytes and answers read by
their Content-Length.

httpx's AsyncClient costs the bench more CPU than the server's own work on a small request,
on the same two cores: what the bench measures is then mostly itself. This client does only
what HTTP needs from a client (a request line, headers, a body; a status line, headers and a
body of the stated length), and refuses what it does not handle (a chunked answer).
"""

from __future__ import annotations

import asyncio
import json
from typing import Any


class Refused(Exception):
    """An answer the bench did not expect (its status and body)."""


class Connection:
    """One keep-alive connection: one request at a time, answers read in order."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @classmethod
    async def open(cls, host: str, port: int) -> Connection:
        reader, writer = await asyncio.open_connection(host, port)
        return cls(reader, writer)

    async def request(self, head: bytes, body: bytes = b"") -> tuple[int, bytes]:
        """Send a request (``head`` from ``request_head``) and return (status, body)."""
        self.writer.write(head + body if body else head)
        answer = await self.reader.readuntil(b"\r\n\r\n")
        status = int(answer[9:12])
        length = _content_length(answer)
        return status, await self.reader.readexactly(length) if length else b""

    def close(self) -> None:
        self.writer.close()


def request_head(method: str, path: str, headers: dict[str, str], body: bytes = b"") -> bytes:
    """A request's line and headers as bytes, built once and sent many times."""
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    if body or method in ("POST", "PUT", "PATCH"):
        lines += ["Content-Type: application/json", f"Content-Length: {len(body)}"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def json_body(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


def expect(status: int, body: bytes, wanted: int) -> bytes:
    if status != wanted:
        raise Refused(f"HTTP {status} (expected {wanted}): {body[:300]!r}")
    return body


def _content_length(head: bytes) -> int:
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        lowered = name.strip().lower()
        if lowered == b"content-length":
            return int(value)
        if lowered == b"transfer-encoding":
            raise Refused(f"a {value.strip().decode()} answer: this client reads lengths only")
    return 0
