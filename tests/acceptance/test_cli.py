"""The ``hotline`` command as a user runs it, on a real SQLite file."""

from __future__ import annotations

from pathlib import Path

import pytest


def test_a_ticket_lives_its_life_from_the_command_line(hotline):
    assert hotline("init")[0] == 0
    code, out, _ = hotline(
        "submit",
        "--category",
        "water-supply",
        "--summary",
        "no water",
        "--phone",
        "13812345678",
        "--key",
        "call-1",
    )
    assert (code, out.strip()) == (0, "ticket 1 received (version 1)")

    steps = [
        [
            "dispatch",
            "--set",
            "lead_unit=water-group",
            "--set",
            "route=direct",
            "--set",
            "co_units=street-jianwai,street-chaowai",
        ],
        ["respond"],
        ["reply", "--set", "opinion=valve repaired"],
        ["start_callback"],
        ["record_callback", "--set", "resolved=yes", "--set", "satisfaction=satisfied"],
    ]
    for step in steps:
        code, out, err = hotline("fire", "1", *step)
        assert code == 0, err
    assert "ticket 1 closed (version 6)" in out

    code, out, _ = hotline("show", "1")
    assert (
        "street-jianwai, street-chaowai" in out
        and "138****5678" in out
        and "13812345678" not in out
    )
    code, out, _ = hotline("history", "1")
    assert out.count(" → ") == 7 and "callback → closed" in out  # header + 6 events
    code, out, _ = hotline("tickets", "--state", "closed")
    assert "water-group" in out and "双是" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["fire", "1", "reply", "--set", "opinion=x"],
            "cannot 'reply' a ticket in state 'received'",
        ),
        (["fire", "1", "dispatch", "--set", "route=direct"], "needs the field 'lead_unit'"),
        (["fire", "1", "dispatch", "--set", "lead_unit"], "write it as key=value"),
        (["fire", "7", "dispatch"], "no ticket 7"),
        (["fire", "1", "answer", "--set", "answer=x", "--expect-version", "9"], "not 9"),
        (["submit", "--category", "weather"], "unknown category 'weather'"),
    ],
)
def test_user_mistakes_print_one_error_line_and_exit_non_zero(hotline, args, message):
    hotline("init")
    hotline("submit", "--category", "noise")

    code, out, err = hotline(*args)

    assert code == 1
    assert err.startswith("Error:") and message in err.replace("\n", " ")
    assert "Traceback" not in err + out


def test_commands_before_init_say_what_to_do(hotline):
    code, _, err = hotline("tickets")
    assert code == 1 and "run `hotline init`" in err


def test_demo_prints_the_tickets_and_one_redispatched_history(hotline):
    code, out, _ = hotline("demo")

    assert code == 0
    assert "24 demo tickets" in out and "history of ticket" in out
    assert "escalate" in out  # the burst main nobody answered
    assert "whistle_report" in out and "whistle_closed" in out  # the leaking main (吹哨报到)
    assert "双是" in out and "双否" in out and "剔除" in out
    assert "callback → re-dispatched" in out
    started = [line for line in out.splitlines() if "start_callback" in line]
    assert any("deadline" in line for line in started)  # Art. 23: started at expiry


def test_workflow_validate_accepts_the_shipped_definition(hotline):
    shipped = Path(__file__).parents[2] / "hotline" / "workflows" / "beijing-12345.yaml"
    code, out, _ = hotline("workflow", "validate", str(shipped))
    assert code == 0 and "valid (6 states" in out


def test_workflow_validate_lists_every_problem_with_its_line(hotline, tmp_path):
    broken = tmp_path / "broken.yaml"
    broken.write_text(
        "name: broken\n"
        "states:\n"
        "  - name: received\n"
        "  - name: closed\n"
        "transitions:\n"
        "  - {trigger: answer, source: received, dest: closd}\n"
        "  - {trigger: answer, source: received, dest: closed, after: [fax]}\n"
    )
    code, _, err = hotline("workflow", "validate", str(broken))

    assert code == 1
    assert "line 6: unknown state 'closd'" in err
    assert "line 7" in err and "unknown handler 'fax'" in err


def test_workflow_show_lists_transitions(hotline):
    hotline("init")
    code, out, _ = hotline("workflow", "show")
    assert code == 0 and "record_callback" in out and "lead_unit*" in out
