"""The console's pages over real HTTP: each role opens what the API lets it, acts on a ticket
at the version it saw, reveals a contact with a reason, requeues a dead message; bad input and
unknown tickets get a page that says so, never a 500."""

from __future__ import annotations

import html
import re
from datetime import timedelta

import pytest
from console_helpers import csrf_of, sign_in

from hotline.console import tickets as console_tickets
from hotline.engine.ticket import Ticket
from hotline.service import Intake

PAGES = {
    "operator": ["/console/tickets", "/console/definitions"],
    "unit": ["/console/tickets", "/console/definitions"],
    "supervisor": [
        "/console/dashboard",
        "/console/tickets",
        "/console/operations",
        "/console/definitions",
        "/console/definitions-what-if",
    ],
    "admin": [
        "/console/dashboard",
        "/console/operations",
        "/console/audit",
        "/console/definitions",
        "/console/definitions-draft",
        "/console/definitions-what-if",
        "/console/definitions/beijing-12345/migrate",
        "/console/audit/seals",
    ],
    "auditor": [
        "/console/dashboard",
        "/console/tickets",
        "/console/audit",
        "/console/audit/seals",
        "/console/definitions",
    ],
}
EVERY = {page for pages in PAGES.values() for page in pages}


@pytest.fixture
def taken_in(service):
    """Builder: a ticket taken in with ``summary`` (and contact) by an operator."""

    def build(summary: str = "test demand", **contact) -> Ticket:
        return service.submit(Intake("noise", summary, **contact), actor="operator")

    return build


@pytest.fixture
def dispatched(taken_in, service, dispatch):
    """A ticket dispatched to the water group, with the citizen's phone in its summary."""
    ticket = taken_in(
        "water leak, call 13812345678", contact_name="张三", contact_phone="13812345678"
    )
    return service.fire(ticket.id, "dispatch", dispatch, "desk")


@pytest.mark.parametrize("role", sorted(PAGES))
def test_each_role_opens_its_pages_and_is_refused_the_others(client, auth, role, dispatched):
    sign_in(client, auth[role])
    for page in PAGES[role]:
        assert client.get(page).status_code == 200, page
    for page in EVERY - set(PAGES[role]):
        assert client.get(page).status_code == 403, page
    if "/console/tickets" in PAGES[role]:
        assert client.get(f"/console/tickets/{dispatched.id}").status_code == 200


def test_the_ticket_page_masks_personal_data_for_roles_without_the_right(client, auth, dispatched):
    sign_in(client, auth["supervisor"])
    page = client.get(f"/console/tickets/{dispatched.id}").text
    assert "13812345678" not in page and "138****5678" in page and "张*" in page
    sign_in(client, auth["operator"])
    assert "call 13812345678" in client.get(f"/console/tickets/{dispatched.id}").text


def test_states_triggers_and_units_show_the_definitions_names_in_chinese_codes_in_english(
    client, auth, dispatched
):
    sign_in(client, auth["supervisor"])
    chinese = client.get(f"/console/tickets/{dispatched.id}").text
    client.get("/console/language/en")
    english = client.get(f"/console/tickets/{dispatched.id}").text

    assert "已派单" in chinese and "北京自来水集团" in chinese and "<td>派单</td>" in chinese
    assert "已派单" not in english and "water-group" in english and "<td>dispatch</td>" in english
    assert 'action="/console/tickets/1/fire/respond"' in chinese  # forms keep the codes


def test_an_action_sends_the_version_seen_and_a_stale_one_is_refused_with_the_fresh_page(
    client, auth, dispatched, service
):
    # Given a unit looking at its ticket
    sign_in(client, auth["unit"])
    page = client.get(f"/console/tickets/{dispatched.id}")
    assert 'id="act-respond"' in page.text
    form = {"csrf": csrf_of(page), "version": str(dispatched.version)}
    # When someone else changes the ticket first, then the unit sends its form
    service.fire(dispatched.id, "respond", {}, "other")
    stale = client.post(f"/console/tickets/{dispatched.id}/fire/reply", data=form)
    # Then it is refused with the versions named, and the page shows the fresh version
    assert stale.status_code == 409
    fresh = service.get(dispatched.id).version
    assert f"第 {dispatched.version} 版" in stale.text and f"第 {fresh} 版" in stale.text
    assert f'name="version" value="{fresh}"' in stale.text
    # And with the fresh version it goes through and is in the timeline
    form = {"csrf": csrf_of(stale), "version": str(fresh), "f_opinion": "fixed the pipe"}
    done = client.post(f"/console/tickets/{dispatched.id}/fire/reply", data=form)
    assert done.status_code == 303, done.text
    assert service.get(dispatched.id).state != dispatched.state
    assert "fixed the pipe" in client.get(done.headers["location"]).text


def test_a_refused_command_names_the_problem_and_writes_nothing(client, auth, new_ticket, service):
    ticket = new_ticket()
    sign_in(client, auth["operator"])
    page = client.get(f"/console/tickets/{ticket.id}")
    form = {"csrf": csrf_of(page), "version": str(ticket.version), "f_route": "teleport"}
    refused = client.post(f"/console/tickets/{ticket.id}/fire/dispatch", data=form)
    assert refused.status_code == 400
    assert "lead_unit" in refused.text or "route" in refused.text
    assert service.get(ticket.id).version == ticket.version


def test_a_role_may_not_fire_what_the_definition_does_not_give_it(client, auth, dispatched):
    sign_in(client, auth["auditor"])
    page = client.get(f"/console/tickets/{dispatched.id}")
    assert "act-" not in page.text  # no forms for a read-only role
    form = {"csrf": csrf_of(page), "version": str(dispatched.version)}
    assert (
        client.post(f"/console/tickets/{dispatched.id}/fire/respond", data=form).status_code == 403
    )


