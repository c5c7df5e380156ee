"""The API shows a provisional deadline and /metrics the days of calendar coverage left."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from prometheus_client.parser import text_string_to_metric_families

from hotline.clock import FrozenClock


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(datetime(2026, 12, 14, 1, 0, tzinfo=UTC))  # 09:00 in Beijing


def test_the_ticket_json_marks_a_deadline_reaching_into_2027_provisional(
    client, submit, fire, auth
):
    ticket = submit("illegal-construction")
    response = fire(ticket, "dispatch", {"lead_unit": "street-jianwai", "route": "direct"})
    assert response.status_code == 200, response.text
    body = client.get(f"/api/v1/tickets/{ticket['id']}", headers=auth["operator"]).json()
    marks = {d["kind"]: d["provisional"] for d in body["deadlines"]}
    assert marks == {"response": False, "handling": True}


def test_metrics_give_the_days_of_calendar_coverage_left(client):
    text = client.get("/metrics").text
    samples = {
        (s.name, tuple(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }
    # 2026-12-14 to 2026-12-31, the last day chinesecalendar knows: under 60, time to warn
    assert samples[("hotline_calendar_coverage_days", (("calendar", "beijing"),))] == 17
