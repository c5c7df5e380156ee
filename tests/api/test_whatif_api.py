"""POST /api/v1/definitions/what-if through the real ASGI app: a background job whose result
is the document ``hotline workflow what-if --format json`` prints; who may ask; bad input."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from hotline.simulation import simulate
from hotline.workflows import loader

URL = "/api/v1/definitions/what-if"
AS_OF = "2022-01-05T00:00:00+08:00"
DRAFT = loader.shipped_text().replace(
    "within: 24h\n        kinds: [utility]", "within: 6h\n        kinds: [utility]"
)


@pytest.fixture
def month(service, clock):
    clock.set(datetime(2022, 1, 1, tzinfo=ZoneInfo("Asia/Shanghai")))
    simulate.run(service, clock, 60, days=3, seed=4)
    return service


def finished(client, app, response, headers):
    """The job's document once its thread is done."""
    assert response.status_code == 202, response.text
    job = response.json()
    assert response.headers["Location"] == job["url"] == f"{URL}/{job['id']}"
    app.state.jobs.get(job["id"]).thread.join()
    polled = client.get(job["url"], headers=headers)
    assert polled.status_code == 200 and polled.json()["status"] == "done", polled.text
    return polled.json()


def test_the_job_gives_the_document_the_cli_prints(
    client, app, auth, month, tmp_path, hotline_json
):
    asked = {"period": "2022-01", "as_of": AS_OF}
    draft = tmp_path / "draft.yaml"
    draft.write_text(DRAFT, encoding="utf-8")

    drafted = client.post(URL, json=asked | {"source": DRAFT}, headers=auth["admin"])
    job = finished(client, app, drafted, auth["admin"])
    published = client.post(URL, json=asked | {"version": 1}, headers=auth["supervisor"])
    again = finished(client, app, published, auth["supervisor"])

    assert (job["done"], job["total"]) == (60, 60)
    mine = hotline_json(
        ["workflow", "what-if", str(draft), "--period", "2022-01", "--as-of", AS_OF]
    )
    assert job["result"] | {"draft": "-"} == mine | {"draft": "-"}  # labelled by file or not
    assert job["result"]["activity"]["change"]["deadlines_missed"] > 0
    published = ["workflow", "what-if", "beijing-12345@1", "--period", "2022-01", "--as-of", AS_OF]
    assert again["result"] == hotline_json(published)


@pytest.mark.parametrize("role", ["operator", "unit", "auditor"])
def test_only_admins_and_supervisors_may_replay(client, auth, month, role):
    response = client.post(URL, json={"period": "2022-01", "version": 1}, headers=auth[role])

    assert response.status_code == 403


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"period": "2022-01"}, "either a draft"),
        ({"period": "2022-01", "version": 1, "source": DRAFT}, "either a draft"),
        ({"period": "2022-13", "version": 1}, "period"),
        ({"period": "2022-01", "version": 1, "unit": "nobody"}, "unit"),
        ({"period": "2022-01", "version": 1, "category": "weather"}, "category"),
        ({"period": "2022-01", "version": 1, "sweep": "soon"}, "sweep"),
        ({"period": "2022-01", "source": DRAFT.replace("dest: dispatched", "dest: x", 1)}, "line"),
    ],
)
def test_bad_input_is_a_problem_before_any_work(client, app, auth, month, body, field):
    response = client.post(URL, json=body, headers=auth["admin"])

    assert 400 <= response.status_code < 500 and field in response.text, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert not getattr(app.state, "jobs", None) or not app.state.jobs._jobs


def test_an_unknown_job_or_version_is_not_found(client, auth, month):
    assert client.get(f"{URL}/{'0' * 32}", headers=auth["admin"]).status_code == 404
    response = client.post(URL, json={"period": "2022-01", "version": 9}, headers=auth["admin"])
    assert response.status_code == 404
