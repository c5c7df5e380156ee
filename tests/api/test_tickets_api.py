"""Submitting, reading, listing and firing tickets through the HTTP API, on both stores."""

from __future__ import annotations

import anyio
import httpx


def test_a_ticket_is_submitted_dispatched_and_replied_over_http(
    dispatch, submit, fire, client, auth
):
    # Given a ticket taken in over HTTP
    ticket = submit(contact={"name": "张三", "phone": "13812345678", "address": "建外街道1号"})
    assert ticket["state"] == "received" and ticket["channel"] == "app"

    # When the operator dispatches it and the unit replies, each with the version it saw
    dispatched = fire(ticket, "dispatch", dispatch)
    assert dispatched.status_code == 200, dispatched.text
    assert dispatched.headers["ETag"] == f'"{dispatched.json()["version"]}"'
    replied = fire(dispatched.json(), "reply", {"opinion": "valve replaced"}, role="unit")

    # Then the ticket is handled and its history holds every step, hash-chained
    assert replied.json()["state"] == "handled"
    history = client.get(f"/api/v1/tickets/{ticket['id']}/history", headers=auth["auditor"])
    events = history.json()
    assert [e["trigger"] for e in events] == ["submit", "dispatch", "reply"]
    assert [e["actor"] for e in events] == ["operator-1", "operator-1", "unit-1"]
    assert all(b["prev_hash"] == a["hash"] for a, b in zip(events, events[1:], strict=False))


def test_a_stale_if_match_gets_409_with_the_current_version(dispatch, submit, fire):
    # Given a ticket someone else dispatched after we read it at version 1
    ticket = submit()
    assert fire(ticket, "dispatch", dispatch).status_code == 200

    # When we fire with the version we saw
    response = fire(ticket, "exclude", {"approver": "leader", "reason": "test"}, role="supervisor")

    # Then it is refused as a problem naming the current version, and nothing changed
    assert response.status_code == 409
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["type"].endswith("stale-version")
    assert problem["current_version"] == ticket["version"] + 1
    assert response.headers["ETag"] == f'"{ticket["version"] + 1}"'


def test_a_missing_if_match_is_refused_with_428(dispatch, client, submit, auth):
    ticket = submit()
    response = client.post(
        f"/api/v1/tickets/{ticket['id']}/transitions/dispatch",
        json={"fields": dispatch},
        headers=auth["operator"],
    )
    assert response.status_code == 428
    assert "If-Match" in response.json()["detail"]


def test_an_illegal_transition_names_the_allowed_triggers(submit, fire):
    ticket = submit()
    response = fire(ticket, "reply", {"opinion": "done"}, role="operator")
    assert response.status_code == 409
    problem = response.json()
    assert problem["state"] == "received"
    assert "dispatch" in problem["allowed"] and "reply" not in problem["allowed"]
    assert "allowed: answer" in problem["detail"]


def test_a_missing_field_is_named(submit, fire):
    response = fire(submit(), "dispatch", {"route": "direct"})
    assert response.status_code == 422
    assert response.json()["field"] == "lead_unit"


def test_two_concurrent_submits_with_one_idempotency_key_make_one_ticket(app, auth, service):
    # Given two requests carrying the same Idempotency-Key, sent at the same time
    headers = {**auth["operator"], "Idempotency-Key": "call-4711"}
    body = {"category": "water-supply", "summary": "no water"}

    async def both():
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://api") as http:
            results = []
            async with anyio.create_task_group() as group:
                for _ in range(2):
                    group.start_soon(_post, http, headers, body, results)
            return results

    # When both are served
    responses = anyio.run(both)

    # Then both answer with the same ticket, and only one exists
    assert [r.status_code for r in responses] == [201, 201]
    assert len({r.json()["id"] for r in responses}) == 1
    assert len(service.store.find()) == 1


async def _post(http, headers, body, results):
    results.append(await http.post("/api/v1/tickets", json=body, headers=headers))


def test_listing_filters_and_pages_with_a_cursor(dispatch, submit, fire, client, auth):
    # Given five tickets, two of them dispatched to the water group
    tickets = [submit() for _ in range(5)]
    for t in tickets[:2]:
        fire(t, "dispatch", dispatch)
    submit("noise", channel="web")

    # When the supervisor pages through the received ones two at a time
    seen, cursor = [], None
    while True:
        params = {"state": "received", "limit": 2, **({"cursor": cursor} if cursor else {})}
        page = client.get("/api/v1/tickets", params=params, headers=auth["supervisor"]).json()
        seen += [t["id"] for t in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break

    # Then every received ticket comes once, in order; other filters narrow the same way
    assert seen == [t["id"] for t in tickets[2:]] + [tickets[-1]["id"] + 1]
    by_channel = client.get("/api/v1/tickets", params={"channel": "web"}, headers=auth["operator"])
    assert [t["category"] for t in by_channel.json()["items"]] == ["noise"]
    by_unit = client.get(
        "/api/v1/tickets", params={"unit": "street-jianwai"}, headers=auth["auditor"]
    )
    assert [t["id"] for t in by_unit.json()["items"]] == [t["id"] for t in tickets[:2]]


def test_a_unit_sees_only_the_tickets_it_leads_or_co_handles(dispatch, submit, fire, client, auth):
    mine = submit()
    fire(mine, "dispatch", dispatch)
    other = submit()
    fire(other, "dispatch", {"lead_unit": "gas-group", "route": "direct"})

    listed = client.get("/api/v1/tickets", headers=auth["unit"]).json()["items"]
    assert [t["id"] for t in listed] == [mine["id"]]
    hidden = client.get(f"/api/v1/tickets/{other['id']}", headers=auth["unit"])
    assert hidden.status_code == 404  # not even its existence is told
    refused = fire({**other, "version": 2}, "reply", {"opinion": "x"}, role="unit")
    assert refused.status_code == 404


def test_overdue_and_created_between_filters(dispatch, submit, fire, client, auth, clock):
    from datetime import timedelta

    early = submit()
    fire(early, "dispatch", dispatch)
    clock.advance(timedelta(days=3))
    late = submit()

    overdue = client.get("/api/v1/tickets", params={"overdue": True}, headers=auth["supervisor"])
    assert [t["id"] for t in overdue.json()["items"]] == [early["id"]]
    since = (clock.now() - timedelta(hours=1)).isoformat()
    recent = client.get(
        "/api/v1/tickets", params={"created_after": since}, headers=auth["supervisor"]
    )
    assert [t["id"] for t in recent.json()["items"]] == [late["id"]]
