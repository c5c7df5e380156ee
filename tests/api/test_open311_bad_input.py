"""Bad input to Open311 gets a 4xx in GeoReport's error list, never a server error, on SQLite
and on PostgreSQL: ids past the columns, dates at the calendar's ends, NUL bytes, lone
surrogates, NaN, oversized bodies, unknown routes and formats."""

from __future__ import annotations

from xml.etree import ElementTree

import pytest

from hotline.workflows import loader

BASE = "/open311/v2"
WATER = {"service_code": "water-supply", "lat": "39.9", "long": "116.4"}


def errors(response, status: int) -> list[dict]:
    """The GeoReport error list of ``response`` in its path's format, checked for shape."""
    assert response.status_code == status, response.text
    if response.request.url.path.endswith(".xml"):
        assert response.headers["content-type"].startswith("text/xml")
        root = ElementTree.fromstring(response.content)
        assert root.tag == "errors"
        found = [
            {"code": int(e.findtext("code")), "description": e.findtext("description")}
            for e in root.iter("error")
        ]
    else:
        assert response.headers["content-type"] == "application/json"
        found = response.json()
    assert found and all(e["code"] == status and e["description"] for e in found), found
    return found


def refused(response, name: str) -> None:
    """A 400 (Hotline's own check) or 422 (the schema's) naming the parameter ``name``."""
    assert response.status_code in (400, 422), response.text
    assert name in errors(response, response.status_code)[0]["description"]


@pytest.fixture
def form(auth):
    token = auth["operator"]["Authorization"].removeprefix("Bearer ")
    return {"api_key": token, **WATER}


@pytest.mark.parametrize("fmt", ["json", "xml"])
@pytest.mark.parametrize("raw", ["2147483648", "9223372036854775808", "9" * 40, "0", "-1"])
def test_ids_past_what_the_columns_hold_are_not_found(client, fmt, raw):
    errors(client.get(f"{BASE}/requests/{raw}.{fmt}"), 404)
    errors(client.get(f"{BASE}/tokens/{raw}.{fmt}"), 404)


def test_an_id_list_past_the_columns_finds_nothing_and_a_malformed_one_is_refused(client):
    listed = client.get(f"{BASE}/requests.json", params={"service_request_id": "2147483648,1"})
    assert listed.status_code == 200 and listed.json() == []
    malformed = client.get(f"{BASE}/requests.xml", params={"service_request_id": "1,abc"})
    refused(malformed, "service_request_id")
    many = ",".join(["1"] * 1001)
    errors(client.get(f"{BASE}/requests.json", params={"service_request_id": many}), 400)


@pytest.mark.parametrize(
    "params",
    [
        {"start_date": "0001-01-01T00:00:00+14:00"},
        {"end_date": "9999-12-31T23:59:59-14:00"},
        {"start_date": "0001-01-01T00:00:00Z", "end_date": "9999-12-31T23:59:59Z"},
        {"start_date": "2026-03-01T00:00:00"},  # no time zone
        {"end_date": "yesterday"},
        {"start_date": "2026-03-02T00:00:00Z", "end_date": "2026-03-01T00:00:00Z"},
    ],
)
@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_dates_out_of_range_or_malformed_are_refused(client, params, fmt):
    refused(client.get(f"{BASE}/requests.{fmt}", params=params), "_date")


@pytest.mark.parametrize(
    "params",
    [
        {"start_date": "0001-01-01T00:00:00Z"},
        {"end_date": "9999-12-31T23:59:59Z"},
        {"start_date": "9999-12-31T00:00:00+00:00"},
        {"end_date": "0001-01-02T00:00:00+00:00"},
    ],
)
def test_dates_at_the_calendars_ends_are_searched(client, params):
    listed = client.get(f"{BASE}/requests.json", params=params)
    assert listed.status_code == 200 and listed.json() == []


@pytest.mark.parametrize(
    "params",
    [
        {"service_code": "noise\x00"},
        {"status": "open\x00"},
        {"status": "pending"},
        {"start_date": "2026-03-01T00:00:00\x00Z"},
        {"jurisdiction_id": "bj\x00"},
        {"service_request_id": "1\x00"},
    ],
)
def test_bad_query_text_is_refused(client, params):
    refused(client.get(f"{BASE}/requests.json", params=params), next(iter(params)))


def test_nul_in_a_path_names_nothing_that_exists(client):
    errors(client.get(f"{BASE}/requests/1%00.json"), 404)
    errors(client.get(f"{BASE}/tokens/1%00.xml"), 404)
    errors(client.get(f"{BASE}/services/noise%00.xml"), 404)


