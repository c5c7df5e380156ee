"""``hotline workflow what-if`` as an admin runs it, on a simulated SQLite file."""

from __future__ import annotations

import json

import pytest
from simulated_cli import simulated

from hotline.workflows import loader

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def hotline(tmp_path_factory):
    """``hotline ARGS`` on one simulated database (120 tickets, 4 days of January 2022)."""
    folder = tmp_path_factory.mktemp("whatif")
    return simulated(folder, "--tickets", "120", "--days", "4", "--seed", "5")


@pytest.fixture
def draft(tmp_path):
    """A draft: basic utilities answered within 6 h, and other KPI weights."""
    text = (
        loader.shipped_text()
        .replace("within: 24h\n        kinds: [utility]", "within: 6h\n        kinds: [utility]")
        .replace("{response: 0.10, resolution: 0.50,", "{response: 0.20, resolution: 0.40,")
    )
    path = tmp_path / "draft.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_draft_is_shown_beside_what_happened_as_table_json_csv_and_chart(
    hotline, draft, tmp_path
):
    period = ("--period", "2022-01", "--as-of", "2022-02-01")
    code, table, _ = hotline("workflow", "what-if", str(draft), *period)
    assert code == 0
    assert "composite" in table and "deadlines_missed" in table

    code, text, _ = hotline(
        "workflow", "what-if", str(draft), *period, "--format", "json", "--chart",
        str(tmp_path / "c.png"),
    )  # fmt: skip
    document = json.loads(text)
    assert code == 0 and (tmp_path / "c.png").read_bytes().startswith(PNG)
    assert document["activity"]["change"]["deadlines_missed"] > 0
    total = document["total"]
    assert total["baseline"]["received"] == total["draft"]["received"] == 120
    mine = total["draft"]  # judged by the draft's weights
    weighed = 0.2 * mine["response_rate"] + 0.4 * mine["resolution_rate"]
    assert mine["composite"] == pytest.approx(weighed + 0.4 * mine["satisfaction_rate"], abs=0.02)

    code, csv_text, _ = hotline("workflow", "what-if", str(draft), *period, "--format", "csv")
    header, *rows = csv_text.splitlines()
    assert header.startswith("group,composite,composite_draft,composite_change")
    assert len(rows) == len(document["units"]) + 1


def test_a_published_version_replays_to_no_change(hotline):
    code, text, _ = hotline(
        "workflow", "what-if", "beijing-12345@1", "--period", "2022-01", "--against", "1",
        "--as-of", "2022-02-01", "--format", "json",
    )  # fmt: skip

    document = json.loads(text)
    assert code == 0 and document["baseline"] == document["draft"] == "beijing-12345@1"
    assert set(document["activity"]["change"].values()) == {0}
    assert document["total"]["baseline"] == document["total"]["draft"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("nowhere.yaml",), "no such file: nowhere.yaml"),
        (("beijing-12345@9",), "no workflow definition beijing-12345@9"),
        (("beijing-12345", "--unit", "nobody"), "no such unit"),
        (("beijing-12345", "--category", "weather"), "no such category"),
        (("beijing-12345", "--sweep", "soon"), "malformed duration"),
    ],
)
def test_bad_input_is_one_error_line(hotline, args, message):
    code, out, err = hotline("workflow", "what-if", *args, "--period", "2022-01")

    assert code == 1 and out == ""
    assert err.strip().startswith("Error:") and message in err


def test_an_invalid_draft_gets_the_validators_line_errors(hotline, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(loader.shipped_text().replace("dest: dispatched", "dest: dispatchd", 1))

    code, _, err = hotline("workflow", "what-if", str(bad), "--period", "2022-01")

    assert code == 1 and "Error:" in err and "dispatchd" in err and "line" in err
