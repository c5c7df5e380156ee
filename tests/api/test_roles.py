"""Every route declares who may call it, and every role is held to it."""

from __future__ import annotations

import re

import pytest
from flavours import SHIPPED

from hotline.api.auth import api_routes, policy_of
from hotline.engine.access import Role

PATH_VALUES = {
    "trigger": "respond",
    "name": "beijing-12345",
    "webhook_id": "999",
    "format": "json",  # Open311's routes
    "service_code": "water-supply",
    "token": "1",
    "job_id": "0" * 32,  # a what-if job: none exists (404 through the policy)
}
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


@pytest.mark.parametrize("flavour", SHIPPED, ids=[f.name for f in SHIPPED])
def test_each_role_fires_only_its_own_triggers(submit, fire, auth, unit_auth, flavour):
    # Given a ticket dispatched to the unit, co-handled by a street
    f = flavour
    trigger, fields = f.dispatch(f.utility, co_units=[f.street])
    ticket = fire(submit(f.utility_category, definition=f.name), trigger, fields).json()
    unit = unit_auth(f.utility)
    exclusion = {"approver": "street leader", "reason": "duplicate of a city case"}

    # When the unit tries to re-dispatch and the operator to exclude
    auditor = fire(ticket, f.t("return"), {"reason": "not ours"}, role="auditor")
    assert auditor.status_code == 403  # the auditor reads only
    by_unit = fire(ticket, f.t("exclude"), exclusion, headers=unit)
    by_operator = fire(ticket, f.t("exclude"), exclusion, role="operator")

    # Then both are refused naming what they may fire; the supervisor signs it off
    assert by_unit.status_code == 403
    handling = ["respond", "return", "extend", "pause", "resume", "reply", "whistle"]
    assert by_unit.json()["allowed"] == [f.t(p) for p in handling]
    assert by_operator.status_code == 403 and f.t("exclude") not in by_operator.json()["allowed"]
    assert by_operator.json()["allowed"]  # the centre may still do the rest
    excluded = fire(ticket, f.t("exclude"), exclusion, role="supervisor")
    assert excluded.json()["excluded"] is True


@pytest.mark.parametrize("flavour", SHIPPED, ids=[f.name for f in SHIPPED])
def test_whistle_roles_follow_the_part_a_unit_plays(submit, fire, unit_auth, flavour):
    # Given the lead street whistles two departments
    f = flavour
    first, second = f.departments[:2]
    ticket = fire(submit(f.category, definition=f.name), *f.dispatch(f.street)).json()
    lead, summoned, other = unit_auth(f.street), unit_auth(first), unit_auth(second)
    ticket = fire(ticket, *f.whistle([first, second]), headers=lead).json()

    # When a summoned department answers for another, then for itself
    for_other = fire(ticket, *f.report(second), headers=summoned)
    for_itself = fire(ticket, *f.report(first), headers=summoned).json()

    # Then only its own answer stands; it may not run the whistle nor handle the ticket
    assert for_other.status_code == 403
    assert for_other.json()["type"].endswith("acting-for-another-unit")
    close = (f.t("whistle_close"), {"reason": "enough"})
    refused = fire(for_itself, *close, headers=summoned)
    assert refused.status_code == 403
    assert set(refused.json()["allowed"]) <= {f.t("whistle_report"), f.t("whistle_decline")} | {
        f.t("whistle_task_done")
    }
    assert fire(for_itself, *f.reply(), headers=other).status_code == 403
    assert fire(for_itself, *close, headers=lead).status_code == 200
