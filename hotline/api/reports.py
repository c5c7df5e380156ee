"""/api/v1/reports: the assessment reports, in the documents ``hotline report … --format json``
prints (``hotline.reports.documents``), so that the API and the CLI give the same numbers.

Who reads what:

- supervisor, auditor and admin read every report (督办, audit, administration);
- a ``unit`` token reads its own figures only (rates and whistles default to its unit and
  refuse another, 403) and the published ranking of units (日监控排名: rankings are published
  so that every unit sees where it stands);
- the operator reads none: intake and dispatch do not need the assessment; nor does a unit
  need the city-wide 每月一题 candidates.

A malformed or out-of-range parameter is a 422 problem naming it (``field``), never a 500.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query
from pydantic import AwareDatetime, BaseModel

from hotline import errors
from hotline.api import deps
from hotline.api.auth import allow
from hotline.api.problems import Problem
from hotline.engine import periods
from hotline.engine.access import Principal, Role
from hotline.engine.periods import Period
from hotline.reports import assessment
from hotline.reports import documents as report_documents
from hotline.reports import whistles as whistle_report
from hotline.service import Service
from hotline.workflows import loader

router = APIRouter(prefix="/api/v1/reports", tags=["reports"])
Svc = Annotated[Service, Depends(deps.service)]
LEADERS = (Role.SUPERVISOR, Role.AUDITOR, Role.ADMIN)
Leader = Annotated[Principal, Depends(allow(*LEADERS))]
# For rates and whistles a unit is held to its own figures (``_own``); the ranking is published.
UnitToo = Annotated[Principal, Depends(allow(*LEADERS, Role.UNIT))]
MAX_DAYS = 3700  # about ten years: a period longer than that is a mistake, not a report
MAX_BUCKETS = 400  # rows of a report by day, week or month

PERIOD = "2022-07, 2022-01..2022-07, 2022-W28, 2022-07-15 or 2022 (local time)."
PeriodText = Annotated[str, Query(min_length=4, max_length=40, description=PERIOD)]
UnitCode = Annotated[str | None, Query(pattern=deps.CODE, description="A unit code.")]
AsOf = Annotated[
    AwareDatetime | None, Query(description="Read the history up to this instant (default now).")
]
Row = dict[str, str | int | float | None]
Recompute = Annotated[
    bool,
    Query(description="Count from the raw history, not the tickets' facts (same numbers, slower)."),
]
Workflow = Annotated[
    str, Query(pattern=deps.CODE, description="The workflow whose tickets are assessed.")
]
Rules = Annotated[
    int | None,
    Query(
        ge=1, le=2**31, description="The definition version whose rules apply (default: in force)."
    ),
]


class RatesDocument(BaseModel):
    """Rows of ``hotline report rates`` (or ``ranking``): groups, then the total."""

    period: str
    previous: str
    by: str
    rules: str  # the definition version whose rules computed it, e.g. beijing-12345@2
    rows: list[Row]


class TopicsDocument(BaseModel):
    """Rows of ``hotline report hot-topics``: categories, best 每月一题 candidate first."""

    month: str
    rows: list[Row]


class WhistlesDocument(BaseModel):
    """Rows of ``hotline report whistles``: departments by in-time report rate, then the total."""

    period: str
    previous: str
    rows: list[Row]


@router.get("/rates", response_model=RatesDocument)
def rates(
    principal: UnitToo,
    svc: Svc,
    period: PeriodText,
    unit: UnitCode = None,
    by: assessment.By = "unit",
    as_of: AsOf = None,
    rules: Rules = None,
    workflow: Workflow = loader.DEFAULT,
    recompute: Recompute = False,
) -> dict[str, Any]:
    """三率, composite, 双是/双否/非双是, rank and change by group, as ``hotline report rates``.
    The rules are those in force at the period's end unless ``rules`` names a version."""
    chosen = _period(period, "period", by if by in periods.GRAINS else None)
    rules = _version(svc, workflow, rules)
    unit = _known(svc, _own(principal, unit), workflow)
    found = assessment.rates(svc, chosen, by, unit, _instant(as_of), workflow, rules, recompute)
    return report_documents.rates(found)


