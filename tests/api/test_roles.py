"""Every route declares who may call it, and every role is held to it."""

from __future__ import annotations

import re

import pytest

from hotline.api.auth import api_routes, policy_of
from hotline.engine.access import Role

PATH_VALUES = {"trigger": "respond", "name": "beijing-12345", "webhook_id": "999"}
QUERY = {
    "/api/v1/tickets/{ticket_id}/contact": {"reason": "role walk"},
    "/api/v1/reports/rates": {"period": "2026-03"},
    "/api/v1/reports/hot-topics": {"month": "2026-03"},
    "/api/v1/reports/whistles": {"period": "2026-03"},
}


@pytest.fixture(params=["sqlite"])
def store(request, tmp_path):
    """Who may call what does not depend on the database: SQLite is enough here."""
    from hotline.persistence.sql import SqlStore

    store = SqlStore(f"sqlite:///{tmp_path / 'roles.db'}")
    store.migrate()
    yield store
    store.close()


def test_every_api_route_declares_a_policy(app):
    undeclared = [
        f"{sorted(r.methods)} {r.path}" for r in api_routes(app.routes) if policy_of(r) is None
    ]
    assert undeclared == []


def test_every_route_with_every_role_gets_exactly_what_its_policy_allows(
    app, client, auth, submit, fire, dispatch
):
    # Given a ticket the unit token's unit leads, so that visibility does not hide it
    ticket = submit()
    fire(ticket, "dispatch", dispatch)
    callers = {**{role.value: auth[role.value] for role in Role}, "anonymous": {}}
    outcomes = []

    # When every route is called by every role, and without a token
    for route in api_routes(app.routes):
        roles = policy_of(route).roles
        url = _url(route.path, ticket["id"])
        for method in route.methods:
            for caller, headers in callers.items():
                status = client.request(
                    method, url, headers=headers, params=QUERY.get(route.path)
                ).status_code
                expected = _expected(roles, caller)
                outcomes.append((method, route.path, caller, status, expected))

    # Then public routes never ask for a token, others refuse the anonymous with 401 and the
    # roles they do not name with 403, and let the named ones through (to their own answer)
    wrong = [o for o in outcomes if not _matches(o[3], o[4])]
    assert wrong == []
    assert len(outcomes) >= 18 * 6


def _url(path: str, ticket_id: int) -> str:
    values = {**PATH_VALUES, "ticket_id": str(ticket_id), "service_request_id": str(ticket_id)}
    return re.sub(r"\{(\w+)\}", lambda m: values[m.group(1)], path)


def _expected(roles, caller: str) -> str:
    if roles is None:
        return "through"
    if caller == "anonymous":
        return "401"
    return "through" if Role(caller) in roles else "403"


def _matches(status: int, expected: str) -> bool:
    if expected == "through":
        return status not in (401, 403) and status < 500
    return str(status) == expected


def test_each_role_fires_only_its_own_triggers(submit, fire, dispatch):
    # Given a ticket dispatched to the unit
    ticket = fire(submit(), "dispatch", dispatch).json()
    exclusion = {"approver": "street leader", "reason": "duplicate of a city case"}

    # When the unit tries to re-dispatch and the operator to exclude
    auditor = fire(ticket, "return", {"reason": "not ours"}, role="auditor")
    assert auditor.status_code == 403  # the auditor reads only
    by_unit = fire(ticket, "exclude", exclusion, role="unit")
    by_operator = fire(ticket, "exclude", exclusion, role="operator")

    # Then both are refused naming what they may fire; the supervisor signs it off
    assert by_unit.status_code == 403
    handling = ["respond", "return", "extend", "pause", "resume", "reply", "whistle"]
    assert by_unit.json()["allowed"] == handling
    assert by_operator.status_code == 403 and "exclude" not in by_operator.json()["allowed"]
    assert fire(ticket, "exclude", exclusion, role="supervisor").json()["excluded"] is True
