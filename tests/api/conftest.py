"""API fixtures: the real ASGI app over the real store, and one token per role."""

from __future__ import annotations

import json

import anyio.from_thread
import httpx
import pytest
from typer.testing import CliRunner

from hotline.api.app import create_app
from hotline.cli.main import app as cli
from hotline.engine.access import Role
from hotline.persistence import sql, tokens
from hotline.persistence.sql import SqlStore

UNIT = "water-group"
DISPATCH = {"lead_unit": UNIT, "route": "direct", "co_units": ["street-jianwai"]}


@pytest.fixture
def dispatch() -> dict:
    """The fields of a direct dispatch to the water group, co-handled by a street."""
    return dict(DISPATCH)


@pytest.fixture
def app(service):
    return create_app(service)


class Client:
    """Synchronous calls through httpx's ASGI transport (real HTTP semantics, no socket).

    A server error raises in the test (``raise_app_exceptions``) instead of hiding as a 500.
    """

    def __init__(self, portal: anyio.from_thread.BlockingPortal, app) -> None:
        self.portal = portal
        transport = httpx.ASGITransport(app=app)
        self.http = httpx.AsyncClient(transport=transport, base_url="http://hotline.test")

    def request(self, method: str, url: str, **kwargs) -> httpx.Response:
        return self.portal.call(lambda: self.http.request(method, url, **kwargs))

    def get(self, url: str, **kwargs) -> httpx.Response:
        return self.request("GET", url, **kwargs)

    def post(self, url: str, **kwargs) -> httpx.Response:
        return self.request("POST", url, **kwargs)

    def delete(self, url: str, **kwargs) -> httpx.Response:
        return self.request("DELETE", url, **kwargs)


@pytest.fixture
def client(app):
    with anyio.from_thread.start_blocking_portal() as portal:
        client = Client(portal, app)
        yield client
        portal.call(client.http.aclose)


@pytest.fixture
def auth(service) -> dict[str, dict[str, str]]:
    """Authorization headers by role name (the unit token is the water group's)."""
    headers = {}
    for role in Role:
        unit = UNIT if role is Role.UNIT else None
        token = tokens.create(service.store, f"{role}-1", role, unit, service.clock.now())
        headers[role.value] = {"Authorization": f"Bearer {token}"}
    return headers


@pytest.fixture
def unit_auth(service):
    """Builder: Authorization headers of a new unit token for ``unit``."""

    def build(unit: str) -> dict[str, str]:
        token = tokens.create(service.store, f"{unit}-desk", Role.UNIT, unit, service.clock.now())
        return {"Authorization": f"Bearer {token}"}

    return build


@pytest.fixture
def submit(client, auth):
    """Builder: submit a ticket over HTTP as the operator; return the response body."""

    def build(category: str = "water-supply", **body):
        body = {"category": category, "summary": "no water since 7am", **body}
        response = client.post("/api/v1/tickets", json=body, headers=auth["operator"])
        assert response.status_code == 201, response.text
        return response.json()

    return build


@pytest.fixture
def fire(client, auth):
    """Builder: fire a trigger over HTTP with the version last seen; return the response.

    ``headers`` stand in for the role's token (e.g. another unit's, from ``unit_auth``)."""

    def run(
        ticket: dict, trigger: str, fields=None, role: str = "operator", version=None, headers=None
    ):
        headers = {
            **(headers or auth[role]),
            "If-Match": f'"{ticket["version"] if version is None else version}"',
        }
        return client.post(
            f"/api/v1/tickets/{ticket['id']}/transitions/{trigger}",
            json={"fields": fields or {}},
            headers=headers,
        )

    return run


@pytest.fixture
def hotline_json(store, monkeypatch):
    """Builder: ``hotline ARGS --format json`` on the test's database, parsed.

    A command's process would end with it; in-process, its store's pool is closed here.
    """
    opened: list[SqlStore] = []

    class Closed(SqlStore):
        def __init__(self, url: str) -> None:
            super().__init__(url)
            opened.append(self)

    monkeypatch.setattr(sql, "SqlStore", Closed)  # the CLI imports it when a command runs

    def run(args: list[str]) -> dict:
        result = CliRunner().invoke(cli, [*args, "--format", "json", "--db", store.url])
        assert result.exit_code == 0, result.stderr
        return json.loads(result.stdout)

    yield run
    for other in opened:
        other.close()
