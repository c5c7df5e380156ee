"""The assessment reports: 三率 and composite by group, rankings, 每月一题 hot topics.

Plain functions returning values, for the CLI (``hotline report …``) and the HTTP API alike.
The database does the counting (``persistence.reports``), ``engine.kpi`` the arithmetic, and
the workflow definition supplies the weights, the unit catalogue and the calendar's time zone.

Rules (see ``engine.kpi`` for the formulas): a ticket belongs to the period in which it was
received (local time of the definition's calendar); its history is read up to ``as_of`` (by
default now), so a month's report run later includes the callbacks made after the month; it
counts for its current lead unit, and as forwarded via a district if any of its dispatches was.
The rules (weights, denominator, what each trigger counts for…) are those of the definition
version in force at the end of the period (the newest published before it), or of the version
the caller names; every report says which version it used (``rules``). Each
group's ``change`` is the composite against the previous period of the same length (for
day/week/month groups: against the bucket before). Bonus and penalty points apply to unit
groups, and to time groups of a report for one unit.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Literal, get_args

from hotline import errors
from hotline import reports as use_case
from hotline.engine import kpi, meanings, periods
from hotline.engine.definition import Definition
from hotline.engine.periods import Period
from hotline.persistence import reports, versions
from hotline.persistence.reports import Scope
from hotline.service import Service
from hotline.workflows import loader

By = Literal["unit", "district", "category", "day", "week", "month"]
NONE = "(none)"  # the group of tickets with no unit (never dispatched) or no district
MAX_MONTHS_BEFORE = use_case.MAX_MONTHS_BEFORE


@dataclass(frozen=True)
class RateRow:
    """One group of a rates report."""

    group: str
    counts: kpi.Counts
    rates: kpi.Rates
    verdicts: dict[kpi.Verdict, int]
    adjustment: float = 0.0
    rank: int | None = None
    change: float | None = None

    def record(self) -> dict[str, Any]:
        """The row as flat JSON-ready values, rates in percent to two decimals."""
        c, r, v = self.counts, self.rates, self.verdicts
        return {
            "group": self.group,
            "received": c.received,
            "direct": c.direct,
            "via_district": c.via_district,
            "excluded": c.excluded,
            "assessed": c.assessed,
            "callbacks": c.callbacks,
            "redispatched": c.redispatched,
            "response_rate": _round(r.response),
            "resolution_rate": _round(r.resolution),
            "satisfaction_rate": _round(r.satisfaction),
            "adjustment": _round(self.adjustment),
            "composite": _round(r.composite),
            "both_yes": v[kpi.Verdict.BOTH_YES],
            "both_no": v[kpi.Verdict.BOTH_NO],
            "not_both_yes": v[kpi.Verdict.NOT_BOTH_YES],
            "rank": self.rank,
            "change": _round(self.change),
        }


@dataclass(frozen=True)
class RatesReport:
    period: str
    previous: str
    by: str
    rows: list[RateRow]
    total: RateRow
    rules: str = ""  # the definition version whose rules were applied, e.g. beijing-12345@2


@dataclass(frozen=True)
class HotTopic:
    """A 每月一题 candidate: a category with its volume, growth, 非双是 share and spread."""

    category: str
    name: str
    received: int
    growth: float | None
    not_both_yes_share: float | None
    units: int
    ranks: dict[str, int | None]
    candidate: int = 0

    def record(self) -> dict[str, Any]:
        return {
            "candidate": self.candidate,
            "category": self.category,
            "name": self.name,
            "received": self.received,
            "growth": _round(self.growth),
            "not_both_yes_share": _round(self.not_both_yes_share),
            "units": self.units,
            **{f"rank_{name}": place for name, place in self.ranks.items()},
        }


def check_unit(definition: Definition, unit: str | None, name: str = "--unit") -> None:
    """Refuse a unit the definition's catalogue does not list (any, if it has none)."""
    if unit is not None and definition.units and definition.unit(unit) is None:
        raise errors.HotlineError(f"{name} {unit!r}: no such unit in {definition.name}")


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def rates(
    service: Service,
    period: Period,
    by: By = "unit",
    unit: str | None = None,
    as_of: datetime | None = None,
    definition: str = loader.DEFAULT,
    rules: int | None = None,
    recompute: bool = False,
) -> RatesReport:
    """The three rates, composite, verdicts, rank and change of every group in ``period``.

    ``rules``: the definition version whose rules apply (default: the one in force at the
    period's end). ``recompute``: count from the raw history, not the tickets' facts (the
    numbers are the same; a check, and the way to see it).
    """
    if by not in get_args(By):
        raise errors.HotlineError(f"--by {by!r}: use one of {', '.join(get_args(By))}")
    context = _Context(service, definition, as_of, period, rules, recompute)
    context.check_unit(unit)
    if by in periods.GRAINS:
        return _by_time(context, period, by, unit)  # type: ignore[arg-type]
    current = context.groups(period, by, unit)
    before = context.groups(period.previous(), by, unit)
    points = context.points(period, unit) if by == "unit" else {}
    earlier = context.points(period.previous(), unit) if by == "unit" else {}
    rows = [context.row(name, counts, points.get(name, 0.0)) for name, counts in current.items()]
    previous = {
        name: context.row(name, counts, earlier.get(name, 0.0)).rates.composite
        for name, counts in before.items()
    }
    rows = [_with_change(r, previous.get(r.group)) for r in rows]
    return _report(context, period.label, period.previous().label, by, rows, current.values())


