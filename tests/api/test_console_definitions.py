"""Definitions in the console over real HTTP: a version's graph as SVG, the diff of two versions
in words, publishing a checked draft (admins only) and migrating running tickets after a dry
run; each form carries the session's CSRF token and bad input gets a page that says so."""

from __future__ import annotations

import re

import pytest
from console_helpers import csrf_of, finished, sign_in

from hotline.service import Intake
from hotline.workflows import diagram, loader

NAME = "beijing-12345"
SHIPPED = loader.shipped_text()
# Version 2: the utility outcome deadline halves, and a new state `archived` follows `closed`.
DRAFT = SHIPPED.replace(
    "within: 24h\n        kinds: [utility]", "within: 12h\n        kinds: [utility]"
)


def publish_draft(client, text: str):
    page = client.get("/console/definitions-draft")
    return client.post(
        "/console/definitions-draft/publish", data={"csrf": csrf_of(page), "draft": text}
    )


@pytest.mark.skipif(bool(diagram.graphviz_missing()), reason="Graphviz not installed")
def test_every_role_sees_the_graph_as_svg_with_no_state_in_red(client, auth):
    sign_in(client, auth["unit"])
    page = client.get(f"/console/definitions/{NAME}?version=1")
    assert f'src="/console/definitions/{NAME}/graph.svg?version=1"' in page.text

    drawn = client.get(f"/console/definitions/{NAME}/graph.svg?version=1")

    assert drawn.status_code == 200 and drawn.headers["content-type"] == "image/svg+xml"
    assert "<svg" in drawn.text and 'stroke="red"' not in drawn.text
    assert client.get(f"/console/definitions/{NAME}/graph.svg?version=9").status_code == 404


def test_a_published_graph_is_drawn_once(client, auth, monkeypatch):
    drawn = []
    monkeypatch.setattr(diagram, "draw", lambda d, v, fmt: drawn.append(v) or f"<svg>{v}</svg>")
    sign_in(client, auth["unit"])

    first = client.get(f"/console/definitions/{NAME}/graph.svg?version=1").text
    again = client.get(f"/console/definitions/{NAME}/graph.svg").text  # the newest: also 1

    assert first == again == "<svg>1</svg>" and drawn == [1]


def test_an_admin_publishes_a_checked_draft_and_sees_what_changed(client, auth, service):
    sign_in(client, auth["admin"])
    checked = client.post(
        "/console/definitions-draft",
        data={"csrf": csrf_of(client.get("/console/definitions-draft")), "draft": DRAFT},
    )
    assert 'id="publish"' in checked.text

    published = publish_draft(client, DRAFT)

    assert published.status_code == 303
    assert published.headers["location"].endswith(f"/{NAME}/diff?old=1&new=2&published=1")
    assert service.latest_version(NAME) == 2
    shown = client.get(published.headers["location"]).text
    assert 'id="published"' in shown and "24h → 12h" in shown
    again = client.get(f"/console/definitions/{NAME}/diff?old=2&new=2").text
    assert '<p id="changes">' in again  # no differences


def test_an_invalid_draft_is_not_published_and_its_problems_name_lines(client, auth, service):
    sign_in(client, auth["admin"])

    refused = publish_draft(client, "name: broken\nstates: [a]\n")

    assert refused.status_code == 422 and re.search(r"line \d+", refused.text)
    assert service.latest_version(NAME) == 1


@pytest.mark.parametrize("role", ["supervisor", "operator", "auditor"])
def test_only_admins_publish_and_migrate(client, auth, role, service):
    sign_in(client, auth[role])
    page = client.get("/console/definitions")
    forged = {"csrf": csrf_of(page), "draft": DRAFT}
    assert client.post("/console/definitions-draft/publish", data=forged).status_code == 403
    assert client.get(f"/console/definitions/{NAME}/migrate").status_code == 403
    moved = {"csrf": csrf_of(page), "old": 1, "new": 1, "confirm": "true"}
    assert client.post(f"/console/definitions/{NAME}/migrate", data=moved).status_code == 403
    assert service.latest_version(NAME) == 1


def test_a_form_without_the_session_csrf_token_is_refused(client, auth, service):
    sign_in(client, auth["admin"])
    forged = client.post("/console/definitions-draft/publish", data={"draft": DRAFT, "csrf": "x"})
    assert forged.status_code == 403 and service.latest_version(NAME) == 1


def test_migration_dry_run_writes_nothing_then_the_migration_moves_the_tickets(
    client, app, auth, service
):
    ticket = service.submit(Intake("noise", "loud music"), actor="operator")
    sign_in(client, auth["admin"])
    publish_draft(client, DRAFT)
    form = client.get(f"/console/definitions/{NAME}/migrate")
    asked = {"csrf": csrf_of(form), "old": 1, "new": 2}

    dry = client.post(f"/console/definitions/{NAME}/migrate", data=asked)

    assert dry.status_code == 200 and 'id="dry-run"' in dry.text
    assert re.search(r"<td>received</td><td>received</td><td class=\"num\">1</td>", dry.text)
    assert service.get(ticket.id).definition_version == 1
    started = client.post(f"/console/definitions/{NAME}/migrate", data=asked | {"confirm": "true"})
    done = finished(client, app, started)  # a background job: its page says when it is done
    assert started.headers["location"].startswith(f"/console/definitions/{NAME}/migrate/jobs/")
    assert 'id="migrated"' in done.text and "1" in done.text
    assert service.get(ticket.id).definition_version == 2
    assert service.history(ticket.id)[-1].actor == "admin-1"


def test_bad_migration_input_says_what_is_wrong_and_writes_nothing(client, auth, service):
    ticket = service.submit(Intake("noise", "loud music"), actor="operator")
    sign_in(client, auth["admin"])
    publish_draft(client, DRAFT)
    csrf = csrf_of(client.get(f"/console/definitions/{NAME}/migrate"))
    url = f"/console/definitions/{NAME}/migrate"

    same = client.post(url, data={"csrf": csrf, "old": 2, "new": 2})
    malformed = client.post(url, data={"csrf": csrf, "old": 1, "new": 2, "mapping": "received"})
    unknown = client.post(url, data={"csrf": csrf, "old": 1, "new": 2, "mapping": "x=closed"})
    missing = client.post(url, data={"csrf": csrf, "old": 1, "new": 7, "confirm": "true"})
    word = client.post(url, data={"csrf": csrf, "old": "one", "new": 2})

    assert same.status_code == 422 and "nothing to migrate" in same.text
    assert malformed.status_code == 422 and "old_state=new_state" in malformed.text
    assert unknown.status_code == 422 and "&#39;x&#39; is not a state" in unknown.text
    assert missing.status_code == 404 and word.status_code == 400
    assert service.get(ticket.id).definition_version == 1


def test_without_graphviz_the_graph_is_mermaid_text_and_the_page_says_why(
    client, auth, monkeypatch
):
    monkeypatch.setattr(diagram, "graphviz_missing", lambda: ["the `dot` program"])
    sign_in(client, auth["operator"])

    page = client.get(f"/console/definitions/{NAME}?version=1").text

    assert "stateDiagram-v2" in page and "graph.svg" not in page and "Graphviz" in page
