"""The ticket JSON keeps every handling round's record (再派件), not only the raw history."""

from __future__ import annotations


def test_a_redispatched_ticket_shows_its_first_rounds_answers(client, submit, fire, auth, dispatch):
    ticket = submit()
    for trigger, fields in [
        ("dispatch", dispatch),
        ("reply", {"opinion": "valve replaced"}),
        ("start_callback", {}),
        ("record_callback", {"resolved": False, "satisfaction": "unsatisfied"}),
    ]:
        response = fire(ticket, trigger, fields)
        assert response.status_code == 200, response.text
        ticket = response.json()

    body = client.get(f"/api/v1/tickets/{ticket['id']}", headers=auth["operator"]).json()

    first, second = body["rounds"]
    assert (first["opinion"], first["resolved"], first["satisfaction"]) == (
        "valve replaced",
        False,
        "unsatisfied",
    )
    assert (second["round"], second["unit"]) == (2, dispatch["lead_unit"])
    assert "opinion" not in second
