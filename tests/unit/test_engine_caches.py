"""What the engine keeps per definition version for speed gives the answers it would work out
again: working-time sums that skip whole days, the machine's answer per guard outcomes,
validated fields, rules per state, category and urgency; and a replay's unchained history."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hotline.engine import deadlines, history
from hotline.engine.calendar import Calendar
from hotline.engine.decide import decide, decide_submit
from hotline.engine.decision import Decision
from hotline.engine.definition import Measure
from hotline.engine.guards import Context
from hotline.engine.machine import CompiledDefinition
from hotline.engine.ticket import Command, Ticket
from hotline.errors import GuardRejected, InvalidField
from hotline.persistence.memory import MemoryStore
from hotline.persistence.sql import NewTicket
from hotline.workflows import calendars, loader

BEIJING = ZoneInfo("Asia/Shanghai")
START = datetime(2025, 9, 20, tzinfo=UTC)
DISPATCH = {"lead_unit": "street-jianwai", "route": "direct", "co_units": "water-group,gas-group"}


@pytest.fixture(scope="module")
def compiled() -> CompiledDefinition:
    return loader.compile_source(loader.shipped_text(), 1, "beijing-12345.yaml")


@pytest.fixture(scope="module")
def beijing() -> Calendar:
    return calendars.load("beijing")


def walked(calendar: Calendar, start: datetime, seconds: int) -> datetime:
    """``Calendar.add`` as it was: every working period of every day, one after another."""
    remaining = timedelta(seconds=seconds)
    day = start.astimezone(calendar.timezone).date()
    while True:
        for begin, end in calendar._periods_of(day):
            begin = max(begin, start)
            if begin < end:
                if remaining <= end - begin:
                    return (begin + remaining).astimezone(UTC)
                remaining -= end - begin
        day += timedelta(days=1)


@settings(max_examples=300, deadline=None)
@given(
    offset=st.integers(0, 120 * 86400),
    seconds=st.one_of(st.integers(0, 40 * 8 * 3600), st.sampled_from([0, 8 * 3600, 5 * 28800])),
)
def test_working_time_that_skips_whole_days_lands_where_walking_every_period_does(
    beijing, offset, seconds
):
    # Given any start around the National Day holiday and any working-time span
    start = START + timedelta(seconds=offset)
    # When it is added by days / by periods, Then both land on the same instant
    assert beijing.add(start, seconds, Measure.WORKING) == walked(beijing, start, seconds)


def test_whole_days_passed_over_at_once_land_where_walking_lands_over_two_years(beijing):
    # Starts scattered over two years (a holiday season, an unpublished year), in no order,
    # spans from none to two months of working time
    chance, first = random.Random(12345), datetime(2025, 9, 1, tzinfo=BEIJING)
    for _ in range(2000):
        start = first + timedelta(minutes=chance.randrange(2 * 366 * 1440))
        span = chance.choice([0, 3600, 8 * 3600, 5 * 8 * 3600, 44 * 8 * 3600])
        seconds = span + chance.randrange(8 * 3600) if span else 0  # 0: at the next opening

        assert beijing.add(start, seconds, Measure.WORKING) == walked(beijing, start, seconds)


def test_a_copied_definition_works_its_lookups_out_afresh(compiled):
    # Given a definition whose memo holds a value
    definition = compiled.definition
    assert definition.memo("probe", lambda: "original") == "original"
    # When it is copied (as meanings.adopt does), Then the copy does not read the original's
    copied = definition.model_copy(update={"public_notes": not definition.public_notes})
    assert copied.memo("probe", lambda: "copy") == "copy"
    assert definition.memo("probe", lambda: "other") == "original"
    assert copied == copied.model_copy()  # the memo is no field: equality ignores it


def test_rules_kept_per_category_and_urgency_are_those_that_match(compiled):
    definition = compiled.definition
    utility = Ticket(1, definition.name, 1, "dispatched", category="water-supply")
    ordinary = Ticket(2, definition.name, 1, "dispatched", category="noise")
    for ticket in (utility, ordinary, utility):
        kept = deadlines.applicable(definition, "dispatched", ticket)
        assert kept == tuple(deadlines._matching(definition, "dispatched", ticket))


def test_the_machine_answer_follows_the_guards_each_time(compiled):
    # Given a dispatched ticket, first without then with an open objection
    definition = compiled.definition
    plain = Ticket(1, definition.name, 1, "dispatched", category="noise", lead_unit="u")
    objected = plain.evolve(fields={"objection": {"reason": "not ours"}})
    now = datetime(2026, 3, 2, 2, tzinfo=UTC)

    def ctx(ticket: Ticket, fields: dict) -> Context:
        return Context(ticket, fields, definition, now, compiled.calendar)

    # When the same trigger is chosen again and again, Then each answer is the guards' own
    allowed = [t for t in compiled.allowed("dispatched") if compiled._guards[("dispatched", t)]]
    for trigger in allowed:
        answers = []
        for ticket in (plain, objected, plain, objected):
            try:
                answers.append(compiled.choose("dispatched", trigger, ctx(ticket, {})))
            except GuardRejected:
                answers.append(None)
        assert answers[:2] == answers[2:]


def test_validated_fields_are_kept_but_never_shared(compiled):
    # Given the same respond command twice
    first = compiled.validate_fields("dispatched", "respond", {"method": "phone"})
    first["changed"] = True
    # Then the second is validated alike and is not the dict the first caller changed
    assert compiled.validate_fields("dispatched", "respond", {"method": "phone"}) == {
        "method": "phone"
    }
    # And a list validated from the same text is a list of its own each time
    lists = [compiled.validate_fields("received", "dispatch", DISPATCH) for _ in range(2)]
    assert lists[0] == lists[1] and lists[0]["co_units"] is not lists[1]["co_units"]
    # And a bad value is refused every time, never kept
    for _ in range(2):
        with pytest.raises(InvalidField):
            compiled.validate_fields("dispatched", "respond", {"method": "pigeon"})


def test_a_replay_store_keeps_its_history_unchained_and_a_live_one_chained(compiled):
    now = datetime(2026, 3, 2, 2, tzinfo=UTC)
    new = NewTicket(
        definition=compiled.definition.name,
        definition_version=1,
        state="received",
        category="noise",
        urgency="normal",
        channel="phone",
        summary="",
        fields={},
    )
    heads = []
    for store in (MemoryStore(), MemoryStore(chained=False)):
        ticket = store.create(new, lambda t: _submitted(compiled, t, now), now)
        store.update(
            ticket.id,
            lambda t: decide(
                compiled,
                t,
                Command("dispatch", {"lead_unit": "street-jianwai", "route": "direct"}, "op"),
                now,
            ),
        )
        heads.append(store.events(ticket.id))
    chained, unchained = heads
    assert history.broken_links(chained) == [] and len(chained) == 2
    assert [e.hash for e in unchained] == [history.UNCHAINED] * 2


def _submitted(compiled: CompiledDefinition, ticket: Ticket, now: datetime) -> Decision:
    return decide_submit(compiled, ticket, "intake", now)
