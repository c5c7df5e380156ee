"""The service on a real database: every command is one transaction, or nothing."""

from __future__ import annotations

import threading
from collections import Counter

import pytest
import sqlalchemy as sa

from hotline import errors
from hotline.engine.history import broken_links
from hotline.service import Intake
from hotline.simulation import demo

DISPATCH = ("dispatch", {"lead_unit": "street-jianwai", "route": "direct"})
REPLY = ("reply", {"opinion": "fixed"})
CALLBACK_YES = ("record_callback", {"resolved": True, "satisfaction": "satisfied"})
CALLBACK_NO = ("record_callback", {"resolved": False, "satisfaction": "unsatisfied"})


def snapshot(store) -> dict:
    """Everything a command could write, to compare before and after a refusal."""
    with store.engine.connect() as conn:
        return {
            table: conn.execute(sa.text(f"SELECT * FROM {table} ORDER BY id")).all()
            for table in ("tickets", "events", "deadlines", "outbox")
        }


def test_every_demo_path_ends_where_the_workflow_says(service, clock):
    tickets = demo.run(service, clock)

    states = Counter(t.state for t in tickets)
    assert states == {"closed": 19, "dispatched": 3, "callback": 1, "received": 1}
    burst_main = [
        e.payload["level"] for e in service.history(tickets[-1].id) if e.trigger == "escalate"
    ]
    assert burst_main == [1, 2, 3]
    assert {t.round for t in tickets} == {1, 2, 3}
    assert any(t.excluded for t in tickets)
    [whistled] = [t for t in tickets if t.whistle]
    assert not whistled.whistle.open and whistled.state == "closed"
    assert all(p.in_time for p in whistled.whistle.participants)
    for ticket in tickets:
        assert broken_links(service.history(ticket.id)) == []
    triggers = Counter(e.trigger for t in tickets for e in service.history(t.id))
    assert (triggers["confirm_objection"], triggers["reject_objection"]) == (1, 1)  # Art. 12
    [called] = [t for t in tickets if t.state == "callback"]  # Art. 23: started at expiry
    last = service.history(called.id)[-1]
    assert (last.trigger, last.actor) == ("start_callback", "deadline")


def test_unsatisfied_callback_redispatches_to_same_unit_and_keeps_every_round(service, new_ticket):
    ticket = new_ticket(steps=[DISPATCH, REPLY, ("start_callback", {}), CALLBACK_NO])

    assert (ticket.state, ticket.round, ticket.lead_unit) == ("re-dispatched", 2, "street-jianwai")
    ticket = service.fire(ticket.id, *REPLY)
    ticket = service.fire(ticket.id, "start_callback")
    ticket = service.fire(ticket.id, *CALLBACK_YES)
    triggers = [e.trigger for e in service.history(ticket.id)]
    assert ticket.state == "closed"
    assert triggers.count("reply") == 2 and triggers.count("record_callback") == 2


def test_illegal_trigger_is_refused_and_nothing_is_written(service, store, new_ticket):
    ticket = new_ticket(steps=[DISPATCH])
    before = snapshot(store)

    with pytest.raises(errors.IllegalTransition) as refused:
        service.fire(ticket.id, "record_callback", {"resolved": True, "satisfaction": "basic"})

    assert refused.value.state == "dispatched"
    assert "reply" in refused.value.allowed
    assert snapshot(store) == before


@pytest.mark.parametrize(
    ("trigger", "fields", "error"),
    [
        ("reply", {}, errors.MissingField),
        ("reply", {"opinion": "ok", "colour": "red"}, errors.InvalidField),
        ("record_callback", {"resolved": "maybe"}, errors.IllegalTransition),
    ],
)
def test_bad_commands_write_nothing(service, store, new_ticket, trigger, fields, error):
    ticket = new_ticket(steps=[DISPATCH])
    before = snapshot(store)

    with pytest.raises(error):
        service.fire(ticket.id, trigger, fields)

    assert snapshot(store) == before


def test_dispatch_to_an_undeclared_unit_is_refused_and_writes_nothing(service, store, new_ticket):
    ticket = new_ticket()
    before = snapshot(store)

    with pytest.raises(errors.InvalidField, match="unknown unit 'water-grop'"):
        service.fire(ticket.id, "dispatch", {"lead_unit": "water-grop", "route": "direct"})

    assert snapshot(store) == before


def test_unknown_ticket_is_named(service):
    with pytest.raises(errors.UnknownTicket, match="no ticket 999"):
        service.fire(999, "dispatch", DISPATCH[1])


def test_two_writers_on_one_version_one_gets_stale_version(service, store, new_ticket):
    ticket = new_ticket(steps=[DISPATCH])
    seen = service.get(ticket.id).version

    service.fire(ticket.id, "respond", {}, expected_version=seen)
    with pytest.raises(errors.StaleVersion) as stale:
        service.fire(ticket.id, *REPLY, expected_version=seen)

    assert (stale.value.expected, stale.value.actual) == (seen, seen + 1)
    assert service.get(ticket.id).state == "dispatched"