def test_revealing_a_contact_needs_a_reason_and_lands_in_the_access_log(
    client, auth, dispatched, service
):
    sign_in(client, auth["operator"])
    page = client.get(f"/console/tickets/{dispatched.id}")
    url = f"/console/tickets/{dispatched.id}/contact"
    no_reason = client.post(url, data={"csrf": csrf_of(page), "reason": " "})
    assert no_reason.status_code == 400 and service.accesses() == []
    shown = client.post(url, data={"csrf": csrf_of(page), "reason": "first contact"})
    assert shown.status_code == 200 and "13812345678" in shown.text and "张三" in shown.text
    sign_in(client, auth["auditor"])
    log = client.get(f"/console/audit?log_ticket={dispatched.id}").text
    assert "first contact" in log and "operator-1" in log
    # and a supervisor may not reveal at all (the API's rule)
    sign_in(client, auth["supervisor"])
    page = client.get(f"/console/tickets/{dispatched.id}")
    refused = client.post(url, data={"csrf": csrf_of(page), "reason": "curious"})
    assert refused.status_code == 403


def test_a_unit_cannot_see_another_units_ticket(client, unit_auth, dispatched):
    sign_in(client, unit_auth("gas-group"))
    assert client.get(f"/console/tickets/{dispatched.id}").status_code == 404
    assert f'href="/console/tickets/{dispatched.id}"' not in client.get("/console/tickets").text


def test_unknown_ticket_and_bad_input_get_a_page_that_says_so(client, auth):
    sign_in(client, auth["supervisor"])
    missing = client.get("/console/tickets/999999")
    assert missing.status_code == 404 and "999999" in missing.text
    for url, words in (
        ("/console/tickets/abc", "ticket_id"),
        ("/console/tickets?received_from=yesterday", "received_from"),
        ("/console/tickets?state=a%20b", "state"),
        ("/console/tickets?text=13812345678", "long numbers"),
        ("/console/tickets?after=x", "after"),
    ):
        page = client.get(url)
        assert page.status_code == 400, url
        assert words in page.text, url


def test_search_filters_and_pages(client, auth, taken_in):
    for n in range(3):
        taken_in(f"noise {n}")
    taken_in("a fallen tree")
    sign_in(client, auth["operator"])
    found = client.get("/console/tickets?text=tree&state=received").text
    assert "a fallen tree" in found and "noise 1" not in found
    assert "noise 2" not in client.get("/console/tickets?received_to=2000-01-01").text


def test_a_text_search_reads_a_bounded_stretch_a_page_and_goes_on(
    client, auth, taken_in, monkeypatch
):
    monkeypatch.setattr(console_tickets, "SCAN", 3)  # a million tickets, in small
    found = [taken_in("a fallen tree" if n in (2, 8) else f"noise {n}").id for n in range(10)]
    sign_in(client, auth["operator"])

    ids, url, searched = [], "/console/tickets?text=tree", []
    while url:
        page = client.get(url).text
        ids += [int(i) for i in re.findall(r'<a href="/console/tickets/(\d+)"', page)]
        searched += re.findall(r'id="searched">[^<]*?(\d+)', page)
        more = re.search(r'href="(/console/tickets\?[^"]+)" rel="next"', page)
        url = html.unescape(more.group(1)) if more else None

    assert ids == [found[2], found[8]]  # every match, each once, however far apart
    assert searched == ["3", "6", "9"]  # each page says where it stopped; the last one ends


def test_a_dead_message_is_requeued_and_the_requeue_recorded(client, auth, dispatched, service):
    message = service.outbox(dispatched.id)[0]
    service.store.outbox_done(message.id, service.clock.now(), error="smtp down")
    sign_in(client, auth["admin"])
    page = client.get("/console/operations")
    assert "smtp down" in page.text
    url = f"/console/operations/messages/{message.id}/requeue"
    done = client.post(url, data={"csrf": csrf_of(page)})
    assert done.status_code == 303
    assert service.outbox(dispatched.id)[0].status == "pending"
    last = service.history(dispatched.id)[-1]
    assert last.trigger == "message_requeued" and last.actor == "admin-1"
    assert client.post(url, data={"csrf": csrf_of(page)}).status_code == 404


def test_a_draft_is_checked_with_line_errors(client, auth):
    sign_in(client, auth["admin"])
    page = client.get("/console/definitions-draft")
    draft = "name: broken\nstates:\n  - name: a\ntransitions:\n"
    draft += "  - trigger: go\n    source: a\n    dest: nowhere\n"
    checked = client.post(
        "/console/definitions-draft", data={"csrf": csrf_of(page), "draft": draft}
    )
    assert checked.status_code == 422
    assert re.search(r"line \d+", checked.text)


def test_audit_verifies_and_rebuilds_a_ticket_as_it_was(
    client, auth, taken_in, service, clock, dispatch
):
    ticket = taken_in()
    clock.advance(timedelta(hours=1))
    service.fire(ticket.id, "dispatch", dispatch, "desk")
    sign_in(client, auth["auditor"])
    verified = client.get("/console/audit", params={"verify": ticket.id}).text
    assert 'id="verified"' in verified
    assert client.get("/console/audit", params={"verify": "all"}).status_code == 400
    at = {"ticket": ticket.id, "at": ticket.created_at.isoformat()}
    past = client.get("/console/audit", params=at)
    assert past.status_code == 200
    state = re.search(r'id="past">\s*<dt>[^<]*</dt><dd>(\w+)', past.text)
    assert state and state.group(1) == "受理"  # the label the definition gives "received"
