"""Audit seals and export in the console over real HTTP: the seals with their files, the chains
verified against a seal file uploaded or pasted, and the history of a date range downloaded as
JSONL or CSV; auditors and admins only, bad input named."""

from __future__ import annotations

import csv
import io
import json
import threading
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from console_helpers import csrf_of, finished, sign_in

from hotline.admin import audit
from hotline.service import Intake

BEIJING = ZoneInfo("Asia/Shanghai")
SEALS = "/console/audit/seals"


@pytest.fixture
def sealed(service, clock, tmp_path):
    """Two tickets taken in on 2022-03-01 and one on 03-03 (Beijing), then a seal file."""
    clock.set(datetime(2022, 3, 1, 10, tzinfo=BEIJING))
    first = [service.submit(Intake("noise", f"loud {n}"), actor="operator") for n in range(2)]
    clock.advance(timedelta(days=2))
    service.submit(Intake("noise", "later"), actor="operator")
    path = tmp_path / "seal.json"
    audit.seal(service, path)
    return first, path


def verify(client, **sent):
    csrf = csrf_of(client.get(SEALS))
    return client.post(f"{SEALS}/verify", data={"csrf": csrf, **sent.pop("data", {})}, **sent)


def test_the_seals_are_listed_with_their_files(client, auth, sealed):
    _, path = sealed
    sign_in(client, auth["auditor"])

    page = client.get(SEALS).text
    link = f"{SEALS}/1.json"
    assert f'href="{link}"' in page and "2022-03-03" in page

    downloaded = client.get(link)
    assert downloaded.json() == json.loads(path.read_text())
    assert "attachment" in downloaded.headers["content-disposition"]
    assert client.get(f"{SEALS}/99.json").status_code == 404


def test_the_chains_verify_against_an_uploaded_or_pasted_seal_file(client, app, auth, sealed):
    _, path = sealed
    sign_in(client, auth["admin"])

    upload = {"seal": ("seal.json", path.read_bytes(), "application/json")}
    uploaded = finished(client, app, verify(client, files=upload))
    pasted = finished(client, app, verify(client, data={"seal_text": path.read_text()}))
    forged = json.loads(path.read_text()) | {"digest": "0" * 64}
    other = finished(client, app, verify(client, data={"seal_text": json.dumps(forged)}))

    assert 'id="seal-verified"' in uploaded.text and "3" in uploaded.text
    assert 'id="seal-verified"' in pasted.text
    assert 'id="seal-problems"' in other.text
    assert "the database&#39;s latest seal is not the one in the seal given" in other.text


def test_a_text_that_is_not_a_seal_is_named_before_any_job_starts(client, app, auth, sealed):
    sign_in(client, auth["auditor"])

    garbage = verify(client, data={"seal_text": "not json"})
    nothing = verify(client)
    too_big = verify(client, files={"seal": ("seal.json", b"{" * 200_001, "application/json")})

    assert garbage.status_code == 400 and "not a seal" in garbage.text
    assert nothing.status_code == 400 and "paste its text" in nothing.text
    assert too_big.status_code == 400 and "larger than" in too_big.text
    assert app.state.jobs._jobs == {}


@pytest.mark.parametrize("role", ["auditor", "admin"])
def test_seal_now_seals_every_head_and_offers_the_file(client, app, auth, sealed, clock, role):
    clock.advance(timedelta(days=1))
    sign_in(client, auth[role])
    csrf = csrf_of(client.get(SEALS))

    page = finished(client, app, client.post(f"{SEALS}/seal", data={"csrf": csrf}))

    assert 'data-status="done"' in page.text and 'id="sealed"' in page.text
    assert "2022-03-04" in page.text and f'href="{SEALS}/2.json"' in page.text
    kept = client.get(f"{SEALS}/2.json").json()
    assert kept["tickets"] == 3 and kept["previous"] == json.loads(sealed[1].read_text())["digest"]
    verified = finished(client, app, verify(client, data={"seal_text": json.dumps(kept)}))
    assert 'id="seal-verified"' in verified.text


