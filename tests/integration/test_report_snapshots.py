"""Assessment rules in force at the time: a past period keeps the rules of the definition
version in force then, and its published ranking is a sealed snapshot that later weights never
change."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from flavours import BEIJING
from simulated_month import play_month

from hotline import errors
from hotline.engine.periods import parse as period
from hotline.persistence import snapshots as stored
from hotline.persistence.snapshots import AlreadyPublished
from hotline.reports import assessment, snapshots
from hotline.workflows import loader

MARCH, APRIL = period("2026-03"), period("2026-04")
OLD_WEIGHTS = "weights: {response: 0.10, resolution: 0.50, satisfaction: 0.40}"
NEW_WEIGHTS = "weights: {response: 0.60, resolution: 0.20, satisfaction: 0.20}"


@pytest.fixture
def march(service, clock):
    """March played and published under beijing-12345@1; new weights published in April."""
    play_month(service, clock, BEIJING)
    clock.set(clock.now().replace(day=28))
    published = snapshots.publish(service, MARCH, "the centre")
    clock.set(clock.now() + timedelta(days=10))  # April
    text = loader.shipped_text(BEIJING.name)
    assert OLD_WEIGHTS in text
    service.publish(text.replace(OLD_WEIGHTS, NEW_WEIGHTS), "new-weights.yaml")
    return published


def composites(report) -> dict:
    return {r.group: r.rates.composite for r in report.rows}


def test_a_past_period_keeps_the_rules_in_force_then_unless_told(service, march, clock):
    as_of = march.as_of

    # When March is reported after the new weights were published
    kept = assessment.rates(service, MARCH, as_of=as_of)
    named = assessment.rates(service, MARCH, as_of=as_of, rules=2)

    # Then it keeps version 1's rules and says so; the admin may name version 2
    assert (kept.rules, named.rules) == ("beijing-12345@1", "beijing-12345@2")
    assert [r.record() | {"rules": "-"} for r in kept.rows] == [
        {**row, "rules": "-"} for row in march.document["rows"][:-1]
    ]
    assert composites(kept) != composites(named)
    # And a period after the publication is judged by the new rules
    assert assessment.rates(service, APRIL).rules == "beijing-12345@2"


def test_publishing_new_weights_does_not_change_last_months_published_ranking(service, march):
    # When the published March is read back and compared with a recomputation
    [listed] = snapshots.published(service)
    compared = snapshots.compare(service, MARCH)

    # Then it is the ranking published, sealed, under version 1, and nothing differs
    assert listed.document == march.document and listed.seal == march.seal
    assert listed.rules == "beijing-12345@1"
    assert compared.intact and compared.differences == []
    ranks = [(r["group"], r["rank"]) for r in listed.document["rows"] if r["rank"]]
    assert len(ranks) >= 2


def test_a_period_is_published_once_and_a_changed_snapshot_breaks_its_seal(service, store, march):
    with pytest.raises(AlreadyPublished, match="already published"):
        snapshots.publish(service, MARCH, "someone else")

    # When someone edits the stored figures behind the application's back
    rows = [dict(r) for r in march.document["rows"]]
    rows[0]["composite"] = 99.99
    table = stored.snapshots
    with store.engine.begin() as conn:
        conn.execute(sa.update(table).values(document={**march.document, "rows": rows}))

    # Then the comparison says the seal is broken and shows the changed figure
    compared = snapshots.compare(service, MARCH)
    assert not compared.intact
    assert [(d.group, d.field, d.published) for d in compared.differences] == [
        (rows[0]["group"], "composite", 99.99)
    ]


def test_comparing_a_period_never_published_is_a_clear_error(service):
    with pytest.raises(errors.HotlineError, match="has not been published"):
        snapshots.compare(service, APRIL)