@router.get("/ranking", response_model=RatesDocument)
def ranking(
    principal: UnitToo,
    svc: Svc,
    period: Literal["day", "week", "month"] = "day",
    as_of: AsOf = None,
    rules: Rules = None,
    workflow: Workflow = loader.DEFAULT,
    recompute: Recompute = False,
) -> dict[str, Any]:
    """日监控排名 / 周调度 / 月通报: units by composite in the day, week or month of ``as_of``."""
    rules = _version(svc, workflow, rules)
    found = assessment.ranking(svc, period, _instant(as_of), workflow, rules, recompute)
    return report_documents.rates(found)


@router.get("/hot-topics", response_model=TopicsDocument)
def hot_topics(
    principal: Leader,
    svc: Svc,
    month: Annotated[str, Query(min_length=4, max_length=40, description="e.g. 2022-07.")],
    months_before: Annotated[int, Query(ge=1, le=assessment.MAX_MONTHS_BEFORE)] = 3,
    as_of: AsOf = None,
    recompute: Recompute = False,
) -> dict[str, Any]:
    """每月一题 candidates: categories by volume, growth, 非双是 share and units spanned."""
    chosen = _period(month, "month")
    if chosen.grain != "month" or chosen.count != 1:
        raise _invalid("month", f"month {month!r}: name one month, e.g. 2022-07")
    found = assessment.hot_topics(svc, chosen, months_before, _instant(as_of), recompute=recompute)
    return report_documents.hot_topics(chosen.label, found)


@router.get("/whistles", response_model=WhistlesDocument)
def whistles(
    principal: UnitToo, svc: Svc, period: PeriodText, unit: UnitCode = None
) -> dict[str, Any]:
    """吹哨报到: departments by in-time report rate, as ``hotline report whistles``; a unit
    token reads its own row (ranked among all)."""
    unit = _known(svc, _own(principal, unit))
    found = whistle_report.report(svc, _period(period, "period"), unit)
    return report_documents.whistles(found)


def _own(principal: Principal, unit: str | None) -> str | None:
    """A unit token reads its own unit's figures: ``unit`` defaults to it and may not differ."""
    if principal.role is not Role.UNIT:
        return unit
    if principal.unit is None or unit not in (None, principal.unit):
        mine = principal.unit or "none"
        raise Problem(
            403,
            "forbidden-unit",
            f"unit {unit!r}: a unit token reads only its own unit's figures ({mine})",
            field="unit",
        )
    return principal.unit


def _known(svc: Service, unit: str | None, workflow: str = loader.DEFAULT) -> str | None:
    with _parameter("unit"):
        assessment.check_unit(svc.compiled(workflow).definition, unit, "unit")
    return unit


def _version(svc: Service, workflow: str, rules: int | None) -> int | None:
    """A workflow and rules version that exist (422 naming the parameter otherwise)."""
    with _parameter("workflow"):
        svc.compiled(workflow)
    if rules is not None:
        with _parameter("rules"):
            svc.compiled(workflow, rules)
    return rules


def _period(text: str, name: str, grain: periods.Grain | None = None) -> Period:
    """The period ``text``, of a length a report can answer (in ``grain`` rows, if given)."""
    with _parameter(name):
        chosen = periods.parse(text)
    if (chosen.end - chosen.start).days > MAX_DAYS:
        raise _invalid(name, f"{name} {text!r}: at most {MAX_DAYS} days")
    if grain is not None and len(chosen.buckets(grain, UTC)) > MAX_BUCKETS:
        raise _invalid(name, f"{name} {text!r}: at most {MAX_BUCKETS} rows by {grain}")
    return chosen


def _instant(as_of: AwareDatetime | None) -> AwareDatetime | None:
    if as_of is not None and as_of.year not in periods.YEARS:
        raise _invalid(
            "as_of", f"as_of: reports cover the years {periods.YEARS[0]}..{periods.YEARS[-1]}"
        )
    return as_of


@contextmanager
def _parameter(name: str) -> Iterator[None]:
    """Hotline's refusal of the query parameter ``name`` as a 422 problem naming it."""
    try:
        yield
    except errors.HotlineError as error:
        text = str(error)
        raise _invalid(name, text if text.startswith(name) else f"{name}: {text}") from None


def _invalid(name: str, detail: str) -> Problem:
    return Problem(422, "invalid-parameter", detail, field=name)
