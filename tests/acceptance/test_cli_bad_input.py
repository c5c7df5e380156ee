"""Bad input at the command line gets ``Error:`` naming the problem and exit code 1, never a
traceback; stored text reaches the terminal with its control characters made visible."""

from __future__ import annotations

import pytest

from hotline.cli import terminal

EVIL = "no water \x1b[2J\x1b[31mRED\x07 [bold]x[/bold] \u202eevil"


@pytest.fixture
def ready(hotline):
    assert hotline("init")[0] == 0
    return hotline


def _refused(result, *named: str) -> str:
    code, _, err = result
    assert code == 1, err
    assert err.startswith("Error:") and "Traceback" not in err
    for name in named:
        assert name in err, err
    return err


def test_control_characters_in_stored_text_are_shown_escaped(ready):
    assert ready("submit", "--category", "noise", "--summary", EVIL)[0] == 0
    code, out, _ = ready("show", "1")
    assert code == 0
    assert "\x1b" not in out and "\x07" not in out and "\u202e" not in out
    assert r"\x1b[2J\x1b[31mRED\x07 [bold]x[/bold] \u202eevil" in out.replace("\n", "")


def test_history_and_listings_escape_control_characters_too(ready):
    ready("submit", "--category", "noise", "--summary", EVIL)
    assert ready("fire", "1", "answer", "--set", f"answer={EVIL}")[0] == 0
    for args in (["history", "1"], ["tickets"], ["history", "1", "--at", "2099-01-01T00:00:00Z"]):
        code, out, err = ready(*args)
        assert code == 0, err
        assert "\x1b" not in out + err and "\x07" not in out + err
    assert r"\x1b[31mRED" in ready("history", "1")[1].replace("\n", "")


def test_clean_keeps_newlines_tabs_and_chinese_text():
    assert terminal.clean("接诉即办\n\tok") == "接诉即办\n\tok"
    assert terminal.clean("\x1b[0m\x9b") == r"\x1b[0m\x9b"


def test_an_empty_idempotency_key_is_refused(ready):
    _refused(ready("submit", "--category", "noise", "--key", ""), "idempotency_key", "empty")


def test_a_key_repeated_with_another_request_names_the_key_and_first_ticket(ready):
    assert ready("submit", "--category", "noise", "--key", "call-9")[0] == 0
    assert ready("submit", "--category", "noise", "--key", "call-9")[1].startswith("ticket 1 ")
    err = _refused(ready("submit", "--category", "noise", "--summary", "x", "--key", "call-9"))
    assert "'call-9'" in err and "ticket 1" in err


@pytest.mark.parametrize(
    "args, named",
    [
        (["submit", "--category", "noise", "--summary", "a\x00b"], "summary"),
        (["submit", "--category", "noise", "--name", "\udc80"], "contact.name"),
        (["fire", "1", "respond", "--set", "note=\x00"], "fields.note"),
        (["show", str(2**40)], "no ticket"),
        (["fire", str(2**40), "respond"], "no ticket"),
        (["history", str(2**40)], "no ticket"),
        (["token", "create", "--role", "operator", "--name", "t", "--expires", "soon"], "90d"),
        (["token", "create", "--role", "operator", "--name", "t", "--expires", "0d"], "90d"),
    ],
)
def test_bad_values_are_refused_by_name(ready, args, named):
    ready("submit", "--category", "noise")
    _refused(ready(*args), named)


def test_a_token_lifetime_is_shown_in_the_list(ready):
    code, _, err = ready(
        "token", "create", "--role", "auditor", "--name", "temp", "--expires", "90d"
    )
    assert code == 0 and "expires" in err
    ready("token", "create", "--role", "auditor", "--name", "forever")
    _, out, _ = ready("token", "list")
    rows = {line.split("│")[1].strip(): line for line in out.splitlines() if "│" in line}
    assert "never" in rows["forever"] and "never" not in rows["temp"]


@pytest.mark.parametrize("edge", ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00"])
def test_times_at_the_ends_of_the_calendar_are_answered(ready, edge):
    ready("submit", "--category", "noise")
    for args in (
        ["history", "1", "--at", edge],
        ["audit", "export", "--since", edge],
        ["report", "rates", "--period", "2026-03", "--as-of", edge],
    ):
        code, out, err = ready(*args)
        assert "Traceback" not in err and code in (0, 1), (args, err)
        assert code == 0 or err.startswith("Error:"), (args, err)
    assert "did not exist yet" in ready("history", "1", "--at", "0001-01-01T00:00:00+14:00")[2]


UNREACHABLE = [
    ("foo://nowhere", "database URL 'foo://nowhere'"),
    ("sqlite:////no/such/folder/hotline.db", "cannot reach the database"),
    ("postgresql://postgres:secret@127.0.0.1:1/hotline", "cannot reach the database"),
]


@pytest.mark.parametrize(("url", "said"), UNREACHABLE)
@pytest.mark.parametrize(
    "args",
    [["init"], ["show", "1"], ["tickets"], ["run", "--no-api"], ["status"], ["soak"]],
    ids=" ".join,
)
def test_a_bad_or_unreachable_database_is_one_error_line(hotline, url, said, args):
    err = _refused(hotline(*args, "--db", url), said)
    assert "secret" not in err  # the password is never shown


@pytest.mark.parametrize("name", ["deadline", "calendar", "system"])
def test_a_token_may_not_take_the_systems_own_name(ready, name):
    _refused(ready("token", "create", "--role", "operator", "--name", name), repr(name))
    code, out, _ = ready("token", "list")
    assert code == 0 and name not in out
