"""Webhooks: registered by an admin, written with the event, delivered signed and retried.

The receiver is a real HTTP server on 127.0.0.1 started by the test; it checks each signature
with nothing but the secret and the standard library, as an integrator's server would.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from hotline.daemon.relay import Relay


class Receiver(ThreadingHTTPServer):
    """Records each delivery; answers ``failures`` 503s first, then 204s."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.deliveries: list[tuple[dict[str, str], bytes]] = []
        self.failures = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/hooks"


class _Handler(BaseHTTPRequestHandler):
    def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.server.deliveries.append((dict(self.headers), body))
        failing = self.server.failures > 0
        self.server.failures -= failing
        self.send_response(503 if failing else 204)
        self.end_headers()

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def receiver():
    server = Receiver()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def _verified(secret: str, headers: dict[str, str], body: bytes) -> bool:
    expected = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, headers["X-Hotline-Signature"])


def test_a_dispatch_is_delivered_signed_to_the_registered_url(
    client, auth, submit, fire, dispatch, service, receiver
):
    # Given an admin registered the receiver for dispatch events
    made = client.post(
        "/api/v1/webhooks",
        json={"event_type": "dispatch", "url": receiver.url},
        headers=auth["admin"],
    )
    assert made.status_code == 201, made.text
    secret = made.json()["secret"]

    # When a ticket is dispatched, the delivery is in the outbox with the event, before any send
    ticket = submit()
    fire(ticket, "dispatch", dispatch)
    pending = [m for m in service.store.outbox(ticket["id"]) if m.handler == "webhook"]
    assert [m.status for m in pending] == ["pending"]
    assert receiver.deliveries == []
    delivered, failed = Relay(service).relay()

    # Then the receiver got exactly the dispatch event, and its signature checks out
    assert failed == 0 and delivered >= 1  # the unit notification is delivered too
    assert len(receiver.deliveries) == 1
    headers, body = receiver.deliveries[0]
    assert _verified(secret, headers, body)
    assert not _verified("another-secret-of-sixteen", headers, body)
    event = json.loads(body)
    assert (event["type"], event["ticket_id"], event["to_state"]) == (
        "dispatch",
        ticket["id"],
        "dispatched",
    )
    assert headers["X-Hotline-Event"] == "dispatch"
    assert headers["X-Hotline-Delivery"] == f"webhook:{made.json()['id']}:{ticket['id']}:2"


def test_a_failed_delivery_is_retried_with_the_same_key(
    client, auth, submit, service, receiver, clock
):
    # Given a receiver that fails once, subscribed to every event
    client.post(
        "/api/v1/webhooks", json={"event_type": "*", "url": receiver.url}, headers=auth["admin"]
    )
    receiver.failures = 1
    submit()
    relay = Relay(service)

    # When the relay tries, fails, and tries again after the backoff
    assert relay.relay() == (0, 1)
    clock.advance(timedelta(seconds=10))
    assert relay.relay() == (1, 0)

    # Then the same delivery arrived twice under one key, and the outbox marks it delivered
    keys = [headers["X-Hotline-Delivery"] for headers, _ in receiver.deliveries]
    assert len(keys) == 2 and keys[0] == keys[1]
    (message,) = [m for m in service.store.outbox() if m.handler == "webhook"]
    assert (message.status, message.attempts) == ("delivered", 2)


def test_an_unknown_event_type_is_refused_naming_the_known_ones(client, auth):
    response = client.post(
        "/api/v1/webhooks",
        json={"event_type": "explode", "url": "http://127.0.0.1:9/x"},
        headers=auth["admin"],
    )
    assert response.status_code == 422
    assert "dispatch" in response.json()["detail"] and response.json()["field"] == "event_type"


def test_a_removed_webhook_gets_no_more_deliveries(client, auth, submit, service, receiver):
    made = client.post(
        "/api/v1/webhooks",
        json={"event_type": "submit", "url": receiver.url},
        headers=auth["admin"],
    ).json()
    assert client.get("/api/v1/webhooks", headers=auth["admin"]).json()[0]["secret"] is None
    submit()
    assert client.delete(f"/api/v1/webhooks/{made['id']}", headers=auth["admin"]).status_code == 204
    submit()
    Relay(service).relay()
    assert receiver.deliveries == []  # the pending one was dropped, the later one never written
    assert len([m for m in service.store.outbox() if m.handler == "webhook"]) == 1
