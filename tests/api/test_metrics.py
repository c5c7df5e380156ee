"""/metrics: tickets by state, transitions, firing lateness, sweeper lag, backlog, latency."""

from __future__ import annotations

from datetime import timedelta

from prometheus_client.parser import text_string_to_metric_families

from hotline.daemon.sweeper import Sweeper


def _samples(client) -> dict[tuple[str, tuple], float]:
    text = client.get("/metrics").text
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def test_metrics_report_the_database_and_what_this_process_did(
    client, submit, fire, dispatch, service, clock
):
    # Given two tickets, one dispatched, and a sweeper that fires its rungs 30 s late
    submit()
    fire(submit(), "dispatch", dispatch)
    before = _samples(client)
    clock.advance(timedelta(hours=2, seconds=30))  # the received one's 2 h intake limit passed
    lag = _samples(client)[("hotline_sweeper_lag_seconds", ())]
    Sweeper(service).sweep()

    # When Prometheus scrapes
    after = _samples(client)

    # Then the gauges come from the database and the counters from what happened
    assert after[("hotline_tickets", (("state", "received"),))] == 1
    assert after[("hotline_tickets", (("state", "dispatched"),))] == 1
    assert lag == 30.0  # before the sweep: due 30 s ago, not fired
    assert after[("hotline_sweeper_lag_seconds", ())] == 0.0
    assert after[("hotline_outbox_backlog", (("status", "pending"),))] >= 1
    dispatched = ("hotline_transitions_total", (("trigger", "dispatch"),))
    assert after[dispatched] - before.get(dispatched, 0) == 0  # counted once, before
    assert before[dispatched] >= 1
    late = after[("hotline_deadline_firing_lateness_seconds_count", ())]
    assert late - before.get(("hotline_deadline_firing_lateness_seconds_count", ()), 0) >= 1
    api = [k for k in after if k[0] == "hotline_api_request_duration_seconds_count"]
    assert (
        "hotline_api_request_duration_seconds_count",
        (("method", "POST"), ("route", "/api/v1/tickets"), ("status", "201")),
    ) in api
