"""What-if: a simulated month replayed under the definition in force reproduces every figure,
and a replay under a draft changes them without writing anything to the live database."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlmodel import SQLModel

from hotline.daemon.relay import Relay
from hotline.engine import periods
from hotline.reports import assessment
from hotline.simulation import simulate, whatif
from hotline.workflows import loader

H = timedelta(hours=1)
MONTH = periods.parse("2026-03")
START = datetime(2026, 2, 28, 16, tzinfo=UTC)  # 1 March, midnight in Beijing
SWEEP = 2 * H
REQUEST = whatif.Request(MONTH, sweep=SWEEP)  # as the simulation's daemon swept


@pytest.fixture
def month(service, clock):
    """A month of 200 tickets, swept every two hours, the relay applying rung commands."""
    clock.set(START)
    relay = Relay(service, owner="relay")
    simulate.run(
        service, clock, 200, days=31, seed=3, sweep=SWEEP, clock_steps=0.2, relay=relay.relay
    )
    clock.set(START + timedelta(days=31))
    return service


def everything(store) -> dict[str, list]:
    with store.engine.connect() as conn:
        return {
            t.name: conn.execute(sa.select(t).order_by(*t.primary_key.columns)).all()
            for t in SQLModel.metadata.sorted_tables
        }


def test_replaying_a_month_under_the_rules_in_force_reproduces_every_figure(month):
    triggers = Counter(
        (e.trigger, e.actor == "deadline")
        for t in month.store.find(limit=1000)
        for e in month.history(t.id)
    )
    draft = month.compiled("beijing-12345")

    document = whatif.run(month, draft, REQUEST, "same").document()

    for needed in ("redispatch", "exclude", "extend", "pause", "whistle", "return"):
        assert triggers[needed, False], f"the month has no {needed}"
    assert triggers["escalate", True] and triggers["remind", True]
    # What the engine refused then (a rung's command) it refuses again, and nothing else.
    refused = document["refused"]
    assert refused["count"] == triggers["command_refused", True] > 0
    assert all(r["actor"] == "deadline" for r in refused["listed"])
    activity = document["activity"]
    assert activity["baseline"] == activity["draft"]
    assert set(activity["change"].values()) == {0}
    for unit in [*document["units"], document["total"]]:
        assert unit["baseline"] == unit["draft"], unit["group"]
        assert {v for v in unit["change"].values() if v is not None} <= {0}
    report = assessment.rates(month, MONTH)
    assert {r.group: r.record() for r in report.rows} == {
        u["group"]: u["baseline"] for u in document["units"]
    }


def test_a_draft_is_judged_on_its_own_rules_lists_what_it_refuses_and_writes_nothing(month):
    source = (
        loader.shipped_text()
        .replace("within: 24h\n        kinds: [utility]", "within: 6h\n        kinds: [utility]")
        .replace("  - trigger: exclude\n", "  - trigger: exclude_later\n")
    )
    draft = loader.compile_source(source, 0, "draft.yaml")
    before = everything(month.store)

    document = whatif.run(month, draft, REQUEST, "draft.yaml").document()

    assert everything(month.store) == before
    change = document["activity"]["change"]
    assert change["deadlines_missed"] > 0 and change["escalations"] > 0
    refused = document["refused"]
    excluded = [r for r in refused["listed"] if r["trigger"] == "exclude"]
    assert refused["count"] >= len(excluded) > 0
    assert all("IllegalTransition" in r["reason"] for r in excluded)
    total = document["total"]
    assert total["draft"]["excluded"] == 0 < total["baseline"]["excluded"]
    assert document["draft"] == "draft.yaml"
