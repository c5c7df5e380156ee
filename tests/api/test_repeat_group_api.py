"""The API shows a repeat group both ways and refuses a repeat of an unknown ticket (Art. 11)."""

from __future__ import annotations


def test_the_original_lists_its_repeats_and_a_repeat_names_its_original(client, submit, fire, auth):
    original = submit("noise")
    repeat = submit("noise")
    response = fire(repeat, "merge_repeat", {"repeat_of": original["id"]})
    assert response.status_code == 200, response.text

    body = client.get(f"/api/v1/tickets/{original['id']}", headers=auth["operator"]).json()
    assert body["links"] == {"to": {}, "by": {"repeat_of": [repeat["id"]]}}
    body = client.get(f"/api/v1/tickets/{repeat['id']}", headers=auth["operator"]).json()
    assert body["links"] == {"to": {"repeat_of": original["id"]}, "by": {}}


def test_a_repeat_of_an_unknown_ticket_is_a_clear_422(submit, fire):
    repeat = submit("noise")
    response = fire(repeat, "merge_repeat", {"repeat_of": 424242})
    assert response.status_code == 422
    assert "no ticket 424242" in response.text
