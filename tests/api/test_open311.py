"""Open311 GeoReport v2: an Open311 client files a request and follows it to closed."""

from __future__ import annotations


def test_services_are_the_definitions_categories(client):
    services = client.get("/open311/v2/services.json").json()
    water = next(s for s in services if s["service_code"] == "water-supply")
    assert water == {
        "service_code": "water-supply",
        "service_name": "供水",
        "description": "供水",
        "metadata": False,
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
