"""The what-if of a draft in the console over real HTTP: admins and supervisors start it, see its
progress, then the document the API gives (the JSON is the same); bad input is named, and the
others are refused."""

from __future__ import annotations

import threading
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from console_helpers import csrf_of, sign_in

from hotline.simulation import simulate
from hotline.workflows import loader

DRAFT = loader.shipped_text().replace(
    "within: 24h\n        kinds: [utility]", "within: 6h\n        kinds: [utility]"
)
URL = "/console/definitions-what-if"


@pytest.fixture
def month(service, clock):
    clock.set(datetime(2022, 1, 1, tzinfo=ZoneInfo("Asia/Shanghai")))
    simulate.run(service, clock, 30, days=3, seed=4)
    clock.set(datetime(2022, 1, 5, tzinfo=ZoneInfo("Asia/Shanghai")))
    return service


def start(client, **fields):
    csrf = csrf_of(client.get(URL))
    return client.post(URL, data={"csrf": csrf, "draft": DRAFT, "period": "2022-01"} | fields)


@pytest.mark.parametrize("role", ["admin", "supervisor"])
def test_a_planner_starts_the_what_if_and_reads_the_api_document(client, app, auth, month, role):
    sign_in(client, auth[role])

    started = start(client)

    assert started.status_code == 303
    job_id = started.headers["location"].rsplit("/", 1)[-1]
    app.state.jobs.get(job_id).thread.join()
    page = client.get(started.headers["location"])
    assert 'data-status="done"' in page.text and 'id="whatif-units"' in page.text
    mine = client.get(f"{URL}/{job_id}.json").json()
    api = client.get(f"/api/v1/definitions/what-if/{job_id}", headers=auth[role]).json()
    assert mine == api and mine["result"]["total"]["group"] == "total"
    assert (mine["done"], mine["total"]) == (30, 30)


def test_the_api_options_reach_the_replay(client, app, auth, month):
    sign_in(client, auth["admin"])

    started = start(client, against="1", sweep="1h", as_of="2022-01-04T12:00")

    assert started.status_code == 303, started.text
    job_id = started.headers["location"].rsplit("/", 1)[-1]
    app.state.jobs.get(job_id).thread.join()
    asked = client.get(f"{URL}/{job_id}.json").json()["result"]
    assert asked["sweep_seconds"] == 3600
    assert asked["as_of"] == "2022-01-04T04:00:00+00:00"  # noon in Beijing
    assert asked["baseline"] == "beijing-12345@1"  # a replay, not "(recorded)"


def test_a_running_job_shows_its_progress_and_reloads(client, app, auth):
    sign_in(client, auth["admin"])
    release = threading.Event()

    def work(progress):
        progress(3)
        release.wait()
        return {}

    job = app.state.jobs.start("what-if", 10, work)
    try:
        page = client.get(f"{URL}/{job.id}")
    finally:
        release.set()
        job.thread.join()
    assert 'data-status="running"' in page.text and 'http-equiv="refresh"' in page.text
    assert '<progress max="10" value="3">' in page.text


def test_bad_input_is_named_and_starts_nothing(client, app, auth, month):
    sign_in(client, auth["supervisor"])

    invalid = start(client, draft="name: broken\nstates: [a]\n")
    no_period = start(client, period="")
    bad_period = start(client, period="2022-13")
    too_long = start(client, period="2000..2022")
    unit = start(client, unit="no-such-unit")
    against = start(client, against="99")
    not_a_version = start(client, against="one")
    sweep = start(client, sweep="soon")
    as_of = start(client, as_of="yesterday")

    assert invalid.status_code == 422 and "line" in invalid.text
    assert no_period.status_code == 422 and "2026-03" in no_period.text
    assert bad_period.status_code == 422 and "2022-13" in bad_period.text
    assert too_long.status_code == 422 and "days" in too_long.text
    assert unit.status_code == 422 and "no-such-unit" in unit.text
    assert 'id="whatif-draft"' in unit.text and "within: 6h" in unit.text  # the draft is kept
    assert against.status_code == 422 and "99" in against.text
    assert not_a_version.status_code == 422 and "version number" in not_a_version.text
    assert sweep.status_code == 422 and "sweep" in sweep.text
    assert as_of.status_code == 422 and "yesterday" in as_of.text
    assert 'value="yesterday"' in as_of.text  # what was typed is kept
    assert app.state.jobs._jobs == {}
    assert client.get(f"{URL}/{'0' * 32}").status_code == 404
    assert client.get(f"{URL}/not-a-job").status_code == 400


@pytest.mark.parametrize("role", ["operator", "unit", "auditor"])
def test_the_other_roles_are_refused(client, auth, role):
    sign_in(client, auth[role])
    assert client.get(URL).status_code == 403
    csrf = csrf_of(client.get("/console/definitions"))
    posted = client.post(URL, data={"csrf": csrf, "draft": DRAFT, "period": "2022-01"})
    assert posted.status_code == 403
