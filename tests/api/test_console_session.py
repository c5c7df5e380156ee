"""The console's sign-in: a token for a session cookie with safe flags, CSRF on every form,
sign-out, expiry, and the same role rules as the API."""

from __future__ import annotations

from datetime import timedelta

import httpx
from console_helpers import csrf_of, sign_in


def test_signing_in_sets_a_strict_http_only_session_cookie_and_lands_by_role(client, auth):
    # Given a supervisor's API token
    # When it is exchanged at the sign-in form
    signed = sign_in(client, auth["supervisor"])
    # Then a session cookie is set HttpOnly, SameSite=Strict, for the console only, with expiry
    assert signed.status_code == 303
    cookie = signed.headers["set-cookie"]
    assert "hotline_session=" in cookie and "HttpOnly" in cookie
    assert "SameSite=strict" in cookie and "Path=/console" in cookie and "Max-Age=" in cookie
    assert auth["supervisor"]["Authorization"].split()[1] not in cookie  # never the token
    # and the supervisor lands on the dashboard
    assert signed.headers["location"] == "/console/"
    assert client.get("/console/").headers["location"] == "/console/dashboard"


def test_a_wrong_token_is_refused_with_a_clear_message_in_either_language(client):
    def try_token() -> httpx.Response:
        form = client.get("/console/sign-in")
        data = {"token": "hl_nope", "csrf": csrf_of(form), "next": "/console/"}
        return client.post("/console/sign-in", data=data)

    refused = try_token()
    assert refused.status_code == 401
    assert "令牌未知、已吊销或已过期" in refused.text  # Chinese by default
    client.get("/console/language/en?next=/console/sign-in")
    assert "This token is unknown, revoked or expired." in try_token().text


def test_sign_in_without_the_forms_csrf_token_is_refused(client, auth):
    token = auth["operator"]["Authorization"].split()[1]
    refused = client.post("/console/sign-in", data={"token": token, "csrf": "forged"})
    assert refused.status_code == 403
    assert "hotline_session" not in refused.headers.get("set-cookie", "")


def test_a_post_without_the_sessions_csrf_token_is_refused_and_changes_nothing(
    client, auth, new_ticket, service, dispatch
):
    # Given a signed-in operator and a ticket
    ticket = new_ticket()
    sign_in(client, auth["operator"])
    # When a form arrives without the session's CSRF token (another site's form)
    form = {"version": str(ticket.version), **{f"f_{k}": v for k, v in dispatch.items()}}
    form["f_co_units"] = "street-jianwai"
    refused = client.post(f"/console/tickets/{ticket.id}/fire/dispatch", data=form)
    # Then it is refused with a page saying why, and the ticket is unchanged
    assert refused.status_code == 403
    assert "reload the page" in refused.text
    assert service.get(ticket.id).version == ticket.version


def test_pages_need_a_session_and_send_you_back_after_sign_in(client):
    page = client.get("/console/tickets?state=received")
    assert page.status_code == 303
    assert page.headers["location"] == "/console/sign-in?next=/console/tickets?state=received"


def test_sign_out_ends_the_session(client, auth):
    sign_in(client, auth["auditor"])
    page = client.get("/console/definitions")
    out = client.post("/console/sign-out", data={"csrf": csrf_of(page)})
    assert out.status_code == 303
    assert client.get("/console/definitions").status_code == 303


def test_a_session_expires_and_a_revoked_token_ends_it_at_once(client, auth, service, clock):
    sign_in(client, auth["auditor"])
    assert client.get("/console/definitions").status_code == 200
    clock.advance(timedelta(hours=9))
    assert client.get("/console/definitions").status_code == 303
    sign_in(client, auth["auditor"])
    service.revoke_token("auditor-1")
    assert client.get("/console/definitions").status_code == 303


def test_a_role_is_refused_what_the_api_refuses_it(client, auth):
    sign_in(client, auth["admin"])
    refused = client.get("/console/tickets")  # the API lets admins read no tickets either
    assert refused.status_code == 403
    assert "admin" in refused.text
    sign_in(client, auth["unit"])
    assert client.get("/console/dashboard").status_code == 403
    assert client.get("/console/audit").status_code == 403
