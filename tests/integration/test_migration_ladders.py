"""Migration keeps each deadline's ladder by identity, not by position (remind, due,
escalate-N): a rung that fired never fires again, a rung still ahead is never skipped, when the
new version adds or removes a rung. Through the real sweeper, with a frozen clock."""

from __future__ import annotations

from datetime import timedelta

from hotline.admin import versions as versioning
from hotline.daemon.sweeper import Sweeper
from hotline.service import Intake
from hotline.workflows import loader

H = timedelta(hours=1)
NAME = loader.DEFAULT
DISPATCH = {"lead_unit": "water-group", "route": "direct"}
# The basic-utility handling rule (24 h) reminds at 80 % of its window; these drop the reminder.
UTILITY_REMINDER = "        remind_at: 0.8\n        escalate:\n          - {level: 1, after: 0h"
WITHOUT_REMINDER = "        escalate:\n          - {level: 1, after: 0h"


def without_reminder() -> str:
    text = loader.shipped_text()
    assert text.count(UTILITY_REMINDER) == 1
    return text.replace(UTILITY_REMINDER, WITHOUT_REMINDER)


def fired(service, ticket_id) -> list[tuple[str, int]]:
    """The deadline firings of the handling deadline in the ticket's history, in order."""
    return [
        (e.trigger, e.payload["level"])
        for e in service.history(ticket_id)
        if e.trigger in ("remind", "overdue", "escalate") and e.payload["deadline"] == "handling"
    ]


def whistle_commands(store, ticket_id) -> int:
    return sum(
        m.handler == "fire_command" and m.payload["trigger"] == "whistle"
        for m in store.outbox(ticket_id)
    )


def migrate(service, source: int, target: int) -> None:
    plan = versioning.plan(service, NAME, source, target, {})
    assert versioning.migrate(service, plan, actor="admin") == 1


def test_a_rung_added_before_fired_ones_neither_refires_them_nor_fires_late(service, store, clock):
    # Given a utility ticket on a version without the reminder, overdue and at level 1
    _, old = service.publish(without_reminder(), "v2.yaml")
    sweeper = Sweeper(service, owner="test")
    ticket = service.submit(Intake("water-supply", "no water"))
    assert ticket.definition_version == old
    service.fire(ticket.id, "dispatch", DISPATCH)
    clock.advance(25 * H)
    sweeper.sweep()
    assert fired(service, ticket.id) == [("overdue", 0), ("escalate", 1)]

    # When it is migrated to a version whose ladder has a reminder before those rungs
    shipped = loader.shipped_text().replace("title: ", "title: v3 ", 1)
    _, new = service.publish(shipped, "v3.yaml")
    migrate(service, old, new)
    sweeper.sweep()

    # Then neither the reminder (behind it) nor `overdue` fires; level 2 fires when due
    assert fired(service, ticket.id) == [("overdue", 0), ("escalate", 1)]
    clock.advance(12 * H)
    sweeper.sweep()
    assert fired(service, ticket.id) == [("overdue", 0), ("escalate", 1), ("escalate", 2)]
    assert whistle_commands(store, ticket.id) == 1


def test_a_rung_removed_before_the_next_one_does_not_skip_it(service, store, clock):
    # Given a utility ticket on the shipped version: reminded, overdue and at level 1
    sweeper = Sweeper(service, owner="test")
    ticket = service.submit(Intake("water-supply", "no water"))
    service.fire(ticket.id, "dispatch", DISPATCH)
    clock.advance(20 * H)
    sweeper.sweep()
    clock.advance(5 * H)
    sweeper.sweep()
    assert fired(service, ticket.id) == [("remind", 0), ("overdue", 0), ("escalate", 1)]

    # When it is migrated to a version without the reminder (one rung fewer before the rest)
    _, new = service.publish(without_reminder(), "v2.yaml")
    migrate(service, ticket.definition_version, new)

    # Then level 2 still fires at its time, with its automatic whistle, and level 3 after it
    clock.advance(11 * H)
    sweeper.sweep()
    assert fired(service, ticket.id)[3:] == [("escalate", 2)]
    assert whistle_commands(store, ticket.id) == 1
    clock.advance(12 * H)
    sweeper.sweep()
    assert fired(service, ticket.id)[3:] == [("escalate", 2), ("escalate", 3)]
