"""``hotline whistle …`` as a user runs it, on a real SQLite file."""

from __future__ import annotations


def test_a_street_whistles_departments_and_follows_them_from_the_command_line(hotline):
    # Given a dispatched leaking-main ticket
    for args in (
        ["init"],
        ["submit", "--category", "water-supply", "--summary", "leaking main"],
        ["fire", "1", "dispatch", "--set", "lead_unit=street-jianwai", "--set", "route=direct"],
    ):
        assert hotline(*args)[0] == 0

    # When the street whistles two departments and one reports
    code, out, _ = hotline(
        "whistle",
        "1",
        "--to",
        "water-group",
        "--to",
        "chaoyang-roads",
        "--within",
        "24h",
        "--reason",
        "leaking main under a home",
    )
    assert code == 0 and "missing: water-group, chaoyang-roads" in out
    report = ["whistle-report", "1", "--department", "water-group", "--person", "Li Wei"]
    assert hotline(*report)[0] == 0

    # Then the listing shows who is still missing, and the ticket cannot reply yet
    code, out, _ = hotline("whistles", "--open", "--department", "chaoyang-roads")
    assert code == 0 and "1 whistle(s)" in out and "chaoyang-roads" in out
    code, _, err = hotline("fire", "1", "reply", "--set", "opinion=fixed")
    assert code == 1 and "not whistle_open" in err
    code, out, _ = hotline("whistles", "--stats")
    assert code == 0 and "water-group" in out and "chaoyang-roads" in out

    # And once the last department reports the whistle is closed and the history shows it all
    code, out, _ = hotline(
        "whistle-report", "1", "-d", "chaoyang-roads", "--person", "Zhao", "--note", "road shut"
    )
    assert code == 0 and "closed" in out
    _, out, _ = hotline("history", "1")
    for trigger in ("whistle ", "whistle_report", "whistle_closed"):
        assert trigger in out
    assert hotline("whistles", "--open")[1].count("0 whistle(s)") == 1


def test_a_bad_whistle_is_one_error_line_and_writes_nothing(hotline):
    hotline("init")
    hotline("submit", "--category", "water-supply")
    hotline("fire", "1", "dispatch", "--set", "lead_unit=street-jianwai", "--set", "route=direct")

    code, _, err = hotline("whistle", "1", "--to", "housing", "--reason", "x")

    assert code == 1 and err.startswith("Error:") and "unknown department 'housing'" in err
    assert "0 whistle(s)" in hotline("whistles")[1]