def ranking(
    service: Service,
    grain: periods.Grain = "day",
    at: datetime | None = None,
    definition: str = loader.DEFAULT,
    rules: int | None = None,
    recompute: bool = False,
) -> RatesReport:
    """日监控排名 / 周调度 / 月通报: units by composite in the day, week or month of ``at``."""
    if grain not in ("day", "week", "month"):
        raise errors.HotlineError(f"--period {grain!r}: use day, week or month")
    context = _Context(service, definition, at)
    period = periods.containing(context.as_of, grain, context.zone)
    report = rates(
        service,
        period,
        "unit",
        as_of=context.as_of,
        definition=definition,
        rules=rules,
        recompute=recompute,
    )
    return ranked_units(report)


def ranked_units(report: RatesReport) -> RatesReport:
    """The unit rows of ``report`` in rank order (the ``(none)`` group left out)."""
    ranked = [r for r in report.rows if r.group != NONE]
    ranked.sort(key=lambda r: (r.rank is None, r.rank or 0, r.group))
    return replace(report, rows=ranked)


def hot_topics(
    service: Service,
    month: Period,
    months_before: int = 3,
    as_of: datetime | None = None,
    definition: str = loader.DEFAULT,
    recompute: bool = False,
) -> list[HotTopic]:
    """每月一题: categories by volume, growth over the months before, 非双是 share, units."""
    context = _Context(service, definition, as_of, month, recompute=recompute)
    start, end = month.instants(context.zone)
    scope = Scope(start, end, context.as_of)
    counts = context.tally(scope, "category")
    earlier = Period(periods.shift(month.start, month.grain, -months_before), month.grain)
    history = Period(earlier.start, month.grain, months_before)
    buckets = history.buckets(month.grain, context.zone)
    volumes = reports.volumes(service.store, buckets, context.definition.name)
    labels = [label for label, _, _ in history.buckets(month.grain, context.zone)]
    spread = reports.spread(service.store, start, end, context.definition.name)
    topics = []
    for code, c in counts.items():
        tally = kpi.verdicts(c, context.settings)
        share = 100 * tally[kpi.Verdict.NOT_BOTH_YES] / c.callbacks if c.callbacks else None
        growth = kpi.growth(c.received, [volumes.get((code, m), 0) for m in labels])
        category = context.definition.category(code)
        name = category.name if category else code
        topics.append(HotTopic(code, name, c.received, growth, share, spread.get(code, 0), {}))
    return _ranked_topics(topics)


def _ranked_topics(topics: list[HotTopic]) -> list[HotTopic]:
    metrics = {
        "volume": [t.received for t in topics],
        "growth": [t.growth for t in topics],
        "not_both_yes": [t.not_both_yes_share for t in topics],
        "units": [t.units for t in topics],
    }
    ranks = {name: kpi.rank(values) for name, values in metrics.items()}
    ranked = [
        replace(t, ranks={name: r[i] for name, r in ranks.items()}) for i, t in enumerate(topics)
    ]
    worst = len(topics) + 1
    score = [sum(r or worst for r in t.ranks.values()) for t in ranked]
    order = kpi.rank([-s for s in score], places=6)
    final = [replace(t, candidate=order[i] or worst) for i, t in enumerate(ranked)]
    return sorted(final, key=lambda t: (t.candidate, -t.received, t.category))


