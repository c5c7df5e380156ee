"""Open311 GeoReport v2: an Open311 client files a request and follows it to closed."""

from __future__ import annotations

from datetime import timedelta
from xml.etree import ElementTree

import pytest

from hotline.api import open311
from hotline.workflows import loader


def test_services_are_the_definitions_categories(client):
    services = client.get("/open311/v2/services.json").json()
    water = next(s for s in services if s["service_code"] == "water-supply")
    assert water == {
        "service_code": "water-supply",
        "service_name": "供水",
        "description": "供水",
        "metadata": True,  # its urgency
        "type": "realtime",
        "keywords": "utility",
        "group": "utility",
    }


def test_a_request_is_created_then_followed_until_closed(client, auth, fire, dispatch, service):
    # Given an Open311 client posting a form with its api_key, as GeoReport v2 has it
    token = auth["operator"]["Authorization"].removeprefix("Bearer ")
    created = client.post(
        "/open311/v2/requests.json",
        data={
            "api_key": token,
            "service_code": "water-supply",
            "lat": "39.9087243",
            "long": "116.4605",
            "address_string": "朝阳区建外街道光华路1号",
            "first_name": "三",
            "last_name": "张",
            "phone": "13812345678",
            "description": "No water since 7am",
        },
    )
    assert created.status_code == 201, created.text
    (answer,) = created.json()
    request_id = answer["service_request_id"]

    # Then it is a ticket of channel open311, open and unassigned
    ticket = service.get(int(request_id))
    assert (ticket.channel, ticket.summary) == ("open311", "No water since 7am")
    (status,) = client.get(f"/open311/v2/requests/{request_id}.json").json()
    assert (status["status"], status["agency_responsible"]) == ("open", None)
    assert status["address"] == "朝阳区建外街…" and status["lat"] == 39.909
    assert "13812345678" not in str(status)

    # When the hotline dispatches it and it is answered and closed
    body = {"id": ticket.id, "version": ticket.version}
    for trigger, fields in (
        ("dispatch", dispatch),
        ("reply", {"opinion": "valve replaced"}),
        ("start_callback", {}),
        ("record_callback", {"resolved": True, "satisfaction": "satisfied"}),
    ):
        body = fire(body, trigger, fields, role="supervisor").json()

    # Then the client sees it closed, with the agency and the closing opinion
    (status,) = client.get(f"/open311/v2/requests/{request_id}.json").json()
    assert status["status"] == "closed"
    assert status["agency_responsible"] == "北京自来水集团"
    assert status["status_notes"] == "closed: valve replaced"
    assert status["updated_datetime"] >= status["requested_datetime"]
    listed = client.get("/open311/v2/requests.json", params={"status": "closed"}).json()
    assert [r["service_request_id"] for r in listed] == [request_id]
    assert client.get("/open311/v2/requests.json", params={"status": "open"}).json() == []


def test_a_request_without_a_location_or_token_is_refused_as_georeport_errors(client, auth):
    form = {"service_code": "noise", "description": "loud"}
    assert client.post("/open311/v2/requests.json", data=form).status_code == 401
    refused = client.post("/open311/v2/requests.json", data=form, headers=auth["operator"])
    assert refused.status_code == 400
    assert refused.json() == [{"code": 400, "description": "give lat and long, or address_string"}]


def test_only_open311_tickets_are_shown(client, submit):
    ticket = submit()  # an app ticket
    hidden = client.get(f"/open311/v2/requests/{ticket['id']}.json")
    assert hidden.status_code == 404 and hidden.json()[0]["code"] == 404


# -- the whole GeoReport v2: formats, service definitions, tokens, every POST field ----------


WATER = {"service_code": "water-supply", "lat": "39.9087243", "long": "116.4605"}


@pytest.fixture
def post(client, auth):
    """Builder: post a request form as the operator (token in ``api_key``); return the id."""
    token = auth["operator"]["Authorization"].removeprefix("Bearer ")

    def build(**form) -> str:
        created = client.post("/open311/v2/requests.json", data={"api_key": token, **WATER, **form})
        assert created.status_code == 201, created.text
        return created.json()[0]["service_request_id"]

    return build


def xml(response) -> ElementTree.Element:
    assert response.headers["content-type"].startswith("text/xml"), response.text
    return ElementTree.fromstring(response.content)


