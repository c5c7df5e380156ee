"""Signing in to the console through real HTTP (the form, its CSRF cookie, the session)."""

from __future__ import annotations

import re

import httpx

CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def csrf_of(page: httpx.Response) -> str:
    found = CSRF.search(page.text)
    assert found, page.text
    return found.group(1)


def sign_in(client, headers: dict[str, str]) -> httpx.Response:
    """Sign in with the token of ``headers`` (an Authorization header); the client keeps the
    session cookie. Returns the redirect."""
    token = headers["Authorization"].removeprefix("Bearer ")
    form = client.get("/console/sign-in")
    return client.post(
        "/console/sign-in", data={"token": token, "csrf": csrf_of(form), "next": "/console/"}
    )


def finished(client, app, started: httpx.Response) -> httpx.Response:
    """The page of the background job a form's POST started (its 303), once the job is done."""
    assert started.status_code == 303, started.text
    job_id = started.headers["location"].rsplit("/", 1)[-1]
    app.state.jobs.get(job_id).thread.join()
    return client.get(started.headers["location"])
