"""A third-party Open311 client (the ``georeport`` package from PyPI) against ``hotline serve``
run as a real process, in both GeoReport formats, on SQLite and on PostgreSQL.

``georeport`` only reads; requests are posted as the spec's form with ``requests``, the HTTP
library that client uses.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests
import serving
from georeport import GeoReport

from hotline.engine.access import Role
from hotline.persistence import tokens
from hotline.persistence.sql import SqlStore
from hotline.service import Service


@pytest.fixture(params=["sqlite", "postgres"])
def served(request, tmp_path) -> Iterator[tuple[str, str]]:
    """``hotline serve`` on a free loopback port; yields (Open311 root URL, operator token)."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'open311.db'}"
    else:
        url = request.getfixturevalue("pg_url")
    store = SqlStore(url)  # set up in-process and closed: the server is another process
    store.migrate()
    service = Service(store)
    service.install_shipped()
    name = f"open311-{tmp_path.name}"
    token = tokens.create(store, name, Role.OPERATOR, None, service.clock.now())
    store.close()
    with serving.hotline_serve(url, "/open311/v2/discovery.json") as base:
        yield f"{base}/open311/v2", token


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_a_georeport_client_reads_services_and_follows_its_request(served, fmt):
    root, token = served
    client = GeoReport(root, api_key=token, output_format=fmt)

    # Given the service list and the water service's definition, as the client reads them
    services = client.get_service_list()
    water = next(s for s in services if s["service_code"] == "water-supply")
    assert water["service_name"] == "供水"
    definition = client.get_service_definition("water-supply")
    attributes = definition["attributes"]
    if fmt == "xml":  # xmltodict: one <attribute> is a dict, its <value>s a list
        attributes = [attributes["attribute"]]
    assert attributes[0]["code"] == "urgency"

    # When a request is posted as the spec's form, with attribute[…] and personal data
    form = {
        "api_key": token,
        "service_code": "water-supply",
        "lat": "39.9087243",
        "long": "116.4605",
        "email": "zhang@example.org",
        "phone": "13812345678",
        "description": "No water since 7am, call 13812345678",
        "attribute[urgency]": "urgent",
    }
    posted = requests.post(f"{root}/requests.{fmt}", data=form, timeout=10)
    assert posted.status_code == 201, posted.text
    request_id = _posted_id(posted, fmt)

    # Then the client finds it alone, in the listing, by id list, and by status
    one = client.get_service_request(request_id)
    assert (one["service_request_id"], one["status"]) == (request_id, "open")
    assert one["description"] == "No water since 7am, call 138****5678"
    assert "zhang" not in str(one)
    listed = _as_list(client.get_service_requests(service_code="water-supply"))
    assert request_id in [r["service_request_id"] for r in listed]
    by_id = _as_list(client.get_service_requests(service_request_id=request_id))
    assert [r["service_request_id"] for r in by_id] == [request_id]
    # (georeport fails on an empty XML list, <service_requests/>, so this one is read by hand)
    closed = requests.get(f"{root}/requests.{fmt}", params={"status": "closed"}, timeout=10)
    assert closed.status_code == 200 and f">{request_id}<" not in closed.text
    assert f'"{request_id}"' not in closed.text


def test_a_missing_request_is_a_404_the_client_raises_on(served):
    root, _ = served
    client = GeoReport(root, output_format="xml")
    with pytest.raises(requests.HTTPError) as raised:
        client.get_service_request("2147483648")
    assert raised.value.response.status_code == 404
    assert b"<errors><error><code>404</code>" in raised.value.response.content


def _posted_id(posted: requests.Response, fmt: str) -> str:
    if fmt == "json":
        return posted.json()[0]["service_request_id"]
    import xmltodict

    return xmltodict.parse(posted.content)["service_requests"]["request"]["service_request_id"]


def _as_list(found: object) -> list[dict]:
    # xmltodict gives a dict for one <request>, a list for several; JSON is always a list.
    return found if isinstance(found, list) else [found]
