"""What-if (假如): a past period replayed under a draft definition, beside what happened.

Every ticket received in the period (optionally of one lead unit and category) is streamed
from the database with its history and replayed under the draft (``ticket_replay``), one at a
time in memory: nothing is written. Both sides are then counted by the same rules: the
baseline is the recorded history judged by the rules in force at the period's end (or, with
``against``, another published version replayed the same way), and the draft is the replayed
history judged by the draft's own rules (weights, answers, denominators). The rates come from
``engine.kpi`` through ``reports.assessment.RateRow``, as in ``hotline report rates``.

The result is one JSON-ready document (``WhatIf.document``): the CLI prints it (json, or as a
table or csv) and the API returns it as the job's result.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from hotline import garbage
from hotline.engine import durations, kpi, meanings, tally
from hotline.engine.definition import Definition
from hotline.engine.machine import CompiledDefinition
from hotline.engine.periods import Period
from hotline.engine.ticket import Event
from hotline.errors import HotlineError
from hotline.persistence import histories, reports, versions
from hotline.reports.assessment import NONE, RateRow, check_unit
from hotline.service import Service
from hotline.simulation.ticket_replay import Refusal, TicketReplay
from hotline.workflows import loader

LISTED = 1_000  # refusals listed one by one (all are counted)
DRAFT = 0  # the version number a draft is compiled with: it has none yet
RATES = ("response_rate", "resolution_rate", "satisfaction_rate", "composite")
COMPARED = ("composite", "rank", *RATES[:3], "received", "assessed", "callbacks")


@dataclass(frozen=True)
class Request:
    """What to replay: the period, its filters and how the daemon swept."""

    period: Period
    unit: str | None = None
    category: str | None = None
    as_of: datetime | None = None  # read histories up to (default: now)
    sweep: timedelta | None = None  # None: rungs fire when due (the daemon sweeps every 0.5 s)
    listed: int = LISTED


class _Side:
    """One side of the comparison: its rules, and what its histories counted to."""

    def __init__(self, compiled: CompiledDefinition, label: str, as_of: datetime) -> None:
        definition = compiled.definition
        self.label, self.as_of = label, as_of
        self.read = meanings.reading(definition)
        self.settings = definition.kpi
        self.whistle = meanings.running(definition, "open_whistle")
        # Per group, how many tickets counted alike: a month's tickets count in a few dozen
        # ways, so adding them up once at the end costs less than once per ticket.
        self.groups: defaultdict[str, Counter[kpi.Counts]] = defaultdict(Counter)
        self.activity = tally.Activity()

    def add(self, unit: str | None, events: Sequence[Event]) -> None:
        counted = tally.counts(events, self.read, self.as_of, self.settings.counted_callback)
        group = unit or NONE
        self.groups[group][counted] += 1
        self.activity.add(events, self.read, self.whistle, self.as_of)

    def rows(self, points: dict[str, float]) -> dict[str, RateRow]:
        """Each group's rates and composite, ranked as ``hotline report rates`` ranks them."""
        summed = {name: _sum(alike) for name, alike in self.groups.items()}
        rows = [self._row(name, c, points.get(name, 0.0)) for name, c in summed.items()]
        places = kpi.rank([r.rates.composite for r in rows])
        return {r.group: replace(r, rank=places[i]) for i, r in enumerate(rows)}

    def total(self) -> RateRow:
        counts = sum(map(_sum, self.groups.values()), kpi.Counts())
        return self._row("total", counts)

    def _row(self, group: str, counts: kpi.Counts, points: float = 0.0) -> RateRow:
        measured = kpi.rates(counts, self.settings, points)
        return RateRow(group, counts, measured, kpi.verdicts(counts, self.settings), points)


def _sum(alike: Counter[kpi.Counts]) -> kpi.Counts:
    return sum((counts * n for counts, n in alike.items()), kpi.Counts())


@dataclass
class WhatIf:
    """The two sides of a replayed period and what the draft refused."""

    request: Request
    baseline: _Side
    draft: _Side
    refused: int = 0
    refusals: list[Refusal] = field(default_factory=list)
    points: dict[str, float] = field(default_factory=dict)

    def document(self) -> dict[str, Any]:
        """The JSON document the CLI prints and the API returns."""
        r = self.request
        base, draft = self.baseline.rows(self.points), self.draft.rows(self.points)
        units = [_compare(base.get(g), draft.get(g), g) for g in sorted(base.keys() | draft.keys())]
        return {
            "period": r.period.label,
            "unit": r.unit,
            "category": r.category,
            "as_of": self.baseline.as_of.isoformat(),
            "sweep_seconds": r.sweep.total_seconds() if r.sweep else None,
            "baseline": self.baseline.label,
            "draft": self.draft.label,
            "activity": _activity(self.baseline.activity, self.draft.activity),
            "units": units,
            "total": _compare(self.baseline.total(), self.draft.total(), "total"),
            "refused": {
                "count": self.refused,
                "listed": [x.record() for x in self.refusals],
            },
        }


