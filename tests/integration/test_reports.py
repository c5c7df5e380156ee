"""The assessment over a hand-built month whose rates are known by construction.

July 2022, two streets, every ticket driven through the real service on a FrozenClock, on
SQLite and PostgreSQL. Beijing working hours (09-12, 13-18) set the 4 h response deadline.

street-jianwai: A solved+satisfied; B via the district, solved+基本满意; C responded late (next
day), solved+satisfied; D not solved in round 1, then solved+satisfied (the last callback
counts); E not solved+基本满意 (非双是, not 双否); F excluded (剔除); G still open at the end.
street-chaowai: I solved+satisfied; J not solved+unsatisfied (双否), re-dispatched, still open.
Outside any unit: H, a consultation, and K, one received at 00:30 on 1 July Beijing time
(16:30 UTC on 30 June: it belongs to July). L, solved+satisfied at jianwai, was received at
23:30 on 30 June Beijing time: June, the previous period.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from hotline.engine import meanings, periods
from hotline.persistence import reports
from hotline.reports import assessment
from hotline.service import Intake

BEIJING = ZoneInfo("Asia/Shanghai")
AS_OF = datetime(2022, 8, 10, tzinfo=UTC)
JULY = periods.parse("2022-07")


def bj(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=BEIJING)


def dispatch(unit: str, route: str = "direct"):
    return ("dispatch", {"lead_unit": unit, "route": route})


RESPOND = ("respond", {"method": "phone"})
REPLY = ("reply", {"opinion": "done"})
START = ("start_callback", {})


def callback(resolved: bool, satisfaction: str):
    return ("record_callback", {"resolved": resolved, "satisfaction": satisfaction})


def handled(answer, respond_after: float = 1):
    return [(respond_after, RESPOND), (2, REPLY), (1, START), (1, answer)]


SOLVED, BASIC = callback(True, "satisfied"), callback(True, "basic")
UNSOLVED_BASIC, BOTH_NO = callback(False, "basic"), callback(False, "unsatisfied")
JIANWAI, CHAOWAI = "street-jianwai", "street-chaowai"
MONDAY = "2022-07-04 10:00"


@pytest.fixture
def month(service, clock):
    """Builder: play the hand-built month; each ticket is (received at, [(hours, step)…])."""

    def play(category: str, at: str, steps) -> int:
        clock.set(bj(at))
        ticket = service.submit(Intake(category, "hand-built"))
        for hours, (trigger, fields) in steps:
            clock.advance(timedelta(hours=hours))
            service.fire(ticket.id, trigger, fields, actor="tester")
        return ticket.id

    noise = "noise"
    play(noise, MONDAY, [(0.1, dispatch(JIANWAI)), *handled(SOLVED)])  # A
    play(noise, MONDAY, [(0.1, dispatch(JIANWAI, "via_district")), *handled(BASIC)])  # B
    play(noise, MONDAY, [(0.1, dispatch(JIANWAI)), *handled(SOLVED, respond_after=30)])  # C
    redo = [*handled(BOTH_NO), *handled(SOLVED)]
    play("road-damage", MONDAY, [(0.1, dispatch(JIANWAI)), *redo])  # D
    play("road-damage", MONDAY, [(0.1, dispatch(JIANWAI)), *handled(UNSOLVED_BASIC)])  # E
    exclude = ("exclude", {"approver": "leader", "reason": "arbitration"})
    play(noise, MONDAY, [(0.1, dispatch(JIANWAI)), *handled(BOTH_NO), (1, exclude)])  # F
    play(noise, "2022-07-29 10:00", [(0.1, dispatch(JIANWAI)), (1, RESPOND), (2, REPLY)])  # G
    answer = ("answer", {"answer": "opening hours"})
    play("policy-consultation", MONDAY, [(0.1, answer)])  # H
    play(noise, MONDAY, [(0.1, dispatch(CHAOWAI)), *handled(SOLVED)])  # I
    play("sanitation", MONDAY, [(0.1, dispatch(CHAOWAI)), *handled(BOTH_NO)])  # J
    play("policy-consultation", "2022-07-01 00:30", [(0.1, answer)])  # K
    play(noise, "2022-06-30 23:30", [(10, dispatch(JIANWAI)), *handled(SOLVED)])  # L
    reports.add_adjustment(
        service.store, JIANWAI, date(2022, 7, 15), 0.2, "a hard case resolved", "leader", AS_OF
    )
    return service


def rows_by_group(report):
    return {row.group: row.record() for row in report.rows}


def test_monthly_rates_by_unit_are_exactly_those_built(month):
    report = assessment.rates(month, JULY, "unit", as_of=AS_OF)

    rows = rows_by_group(report)
    counted = ("received", "direct", "via_district", "excluded", "assessed", "callbacks")
    assert [rows[JIANWAI][k] for k in counted] == [7, 6, 1, 1, 6, 5]
    # response 4/5 (C late), resolution 4/5 (E), satisfaction (3 + 0.9 × 2) / 5
    assert (rows[JIANWAI]["response_rate"], rows[JIANWAI]["resolution_rate"]) == (80.0, 80.0)
    assert rows[JIANWAI]["satisfaction_rate"] == 96.0
    assert rows[JIANWAI]["composite"] == round(0.1 * 80 + 0.5 * 80 + 0.4 * 96 + 0.2, 2)  # 86.6
    assert (rows[JIANWAI]["both_yes"], rows[JIANWAI]["both_no"]) == (4, 0)
    assert (rows[JIANWAI]["not_both_yes"], rows[JIANWAI]["redispatched"]) == (1, 2)  # E; D, E
    assert rows[CHAOWAI]["composite"] == 0.1 * 100 + 0.5 * 50 + 0.4 * 50  # 55
    assert (rows[CHAOWAI]["both_yes"], rows[CHAOWAI]["both_no"]) == (1, 1)
    assert rows["(none)"]["received"] == 2  # H and K: K's Beijing day is 1 July
    assert (report.total.counts.received, report.total.counts.callbacks) == (11, 7)


def test_units_are_ranked_by_composite_with_the_change_against_the_previous_month(month):
    report = assessment.ranking(month, "month", at=bj("2022-07-31 12:00"))

    assert [(r.group, r.rank) for r in report.rows] == [(JIANWAI, 1), (CHAOWAI, 2)]
    jianwai = report.rows[0]
    assert jianwai.change == pytest.approx(86.6 - 100)  # June: L alone, 100 on every rate
    assert report.rows[1].change is None  # chaowai had nothing rated in June


def test_the_first_callback_can_be_the_one_assessed(month):
    start, end = JULY.instants(BEIJING)
    scope = reports.Scope(start, end, AS_OF, unit=JIANWAI)

    read = meanings.reading(month.compiled("beijing-12345").definition)
    first = reports.tally(month.store, scope, "unit", counted="first", read=read)[JIANWAI]

    assert first.count(resolved=True) == 3  # D counts with its unsolved first round
    assert first.count(resolved=False, satisfaction="unsatisfied") == 1


def test_the_history_is_read_up_to_the_cut_off(month):
    """Before the callbacks of 4 July were recorded, nothing of jianwai's July was rated."""
    report = assessment.rates(month, JULY, "unit", unit=JIANWAI, as_of=bj("2022-07-04 12:00"))

    (row,) = report.rows
    assert (row.counts.received, row.counts.callbacks, row.rates.composite) == (6, 0, None)