def test_concurrent_writers_without_a_version_are_retried_not_lost(service, new_ticket):
    ticket = new_ticket(steps=[DISPATCH])
    failures: list[Exception] = []

    def write(trigger, fields):
        try:
            service.fire(ticket.id, trigger, fields)
        except Exception as error:  # collected, asserted below
            failures.append(error)

    threads = [
        threading.Thread(target=write, args=("respond", {})),
        threading.Thread(
            target=write,
            args=(
                "extend",
                {"by": "1d", "reason": "r", "approver": "a", "explained": "told by phone"},
            ),
        ),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    history = service.history(ticket.id)
    assert failures == []
    assert service.get(ticket.id).version == ticket.version + 2
    assert [e.seq for e in history] == list(range(1, len(history) + 1))
    assert broken_links(history) == []


def test_a_failure_in_the_middle_of_a_write_leaves_no_partial_rows(service, store, new_ticket):
    ticket = new_ticket()
    before = snapshot(store)

    def fail_on_outbox(conn, cursor, statement, *args):
        if statement.startswith("INSERT INTO outbox"):
            raise RuntimeError("disk full")

    sa.event.listen(store.engine, "before_cursor_execute", fail_on_outbox)
    try:
        with pytest.raises(RuntimeError, match="disk full"):
            service.fire(ticket.id, *DISPATCH)
    finally:
        sa.event.remove(store.engine, "before_cursor_execute", fail_on_outbox)

    assert snapshot(store) == before
    assert service.fire(ticket.id, *DISPATCH).state == "dispatched"


def test_same_idempotency_key_returns_the_same_ticket(service, store):
    intake = Intake("water-supply", "no water")

    first = service.submit(intake, idempotency_key="call-4711")
    again = service.submit(intake, idempotency_key="call-4711")

    assert again.id == first.id
    assert len(snapshot(store)["tickets"]) == 1
    assert len(service.history(first.id)) == 1


def test_concurrent_submits_with_one_key_make_one_ticket(service, store):
    results: list[int] = []
    barrier = threading.Barrier(4)

    def submit():
        barrier.wait()
        results.append(service.submit(Intake("noise"), idempotency_key="app-42").id)

    threads = [threading.Thread(target=submit) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(set(results)) == 1 and len(results) == 4
    assert len(snapshot(store)["tickets"]) == 1


def test_state_change_closes_old_deadlines_and_opens_new_ones(service, store, new_ticket, clock):
    ticket = new_ticket("water-supply", steps=[DISPATCH])

    rows = {(d.kind, d.status): d for d in store.deadlines(ticket.id, status=None)}
    assert ("intake", "met") in rows  # dispatch is what the intake deadline waits for
    assert rows[("handling", "pending")].due_at == clock.now().replace(day=3)  # 24 h, utility
    service.fire(ticket.id, "respond", {})
    service.fire(ticket.id, "return", {"reason": "not ours"})
    service.fire(ticket.id, "confirm_objection", {"reason": "not theirs indeed"})
    statuses = {d.kind: d.status for d in store.deadlines(ticket.id, status=None)}
    assert statuses["response"] == "met" and statuses["handling"] == "cancelled"


def test_outbox_rows_carry_an_idempotency_key(service, store, new_ticket):
    ticket = new_ticket(steps=[DISPATCH])

    [message] = store.outbox(ticket.id)
    assert (message.handler, message.key) == ("notify_unit", f"{ticket.id}:2:notify_unit")
    assert message.payload["lead_unit"] == "street-jianwai"


def test_contact_details_stay_out_of_history_and_messages(service, store, new_ticket):
    ticket = new_ticket(contact_name="张三", contact_phone="13812345678", steps=[DISPATCH])

    dumped = str(snapshot(store)["events"]) + str(snapshot(store)["outbox"])
    assert "13812345678" not in dumped and "张三" not in dumped
    assert store.contact(ticket.id)["phone"] == "13812345678"


def test_running_tickets_stay_on_their_definition_version(service, new_ticket):
    old = new_ticket()
    source = service.store.definition_source("beijing-12345")[1]
    service.publish(source.replace("round_limit: 3", "round_limit: 2"))

    new = new_ticket()

    assert (old.definition_version, new.definition_version) == (1, 2)
    assert service.fire(old.id, *DISPATCH).definition_version == 1


def test_unknown_category_at_intake_is_refused(service):
    with pytest.raises(errors.InvalidField, match="unknown category 'weather'"):
        service.submit(Intake("weather"))


def test_every_round_keeps_its_opinion_and_callback_answers(service, new_ticket):
    # 再派件、再处置、再验收: a re-dispatched ticket keeps each round's record, not only the last
    ticket = new_ticket(steps=[DISPATCH, REPLY, ("start_callback", {}), CALLBACK_NO])
    service.fire(ticket.id, "reply", {"opinion": "repaired on the second visit"})
    service.fire(ticket.id, "start_callback")
    ticket = service.fire(ticket.id, *CALLBACK_YES)

    rounds = [{k: v for k, v in r.items() if not k.endswith("_at")} for r in service.rounds(ticket)]

    assert rounds[0] == {
        "round": 1,
        "unit": "street-jianwai",
        "opinion": REPLY[1]["opinion"],
        "resolved": CALLBACK_NO[1]["resolved"],
        "satisfaction": CALLBACK_NO[1]["satisfaction"],
    }
    assert rounds[1] == {
        "round": 2,
        "unit": "street-jianwai",
        "opinion": "repaired on the second visit",
        "resolved": True,
        "satisfaction": CALLBACK_YES[1]["satisfaction"],
    }
    assert len(rounds) == 2
