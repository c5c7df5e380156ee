"""The reports read each ticket's facts (and their daily sums), kept by every write; ``recompute``
reads the raw history. Both give the same numbers after simulations (whistles, re-dispatches,
callbacks, exclusions), a migration, a publication that reads the history otherwise, and any
cut-off; a failed command leaves the facts as they were; the migration that creates them
backfills the same facts."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from alembic import command
from sqlalchemy import event

from hotline.admin import versions as versioning
from hotline.engine import periods
from hotline.persistence import facts, migrations, reports
from hotline.persistence.db import normalise
from hotline.reports import assessment
from hotline.simulation import simulate
from hotline.workflows import loader

JANUARY = periods.parse("2022-01")
NAME = loader.DEFAULT
BYS = ("unit", "district", "category", "day", "week", "month")
AFTER = datetime(2022, 3, 1, tzinfo=UTC)
MID_JANUARY = datetime(2022, 1, 15, 4, tzinfo=UTC)
EXCLUDE = {"approver": "leader", "reason": "arbitration"}


def version_2() -> str:
    """Other weights, the first callback judged, and 基本满意 read as satisfied: the history is
    read otherwise (another basis), so facts folded under version 1 do not hold for it."""
    text = loader.shipped_text()
    text = text.replace("counted_callback: last", "counted_callback: first")
    text = text.replace(
        "resolution: 0.50, satisfaction: 0.40", "resolution: 0.45, satisfaction: 0.45"
    )
    return text.replace("basic: basic, unsatisfied", "basic: satisfied, unsatisfied")


@pytest.fixture
def simulated(service, clock):
    """A seeded January 2022 simulated through the service (whistles, re-dispatches, 退单,
    callbacks, exclusions); the clock is left at its end."""
    clock.set(datetime(2022, 1, 1, tzinfo=ZoneInfo("Asia/Shanghai")))
    simulate.run(service, clock, 90, 31, 7)
    return service


def every_report(service, rules: int | None, as_of: datetime, recompute: bool) -> dict:
    found = {
        by: assessment.rates(service, JANUARY, by, as_of=as_of, rules=rules, recompute=recompute)
        for by in BYS
    }
    for grain in ("day", "week", "month"):
        found[grain, "ranking"] = assessment.ranking(
            service, grain, at=min(as_of, MID_JANUARY), rules=rules, recompute=recompute
        )
    documents = {k: [r.record() for r in (*v.rows, v.total)] for k, v in found.items()}
    topics = assessment.hot_topics(service, JANUARY, 1, as_of, recompute=recompute)
    documents["topics"] = [t.record() for t in topics]
    return documents


def assert_same(service, rules: int | None = None, as_of: datetime = AFTER) -> None:
    facts_read = every_report(service, rules, as_of, recompute=False)
    raw = every_report(service, rules, as_of, recompute=True)
    for key, rows in raw.items():
        assert facts_read[key] == rows, key
    assert any(row["received"] for row in raw["unit"])


def test_the_facts_give_the_raw_historys_numbers_after_a_simulated_month(simulated):
    assert_same(simulated)
    assert_same(simulated, as_of=MID_JANUARY)  # facts hold events after the cut-off: raw


def test_a_month_by_unit_is_counted_without_reading_the_history(simulated, monkeypatch):
    expected = assessment.rates(simulated, JANUARY, "unit", as_of=AFTER, recompute=True)

    def no_history(*args, **kwargs):
        raise AssertionError("the raw history was read")

    monkeypatch.setattr(reports, "_per_ticket", no_history)
    for by in BYS:
        assessment.rates(simulated, JANUARY, by, as_of=AFTER)
    found = assessment.rates(simulated, JANUARY, "unit", as_of=AFTER)
    assert [r.record() for r in found.rows] == [r.record() for r in expected.rows]


def test_the_same_numbers_under_rules_that_read_otherwise_and_after_a_migration(simulated):
    # Given a version 2 that reads callbacks otherwise, published after January
    assert simulated.publish(version_2(), "v2.yaml")[1] == 2
    assert_same(simulated, rules=2)  # facts folded under version 1: the raw history answers
    assert_same(simulated, rules=1)

    # When the running tickets move to version 2 (their facts are folded again under it)
    plan = versioning.plan(simulated, NAME, 1, 2, {})
    assert versioning.migrate(simulated, plan) > 0

    # Then both rules still give the raw history's numbers, with tickets on both versions
    assert_same(simulated, rules=2)
    assert_same(simulated, rules=1)


def test_exclusions_and_redispatches_after_the_month_count_alike(simulated, clock):
    # Given tickets of January changed in February: one excluded, one sent to another unit
    dispatched = simulated.store.find(state="dispatched", limit=5)
    assert len(dispatched) >= 2
    clock.set(datetime(2022, 2, 10, tzinfo=UTC))
    simulated.fire(dispatched[0].id, "exclude", EXCLUDE, actor="leader")
    simulated.fire(dispatched[1].id, "return", {"reason": "not ours"}, actor="street")

    assert_same(simulated)
    assert_same(simulated, as_of=datetime(2022, 2, 1, tzinfo=UTC))


def facts_and_sums(store) -> tuple[list, list]:
    r = facts.fact_rollups.c
    key = [r[name] for name in ("definition_name", "day", "lead_unit", "basis")]
    key += [r[n] for n in ("entered", "excluded", "in_time", "first_answer", "last_answer")]
    with store.reading() as conn:
        rows = conn.execute(sa.select(facts.ticket_facts).order_by("ticket_id")).all()
        sums = conn.execute(
            sa.select(*key, r.via_district, r.redone, r.n).where(r.n > 0).order_by(*key)
        ).all()
    return [tuple(row) for row in rows], sorted(tuple(s) for s in sums)


def test_a_commands_facts_roll_back_with_it(simulated, store):
    # Given a dispatched ticket, and its facts as they are
    ticket = simulated.store.find(state="dispatched", limit=1)[0]
    before = facts_and_sums(store)

    # When its command fails after its facts row was rewritten and its old daily sum lowered
    # (at the last of those writes: adding it to its new daily sum)
    def fail(conn, cursor, statement, *args):
        if statement.lstrip().upper().startswith("INSERT INTO FACT_ROLLUPS"):
            raise RuntimeError("the disk is full")

    event.listen(store.engine, "before_cursor_execute", fail)
    try:
        with pytest.raises(RuntimeError):
            simulated.fire(ticket.id, "exclude", EXCLUDE, actor="leader")
    finally:
        event.remove(store.engine, "before_cursor_execute", fail)

    # Then neither the facts nor their daily sums changed
    assert facts_and_sums(store) == before
    assert simulated.get(ticket.id).version == ticket.version


def test_the_migration_that_creates_the_facts_backfills_the_same_ones(simulated, store):
    # Given the facts the writes kept
    kept = facts_and_sums(store)
    assert len(kept[0]) == 90

    # When the schema goes back before them and up again (the migration folds every history)
    engine = sa.create_engine(normalise(store.url))
    with engine.begin() as connection:
        cfg = migrations.config()
        cfg.attributes["connection"] = connection
        command.downgrade(cfg, "0012")
    engine.dispose()
    store.migrate()

    # Then the backfilled facts and sums are the kept ones
    assert facts_and_sums(store) == kept
    assert_same(simulated)
