"""A database made before definitions declared meanings: its stored version has no
``performer``, ``counts`` or kpi fields, and its tickets keep their roles and numbers once
``hotline init`` publishes the annotated definition."""

from __future__ import annotations

import re
from datetime import timedelta

from flavours import BEIJING
from simulated_month import play_month

from hotline.clock import FrozenClock
from hotline.engine import access, meanings
from hotline.engine.access import Principal, Role
from hotline.engine.periods import parse as period
from hotline.reports import assessment
from hotline.service import Service
from hotline.workflows import loader

MEANING_KEYS = re.compile(r"^\s+(performer|counts|response_deadline|via_district):.*\n", re.M)
ANSWERS = re.compile(r"^  answers:\n(    .*\n)+", re.M)


def legacy_text() -> str:
    """beijing-12345 as shipped before this change: the same text without the meanings."""
    text = loader.shipped_text(BEIJING.name)
    text = ANSWERS.sub("", MEANING_KEYS.sub("", text))
    return re.sub(r"^public_notes:.*\n", "", text, flags=re.M)


def test_tickets_of_a_version_without_meanings_keep_their_roles_and_numbers(store, clock):
    # Given a database whose only version was published without meanings, with a month played
    old = Service(store, clock)
    old.publish(legacy_text(), "beijing-12345.yaml")
    assert not meanings.declares(old.compiled(BEIJING.name).definition)
    play_month(old, clock, BEIJING)
    as_of = clock.now() + timedelta(days=40)
    later = FrozenClock(as_of)

    # When the annotated definition is published by `hotline init` and the month is reported
    service = Service(store, later)
    assert service.install_shipped()[0] == (BEIJING.name, 2)
    report = assessment.rates(service, period("2026-03"), as_of=as_of)

    # Then the report uses version 1 (in force in March), read with version 2's meanings, and
    # counts what the same month counts under the annotated definition
    assert report.rules == "beijing-12345@1"
    assert report.total.counts.callbacks > 0 and report.total.counts.assessed > 0
    fresh = Service(store, later)
    annotated = assessment.rates(fresh, period("2026-03"), as_of=as_of, rules=2)
    assert [r.counts for r in report.rows] == [r.counts for r in annotated.rows]
    # And the lead unit of an old ticket may still respond and reply; the operator may not exclude
    ticket = next(
        t for t in (service.get(i) for i in range(1, 40)) if t.lead_unit and t.state == "dispatched"
    )
    definition = service.compiled(ticket.definition, ticket.definition_version).definition
    lead = Principal(1, "lead", Role.UNIT, ticket.lead_unit)
    operator = Principal(2, "op", Role.OPERATOR)
    assert access.may_fire(lead, "respond", ticket, definition)
    assert not access.may_fire(operator, "exclude", ticket, definition)
