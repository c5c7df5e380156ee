"""A simulated month of tickets, the same on every workflow: a seeded random choice of outcomes
played through a ``Flavour``'s names, with the figures a report must give computed alongside.
"""

from __future__ import annotations

import random
from collections import Counter
from datetime import timedelta

from flavours import Flavour

from hotline.clock import FrozenClock
from hotline.service import Intake, Service

H = timedelta(hours=1)
OUTCOMES = (
    "consult",
    "solved",
    "basic",
    "late",
    "redo",
    "unsolved",
    "excluded",
    "open",
    "whistled",
)


def play_month(
    service: Service, clock: FrozenClock, f: Flavour, seed: int = 12345, n: int = 36
) -> tuple[list[int], Counter]:
    """Play ``n`` tickets three hours apart; return their ids and the expected figures per
    (unit, figure)."""
    rng = random.Random(seed)
    start, ids, expected = clock.now(), [], Counter()
    for i in range(n):
        clock.set(start + i * 3 * H)
        outcome = rng.choice(OUTCOMES)
        unit = rng.choice((f.street, f.other_street))
        via = rng.random() < 0.3
        ids.append(_play(service, clock, f, outcome, unit, via))
        _expect(expected, outcome, unit if outcome != "consult" else None, via)
    return ids, expected


def _steps(f: Flavour, outcome: str, unit: str, via: bool) -> list[tuple[float, tuple]]:
    dispatch = (0.2, f.dispatch(unit, via))
    late = [(80, f.respond()), (1, f.reply()), (1, (f.t("start_callback"), {}))]
    return {
        "consult": [(0.1, f.answer())],
        "solved": [dispatch, *[(1, s) for s in f.handled(True, "satisfied")]],
        "basic": [dispatch, *[(1, s) for s in f.handled(True, "basic")]],
        "late": [dispatch, *late, (1, f.callback(True, "satisfied"))],
        "redo": [
            dispatch,
            *[(1, s) for s in f.handled(False, "unsatisfied")],
            *[(1, s) for s in f.handled(True, "satisfied")],
        ],
        "unsolved": [dispatch, *[(1, s) for s in f.handled(False, "basic")]],
        "excluded": [dispatch, (1, f.respond()), (1, f.exclude())],
        "open": [dispatch],
        "whistled": [dispatch, (1, f.respond()), (1, f.whistle(f.departments[:2]))],
    }[outcome]


def _play(service: Service, clock: FrozenClock, f: Flavour, outcome: str, unit: str, via: bool):
    category = f.consultation if outcome == "consult" else f.category
    ticket = service.submit(Intake(category, outcome), definition=f.name)
    for hours, (trigger, fields) in _steps(f, outcome, unit, via):
        clock.advance(hours * H)
        ticket = service.fire(ticket.id, trigger, fields, actor="sim")
    return ticket.id


def _expect(expected: Counter, outcome: str, unit: str | None, via: bool) -> None:
    group = unit or "(none)"
    expected[group, "received"] += 1
    if unit is None:
        return
    expected[group, "via_district" if via else "direct"] += 1
    if outcome == "excluded":
        expected[group, "excluded"] += 1
        return
    expected[group, "assessed"] += 1
    if outcome in ("solved", "basic", "late", "redo", "unsolved"):
        expected[group, "callbacks"] += 1
        expected[group, "resolved"] += outcome != "unsolved"
        expected[group, "responded"] += outcome != "late"
        expected[group, "redispatched"] += outcome in ("redo", "unsolved")
        expected[group, "basic"] += outcome in ("basic", "unsolved")
        expected[group, "solved_basic"] += outcome == "basic"  # redone where basic is not 双是
