"""The soak's verdict catches each kind of broken promise: a database is built through the real
service, sweeper and relay, judged clean, then broken one way at a time and judged again."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

import pytest
import sqlalchemy as sa
from test_audit import trigger_off

from hotline.daemon.relay import Relay
from hotline.daemon.sweeper import Sweeper
from hotline.persistence import integrity
from hotline.persistence.rows import events, firings
from hotline.service import Intake
from hotline.soak import verdict
from hotline.soak.clients import ACTOR, Tally

DISPATCH = {"lead_unit": "street-jianwai", "route": "direct"}


@dataclass
class Logs:
    """What a replica's log showed: the keys its notify handlers delivered."""

    notified: set[str] = field(default_factory=set)
    lateness: list[float] = field(default_factory=lambda: [0.0, 60.0])


@pytest.fixture
def soaked(service, clock):
    """Three keyed tickets, one dispatched by the clients; a day later every rung due fired
    and every message delivered, as the daemons would have done."""
    tally = Tally()
    for n in (1, 2, 3):
        key = f"soak-{n}"
        tally.tickets[key] = service.submit(Intake("noise", "loud"), ACTOR, key).id
    service.fire(tally.tickets["soak-1"], "dispatch", DISPATCH, ACTOR)
    tally.applied[(tally.tickets["soak-1"], "dispatch")] = 1
    clock.advance(timedelta(days=1))
    Sweeper(service, owner="test").sweep()
    Relay(service, owner="test").relay()
    logs = Logs({m.key for m in integrity.messages(service.store, clock.now())})
    return tally, logs


def judge(service, clock, tally, logs, before=None) -> verdict.Verdict:
    return verdict.judge(service, tally, [logs], before or clock.now())


def test_a_clean_run_is_judged_clean(service, clock, soaked):
    found = judge(service, clock, *soaked)
    assert found.ok, found.problems
    assert (found.tickets, found.commands) == (3, 1)
    assert found.rungs > 0 and found.messages > 0 and found.p99_late > 0


def test_an_intake_the_client_was_told_of_and_is_missing_is_lost(service, clock, soaked):
    tally, logs = soaked
    tally.tickets["soak-4"] = 4  # told ticket 4, never stored
    found = judge(service, clock, tally, logs)
    assert found.lost == 1 and "intake soak-4" in found.problems[0]


def test_a_command_applied_twice_or_never_is_caught(service, clock, soaked):
    tally, logs = soaked
    command = next(iter(tally.applied))
    tally.applied[command] = 0  # the history holds a command the client saw refused
    assert judge(service, clock, tally, logs).duplicated == 1
    tally.applied[command] = 2  # the client saw it applied twice, the history holds one
    assert judge(service, clock, tally, logs).lost == 1


def test_a_firing_row_without_its_event_is_caught(service, clock, soaked):
    with service.store.engine.begin() as conn:
        first = conn.execute(sa.select(firings).limit(1)).one()
        conn.execute(
            firings.insert().values(
                deadline_id=first.deadline_id, rung=9, rung_key="again", fired_at=first.fired_at
            )
        )
    found = judge(service, clock, *soaked)
    assert found.duplicated == 1 and f"deadline {first.deadline_id}" in found.problems[0]


def test_a_due_rung_not_fired_by_the_checkpoint_is_caught(service, clock, soaked):
    found = judge(service, clock, *soaked, before=clock.now() + timedelta(days=30))
    assert found.unfired > 0 and not found.ok


def test_an_undelivered_or_unhandled_message_is_lost(service, clock, soaked):
    tally, logs = soaked
    dropped = logs.notified.pop()  # delivered, but no handler ever said so
    found = judge(service, clock, tally, logs)
    assert found.lost == 1 and dropped in found.problems[0]
    service.fire(tally.tickets["soak-2"], "dispatch", DISPATCH, "operator")  # never relayed
    found = judge(service, clock, tally, logs)
    assert found.lost > 1 and any("pending" in p for p in found.problems)


def test_a_rewritten_history_fails_the_audit(service, clock, soaked):
    with trigger_off(service.store) as conn:
        conn.execute(events.update().where(events.c.seq == 1).values(actor="someone else"))
    found = judge(service, clock, *soaked)
    assert not found.ok and any("ticket" in p for p in found.problems)
