"""A ticket's view (GET /tickets/{id}) is read in one transaction, and of the history only the
events its rounds are made of; it says what the separate reads over the whole history say."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from hotline.engine import rounds
from hotline.errors import UnknownTicket
from hotline.persistence import views

DISPATCH = ("dispatch", {"lead_unit": "street-jianwai", "route": "direct"})
RESPOND = ("respond", {})
REPLY = ("reply", {"opinion": "fixed"})
CALLBACK_NO = ("record_callback", {"resolved": False, "satisfaction": "unsatisfied"})


def separate_reads(service, ticket_id):
    ticket = service.get(ticket_id)
    definition = service.compiled(ticket.definition, ticket.definition_version).definition
    whole_history = rounds.record(definition, service.history(ticket_id))
    return ticket, service.contact(ticket_id), service.links(ticket_id), whole_history


def test_the_view_says_what_the_separate_reads_say(service, new_ticket):
    # Given a ticket in its second round, with events beside its rounds' (respond), and a
    # repeat naming it
    steps = [DISPATCH, RESPOND, REPLY, ("start_callback", {}), CALLBACK_NO, RESPOND, REPLY]
    ticket = new_ticket(steps=steps, contact_phone="13812345678", contact_name="Li")
    repeat = new_ticket(steps=[("merge_repeat", {"repeat_of": ticket.id})])

    # When each is viewed
    for ticket_id in (ticket.id, repeat.id):
        view = service.view(ticket_id)

        # Then it is what the separate reads give, rounds from the whole history included
        assert (view.read.ticket, view.read.contact, view.read.links, view.rounds) == (
            separate_reads(service, ticket_id)
        )
    assert [r["round"] for r in service.view(ticket.id).rounds] == [1, 2]
    assert service.view(ticket.id).read.links.by == {"repeat_of": [repeat.id]}


def test_the_view_reads_only_the_events_rounds_are_made_of(service, new_ticket):
    ticket = new_ticket(steps=[DISPATCH, RESPOND, REPLY])

    read = service.view(ticket.id).read

    assert [e.trigger for e in read.round_events] == ["dispatch", "reply"]


def test_an_unknown_ticket_has_no_view(service):
    for ticket_id in (999, 0, 2**40):
        with pytest.raises(UnknownTicket):
            service.view(ticket_id)


@pytest.mark.parametrize(
    ("payload", "found"),
    [('{"a": null}', True), ('{"a": 0}', True), ('{"b": 1}', False), ('{"x": {"a": 1}}', False)],
)
def test_has_key_finds_a_top_level_key_whatever_its_value(store, payload, found):
    # A round record field given as null is still given (rounds.record counts it).
    value = sa.literal(payload)  # SQLite reads JSON from text; PostgreSQL wants it cast
    value = value if store.engine.dialect.name == "sqlite" else sa.cast(value, sa.JSON)
    query = sa.select(views.has_key(value, "a"))
    with store.reading() as conn:
        assert bool(conn.execute(query).scalar_one()) is found
