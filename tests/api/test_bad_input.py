"""Bad requests get 4xx problem details naming the problem, never a server error."""

from __future__ import annotations

import pytest

from hotline.persistence.sql import SqlStore


@pytest.fixture(params=["sqlite"])
def store(request, tmp_path):
    """Request validation happens before the store: SQLite is enough here."""
    store = SqlStore(f"sqlite:///{tmp_path / 'bad.db'}")
    store.migrate()
    yield store
    store.close()


def _problem(response, status: int) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    return response.json()


def test_malformed_json_is_a_400_problem(client, auth):
    response = client.post(
        "/api/v1/tickets",
        content=b'{"category": "noise",',
        headers={**auth["operator"], "Content-Type": "application/json"},
    )
    assert "JSON" in _problem(response, 400)["detail"]


def test_a_wrong_type_names_the_field(client, auth):
    response = client.post(
        "/api/v1/tickets", json={"category": 42, "summary": []}, headers=auth["operator"]
    )
    problem = _problem(response, 422)
    assert {e["field"] for e in problem["errors"]} == {"body.category", "body.summary"}


def test_an_unknown_field_is_refused_by_name(client, auth):
    response = client.post(
        "/api/v1/tickets", json={"category": "noise", "colour": "red"}, headers=auth["operator"]
    )
    assert _problem(response, 422)["errors"][0]["field"] == "body.colour"


def test_an_oversized_body_is_a_413_problem(client, auth):
    response = client.post(
        "/api/v1/tickets",
        json={"category": "noise", "summary": "x" * 1_100_000},
        headers=auth["operator"],
    )
    assert "limit" in _problem(response, 413)["detail"]


def test_an_unknown_category_and_a_bad_definition_are_named(client, auth):
    unknown = client.post("/api/v1/tickets", json={"category": "ufo"}, headers=auth["operator"])
    assert _problem(unknown, 422)["field"] == "category"
    draft = client.post(
        "/api/v1/definitions/validate",
        json={"source": "name: x\nstates: []\ntransitions: [\n"},
        headers=auth["admin"],
    )
    assert _problem(draft, 422)["problems"][0]["line"] is not None


def test_definitions_are_listed_read_and_validated(client, auth):
    listed = {d["name"]: d for d in client.get("/api/v1/definitions", headers=auth["unit"]).json()}
    assert sorted(listed) == ["beijing-12345", "city-311"]  # both shipped workflows
    assert listed["beijing-12345"]["version"] == 1
    got = client.get("/api/v1/definitions/beijing-12345", headers=auth["auditor"]).json()
    assert got["initial"] == "received" and "source" in got
    from hotline.workflows import loader

    valid = client.post(
        "/api/v1/definitions/validate",
        json={"source": loader.shipped_text()},
        headers=auth["admin"],
    )
    assert valid.json()["valid"] is True


# Generated requests against every operation: tests/api/test_conformance.py.