def test_days_are_beijing_days_and_change_is_against_the_day_before(month):
    report = assessment.rates(month, periods.parse("2022-07-01..2022-07-04"), "day", as_of=AS_OF)

    received = {r.group: r.counts.received for r in report.rows}
    assert received == {"2022-07-01": 1, "2022-07-02": 0, "2022-07-03": 0, "2022-07-04": 9}
    assert report.previous == "2022-06-30"
    assert report.rows[-1].change is None  # 3 July had nothing rated


def test_districts_sum_their_units(month):
    report = assessment.rates(month, JULY, "district", as_of=AS_OF)

    chaoyang = rows_by_group(report)["chaoyang"]
    assert (chaoyang["received"], chaoyang["callbacks"], chaoyang["both_no"]) == (9, 7, 1)


def test_hot_topics_rank_categories_of_the_month(month):
    topics = assessment.hot_topics(month, JULY, as_of=AS_OF)

    by_code = {t.category: t for t in topics}
    assert by_code["noise"].received == 6 and by_code["noise"].ranks["volume"] == 1
    assert by_code["sanitation"].not_both_yes_share == 100.0
    assert by_code["noise"].units == 2
    assert by_code["noise"].growth == pytest.approx(100 * (6 - 1 / 3) / (1 / 3))  # L in June


def test_a_units_months_carry_its_points_and_the_change_month_on_month(month):
    report = assessment.rates(month, periods.parse("2022-06..2022-07"), "month", JIANWAI, AS_OF)

    june, july = (row.record() for row in report.rows)
    assert (june["group"], june["composite"], june["adjustment"]) == ("2022-06", 100.0, 0.0)
    assert (july["group"], july["composite"], july["adjustment"]) == ("2022-07", 86.6, 0.2)
    assert july["change"] == -13.4
    assert report.previous == "2022-05"
