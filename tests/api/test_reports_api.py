"""/api/v1/reports through the real ASGI app: the CLI's numbers, who reads what, bad input."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from hotline.simulation import simulate

NEW_YEAR = datetime(2022, 1, 1, tzinfo=ZoneInfo("Asia/Shanghai"))
AS_OF = "2022-01-03T12:00:00+08:00"
# (CLI arguments, API path, query): the same report asked both ways
REPORTS = [
    (
        ["rates", "--period", "2022-01-01..2022-01-03", "--by", "day", "--as-of", AS_OF],
        "/api/v1/reports/rates",
        {"period": "2022-01-01..2022-01-03", "by": "day", "as_of": AS_OF},
    ),
    (
        ["rates", "--period", "2022-01", "--unit", "street-jianwai"],
        "/api/v1/reports/rates",
        {"period": "2022-01", "unit": "street-jianwai"},
    ),
    (
        ["ranking", "--period", "week", "--as-of", AS_OF],
        "/api/v1/reports/ranking",
        {"period": "week", "as_of": AS_OF},
    ),
    (["hot-topics", "--month", "2022-01"], "/api/v1/reports/hot-topics", {"month": "2022-01"}),
    (["whistles", "--period", "2022-01"], "/api/v1/reports/whistles", {"period": "2022-01"}),
]


@pytest.fixture
def simulated(service, clock):
    """Three simulated days of January 2022 (whistles among them) in the test's store."""
    clock.set(NEW_YEAR)
    return simulate.run(service, clock, 120, days=3, seed=4)


@pytest.fixture
def cli_json(hotline_json):
    """Builder: ``hotline report ARGS --format json`` on the test's database, parsed."""
    return lambda args: hotline_json(["report", *args])


def test_every_report_route_gives_the_numbers_the_cli_prints(simulated, cli_json, client, auth):
    # Given a simulated database with tickets and whistles
    assert simulated.whistles > 0

    # When each report is read over HTTP by a supervisor and printed by the CLI as JSON
    answers = [
        (client.get(path, params=query, headers=auth["supervisor"]), cli_json(args))
        for args, path, query in REPORTS
    ]

    # Then the documents are equal, number for number, and not empty
    for response, printed in answers:
        assert response.status_code == 200, response.text
        assert response.json() == printed
        assert len(printed["rows"]) > 1
    whistles = answers[-1][1]["rows"][-1]
    assert whistles["summoned"] > 0 and whistles["reported_in_time"] > 0


@pytest.mark.parametrize("store", ["sqlite"], indirect=True)
def test_a_unit_reads_its_own_figures_and_the_published_ranking_only(simulated, client, auth):
    # Given a database whose tickets and whistles concern the unit token's water group
    def get(report: str, role: str, **query) -> dict:
        response = client.get(f"/api/v1/reports/{report}", params=query, headers=auth[role])
        return {"status": response.status_code, **response.json()}

    # When the unit reads reports, with and without naming a unit
    own = get("rates", "unit", period="2022-01")
    other = get("rates", "unit", period="2022-01", unit="street-jianwai")
    whistles = get("whistles", "unit", period="2022-01")

    # Then it gets its own figures (as a supervisor reads them for it), is refused another's,
    # reads the ranking of every unit, and neither it nor the operator reads the rest
    assert own == get("rates", "supervisor", period="2022-01", unit="water-group")
    assert [r["group"] for r in own["rows"]] == ["water-group", "total"]
    assert (other["status"], other["field"]) == (403, "unit")
    assert [r["department"] for r in whistles["rows"]] == ["water-group", "total"]
    ranking = get("ranking", "unit", period="month", as_of="2022-01-03T00:00:00Z")
    assert ranking["status"] == 200 and len(ranking["rows"]) > 3
    assert get("hot-topics", "unit", month="2022-01")["status"] == 403
    for report in ("rates", "ranking", "hot-topics", "whistles"):
        assert get(report, "operator", period="2022-01", month="2022-01")["status"] == 403


BAD = [
    ("rates", {"period": "2022-13"}, "period"),
    ("rates", {"period": "2022-01", "by": "street"}, "query.by"),
    ("rates", {"period": "2022-01", "unit": "nowhere"}, "unit"),
    ("rates", {"period": "2022-01", "as_of": "2022-02-01T00:00"}, "query.as_of"),
    ("rates", {"period": "1900..2999"}, "period"),
    ("rates", {"period": "2022-01", "rules": "0"}, "query.rules"),
    ("rates", {"period": "2022-01", "rules": "9"}, "rules"),
    ("ranking", {"workflow": "nowhere-311"}, "workflow"),
    ("rates", {"period": "2022-01-01..2023-12-31", "by": "day"}, "period"),
    ("ranking", {"period": "year"}, "query.period"),
    ("ranking", {"as_of": "0001-01-01T00:00:00Z"}, "as_of"),
    ("hot-topics", {"month": "2022-01..2022-02"}, "month"),
    ("hot-topics", {"month": "July"}, "month"),
    ("hot-topics", {"month": "2022-07", "months_before": "0"}, "query.months_before"),
    ("whistles", {"period": "0001-01"}, "period"),
    ("whistles", {}, "query.period"),
]


@pytest.mark.parametrize("store", ["sqlite"], indirect=True)
def test_bad_report_parameters_are_422_problems_naming_the_parameter(client, auth):
    # When each report is asked with a malformed or out-of-range parameter
    answers = [
        (report, field, client.get(f"/api/v1/reports/{report}", params=q, headers=auth["admin"]))
        for report, q, field in BAD
    ]

    # Then each is a 422 problem that names the parameter, never a server error
    wrong = []
    for report, field, response in answers:
        body = response.json()
        named = {body.get("field"), *(e["field"] for e in body.get("errors", []))}
        kind = response.headers["content-type"]
        if (response.status_code, kind, field in named) != (422, "application/problem+json", True):
            wrong.append((report, field, response.status_code, body))
    assert wrong == []