def test_every_route_answers_in_xml_as_the_spec_examples(client, post):
    request_id = post(description="No water")
    services = xml(client.get("/open311/v2/services.xml"))
    assert services.tag == "services"
    assert "water-supply" in [s.findtext("service_code") for s in services.iter("service")]
    listing = xml(client.get("/open311/v2/requests.xml"))
    assert [r.findtext("service_request_id") for r in listing.iter("request")] == [request_id]
    (one,) = xml(client.get(f"/open311/v2/requests/{request_id}.xml"))
    assert (one.tag, one.findtext("status"), one.findtext("description")) == (
        "request",
        "open",
        "No water",
    )
    token = xml(client.get(f"/open311/v2/tokens/{request_id}.xml"))
    assert token.find("request").findtext("service_request_id") == request_id
    discovery = xml(client.get("/open311/v2/discovery.xml"))
    formats = [f.text for f in discovery.iter("format")]
    assert formats == ["text/xml", "application/json"]
    assert discovery.find("endpoints/endpoint/url").text.endswith("/open311/v2")


def test_errors_are_georeport_error_lists_in_the_paths_format(client):
    missing = client.get("/open311/v2/requests/999.xml")
    assert missing.status_code == 404
    error = xml(missing).find("error")
    assert (error.findtext("code"), error.findtext("description")) == (
        "404",
        "no service request '999'",
    )
    unknown = client.get("/open311/v2/services/no-such.json")
    assert unknown.status_code == 404 and unknown.json()[0]["code"] == 404
    assert client.get("/open311/v2/services.html").json()[0]["code"] == 404


def test_a_service_definition_lists_urgency_and_the_categorys_declared_fields(
    client, service, post
):
    # Given a definition version whose water-supply category declares two intake fields
    source = loader.shipped_text(loader.DEFAULT).replace(
        "{code: water-supply, name: 供水, kind: utility, unit: water-group}",
        "{code: water-supply, name: 供水, kind: utility, unit: water-group, fields: {"
        "scope: {type: enum, values: [household, building], required: true},"
        " households: {type: int, description: households without water}}}",
    )
    service.publish(source)
    # When a client reads the service definition
    body = client.get("/open311/v2/services/water-supply.json").json()
    # Then it lists the urgency and both fields, with the spec's datatypes
    assert body["service_code"] == "water-supply"
    assert [(a["code"], a["datatype"], a["required"]) for a in body["attributes"]] == [
        ("urgency", "singlevaluelist", False),
        ("scope", "singlevaluelist", True),
        ("households", "number", False),
    ]
    assert body["attributes"][1]["values"] == [
        {"key": "household", "name": "household"},
        {"key": "building", "name": "building"},
    ]
    values = xml(client.get("/open311/v2/services/water-supply.xml")).iter("key")
    assert [v.text for v in values] == ["normal", "urgent", "household", "building"]
    # And a request's attributes are validated and kept in the ticket's fields
    request_id = post(**{"attribute[scope]": "building", "attribute[households]": "40"})
    ticket = service.get(int(request_id))
    assert (ticket.fields["scope"], ticket.fields["households"]) == ("building", 40)
    with pytest.raises(AssertionError, match="attribute"):
        post(**{"attribute[households]": "40"})  # scope is required


def test_every_post_field_is_kept_and_personal_ones_never_shown(client, service, post, auth):
    request_id = post(
        email="zhang@example.org",
        first_name="三",
        last_name="张",
        phone="13812345678",
        device_id="device-42",
        account_id="acct-7",
        address_string="朝阳区建外街道光华路1号",
        address_id="addr-9",
        media_url="https://example.org/leak.jpg",
        description="Call me on 13812345678, ID 110101199003077777",
        **{"attribute[urgency]": "urgent"},
    )
    ticket = service.get(int(request_id))
    assert ticket.urgency == "urgent"
    assert ticket.fields["media_url"] == "https://example.org/leak.jpg"
    assert ticket.fields["address_id"] == "addr-9"
    contact = service.store.contact(ticket.id)
    assert contact["email"] == "zhang@example.org"
    assert (contact["device_id"], contact["account_id"]) == ("device-42", "acct-7")
    assert (contact["name"], contact["phone"]) == ("三 张", "13812345678")
    (shown,) = client.get(f"/open311/v2/requests/{request_id}.json").json()
    assert shown["description"] == "Call me on 138****5678, ID 110***********7777"
    for secret in ("zhang@", "device-42", "acct-7", "13812345678", "1199003077777", "光华路"):
        assert secret not in str(shown)
    assert shown["media_url"] == "https://example.org/leak.jpg"
    # The JSON API shows the email masked, and unmasked to an operator who gives a reason
    ticket_url = f"/api/v1/tickets/{request_id}"
    masked = client.get(ticket_url, headers=auth["supervisor"]).json()["contact"]
    assert masked["email"] == "zhang@…" and masked["device_id"] == "devi…"
    read = client.get(
        f"{ticket_url}/contact", params={"reason": "reply by email"}, headers=auth["operator"]
    )
    assert read.json()["email"] == "zhang@example.org"


