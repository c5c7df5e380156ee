"""The year cliff from the command line: provisional in `show`, warned in `status`, recomputed
by `calendar refresh` once the admin adds the year."""

from __future__ import annotations

from importlib.resources import files

from freezegun import freeze_time


@freeze_time("2026-12-14 01:00:00")  # Monday 09:00 in Beijing; 2027 is not published yet
def test_a_deadline_into_2027_is_provisional_until_the_year_is_added(
    hotline, tmp_path, monkeypatch
):
    assert hotline("init")[0] == 0
    hotline("submit", "--category", "illegal-construction", "--summary", "a shed on the roof")
    code, _, err = hotline(
        "fire", "1", "dispatch", "--set", "lead_unit=street-jianwai", "--set", "route=direct"
    )
    assert code == 0, err  # never refused because of a calendar

    _, shown, _ = hotline("show", "1")
    assert "due 2027-01-01 10:00 UTC (provisional" in shown
    code, _, warned = hotline("status")
    assert code == 0 and "knows working days only until 2026-12-31 (17 days left)" in warned

    shipped = (files("hotline.workflows") / "calendars" / "beijing.yaml").read_text("utf-8")
    text = shipped.replace("holidays: []", "holidays: [2027-01-01]")
    (tmp_path / "beijing.yaml").write_text(text.replace("years: []", "years: [2027]"), "utf-8")
    monkeypatch.setenv("HOTLINE_CALENDAR_DIR", str(tmp_path))
    code, out, _ = hotline("calendar", "refresh")

    assert (code, out.strip()) == (0, "recomputed the provisional deadlines of 1 ticket(s)")
    _, shown, _ = hotline("show", "1")
    assert "due 2027-01-04 10:00 UTC" in shown and "provisional" not in shown
    _, history, _ = hotline("history", "1")
    assert "deadline_provisional" in history and "deadlines_recomputed" in history
