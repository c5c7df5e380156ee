"""The whistle report on whistles whose answers are known by construction (SQLite and PG)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hotline.daemon.sweeper import Sweeper
from hotline.engine import periods
from hotline.reports import whistles as whistle_report

H = timedelta(hours=1)
HOUSING, URBAN, ROADS = "chaoyang-housing", "chaoyang-urban", "chaoyang-roads"


def whistled(new_ticket, street: str, to: list[str]):
    steps = [
        ("dispatch", {"lead_unit": street, "route": "direct"}),
        ("whistle", {"to": to, "within": "4h", "reason": "a case for several departments"}),
    ]
    return new_ticket("parking", steps=steps).id


def test_departments_rank_by_in_time_rate_and_an_excused_one_owes_nothing(
    service, new_ticket, clock
):
    def report(ticket_id: int, department: str) -> None:
        service.fire(ticket_id, "whistle_report", {"department": department, "person": "duty"})

    # Given in February housing reported late (absent first), and in March: on one whistle
    # housing reports after 1 h, urban declines and is excused, roads is absent and reports
    # after 5 h; on another, housing and roads both report after 1 h
    clock.set(datetime(2026, 2, 10, 2, tzinfo=UTC))
    february = whistled(new_ticket, "street-jianwai", [HOUSING])
    clock.advance(5 * H)
    Sweeper(service).sweep()
    report(february, HOUSING)
    clock.set(datetime(2026, 3, 2, 2, tzinfo=UTC))
    first = whistled(new_ticket, "street-jianwai", [HOUSING, URBAN, ROADS])
    clock.advance(H)
    report(first, HOUSING)
    service.fire(first, "whistle_decline", {"department": URBAN, "reason": "not ours"})
    service.fire(first, "whistle_accept_decline", {"department": URBAN})
    clock.advance(4 * H)
    Sweeper(service).sweep()
    report(first, ROADS)
    second = whistled(new_ticket, "street-chaowai", [HOUSING, ROADS])
    clock.advance(H)
    report(second, HOUSING)
    report(second, ROADS)

    # When March's whistle report is read, and one department's row alone
    found = whistle_report.report(service, periods.parse("2026-03"))
    alone = whistle_report.report(service, periods.parse("2026-03"), unit=ROADS)

    # Then housing (2 of 2 in time, up 100 points on February) leads roads (1 of 2); urban,
    # excused, has no rate and no rank; the total rate is 3 in time of the 4 owed
    records = {r["department"]: r for r in map(whistle_report.DepartmentRow.record, found.rows)}
    assert [r.stats.department for r in found.rows] == [HOUSING, ROADS, URBAN]
    assert _figures(records[HOUSING]) == (2, 2, 2, 0, 0, 100.0, 1.0, 1, 100.0)
    assert _figures(records[ROADS]) == (2, 2, 1, 0, 1, 50.0, 3.0, 2, None)
    assert _figures(records[URBAN]) == (1, 0, 0, 1, 0, None, None, None, None)
    assert _figures(found.total.record()) == (5, 4, 3, 1, 1, 75.0, None, None, None)
    assert [r.record() for r in alone.rows] == [records[ROADS]]


def _figures(record: dict) -> tuple:
    names = ("summoned", "reported", "reported_in_time", "excused", "absences", "in_time_rate")
    more = ("median_report_hours", "rank", "change")
    return tuple(record[name] for name in (*names, *more))
