"""The request path of a ticket's reads and writes: what a shorter path must keep."""

from __future__ import annotations

from hotline.persistence import tokens


def test_a_revoked_token_is_refused_at_the_next_request(client, service, another_store, submit):
    # Given a token that reads a ticket
    token = tokens.create(service.store, "desk-9", "operator", None, service.clock.now())
    headers = {"Authorization": f"Bearer {token}"}
    ticket = submit()
    assert client.get(f"/api/v1/tickets/{ticket['id']}", headers=headers).status_code == 200

    # When another process revokes it
    tokens.revoke(another_store(), "desk-9", service.clock.now())

    # Then the very next request is refused
    response = client.get(f"/api/v1/tickets/{ticket['id']}", headers=headers)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"


def test_submit_answers_what_a_get_reads_back(client, auth, submit, fire, dispatch):
    # Given a ticket submitted with a contact (the answer is built without reading it back)
    contact = {"name": "Li Lei", "phone": "13812345678", "address": "1 Jianwai St"}
    response = client.post(
        "/api/v1/tickets",
        json={"category": "water-supply", "summary": "no water", "contact": contact},
        headers=auth["operator"],
    )
    assert response.status_code == 201
    submitted = response.json()

    # When it is read
    read = client.get(response.headers["Location"], headers=auth["operator"])

    # Then the answers agree but for what only a single ticket shows, with the same ETag
    assert read.status_code == 200 and read.headers["ETag"] == response.headers["ETag"] == '"1"'
    shown = read.json()
    assert (shown.pop("links"), shown.pop("rounds")) == ({"to": {}, "by": {}}, [])
    assert shown == {k: v for k, v in submitted.items() if k not in ("links", "rounds")}
    assert shown["contact"]["phone"] != contact["phone"] and shown["contact"]["masked"]
    fired = fire(submitted, "dispatch", dispatch)
    assert fired.status_code == 200 and fired.headers["ETag"] == '"2"'
    assert fired.headers["content-type"] == "application/json"
