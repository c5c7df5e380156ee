"""``hotline simulate`` and ``hotline report …`` as a user runs them, on a real SQLite file."""

from __future__ import annotations

import csv
import io
import json

import pytest
from PIL import Image
from simulated_cli import simulated
from typer.testing import CliRunner

runner = CliRunner()
PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def hotline(tmp_path_factory):
    """``hotline ARGS`` on one simulated database (150 tickets, 5 days of January 2022)."""
    folder = tmp_path_factory.mktemp("report")
    return simulated(folder, "--tickets", "150", "--days", "5", "--seed", "3")


def table_rows(text: str) -> list[list[str]]:
    """The cells of a rich table, header first."""
    lines = [line for line in text.splitlines() if line.startswith(("┃", "│"))]
    return [[cell.strip() for cell in line.strip("┃│").split(line[0])] for line in lines]


def same_numbers(hotline, *report: str) -> dict:
    """The report's JSON document, once its table and CSV are shown to carry the same cells."""
    shown = table_rows(hotline(*report)[1])
    table = [["" if cell == "-" else cell for cell in row] for row in shown]  # "-": no value
    rows = list(csv.reader(io.StringIO(hotline(*report, "--format", "csv")[1])))
    document = json.loads(hotline(*report, "--format", "json")[1])

    assert table[0] == rows[0] == list(document["rows"][0])
    as_text = [["" if v is None else str(v) for v in r.values()] for r in document["rows"]]
    assert table[1:] == rows[1:]
    assert rows[1:] == as_text
    return document


def test_csv_and_json_carry_the_same_numbers_as_the_table(hotline):
    document = same_numbers(hotline, "report", "rates", "--period", "2022-01", "--by", "unit")

    total = document["rows"][-1]
    assert total["group"] == "total" and total["received"] == 150
    assert total["callbacks"] > 0 and 0 < total["composite"] <= 100
    assert (document["period"], document["previous"]) == ("2022-01", "2021-12")


def test_a_chart_is_a_valid_png_with_drawn_axes(hotline, tmp_path):
    trend, bars = tmp_path / "trend.png", tmp_path / "ranking.png"

    by_day = hotline("report", "rates", "--period", "2022-01-01..2022-01-05", "--by", "day",
                     "--chart", str(trend))  # fmt: skip
    ranking = hotline("report", "ranking", "--period", "month", "--as-of", "2022-01-06",
                      "--chart", str(bars))  # fmt: skip

    assert by_day[0] == ranking[0] == 0
    for path in (trend, bars):
        assert path.read_bytes()[:8] == PNG
        with Image.open(path) as image:
            assert image.format == "PNG" and image.width >= 400
            colours = image.convert("RGB").getcolors(maxcolors=1_000_000)
            assert len(colours) > 10  # lines, bars, text: not a blank canvas


def test_the_whistle_report_ranks_departments_in_every_format_and_draws_them(hotline, tmp_path):
    # Given the simulated month, whose complex and utility tickets whistled departments
    chart = tmp_path / "whistles.png"

    # When its whistle report is shown as a table, CSV and JSON, and drawn
    document = same_numbers(hotline, "report", "whistles", "--period", "2022-01")
    drawn = hotline("report", "whistles", "--period", "2022-01", "--chart", str(chart))
    one = json.loads(
        hotline("report", "whistles", "--period", "2022-01", "--unit", "water-repair",
                "--format", "json")[1]
    )  # fmt: skip

    # Then every department summoned is ranked by its in-time rate over the summoned total
    *rows, total = document["rows"]
    assert (document["period"], document["previous"]) == ("2022-01", "2021-12")
    assert total["department"] == "total" and total["summoned"] == sum(r["summoned"] for r in rows)
    assert total["reported_in_time"] > 0 and rows[0]["rank"] == 1
    assert drawn[0] == 0 and chart.read_bytes()[:8] == PNG
    # and one department's row keeps its rank among all
    mine = next(r for r in rows if r["department"] == "water-repair")
    assert one["rows"] == [mine, {**total, **_only(mine)}]


def _only(row: dict) -> dict:
    counted = ("summoned", "reported", "reported_in_time", "excused", "absences", "in_time_rate")
    return {name: row[name] for name in counted}


def test_hot_topics_list_every_category_of_the_month(hotline):
    code, out, _ = hotline("report", "hot-topics", "--month", "2022-01", "--format", "json")

    topics = json.loads(out)["rows"]
    assert code == 0 and sum(t["received"] for t in topics) == 150
    assert topics[0]["candidate"] == 1
    assert {"rank_volume", "rank_growth", "rank_not_both_yes", "rank_units"} <= set(topics[0])


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("rates", "--period", "2022-13"), "period '2022-13'"),
        (("rates", "--period", "2022-01", "--by", "street"), "--by 'street'"),
        (("rates", "--period", "2022-01", "--unit", "nowhere"), "--unit 'nowhere'"),
        (("ranking", "--period", "year"), "--period 'year'"),
        (("ranking", "--chart", "/no/such/dir/r.png"), "no such directory"),
        (("rates", "--period", "2022-01", "--chart", "r.svg"), "PNG files"),
        (("hot-topics", "--month", "2022-01..2022-02"), "name one month"),
        (("hot-topics", "--month", "2022-07", "--months-before", "0"), "from 1 to 24 months"),
        (("hot-topics", "--month", "2022-07", "--months-before", "25"), "--months-before 25"),
        (("hot-topics", "--month", "2022-07", "--months-before", "99999999"), "from 1 to 24"),
        (("whistles", "--period", "0001-01"), "years 1900..2999"),
        (("whistles", "--period", "2022-01", "--unit", "nowhere"), "--unit 'nowhere'"),
        (
            (
                "adjust",
                "--unit",
                "street-jianwai",
                "--day",
                "15 Jan",
                "--points",
                "0.2",
                "--reason",
                "hard case",
                "--approver",
                "wang",
            ),
            "--day '15 Jan'",
        ),  # fmt: skip
    ],
)
def test_bad_report_options_are_one_error_line(hotline, args, message):
    code, out, err = hotline("report", *args)

    assert (code, out) == (1, "")
    assert err.startswith("Error:") and message in err


def test_rates_name_their_rules_and_a_published_month_is_listed_and_compared(hotline):
    # Given the simulated January, whose rules are beijing-12345@1 in every format
    rates = json.loads(hotline("report", "rates", "--period", "2022-01", "--format", "json")[1])
    assert rates["rules"] == "beijing-12345@1"
    assert {row["rules"] for row in rates["rows"]} == {"beijing-12345@1"}
    assert "rules beijing-12345@1" in hotline("report", "rates", "--period", "2022-01")[1]
    assert hotline("report", "rates", "--period", "2022-01", "--rules", "9")[0] == 1

    # When January is published, listed, compared, and published again
    code, out, _ = hotline("report", "publish", "--period", "2022-01", "--actor", "centre")
    listed = json.loads(hotline("report", "published", "--format", "json")[1])
    compared = json.loads(
        hotline("report", "published", "--period", "2022-01", "--compare", "--format", "json")[1]
    )
    again = hotline("report", "publish", "--period", "2022-01")

    # Then the snapshot is sealed under those rules, intact, and never replaced
    assert code == 0 and "snapshot 1" in out
    [snapshot] = listed["rows"]
    assert (snapshot["period"], snapshot["rules"]) == ("2022-01", "beijing-12345@1")
    assert compared["intact"] is True and compared["differences"] == []
    assert compared["seal"] == snapshot["seal"]
    assert again[0] == 1 and "already published" in again[2]