def test_every_chain_is_verified_in_the_background_and_a_break_is_named(
    client, app, auth, sealed, service
):
    sign_in(client, auth["auditor"])
    csrf = csrf_of(client.get("/console/audit"))

    intact = finished(client, app, client.post("/console/audit/verify", data={"csrf": csrf}))
    with service.store.writing() as conn:  # an administrator edits a ticket's chain head
        conn.exec_driver_sql("UPDATE tickets SET head_hash = 'forged' WHERE id = 1")
    broken = finished(client, app, client.post("/console/audit/verify", data={"csrf": csrf}))

    assert 'id="verified"' in intact.text and "3" in intact.text
    assert 'id="problems"' in broken.text and "ticket 1" in broken.text


@pytest.mark.parametrize("role", ["operator", "unit", "supervisor"])
def test_the_other_roles_may_not_seal_or_verify(client, auth, role):
    sign_in(client, auth[role])
    csrf = csrf_of(client.get("/console/dashboard"))
    for url in (f"{SEALS}/seal", f"{SEALS}/verify", "/console/audit/verify"):
        assert client.post(url, data={"csrf": csrf}).status_code == 403


def test_an_unknown_audit_job_is_not_found(client, auth):
    sign_in(client, auth["auditor"])
    assert client.get(f"/console/audit/jobs/{'0' * 32}").status_code == 404
    assert client.get("/console/audit/jobs/nope").status_code == 400


def test_the_export_holds_the_events_of_the_days_asked(client, auth, sealed, service):
    first, _ = sealed
    sign_in(client, auth["auditor"])
    asked = {"since": "2022-03-01", "until": "2022-03-02"}

    jsonl = client.get("/console/audit/export", params=asked | {"format": "jsonl"})
    table = client.get("/console/audit/export", params=asked | {"format": "csv"})

    lines = [json.loads(line) for line in jsonl.text.splitlines()]
    assert {line["ticket_id"] for line in lines} == {t.id for t in first}
    assert 'filename="events-2022-03-01-2022-03-02.jsonl"' in jsonl.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(table.text)))
    assert [r["ticket_id"] for r in rows] == [str(line["ticket_id"]) for line in lines]
    assert table.headers["content-type"].startswith("text/csv")
    everything = client.get("/console/audit/export", params={**asked, "until": "2022-03-03"})
    assert len(everything.text.splitlines()) == len(lines) + 1


@pytest.mark.parametrize(
    ("asked", "named"),
    [
        ({"since": "2022-03-05", "until": "2022-03-01"}, "is before"),
        ({"since": "yesterday", "until": "2022-03-01"}, "is not a day"),
        ({"since": "2022-03-01", "until": "2022-03-01", "format": "xml"}, "jsonl or csv"),
        ({}, "is not a day"),
    ],
)
def test_a_bad_export_range_is_named(client, auth, asked, named):
    sign_in(client, auth["admin"])
    refused = client.get("/console/audit/export", params=asked)
    assert refused.status_code == 400 and named in refused.text


@pytest.mark.parametrize("role", ["supervisor", "operator", "unit"])
def test_only_auditors_and_admins_see_seals_and_export(client, auth, role, sealed):
    sign_in(client, auth[role])
    assert client.get(SEALS).status_code == 403
    assert client.get(f"{SEALS}/1.json").status_code == 403
    assert client.get("/console/audit/export?since=2022-03-01&until=2022-03-02").status_code == 403


def test_with_every_job_slot_taken_a_seal_waits_and_says_why(client, app, auth):
    sign_in(client, auth["auditor"])
    release = threading.Event()

    def hold(progress):
        release.wait()
        return {}

    held = [app.state.jobs.start("what-if", 1, hold) for _ in range(app.state.jobs.running)]
    try:
        csrf = csrf_of(client.get(SEALS))
        busy = client.post(f"{SEALS}/seal", data={"csrf": csrf})
    finally:
        release.set()
        for job in held:
            job.thread.join()

    assert busy.status_code == 503 and 'id="job-busy"' in busy.text
    assert [j.kind for j in app.state.jobs._jobs.values()] == ["what-if", "what-if"]
