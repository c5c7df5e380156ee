"""POST /api/v1/definitions/validate on malformed drafts: a 4xx problem naming what is wrong,
never a 500 (the client raises on a server error)."""

from __future__ import annotations

import malformed
import pytest

from hotline.workflows import reading

URL = "/api/v1/definitions/validate"
# The API refuses a NUL in any JSON string before the loader sees it, naming the field.
API_WORDS = {"control character": "must not contain NUL characters"}
# Text an API client can send in JSON (an encoding is the file's concern, not a JSON string's).
TEXT_CASES = sorted(
    name for name, (raw, _) in malformed.CASES.items() if name not in ("latin-1", "utf-16")
)


@pytest.mark.parametrize("case", TEXT_CASES)
def test_a_malformed_draft_is_a_problem_naming_it(client, auth, case) -> None:
    raw, expected = malformed.CASES[case]
    expected = API_WORDS.get(case, expected)

    response = client.post(URL, json={"source": raw.decode()}, headers=auth["admin"])

    assert 400 <= response.status_code < 500, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert expected in response.text or response.status_code == 413, response.text


def test_every_problem_comes_with_its_line(client, auth) -> None:
    raw, _ = malformed.CASES["duplicate key"]

    response = client.post(URL, json={"source": raw.decode()}, headers=auth["admin"])

    assert response.status_code == 422
    problems = response.json()["problems"]
    assert {"line": 4, "message": "key 'final' appears twice, on lines 3 and 4"} in problems


def test_a_draft_over_the_size_limit_is_refused_before_parsing(client, auth) -> None:
    source = "# " + "x" * reading.MAX_BYTES

    response = client.post(URL, json={"source": source}, headers=auth["admin"])

    assert response.status_code in (413, 422)


def test_a_body_that_is_not_utf8_json_is_a_problem(client, auth) -> None:
    headers = {**auth["admin"], "Content-Type": "application/json"}

    response = client.post(URL, content=b'{"source": "caf\xe9"}', headers=headers)

    assert 400 <= response.status_code < 500
