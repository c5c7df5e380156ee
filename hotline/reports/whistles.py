"""The whistle report (吹哨报到 考评): how each summoned department answered, ranked.

Issue 4's per-department figures (``persistence.whistles.department_stats``) through the
assessment's machinery: a period read in the local time of the definition's calendar (a
department's summons counts in the period it was summoned), a rank by the in-time report
rate (highest first, ties share a place, as ``kpi.rank``), and the change of that rate
against the previous period of the same length.

in-time rate = reported in time / (summoned − excused): a department whose decline was
accepted (the matter was not its own) is not held to a report; a decline not yet ruled on, an
absence and a late report all count against it (街道吹哨、部门报到; 双考核, 条例 Art. 16).
The figures are those of the whistle rows now (they keep no history to replay), so this
report has no ``as_of``. The total row sums the counts; it has no median (a median of
medians would mislead).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hotline.engine import kpi
from hotline.engine.definition import Definition
from hotline.engine.periods import Period
from hotline.persistence import whistles
from hotline.persistence.whistles import DepartmentStats
from hotline.reports import assessment
from hotline.service import Service
from hotline.workflows import loader


@dataclass(frozen=True)
class DepartmentRow:
    """One department's answers to the whistles of a period."""

    stats: DepartmentStats
    name: str
    rank: int | None = None
    change: float | None = None

    @property
    def rate(self) -> float | None:
        """The in-time report rate, in percent; None if it owed no report."""
        return in_time_rate(self.stats)

    def record(self) -> dict[str, Any]:
        """The row as flat JSON-ready values (rates in percent, hours, two decimals)."""
        s, median = self.stats, self.stats.median_report_seconds
        return {
            "department": s.department,
            "name": self.name,
            "summoned": s.summoned,
            "reported": s.reported,
            "reported_in_time": s.reported_in_time,
            "excused": s.excused,
            "absences": s.absences,
            "in_time_rate": _round(self.rate),
            "median_report_hours": None if median is None else round(median / 3600, 2),
            "rank": self.rank,
            "change": _round(self.change),
        }


@dataclass(frozen=True)
class WhistleReport:
    period: str
    previous: str
    rows: list[DepartmentRow]
    total: DepartmentRow


def in_time_rate(stats: DepartmentStats) -> float | None:
    owed = stats.summoned - stats.excused
    return 100 * stats.reported_in_time / owed if owed else None


def report(
    service: Service,
    period: Period,
    unit: str | None = None,
    definition: str = loader.DEFAULT,
) -> WhistleReport:
    """Departments ranked by in-time report rate over ``period``; with ``unit``, only its row
    (its rank still among all)."""
    compiled = service.compiled(definition)
    assessment.check_unit(compiled.definition, unit)
    zone = compiled.calendar.timezone
    with service.store.reading() as conn:
        current = whistles.department_stats(conn, *period.instants(zone))
        before = whistles.department_stats(conn, *period.previous().instants(zone))
    earlier = {s.department: in_time_rate(s) for s in before}
    places = kpi.rank([in_time_rate(s) for s in current])
    rows = [
        DepartmentRow(
            s,
            _name(compiled.definition, s.department),
            places[i],
            kpi.change(in_time_rate(s), earlier.get(s.department)),
        )
        for i, s in enumerate(current)
    ]
    rows.sort(key=lambda r: (r.rank is None, r.rank or 0, r.stats.department))
    if unit is not None:
        rows = [r for r in rows if r.stats.department == unit]
    return WhistleReport(period.label, period.previous().label, rows, _total(rows))


def _total(rows: list[DepartmentRow]) -> DepartmentRow:
    counted = ("summoned", "reported", "reported_in_time", "absences", "excused")
    sums = {field: sum(getattr(r.stats, field) for r in rows) for field in counted}
    stats = DepartmentStats(department="total", median_report_seconds=None, **sums)
    return DepartmentRow(stats, "")


def _name(definition: Definition, code: str) -> str:
    """The unit's name from the catalogue (a code no longer listed stays a code)."""
    found = definition.unit(code)
    return found.name if found is not None else code


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)
