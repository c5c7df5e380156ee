"""Audit seals and export in the console over real HTTP: the seals with their files, the chains
verified against a seal file uploaded or pasted, and the history of a date range downloaded as
JSONL or CSV; auditors and admins only, bad input named."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from console_helpers import csrf_of, sign_in

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


def test_the_chains_verify_against_an_uploaded_or_pasted_seal_file(client, auth, sealed):
    _, path = sealed
    sign_in(client, auth["admin"])

    uploaded = verify(client, files={"seal": ("seal.json", path.read_bytes(), "application/json")})
    pasted = verify(client, data={"seal_text": path.read_text()})
    forged = json.loads(path.read_text()) | {"digest": "0" * 64}
    other = verify(client, data={"seal_text": json.dumps(forged)})

    assert 'id="seal-verified"' in uploaded.text and "3" in uploaded.text
    assert 'id="seal-verified"' in pasted.text
    assert 'id="seal-problems"' in other.text
    assert "the database&#39;s latest seal is not the one in the seal given" in other.text


def test_a_text_that_is_not_a_seal_is_named(client, auth, sealed):
    sign_in(client, auth["auditor"])

    garbage = verify(client, data={"seal_text": "not json"})
    nothing = verify(client)

    assert garbage.status_code == 400 and "not a seal" in garbage.text
    assert nothing.status_code == 400 and "paste its text" in nothing.text


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
