"""Admins and auditors at the command line: publish, diff, migrate, graph; history, audit."""

from __future__ import annotations

import csv
import io
import json
import re

import pytest

from hotline.workflows import loader


@pytest.fixture
def hotline(hotline):
    """The shared ``hotline`` runner, on a database that `hotline init` has set up."""
    assert hotline("init")[0] == 0
    return hotline


@pytest.fixture
def version_2(tmp_path):
    text = loader.shipped_text().replace(
        "within: 24h\n        kinds: [utility]", "within: 12h\n        kinds: [utility]"
    )
    path = tmp_path / "v2.yaml"
    path.write_text(re.sub(r"\bcallback\b", "recheck", text))
    return path


def submit_and_fire(hotline, *steps):
    code, out, _ = hotline("submit", "--category", "water-supply", "--summary", "no water")
    ticket = out.split()[1]
    for trigger, *sets in steps:
        args = [a for s in sets for a in ("--set", s)]
        assert hotline("fire", ticket, trigger, *args)[0] == 0
    return ticket


def test_an_invalid_definition_is_refused_with_every_problem_and_nothing_is_stored(
    hotline, tmp_path
):
    broken = tmp_path / "broken.yaml"
    broken.write_text(
        loader.shipped_text()
        .replace("dest: dispatched", "dest: dispatchd")
        .replace("after: [notify_centre]", "after: [fax]", 1)
    )

    code, _, err = hotline("workflow", "publish", str(broken))

    assert code == 1
    assert "7 problem(s)" in err and "unknown state 'dispatchd'" in err and "'fax'" in err
    _, listed, _ = hotline("workflow", "list")
    assert "beijing-12345@1" in listed and "@2" not in listed


def test_an_admin_publishes_compares_and_migrates_a_new_version(hotline, version_2):
    # Given tickets on version 1, one of them waiting for its callback
    dispatched = submit_and_fire(hotline, ("dispatch", "lead_unit=water-group", "route=direct"))
    waiting = submit_and_fire(
        hotline,
        ("dispatch", "lead_unit=water-group", "route=direct"),
        ("reply", "opinion=fixed"),
        ("start_callback",),
    )

    # When version 2 is published, it says what changed
    code, out, _ = hotline("workflow", "publish", str(version_2))
    assert code == 0 and "published beijing-12345@2" in out
    assert "- state 'callback' removed" in out
    code, out, _ = hotline("workflow", "diff", "beijing-12345@1", "beijing-12345@2")
    assert "~ state 'dispatched' › deadline 'handling' (utility) › within: 24h → 12h" in out

    # Then a migration without a mapping for the state v2 lacks is refused, naming it
    code, _, err = hotline("workflow", "migrate", "beijing-12345", "--from", "1", "--to", "2")
    assert code == 1 and "no mapping for state(s) 'callback' (1 ticket(s))" in err

    # and the dry run with the mapping lists the moves and writes nothing
    mapped = (
        "workflow",
        "migrate",
        "beijing-12345",
        "--from",
        "1",
        "--to",
        "2",
        "--map",
        "callback=recheck",
    )
    code, out, _ = hotline(*mapped, "--dry-run")
    assert code == 0 and "dry run: nothing was written" in out
    assert re.search(r"callback\s+│\s+recheck\s+│\s+1", out)
    assert re.search(r"dispatched\s+│\s+dispatched\s+│\s+1", out)
    assert "beijing-12345@1 " in hotline("show", waiting)[1]

    # and the real run moves both, with a progress bar on stderr
    code, out, err = hotline(*mapped)
    assert code == 0 and "migrated 2 ticket(s)" in out and "100%" in err
    assert "recheck" in hotline("show", waiting)[1]
    assert "migrate" in hotline("history", dispatched)[1]
    assert re.search(
        r"beijing-12345@2\s+│.*│\s+2\s+│\s+2\s+│\s+newest", hotline("workflow", "list")[1]
    )


def test_the_graph_of_a_stored_version_is_mermaid_text(hotline):
    code, out, _ = hotline("workflow", "graph", "beijing-12345@1", "--format", "mermaid")

    assert code == 0 and "stateDiagram-v2" in out
    assert "callback --> re-dispatched: record_callback" in out


def test_an_auditor_rebuilds_verifies_seals_and_exports(hotline, tmp_path):
    ticket = submit_and_fire(hotline, ("dispatch", "lead_unit=water-group", "route=direct"))

    code, out, _ = hotline("history", ticket, "--at", "2000-01-01T00:00")
    assert code == 1
    code, out, _ = hotline("history", ticket, "--at", "2100-01-01T00:00")
    assert code == 0 and "dispatched" in out and "water-group" in out and "deadline handling" in out

    seal = tmp_path / "seal.json"
    code, out, _ = hotline("audit", "seal", "--file", str(seal))
    assert code == 0 and "sealed 1 chain(s)" in out and json.loads(seal.read_text())["tickets"] == 1
    code, out, err = hotline("audit", "verify", "--seal-file", str(seal))
    assert code == 0 and "verified 1 ticket(s), against the seal" in out and "100%" in err

    code, out, _ = hotline("audit", "export", "--since", "2000-01-01")
    lines = [json.loads(line) for line in out.splitlines()]
    assert [e["trigger"] for e in lines] == ["submit", "dispatch"]
    code, out, _ = hotline("audit", "export", "--since", "2000-01-01", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [r["trigger"] for r in rows] == ["submit", "dispatch"]
    assert json.loads(rows[1]["payload"])["lead_unit"] == "water-group"
