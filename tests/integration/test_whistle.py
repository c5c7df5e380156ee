"""Whistle coordination (吹哨报到) on a real database: SQLite file and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from hotline import errors
from hotline.daemon.relay import Relay
from hotline.daemon.sweeper import Sweeper
from hotline.engine.history import broken_links
from hotline.persistence import whistles

H = timedelta(hours=1)
CAR_PARK = [
    "chaoyang-housing",
    "chaoyang-urban",
    "chaoyang-development",
    "chaoyang-planning",
    "chaoyang-finance",
    "chaoyang-civil-defence",
]
LEAK = ["water-group", "water-repair", "jianwai-property", "chaoyang-roads"]


def dispatch(unit):
    return ("dispatch", {"lead_unit": unit, "route": "direct"})


def whistle(to, within="24h", reason="the case needs several departments"):
    return ("whistle", {"to": to, "within": within, "reason": reason})


def report(department, person="duty officer"):
    return ("whistle_report", {"department": department, "person": person})


def snapshot(store) -> dict:
    """Every row a command could write, to compare before and after a refusal."""
    names = ("tickets", "events", "deadlines", "outbox", *whistles_tables())
    with store.engine.connect() as conn:
        return {t: conn.execute(sa.text(f"SELECT * FROM {t} ORDER BY id")).all() for t in names}


def whistles_tables():
    return ("whistles", "whistle_participants", "whistle_tasks")


def listed(store, **filters):
    with store.reading() as conn:
        return whistles.listing(conn, **filters)


def stats(store):
    with store.reading() as conn:
        return {s.department: s for s in whistles.department_stats(conn)}


def test_six_departments_report_confer_and_finish_their_tasks_then_the_ticket_replies(
    service, store, new_ticket, clock
):
    # Given a township whistles six district bodies over an unusable car park
    ticket = new_ticket("parking", steps=[dispatch("township-sunhe"), whistle(CAR_PARK)])
    assert listed(store, open_only=True)[0].missing == CAR_PARK
    told = store.outbox(ticket.id)[-1].payload  # the whistle's notify_unit message
    assert (told["trigger"], told["whistle"]) == ("whistle", {"no": 1, "missing": CAR_PARK})

    # When five report, a joint conference gives two of them tasks, the sixth reports there,
    # and the tasks are done (the last report alone would have closed the whistle)
    for hours, department in enumerate(CAR_PARK[:5], start=1):
        clock.advance(H)
        service.fire(ticket.id, *report(department, person=f"officer {hours}"))
    service.fire(
        ticket.id,
        "whistle_conference",
        {
            "held_at": clock.now().isoformat(),
            "attendees": ["township-sunhe", *CAR_PARK],
            "decisions": "convert the basement into 1,200 spaces",
        },
    )
    for owner, title in [("chaoyang-planning", "approve the plan"), ("chaoyang-finance", "fund")]:
        due = (clock.now() + 30 * 24 * H).isoformat()
        service.fire(ticket.id, "whistle_task", {"owner": owner, "title": title, "due": due})
    clock.advance(H)
    service.fire(ticket.id, *report(CAR_PARK[5], person="officer 6"))
    assert service.get(ticket.id).whistle.open  # reported, but the tasks are not done
    clock.advance(24 * H)
    service.fire(ticket.id, "whistle_task_done", {"task": 1})
    ticket = service.fire(ticket.id, "whistle_task_done", {"task": 2, "note": "budget passed"})

    # Then the whistle closed by itself, every step is in the history, and the ticket may reply
    assert not ticket.whistle.open
    assert [d for d in ticket.deadlines if d.state.startswith("whistle#")] == []
    triggers = [e.trigger for e in service.history(ticket.id)]
    assert triggers[2:] == [
        "whistle",
        *["whistle_report"] * 5,
        "whistle_conference",
        "whistle_task",
        "whistle_task",
        "whistle_report",
        "whistle_task_done",
        "whistle_task_done",
        "whistle_closed",
    ]
    assert broken_links(service.history(ticket.id)) == []
    [row] = listed(store, department="chaoyang-finance")
    assert (row.status, row.missing, row.absent) == ("closed", [], [])
    figures = stats(store)
    assert {d: (s.summoned, s.reported_in_time) for d, s in figures.items()} == {
        d: (1, 1) for d in CAR_PARK
    }
    assert figures["chaoyang-housing"].median_report_seconds == 3600
    with store.reading() as conn:
        done = conn.execute(sa.select(whistles.tasks.c.done_at.is_not(None))).scalars().all()
    assert done == [True, True]
    assert service.fire(ticket.id, "reply", {"opinion": "1,200 spaces open"}).state == "handled"


def test_an_absent_department_is_escalated_exactly_once_and_stays_summoned_until_it_reports(
    service, store, new_ticket, clock
):
    # Given the leaking-main whistle with a 12 h report window, and one utility that reports
    ticket = new_ticket("water-supply", steps=[dispatch("street-jianwai"), whistle(LEAK, "12h")])
    for department in LEAK[:3]:
        service.fire(ticket.id, *report(department))
    sweeper = Sweeper(service, owner="test")

    # When the clock passes the deadline and the sweeper runs again and again
    for hours in (11, 12, 12.5, 13, 20, 30):
        clock.set(ticket.updated_at + hours * H)
        sweeper.sweep()

    # Then the roads unit is marked absent once, its supervisor told once, and it is still owed
    history = service.history(ticket.id)
    absences = [e.payload for e in history if e.trigger == "whistle_absent"]
    assert [(a["department"], a["supervisor"]) for a in absences] == [
        ("chaoyang-roads", "chaoyang")
    ]
    told = [m for m in store.outbox(ticket.id) if m.handler == "notify_supervisor"]
    assert [m.payload["department"] for m in told] == ["chaoyang-roads"]
    assert listed(store, open_only=True)[0].missing == ["chaoyang-roads"]

    # And when it finally reports, the whistle closes and the absence counts in its statistics
    ticket = service.fire(ticket.id, *report("chaoyang-roads"))
    assert not ticket.whistle.open
    roads = stats(store)["chaoyang-roads"]
    assert (roads.reported, roads.reported_in_time, roads.absences) == (1, 0, 1)
    assert roads.median_report_seconds == 30 * 3600


def test_a_decline_accepted_excuses_the_department_and_one_rejected_summons_it_again(
    service, store, new_ticket, clock
):
    ticket = new_ticket("water-supply", steps=[dispatch("street-jianwai"), whistle(LEAK[:3])])
    service.fire(ticket.id, *report("water-group"))
    for department in ("water-repair", "jianwai-property"):
        service.fire(
            ticket.id, "whistle_decline", {"department": department, "reason": "not our pipe"}
        )

    service.fire(ticket.id, "whistle_accept_decline", {"department": "water-repair"})
    clock.advance(20 * H)
    ticket = service.fire(
        ticket.id,
        "whistle_reject_decline",
        {"department": "jianwai-property", "reason": "the pipe is in your basement"},
    )

    status = {p.department: p.status for p in ticket.whistle.participants}
    assert status == {
        "water-group": "reported",
        "water-repair": "excused",
        "jianwai-property": "summoned",
    }
    [again] = [d for d in ticket.deadlines if d.kind == "report:jianwai-property"]
    assert again.due_at == clock.now() + 24 * H  # a fresh window from the rejection
    assert listed(store)[0].missing == ["jianwai-property"]
    ticket = service.fire(ticket.id, *report("jianwai-property"))
    assert not ticket.whistle.open
    assert service.history(ticket.id)[-1].trigger == "whistle_closed"


def test_reply_is_refused_while_the_whistle_is_open_and_allowed_once_it_is_closed(
    service, new_ticket
):
    ticket = new_ticket("water-supply", steps=[dispatch("street-jianwai"), whistle(LEAK[:2])])

    with pytest.raises(errors.GuardRejected, match="not whistle_open"):
        service.fire(ticket.id, "reply", {"opinion": "fixed"})
    service.fire(ticket.id, "whistle_close", {"reason": "the utility fixed it alone"})

    assert service.fire(ticket.id, "reply", {"opinion": "fixed"}).state == "handled"


def test_a_definition_without_the_guard_lets_a_ticket_reply_with_a_whistle_open(
    service, store, new_ticket
):
    guard = "    unless: whistle_open      # drop this line"
    source = store.definition_source("beijing-12345")[1]
    assert guard in source
    service.publish(source.replace(guard, "    # no guard"))

    ticket = new_ticket("water-supply", steps=[dispatch("street-jianwai"), whistle(LEAK[:2])])

    assert service.fire(ticket.id, "reply", {"opinion": "fixed"}).state == "handled"


def test_whistle_deadlines_follow_the_whistle_not_the_state(service, new_ticket, clock):
    # Given a re-dispatched ticket whistling two departments
    ticket = new_ticket(
        "road-damage",
        steps=[
            dispatch("street-jianwai"),
            ("reply", {"opinion": "filled"}),
            ("start_callback", {}),
            ("record_callback", {"resolved": False, "satisfaction": "unsatisfied"}),
            whistle(["chaoyang-roads", "chaoyang-urban"]),
        ],
    )
    before = {d.kind: d for d in service.get(ticket.id).deadlines if d.state == "whistle#1"}

    # When the ticket re-enters its state (another unit) and its clock is paused
    ticket = service.fire(
        ticket.id,
        "redispatch",
        {"lead_unit": "street-chaowai", "reason": "the crossing is theirs"},
    )
    ticket = service.fire(ticket.id, "pause", {"reason": "citizen away"})

    # Then the state's deadlines were replaced and paused, the whistle's kept running unchanged
    after = {d.kind: d for d in ticket.deadlines if d.state == "whistle#1"}
    assert after == before and all(d.status == "pending" for d in after.values())
    assert all(d.status == "paused" for d in ticket.deadlines if d.state == "re-dispatched")


def test_a_task_past_its_due_date_is_escalated_to_its_owners_supervisor_once(
    service, store, new_ticket, clock
):
    ticket = new_ticket("parking", steps=[dispatch("township-sunhe"), whistle(CAR_PARK[:2])])
    conference = {"held_at": clock.now().isoformat(), "attendees": ["all"], "decisions": "plan"}
    service.fire(ticket.id, "whistle_conference", conference)
    due = clock.now() + 72 * H
    task = {"owner": "chaoyang-housing", "title": "survey", "due": due.isoformat()}
    service.fire(ticket.id, "whistle_task", task)
    for department in CAR_PARK[:2]:
        service.fire(ticket.id, *report(department))

    for hours in (71, 72, 73, 100):
        clock.set(due + (hours - 72) * H)
        Sweeper(service, owner="test").sweep()

    overdue = [e.payload for e in service.history(ticket.id) if e.trigger == "whistle_task_overdue"]
    assert [(p["task"], p["owner"], p["supervisor"]) for p in overdue] == [
        (1, "chaoyang-housing", "chaoyang")
    ]
    assert service.get(ticket.id).whistle.open  # the task is still to be done


def test_an_overdue_utility_ticket_whistles_its_utility_12h_after_level_one(
    service, store, new_ticket, clock
):
    # Given a water-supply ticket dispatched to a street, which never replies
    ticket = new_ticket("water-supply", steps=[dispatch("street-jianwai")])
    sweeper, relay = Sweeper(service, owner="test"), Relay(service, owner="test")

    # When 24 h pass (level 1) and 12 h more, with the daemon sweeping and relaying
    for hours in (24, 30, 36):
        clock.set(ticket.updated_at + hours * H)
        sweeper.sweep()
        relay.relay()

    # Then the street whistled the utility of the category, which owes its report in 2 h
    ticket = service.get(ticket.id)
    assert ticket.whistle is not None and ticket.whistle.open
    assert [p.department for p in ticket.whistle.participants] == ["water-group"]
    assert ticket.whistle.whistler == "street-jianwai"
    [event] = [e for e in service.history(ticket.id) if e.trigger == "whistle"]
    assert (event.actor, event.payload["to"]) == ("deadline", ["water-group"])
    assert ticket.whistle.participants[0].due_at == clock.now() + 2 * H


def test_the_automatic_whistle_is_refused_once_when_a_whistle_is_already_open(
    service, store, new_ticket, clock
):
    # Given an overdue water-supply ticket whose street has already whistled by hand
    ticket = new_ticket(
        "water-supply", steps=[dispatch("street-jianwai"), whistle(["water-repair"])]
    )
    sweeper, relay = Sweeper(service, owner="test"), Relay(service, owner="test")

    # When level 2 fires the automatic whistle and the relay delivers it, again and again
    for hours in (24, 36, 37, 40):
        clock.set(ticket.updated_at + hours * H)
        sweeper.sweep()
        relay.relay()

    # Then the command was refused once: dead at once, its refusal in the history
    [command] = [m for m in store.outbox(ticket.id) if m.handler == "fire_command"]
    assert (command.status, command.attempts) == ("dead", 1)
    [refused] = [e for e in service.history(ticket.id) if e.trigger == "command_refused"]
    assert (
        refused.payload["trigger"] == "whistle" and refused.payload["reason"] in command.last_error
    )
    ticket = service.get(ticket.id)
    assert [p.department for p in ticket.whistle.participants] == ["water-repair"]
    assert not broken_links(service.history(ticket.id))


@pytest.mark.parametrize(
    ("steps", "command", "message"),
    [
        ([dispatch("street-jianwai")], whistle(["water-group", "no-such-unit"]), "no-such-unit"),
        ([dispatch("street-jianwai")], whistle(["water-group", "water-group"]), "named twice"),
        ([dispatch("street-jianwai")], whistle([]), "at least one"),
        ([dispatch("water-group")], whistle(["water-group"]), "cannot summon itself"),
        ([("answer", {"answer": "explained"})], whistle(["water-group"]), "state 'closed'"),
        (
            [dispatch("street-jianwai"), whistle(["water-group"])],
            report("chaoyang-finance"),
            "'chaoyang-finance' was not summoned",
        ),
        (
            [
                dispatch("street-jianwai"),
                whistle(["water-group", "water-repair"]),
                report("water-group"),
            ],
            report("water-group"),
            "already reported",
        ),
        ([dispatch("street-jianwai")], report("water-group"), "whistle_open"),
    ],
    ids=[
        "unknown",
        "duplicate",
        "empty",
        "itself",
        "closed-ticket",
        "not-summoned",
        "twice",
        "no-whistle",
    ],
)
def test_bad_whistle_input_is_refused_with_a_clear_error_and_nothing_written(
    service, store, new_ticket, steps, command, message
):
    ticket = new_ticket("water-supply", steps=steps)
    before = snapshot(store)

    with pytest.raises(errors.CommandError, match=message):
        service.fire(ticket.id, *command)

    assert snapshot(store) == before


def test_the_listing_filters_by_open_and_department_and_the_median_spans_whistles(
    service, store, new_ticket, clock
):
    # Given three whistles summoning the roads unit, which reports after 1 h, 3 h and never
    first, second, third = (
        new_ticket("road-damage", steps=[dispatch("street-jianwai"), whistle(to)])
        for to in (["chaoyang-roads"], ["chaoyang-roads", "chaoyang-urban"], ["chaoyang-roads"])
    )
    clock.advance(H)
    service.fire(first.id, *report("chaoyang-roads"))
    clock.advance(2 * H)
    service.fire(second.id, *report("chaoyang-roads"))

    # Then the listing and the statistics say so, from the whistle rows alone
    assert [w.ticket_id for w in listed(store)] == [third.id, second.id, first.id]
    assert [w.ticket_id for w in listed(store, open_only=True)] == [third.id, second.id]
    assert [w.ticket_id for w in listed(store, department="chaoyang-urban")] == [second.id]
    assert [w.ticket_id for w in listed(store, limit=1)] == [third.id]
    roads = stats(store)["chaoyang-roads"]
    assert (roads.summoned, roads.reported, roads.reported_in_time) == (3, 2, 2)
    assert roads.median_report_seconds == 2 * 3600  # the mean of the middle two of 1 h and 3 h