@pytest.mark.parametrize(
    "extra",
    [
        {"description": "leak\x00"},
        {"first_name": "\x00"},
        {"email": "a\x00@example.org"},
        {"attribute[urgency\x00]": "urgent"},
        {"attribute[urgency]": "urgent\x00"},
    ],
)
def test_nul_bytes_in_a_posted_form_are_refused(client, form, extra):
    (name,) = extra
    refused(client.post(f"{BASE}/requests.json", data={**form, **extra}), name.split("[")[0])


def test_a_lone_surrogate_in_multipart_is_refused_or_replaced_never_stored_raw(
    client, form, service
):
    body = (
        b'--b\r\nContent-Disposition: form-data; name="description"\r\n\r\n'
        b"\xed\xa0\x80leak\r\n"
        + b"".join(
            b'--b\r\nContent-Disposition: form-data; name="%s"\r\n\r\n%s\r\n'
            % (k.encode(), v.encode())
            for k, v in form.items()
        )
        + b"--b--\r\n"
    )
    headers = {"Content-Type": "multipart/form-data; boundary=b"}
    response = client.post(f"{BASE}/requests.json", content=body, headers=headers)
    if response.status_code == 201:
        ticket = service.get(int(response.json()[0]["service_request_id"]))
        assert ticket.summary.encode("utf-8")  # storable text: the bytes were replaced
    else:
        errors(response, response.status_code)
        assert response.status_code < 500


@pytest.mark.parametrize(
    "extra",
    [
        {"lat": "nan"},
        {"long": "inf"},
        {"lat": "1e400"},
        {"service_code": "no-such-service"},
        {"email": "not an email"},
        {"media_url": "javascript:alert(1)"},
        {"attribute[colour]": "red"},
        {"attribute[urgency]": "whenever"},
        {"description": "x" * 10_001},
    ],
)
@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_invalid_form_fields_are_refused_as_georeport_errors(client, form, extra, fmt):
    response = client.post(f"{BASE}/requests.{fmt}", data={**form, **extra})
    assert response.status_code in (400, 422), response.text
    errors(response, response.status_code)


@pytest.mark.parametrize("value", ["nan", "inf", "-1e400"])
def test_a_non_finite_number_attribute_is_refused(client, form, service, value):
    source = loader.shipped_text(loader.DEFAULT).replace(
        "{code: water-supply, name: 供水, kind: utility, unit: water-group}",
        "{code: water-supply, name: 供水, kind: utility, unit: water-group,"
        " fields: {depth: {type: float}}}",
    )
    service.publish(source)
    response = client.post(f"{BASE}/requests.json", data={**form, "attribute[depth]": value})
    assert "attribute[depth]" in errors(response, 400)[0]["description"]


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_an_oversized_body_is_a_413_error_list(client, form, fmt):
    response = client.post(f"{BASE}/requests.{fmt}", data={**form, "description": "x" * 1_100_000})
    assert "limit" in errors(response, 413)[0]["description"]


def test_a_chunked_oversized_body_is_refused_as_an_error_list(client, form):
    async def chunks():
        yield b"description="
        for _ in range(1_100):
            yield b"x" * 1_000

    response = client.post(
        f"{BASE}/requests.json",
        content=chunks(),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code in (400, 413)
    errors(response, response.status_code)


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/nope.json", 404),
        ("GET", "/services.html", 404),
        ("GET", "/requests/1.yaml", 404),
        ("DELETE", "/requests.json", 405),
        ("GET", "/services/no-such.xml", 404),
    ],
)
def test_unknown_routes_formats_and_methods_are_error_lists(client, method, path, status):
    errors(client.request(method, BASE + path), status)


def test_posting_without_a_token_is_a_401_error_list_in_xml(client):
    response = client.post(f"{BASE}/requests.xml", data=WATER)
    assert "token" in errors(response, 401)[0]["description"]
    assert response.headers["www-authenticate"] == "Bearer"


def test_unfilled_form_fields_are_no_value(client, form, service):
    blank = {
        "lat": "null",
        "long": "",
        "email": "",
        "phone": "null",
        "description": "",
        "media_url": "",
        "first_name": "",
    }
    response = client.post(
        f"{BASE}/requests.json", data={**form, **blank, "address_string": "光华路1号"}
    )
    assert response.status_code == 201, response.text
    ticket_id = int(response.json()[0]["service_request_id"])
    assert service.store.contact(ticket_id)["email"] is None