def _by_time(
    context: _Context, period: Period, grain: periods.Grain, unit: str | None
) -> RatesReport:
    zone = context.zone
    before = Period(periods.shift(periods.floor(period.start, grain), grain, -1), grain)
    buckets = before.buckets(grain, zone)[-1:] + period.buckets(grain, zone)
    scope = Scope(buckets[0][1], buckets[-1][2], context.as_of, unit)
    counts = context.tally(scope, "time", buckets)
    whole = Period(before.start, "day", (period.end - before.start).days)
    points = context.bucket_points(whole, grain, unit) if unit else {}
    rows = [context.row(b, counts.get(b, kpi.Counts()), points.get(b, 0.0)) for b, _, _ in buckets]
    rows = [
        _with_change(r, prior.rates.composite) for prior, r in zip(rows, rows[1:], strict=False)
    ]
    previous = buckets[0][0]
    return _report(context, period.label, previous, grain, rows, [r.counts for r in rows])


def _with_change(row: RateRow, previous: float | None) -> RateRow:
    return replace(row, change=kpi.change(row.rates.composite, previous))


def _report(
    context: _Context,
    label: str,
    previous: str,
    by: str,
    rows: list[RateRow],
    counts: Iterable[kpi.Counts],
) -> RatesReport:
    places = kpi.rank([r.rates.composite for r in rows])
    ranked = [replace(r, rank=places[i]) for i, r in enumerate(rows)]
    if by not in periods.GRAINS:
        ranked.sort(key=lambda r: r.group)
    total = context.row("total", functools.reduce(lambda a, b: a + b, counts, kpi.Counts()))
    return RatesReport(label, previous, by, ranked, total, context.rules)


class _Context:
    """The definition version whose rules apply, its calendar zone and the cut-off instant one
    report works with.

    Without ``period`` (or with ``version``) the rules are those of ``version`` (default the
    newest); with a period, those in force at its end, so a later publication never silently
    changes a past period's numbers.
    """

    def __init__(
        self,
        service: Service,
        definition: str,
        as_of: datetime | None,
        period: Period | None = None,
        version: int | None = None,
        recompute: bool = False,
    ) -> None:
        compiled = service.compiled(definition, version)
        if period is not None and version is None:
            end = period.instants(compiled.calendar.timezone)[1]
            compiled = service.compiled(
                definition, versions.in_force(service.store, definition, end)
            )
        self.store = service.store
        self.definition: Definition = compiled.definition
        self.rules = f"{compiled.definition.name}@{compiled.version}"
        self.settings = compiled.definition.kpi
        self.reading = meanings.reading(compiled.definition)
        self.zone = compiled.calendar.timezone
        self.as_of = as_of or service.clock.now()
        self.recompute = recompute

    def tally(
        self, scope: Scope, key: reports.Key, buckets: Sequence[reports.Bucket] = ()
    ) -> dict[str | None, kpi.Counts]:
        counted = self.settings.counted_callback
        mine = replace(scope, definition=self.definition.name)
        return reports.tally(
            self.store,
            mine,
            key,
            buckets,
            counted,
            read=self.reading,
            zone=self.zone,
            recompute=self.recompute,
        )

    def check_unit(self, unit: str | None) -> None:
        check_unit(self.definition, unit)

    def groups(self, period: Period, by: str, unit: str | None) -> dict[str, kpi.Counts]:
        start, end = period.instants(self.zone)
        key = "unit" if by == "district" else by
        scope = Scope(start, end, self.as_of, unit)
        found = self.tally(scope, key)
        grouped: dict[str, kpi.Counts] = {}
        for name, counts in found.items():
            group = self.district(name) if by == "district" else name or NONE
            grouped[group] = grouped.get(group, kpi.Counts()) + counts
        return grouped

    def district(self, unit: str | None) -> str:
        found = self.definition.unit(unit) if unit else None
        if found is None:
            return NONE
        return found.code if found.kind == "district" else found.district or NONE

    def points(self, period: Period, unit: str | None) -> dict[str, float]:
        total: dict[str, float] = {}
        for code, _, points in reports.adjustments_between(
            self.store, period.start, period.end, unit
        ):
            total[code] = total.get(code, 0.0) + points
        return total

    def bucket_points(self, period: Period, grain: periods.Grain, unit: str) -> dict[str, float]:
        total: dict[str, float] = {}
        for _, day, points in reports.adjustments_between(
            self.store, period.start, period.end, unit
        ):
            name = periods.label(periods.floor(day, grain), grain)
            total[name] = total.get(name, 0.0) + points
        return total

    def row(self, group: str, counts: kpi.Counts, points: float = 0.0) -> RateRow:
        measured = kpi.rates(counts, self.settings, points)
        return RateRow(group, counts, measured, kpi.verdicts(counts, self.settings), points)