def draft(service: Service, source: str, origin: str) -> CompiledDefinition:
    """A draft's YAML text, validated (DefinitionError naming every problem with its line)
    and compiled; its name must be that of a stored definition, whose tickets it replays."""
    compiled = loader.compile_source(source, DRAFT, origin)
    service.compiled(compiled.definition.name)  # UnknownDefinition if there are no such tickets
    return compiled


def sweep_interval(text: str | None) -> timedelta | None:
    """``--sweep 1h`` as a timedelta (None: rungs fire when due)."""
    if text is None:
        return None
    try:
        span = durations.parse(text)
    except ValueError as error:
        raise HotlineError(f"sweep: {error}") from None
    if not span:
        raise HotlineError("sweep: must be longer than 0m")
    return timedelta(days=span.days, seconds=span.seconds)


def rows(document: dict[str, Any]) -> list[dict[str, Any]]:
    """The document's units (and total) as flat rows: each figure beside its draft value and
    the change, for a table or CSV."""
    flat = []
    for unit in [*document["units"], document["total"]]:
        row: dict[str, Any] = {"group": unit["group"]}
        for name in COMPARED:
            base, new = unit["baseline"] or {}, unit["draft"] or {}
            row |= {name: base.get(name), f"{name}_draft": new.get(name)}
            row[f"{name}_change"] = unit["change"][name]
        flat.append(row)
    return flat


def run(
    service: Service,
    draft: CompiledDefinition,
    request: Request,
    draft_label: str,
    against: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> WhatIf:
    """Replay ``request.period`` under ``draft`` beside the recorded history (or beside a
    replay under version ``against``); ``progress`` is told of each ticket done."""
    name = draft.definition.name
    zone = draft.calendar.timezone
    start, end = request.period.instants(zone)
    in_force = service.compiled(name, against or versions.in_force(service.store, name, end))
    check_unit(in_force.definition, request.unit)
    check_category(in_force.definition, request.category)
    as_of = (request.as_of or service.clock.now()).astimezone(UTC)
    baseline_label = f"{name}@{in_force.version}" + ("" if against else " (recorded)")
    result = WhatIf(
        request, _Side(in_force, baseline_label, as_of), _Side(draft, draft_label, as_of)
    )
    replays = [TicketReplay(draft, as_of, start, request.sweep)]
    if against:
        replays.append(TicketReplay(in_force, as_of, start, request.sweep))
    scope = histories.Received(start, end, name, request.unit, request.category)
    with garbage.fewer_collections():
        for ticket, events in histories.stream(service.store, scope):
            if ticket.created_at is not None and ticket.created_at > as_of:
                continue
            _one(result, replays, ticket, events)
            if progress:
                progress(1)
    result.points = _points(service, request)
    return result


def count(service: Service, draft: CompiledDefinition, request: Request) -> int:
    """How many tickets ``run`` will replay (for a progress bar)."""
    start, end = request.period.instants(draft.calendar.timezone)
    scope = histories.Received(start, end, draft.definition.name, request.unit, request.category)
    return histories.count(service.store, scope)


def _one(result: WhatIf, replays: list[TicketReplay], ticket: Any, events: list[Event]) -> None:
    """Count one ticket on both sides."""
    replayed = replays[0].run(ticket, events)
    if replayed.ticket is not None:
        result.draft.add(replayed.ticket.lead_unit, replayed.events)
    if len(replays) > 1:
        again = replays[1].run(ticket, events)
        if again.ticket is not None:
            result.baseline.add(again.ticket.lead_unit, again.events)
    else:
        result.baseline.add(ticket.lead_unit, events)
    result.refused += len(replayed.refusals)
    room = result.request.listed - len(result.refusals)
    result.refusals += replayed.refusals[: max(room, 0)]


def check_category(definition: Definition, category: str | None) -> None:
    """Refuse a category the definition does not list (any, if it lists none)."""
    if category is not None and definition.categories and definition.category(category) is None:
        raise HotlineError(f"category {category!r}: no such category in {definition.name}")


def _points(service: Service, request: Request) -> dict[str, float]:
    """Bonus and penalty points of the period per unit (the same on both sides)."""
    period = request.period
    total: dict[str, float] = {}
    for code, _, points in reports.adjustments_between(
        service.store, period.start, period.end, request.unit
    ):
        total[code] = total.get(code, 0.0) + points
    return total


def _compare(base: RateRow | None, draft: RateRow | None, group: str) -> dict[str, Any]:
    """One group's figures on both sides and the draft's change."""
    before = base.record() if base else None
    after = draft.record() if draft else None
    change: dict[str, Any] = {}
    for name in (*RATES, "rank", "received", "assessed", "callbacks", "redispatched"):
        old, new = (before or {}).get(name), (after or {}).get(name)
        change[name] = None if old is None or new is None else round(new - old, 2)
    return {"group": group, "baseline": before, "draft": after, "change": change}


def _activity(base: tally.Activity, draft: tally.Activity) -> dict[str, Any]:
    before, after = base.record(), draft.record()
    change = {k: after[k] - before[k] for k, v in before.items() if isinstance(v, int)}
    return {"baseline": before, "draft": after, "change": change}
