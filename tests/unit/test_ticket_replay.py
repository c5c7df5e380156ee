"""One ticket replayed in memory: which events are inputs, when the emulated daemon sweeps,
and what a draft decides again or refuses."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hotline.engine.decide import decide, decide_submit
from hotline.engine.ticket import Command, Event, Ticket
from hotline.simulation.ticket_replay import TicketReplay, inputs, silent
from hotline.workflows import loader

T0 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)  # a Monday, 09:00 in Beijing
H = timedelta(hours=1)
SHIPPED = loader.compile_source(loader.shipped_text(), 1)


def recorded(*commands: tuple[timedelta, str, dict]) -> tuple[Ticket, list[Event]]:
    """A water-supply ticket's history as the service would have written it (no sweeps)."""
    ticket = Ticket(7, "beijing-12345", 1, "received", "water-supply", created_at=T0)
    decision = decide_submit(SHIPPED, ticket, "operator", T0)
    events = list(decision.events)
    for after, trigger, fields in commands:
        decision = decide(SHIPPED, decision.after, Command(trigger, fields, "desk"), T0 + after)
        events += decision.events
    return decision.after, events


def event(trigger: str, actor: str = "desk") -> Event:
    return Event(1, 1, trigger, "dispatched", "dispatched", actor, {}, T0, "", "")


def test_inputs_are_the_intake_and_the_commands_sent_not_what_the_workflow_did():
    history = [
        event("submit", "operator"),
        event("respond"),
        event("remind", "deadline"),
        event("overdue", "deadline"),
        event("escalate", "deadline"),
        event("start_callback", "deadline"),  # an on_due trigger
        event("whistle", "deadline"),  # a rung's command
        event("whistle_closed", "system"),  # settled by the last answer
        event("deadline_provisional", "calendar"),
        event("migrate", "admin"),
        event("whistle_close", "desk"),
    ]

    assert [e.trigger for e in inputs(history)] == ["submit", "respond", "whistle_close"]


def test_the_emulated_daemon_sweeps_when_due_or_at_the_next_sweep():
    anchor = datetime(2026, 3, 1, tzinfo=UTC)
    every_hour = TicketReplay(SHIPPED, T0, anchor, sweep=H)
    at_once = TicketReplay(SHIPPED, T0, anchor)
    due = anchor + 10 * H + 20 * timedelta(minutes=1)

    assert at_once.next_sweep(due, anchor) == due
    assert at_once.next_sweep(due, due + H) == due + H  # fell due before the ticket's time
    assert every_hour.next_sweep(due, anchor) == anchor + 11 * H
    assert every_hour.next_sweep(anchor + 10 * H, anchor + 9 * H) == anchor + 10 * H
    # the sweep at 10:00 saw the ticket before what happened at 10:00: the next one fires it
    assert every_hour.next_sweep(anchor + 10 * H, anchor + 10 * H) == anchor + 11 * H


def test_a_replay_fires_what_falls_due_and_lists_what_a_draft_refuses():
    dispatch = (H, "dispatch", {"lead_unit": "street-jianwai", "route": "direct"})
    original, history = recorded(dispatch, (2 * H, "respond", {}))
    as_of = T0 + 3 * 24 * H

    same = TicketReplay(SHIPPED, as_of, T0).run(original, history)
    renamed = loader.shipped_text().replace("trigger: respond", "trigger: call_back")
    draft = loader.compile_source(renamed.replace("[respond]", "[call_back]"), 0)
    other = TicketReplay(draft, as_of, T0).run(original, history)

    triggers = [e.trigger for e in same.events]
    assert triggers[:3] == ["submit", "dispatch", "respond"] and same.refusals == []
    assert {"remind", "overdue", "escalate"} <= set(triggers)  # the 24 h limit passed unanswered
    whistled = [e for e in same.events if e.trigger == "whistle"]
    assert [(e.actor, e.payload["to"]) for e in whistled] == [("deadline", ["water-group"])]
    [refused] = other.refusals
    assert (refused.ticket_id, refused.trigger, refused.at) == (7, "respond", T0 + 2 * H)
    assert "IllegalTransition" in refused.reason
    assert "respond" not in [e.trigger for e in other.events]


def test_a_replay_builds_no_message_and_decides_as_the_definition_does():
    dispatch = (H, "dispatch", {"lead_unit": "water-group", "route": "direct"})
    original, history = recorded(
        dispatch, (2 * H, "respond", {}), (3 * H, "reply", {"opinion": "fixed"})
    )
    quiet = silent(SHIPPED)

    assert any(t.after for t in SHIPPED.definition.transitions)  # the shipped one notifies
    assert not any(t.after for t in quiet.definition.transitions)
    replayed = TicketReplay(SHIPPED, T0 + 4 * H, T0).run(original, history)
    assert [(e.trigger, e.to_state, e.payload) for e in replayed.events] == [
        (e.trigger, e.to_state, e.payload) for e in history
    ]
