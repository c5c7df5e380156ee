"""``hotline history --at``: a ticket rebuilt from its events equals the live one, step by step."""

from __future__ import annotations

from datetime import timedelta

from hotline.admin import audit
from hotline.daemon.relay import Relay
from hotline.daemon.sweeper import Sweeper

H = timedelta(hours=1)
UNSATISFIED = {"resolved": False, "satisfaction": "unsatisfied"}


def comparable(ticket):
    """The ticket without what the database alone assigns (row ids of its deadlines)."""
    return ticket.evolve(deadlines=tuple(d.evolve(id=None) for d in ticket.deadlines))


def recorder(service, ticket, clock):
    """A ``step(hours, trigger, fields)`` that moves the clock, fires the trigger (or sweeps
    deadlines when there is none) and records the live ticket; and the list it records in."""
    sweeper = Sweeper(service, owner="test")
    seen = [(clock.now(), service.get(ticket.id))]

    def step(hours, trigger=None, fields=None):
        clock.advance(hours * H)
        if trigger:
            service.fire(ticket.id, trigger, fields or {}, actor="tester")
        else:
            sweeper.sweep()
        seen.append((clock.now(), service.get(ticket.id)))

    return step, seen


def test_the_rebuilt_ticket_equals_the_live_one_at_every_step_of_a_long_history(
    service, new_ticket, clock
):
    # Given a utility ticket that goes through deadlines, a pause, an extension and a
    # second round with another unit; and the live ticket seen after each step.
    ticket = new_ticket("water-supply")
    step, seen = recorder(service, ticket, clock)

    step(0.5, "dispatch", {"lead_unit": "water-group", "route": "direct"})
    step(1, "respond", {"method": "phone"})
    step(2, "pause", {"reason": "citizen away"})
    step(5, "resume")
    step(
        1,
        "extend",
        {"by": "6h", "reason": "parts", "approver": "leader", "explained": "told by phone"},
    )
    step(22)  # the 80 % reminder of the extended window fires
    step(0.5, "reply", {"opinion": "pipe fixed"})
    step(25)  # the callback starts by itself when its time is up (Art. 23)
    step(1, "record_callback", UNSATISFIED)
    step(0.5, "redispatch", {"lead_unit": "water-repair", "reason": "needs repair crew"})
    step(40)  # overdue, escalated to level 1 and 2
    step(1, "reply", {"opinion": "main replaced"})
    step(1, "start_callback")
    step(1, "record_callback", {"resolved": True, "satisfaction": "satisfied"})
    triggers = [e.trigger for e in service.history(ticket.id)]
    assert {"remind", "overdue", "escalate", "pause", "extend", "redispatch"} <= set(triggers)

    # When each instant is rebuilt from the events alone
    # Then it is the ticket exactly as it was: state, fields, unit, round, open deadlines
    for at, live in seen:
        rebuilt = audit.as_of(service, ticket.id, at)
        assert comparable(rebuilt) == comparable(live), f"at {at}"
        assert rebuilt.deadlines or live.state == "closed"


def test_an_instant_before_the_ticket_existed_has_no_ticket(service, new_ticket, clock):
    ticket = new_ticket()

    assert audit.as_of(service, ticket.id, clock.now() - H) is None


def test_a_whistled_ticket_is_rebuilt_with_its_whistle_absences_and_tasks(
    service, new_ticket, clock
):
    # Given a whistle where one department declines, one is absent, and a conference sets a task
    ticket = new_ticket("water-supply")
    step, seen = recorder(service, ticket, clock)

    leak = ["water-group", "water-repair", "chaoyang-roads"]
    step(0.5, "dispatch", {"lead_unit": "street-jianwai", "route": "direct"})
    step(0.5, "whistle", {"to": leak, "within": "4h", "reason": "leaking main"})
    step(1, "whistle_report", {"department": "water-group", "person": "duty officer"})
    step(0.5, "whistle_decline", {"department": "water-repair", "reason": "not our section"})
    step(0.5, "whistle_reject_decline", {"department": "water-repair", "reason": "it is"})
    step(3)  # chaoyang-roads and water-repair miss their report deadline: absent
    step(1, "whistle_report", {"department": "water-repair", "person": "crew lead"})
    due = (clock.now() + 48 * H).isoformat()
    meeting = {"held_at": clock.now().isoformat(), "attendees": leak, "decisions": "dig"}
    step(1, "whistle_conference", meeting)
    step(0.5, "whistle_task", {"owner": "water-repair", "title": "replace pipe", "due": due})
    step(1, "whistle_report", {"department": "chaoyang-roads", "person": "officer"})
    step(50)  # the task is overdue
    step(1, "whistle_task_done", {"task": 1})
    triggers = [e.trigger for e in service.history(ticket.id)]
    assert {"whistle_absent", "whistle_task_overdue", "whistle_closed"} <= set(triggers)

    # When each instant is rebuilt from the events alone, then it is the ticket as it was
    for at, live in seen:
        assert comparable(audit.as_of(service, ticket.id, at)) == comparable(live), f"at {at}"


def test_a_ticket_whose_automatic_whistle_was_refused_is_rebuilt_with_the_refusal(
    service, store, new_ticket, clock
):
    # Given a utility ticket led by the utility itself, so that its automatic whistle (level 2)
    # is refused: the utility cannot summon itself
    ticket = new_ticket("water-supply")
    step, seen = recorder(service, ticket, clock)
    relay = Relay(service, owner="test")
    step(0.5, "dispatch", {"lead_unit": "water-group", "route": "direct"})
    for hours in (24, 12, 1):
        step(hours)
        relay.relay()  # at the same instant: the ticket as it is after the relay
        seen[-1] = (clock.now(), service.get(ticket.id))
    step(1, "reply", {"opinion": "pipe fixed"})
    [refused] = [e for e in service.history(ticket.id) if e.trigger == "command_refused"]
    assert "cannot summon itself" in refused.payload["reason"]

    # When each instant is rebuilt from the events alone, then it is the ticket as it was
    for at, live in seen:
        assert comparable(audit.as_of(service, ticket.id, at)) == comparable(live), f"at {at}"
