"""Whistles (吹哨报到) over HTTP: a summoned department sees the ticket and answers for itself."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

STREET, WATER, ROADS = "street-jianwai", "water-group", "chaoyang-roads"  # WATER: auth["unit"]


@pytest.fixture
def street(unit_auth) -> dict[str, str]:
    return unit_auth(STREET)


@pytest.fixture
def whistled(submit, fire, street) -> dict:
    """A leaking-main ticket led by the street, which whistled the water group and the roads."""
    ticket = fire(submit(), "dispatch", {"lead_unit": STREET, "route": "direct"}).json()
    fields = {"to": [WATER, ROADS], "within": "24h", "reason": "leaking main under a home"}
    response = fire(ticket, "whistle", fields, headers=street)
    assert response.status_code == 200, response.text
    return response.json()


def test_a_summoned_department_sees_the_ticket_and_reports(submit, fire, client, auth, street):
    # Given a ticket the street leads, which the water group cannot see
    ticket = fire(submit(), "dispatch", {"lead_unit": STREET, "route": "direct"}).json()
    url = f"/api/v1/tickets/{ticket['id']}"
    assert client.get(url, headers=auth["unit"]).status_code == 404

    # When the street whistles the water group through the transitions route, with If-Match
    fields = {"to": [WATER], "reason": "leaking main under a home"}
    ticket = fire(ticket, "whistle", fields, headers=street).json()

    # Then the water group sees it in get, list and history, and reports for itself
    seen = client.get(url, headers=auth["unit"]).json()
    assert seen["whistle"]["participants"][0]["status"] == "summoned"
    listed = client.get("/api/v1/tickets", headers=auth["unit"]).json()["items"]
    assert [t["id"] for t in listed] == [ticket["id"]]
    history = client.get(f"{url}/history", headers=auth["unit"]).json()
    assert [e["trigger"] for e in history][-1] == "whistle"
    report = {"department": WATER, "person": "Li Wei", "note": "crew on site"}
    reported = fire(seen, "whistle_report", report, role="unit")
    assert reported.status_code == 200, reported.text
    assert reported.json()["whistle"]["closed_at"] is not None  # the only one summoned
    # And it still reads the history once the whistle is closed
    last = client.get(f"{url}/history", headers=auth["unit"]).json()[-2:]
    steps = [(e["trigger"], e["actor"]) for e in last]
    assert steps == [("whistle_report", "unit-1"), ("whistle_closed", "system")]


def test_a_unit_not_summoned_gets_404_and_no_unit_answers_for_another(
    whistled, fire, client, auth, unit_auth, street
):
    # Given the open whistle, and a gas company nobody summoned
    gas = unit_auth("gas-group")
    url = f"/api/v1/tickets/{whistled['id']}"

    # When the gas company looks, and units answer for departments other than their own
    hidden = client.get(url, headers=gas)
    listed = client.get("/api/v1/tickets", headers=gas).json()["items"]
    report, decline = {"person": "x"}, {"reason": "x"}
    by_gas = fire(whistled, "whistle_report", {"department": "gas-group", **report}, headers=gas)
    for_roads = fire(whistled, "whistle_report", {"department": ROADS, **report}, role="unit")
    by_street = fire(whistled, "whistle_decline", {"department": WATER, **decline}, headers=street)
    reply = fire(whistled, "reply", {"opinion": "fixed"}, role="unit")

    # Then the gas company is told nothing; the others are refused, naming the rule
    assert (hidden.status_code, listed, by_gas.status_code) == (404, [], 404)
    assert for_roads.status_code == 403
    problem = for_roads.json()
    assert problem["type"] == "urn:hotline:problem:acting-for-another-unit"
    assert problem["field"] == "department"
    assert "answers only for itself" in problem["detail"] and ROADS in problem["detail"]
    assert by_street.status_code == 403 and "whistle_decline" not in by_street.json()["allowed"]
    answers = ["whistle_report", "whistle_decline", "whistle_task_done"]
    assert reply.status_code == 403 and reply.json()["allowed"] == answers  # it does not handle
    # And nothing was written
    after = client.get(url, headers=auth["auditor"]).json()
    assert after["version"] == whistled["version"]


def test_only_the_latest_whistle_summons_in_get_and_list_alike(
    whistled, fire, client, auth, unit_auth, street
):
    # Given the street closes its whistle and whistles the gas company instead
    closed = fire(whistled, "whistle_close", {"reason": "wrong pipe"}, headers=street).json()
    fields = {"to": ["gas-group"], "reason": "it is the gas main"}
    assert fire(closed, "whistle", fields, headers=street).status_code == 200
    gas, url = unit_auth("gas-group"), f"/api/v1/tickets/{whistled['id']}"

    # When the water group (summoned before) and the gas company look
    water_get, gas_get = (client.get(url, headers=h).status_code for h in (auth["unit"], gas))
    water_list, gas_list = (
        client.get("/api/v1/tickets", headers=h).json()["items"] for h in (auth["unit"], gas)
    )

    # Then the Python rule (get) and its SQL twin (list) agree: only the gas company sees it
    assert (water_get, water_list) == (404, [])
    assert (gas_get, [t["id"] for t in gas_list]) == (200, [whistled["id"]])


def test_the_whistling_street_rules_on_a_decline(whistled, fire, unit_auth, street):
    # Given the roads unit declines for itself
    roads = unit_auth(ROADS)
    declined = fire(
        whistled, "whistle_decline", {"department": ROADS, "reason": "not a road"}, headers=roads
    )
    assert declined.status_code == 200, declined.text

    # When the water group tries to excuse it, and then the street does
    by_water = fire(declined.json(), "whistle_accept_decline", {"department": ROADS}, role="unit")
    by_street = fire(
        declined.json(), "whistle_accept_decline", {"department": ROADS}, headers=street
    )

    # Then only the whistling unit rules on it
    assert by_water.status_code == 403
    statuses = {p["department"]: p["status"] for p in by_street.json()["whistle"]["participants"]}
    assert statuses == {WATER: "summoned", ROADS: "excused"}


def test_whistle_listing_and_stats_return_what_the_cli_shows(
    whistled, fire, client, auth, clock, store
):
    # Given the water group reports two hours after the whistle, and the roads unit not yet
    clock.advance(timedelta(hours=2))
    fire(whistled, "whistle_report", {"department": WATER, "person": "Li Wei"}, role="unit")
    since = (clock.now() - timedelta(days=1)).isoformat()

    # When the supervisor lists open whistles and reads the statistics, and so does the CLI
    listed = client.get("/api/v1/whistles", params={"open": True}, headers=auth["supervisor"])
    stats = client.get("/api/v1/whistles/stats", params={"since": since}, headers=auth["auditor"])
    cli_listed = _cli_rows("whistles", "--open", "--db", store.url)
    cli_stats = _cli_rows("whistles", "--stats", "--db", store.url)

    # Then both say the roads unit is still missing, and how each department answered
    [w] = listed.json()
    assert (w["ticket_id"], w["summoned"], w["missing"]) == (
        whistled["id"],
        [WATER, ROADS],
        [ROADS],
    )
    assert cli_listed == [
        [str(w["ticket_id"]), "1", "open", STREET, "2026-03-02 09:00", "2", ROADS, "-", w["reason"]]
    ]
    by_department = {s["department"]: s for s in stats.json()}
    assert by_department[WATER] == {
        "department": WATER,
        "summoned": 1,
        "reported": 1,
        "reported_in_time": 1,
        "excused": 0,
        "median_report_seconds": 7200.0,
        "absences": 0,
    }
    assert cli_stats == [
        [ROADS, "1", "0", "0", "0", "-", "0"],
        [WATER, "1", "1", "1", "0", "2.0 h", "0"],
    ]


def test_a_unit_lists_only_the_whistles_that_summon_it(whistled, client, auth, unit_auth):
    gas = unit_auth("gas-group")

    mine = client.get("/api/v1/whistles", headers=auth["unit"]).json()
    none = client.get("/api/v1/whistles", headers=gas).json()
    other = client.get("/api/v1/whistles", params={"department": ROADS}, headers=auth["unit"])
    naive = client.get("/api/v1/whistles/stats", params={"since": "2026-03-01T00:00"}, headers=gas)

    assert [w["ticket_id"] for w in mine] == [whistled["id"]] and none == []
    assert other.status_code == 403 and other.json()["field"] == "department"
    assert naive.status_code == 422  # a time without its zone is refused


def _cli_rows(*args: str) -> list[list[str]]:
    """The body rows of the table the ``hotline`` command prints, cell by cell."""
    command = [str(Path(sys.executable).with_name("hotline")), *args]
    env = {**os.environ, "COLUMNS": "200"}
    result = subprocess.run(command, capture_output=True, text=True, env=env, check=True)
    rows = [line for line in result.stdout.splitlines() if line.startswith("│")]  # not ┃ heads
    return [[cell.strip() for cell in row.strip("│").split("│")] for row in rows]