def test_a_multipart_form_authenticates_with_api_key(client, auth, service):
    token = auth["operator"]["Authorization"].removeprefix("Bearer ")
    fields = {"api_key": token, **WATER, "description": "burst pipe"}
    files = {"media": ("photo.jpg", b"\xff\xd8", "image/jpeg")}
    created = client.post("/open311/v2/requests.xml", data=fields, files=files)
    assert created.status_code == 201, created.text
    request_id = xml(created).find("request").findtext("service_request_id")
    assert service.get(int(request_id)).summary == "burst pipe"


def test_the_listing_is_the_last_90_days_newest_first(client, service, post):
    first = post(description="old")
    service.clock.advance(timedelta(days=91))
    second, third = post(description="new"), post(description="newer")
    listed = client.get("/open311/v2/requests.json").json()
    assert [r["service_request_id"] for r in listed] == [third, second]
    # An explicit range reaches further back, but never over 90 days
    since = (service.clock.now() - timedelta(days=92)).isoformat()
    back = client.get("/open311/v2/requests.json", params={"start_date": since}).json()
    assert [r["service_request_id"] for r in back] == [first]
    wide = {"start_date": since, "end_date": service.clock.now().isoformat()}
    refused = client.get("/open311/v2/requests.json", params=wide)
    assert refused.status_code == 400 and "90 days" in refused.json()[0]["description"]


def test_filters_apply_before_the_cap(client, service, post, dispatch, fire, monkeypatch):
    # Given a closed request and, after it, more open ones than the cap
    closed = post(description="closed one")
    ticket = service.get(int(closed))
    body = {"id": ticket.id, "version": ticket.version}
    for trigger, fields in (
        ("dispatch", dispatch),
        ("reply", {"opinion": "done"}),
        ("start_callback", {}),
        ("record_callback", {"resolved": True, "satisfaction": "satisfied"}),
    ):
        body = fire(body, trigger, fields, role="supervisor").json()
    opened = [post(description=f"open {n}") for n in range(3)]
    monkeypatch.setattr(open311, "LIMIT", 2)
    # Then the cap keeps the newest, and a status filter still finds the closed one
    listed = client.get("/open311/v2/requests.json").json()
    assert [r["service_request_id"] for r in listed] == [opened[2], opened[1]]
    only = client.get("/open311/v2/requests.json", params={"status": "closed"}).json()
    assert [r["service_request_id"] for r in only] == [closed]
    by_code = client.get("/open311/v2/requests.json", params={"service_code": "noise,water-supply"})
    assert len(by_code.json()) == 2
    by_ids = {"service_request_id": f"{closed},{opened[0]}", "status": "open"}  # status ignored
    assert {
        r["service_request_id"]
        for r in client.get("/open311/v2/requests.json", params=by_ids).json()
    } == {closed, opened[0]}


def test_expected_datetime_is_the_same_in_the_listing_and_the_request(client, post):
    request_id = post()
    (listed,) = client.get("/open311/v2/requests.json").json()
    (one,) = client.get(f"/open311/v2/requests/{request_id}.json").json()
    assert listed == one and one["expected_datetime"] is not None


def test_a_token_resolves_to_its_request(client, auth):
    token = auth["operator"]["Authorization"].removeprefix("Bearer ")
    created = client.post("/open311/v2/requests.json", data={"api_key": token, **WATER})
    (answer,) = created.json()
    (found,) = client.get(f"/open311/v2/tokens/{answer['token']}.json").json()
    assert found == {"service_request_id": answer["service_request_id"], "token": answer["token"]}
    assert client.get("/open311/v2/tokens/nope.json").status_code == 404
