"""Every shipped workflow runs tickets end to end through the real service and store: dispatch,
respond, reply, callback, re-dispatch, close, exclude, return, escalation with its automatic
whistle, and a whistle run by hand. The names differ per workflow (``flavours``); the behaviour
must not."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from flavours import SHIPPED, Flavour

from hotline.daemon.scheduler import Relay, Sweeper
from hotline.engine.periods import parse as period
from hotline.reports import assessment
from hotline.service import Intake
from hotline.workflows import loader

H = timedelta(hours=1)


@pytest.fixture(params=SHIPPED, ids=[f.name for f in SHIPPED])
def flavour(request) -> Flavour:
    return request.param


@pytest.fixture
def play(service, clock, flavour):
    """Builder: submit a ticket of ``flavour``'s workflow and fire steps an hour apart."""

    def run(category: str | None = None, steps=(), **intake):
        ticket = service.submit(
            Intake(category or flavour.category, "a demand", **intake), definition=flavour.name
        )
        for trigger, fields in steps:
            clock.advance(H)
            ticket = service.fire(ticket.id, trigger, fields, actor="tester")
        return ticket

    return run


def test_a_ticket_not_solved_is_redone_by_another_unit_then_closed(service, play, flavour):
    f = flavour
    ticket = play(steps=[f.dispatch(f.street), *f.handled(False, "unsatisfied")])
    assert (ticket.state, ticket.round) == (f.s("re-dispatched"), 2)

    reassign = (f.t("redispatch"), {"lead_unit": f.other_street, "reason": "wrong crew"})
    ticket = play_on(service, ticket, [reassign, *f.handled(True, "satisfied")])

    assert (ticket.state, ticket.lead_unit) == (f.s("closed"), f.other_street)
    triggers = [e.trigger for e in service.history(ticket.id)]
    assert triggers.count(f.t("record_callback")) == 2


def test_consultations_close_at_once_exclusions_and_returns_are_recorded(service, play, flavour):
    f = flavour
    assert play(f.consultation, [f.answer()]).state == f.s("closed")
    excluded = play(steps=[f.dispatch(f.street), f.exclude()])
    assert excluded.excluded
    returned = play(steps=[f.dispatch(f.street), (f.t("return"), _reason(f, "return"))])
    if returned.state != f.s("received"):  # beijing: an objection the centre rules on (Art. 12)
        returned = play_on(service, returned, [("confirm_objection", {"reason": "not theirs"})])
    assert (returned.state, returned.lead_unit) == (f.s("received"), None)


def test_a_whistle_closes_itself_once_every_department_reported(service, play, flavour):
    f = flavour
    ticket = play(steps=[f.dispatch(f.street), f.whistle(f.departments)])
    assert ticket.whistle.open and ticket.whistle.whistler == f.street

    ticket = play_on(service, ticket, [f.report(d) for d in f.departments])

    assert not ticket.whistle.open
    assert play_on(service, ticket, [f.reply()]).state == f.s("handled")


def test_a_decline_accepted_excuses_and_one_overruled_summons_again(service, play, flavour):
    f = flavour
    first, second = f.departments[:2]
    ticket = play(steps=[f.dispatch(f.street), f.whistle([first, second])])
    for department in (first, second):
        decline = {"department": department, "reason": "not our matter"}
        ticket = play_on(service, ticket, [(f.t("whistle_decline"), decline)])

    accept = (f.t("whistle_accept_decline"), {"department": first})
    overrule = (f.t("whistle_reject_decline"), {"department": second, "reason": "it is"})
    ticket = play_on(service, ticket, [accept, overrule])

    statuses = {p.department: p.status for p in ticket.whistle.participants}
    assert statuses == {first: "excused", second: "summoned"}
    assert not play_on(service, ticket, [f.report(second)]).whistle.open


def test_an_overdue_utility_ticket_is_escalated_and_whistles_its_utility(
    service, play, flavour, clock
):
    f = flavour
    ticket = play(f.utility_category, [f.dispatch(f.street)])
    sweeper, relay = Sweeper(service, owner="test"), Relay(service, owner="test")

    for hours in range(1, 120):
        clock.set(ticket.updated_at + hours * H)
        sweeper.sweep()
        relay.relay()

    ticket = service.get(ticket.id)
    assert ticket.whistle is not None and ticket.whistle.whistler == f.street
    assert [p.department for p in ticket.whistle.participants] == [f.utility]
    history = service.history(ticket.id)
    [event] = [e for e in history if e.trigger == f.t("whistle")]
    assert event.actor == "deadline"
    assert any(e.trigger == "escalate" for e in history)


def play_on(service, ticket, steps):
    for trigger, fields in steps:
        ticket = service.fire(ticket.id, trigger, fields, actor="tester")
    return ticket


def _reason(flavour: Flavour, part: str) -> dict:
    """The required text field of ``part``'s transition, whatever the workflow calls it."""
    definition = loader.parse(loader.shipped_text(flavour.name), flavour.name)
    spec = next(t for t in definition.transitions if t.trigger == flavour.t(part))
    return {name: "not ours" for name, field in spec.fields.items() if field.required}


def test_the_readme_example_runs_a_ticket_and_is_assessed(service, clock):
    # Given the complete example of the README's "Workflow definitions", published
    readme = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
    example = readme.split("One complete example", 1)[1].split("```yaml\n", 1)[1]
    name, _ = service.publish(example.split("```", 1)[0], "README.md")
    ticket = service.submit(Intake("any", "a pothole"), definition=name)

    # When a ticket goes through it, answered glad and fixed
    for trigger, fields in [
        ("send", {"lead_unit": "crew-7", "path": "via_ward"}),
        ("call_back", {}),
        ("finish", {"notes": "filled"}),
        ("ask", {}),
        ("survey", {"fixed": True, "mood": "glad"}),
    ]:
        clock.advance(H)
        ticket = service.fire(ticket.id, trigger, fields, actor="tester")

    # Then it is closed, and counted as dispatched via a ward, responded, solved and satisfied
    assert ticket.state == "shut"
    month = period(f"{clock.now():%Y-%m}")
    [row] = assessment.rates(service, month, definition=name, as_of=clock.now()).rows
    assert (row.group, row.counts.via_district, row.counts.callbacks) == ("crew-7", 1, 1)
    assert (row.rates.response, row.rates.resolution, row.rates.satisfaction) == (100, 100, 100)
