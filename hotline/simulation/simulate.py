"""``hotline simulate``: a seeded, realistic mix of tickets driven through the real Service.

Each ticket gets a plan drawn from one ``random.Random(seed)``: its category (and so its
deadlines and default unit), channel, urgency, the street or company it goes to (直派 or via its
district), how fast the unit responds (some late), 退单 and re-dispatch, callback answers
(satisfied, 基本满意, not solved → 再派件 until the round limit), exclusions (剔除), and the
closing outcomes without dispatch. The plans are played in time order on a FrozenClock, with the
deadline sweeper run every simulated ``sweep`` interval, so reminders, escalations and whistle
absences happen too; whatever is planned after the last day stays open. Some complex and
basic-utility tickets are whistled (吹哨报到, ``simulate_whistles``). The same seed gives the same
database.
"""

from __future__ import annotations

import heapq
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from hotline.clock import FrozenClock
from hotline.daemon.sweeper import Sweeper
from hotline.engine.definition import Definition
from hotline.errors import CommandError
from hotline.service import Intake, Service
from hotline.simulation import whistles as simulate_whistles
from hotline.workflows import loader

Step = simulate_whistles.Step
H = simulate_whistles.H
CHANNELS = (("phone", 70), ("app", 12), ("web", 8), ("proactive", 5), ("enterprise", 3))
HOURS = [1, 1, 1, 1, 1, 2, 4, 8, 10, 10, 9, 8, 7, 8, 9, 9, 8, 7, 6, 5, 4, 3, 2, 1]
VOLUME = {"consultation": 12, "emergency": 2, "utility": 4, "ordinary": 8, "complex": 2}


@dataclass(frozen=True)
class Outcome:
    """What a simulation did: tickets submitted, commands fired, steps refused (should be 0),
    whistles blown."""

    tickets: int
    commands: int
    refused: int
    ended_at: datetime
    whistles: int = 0


class Planner:
    """Draws one ticket's life from the seeded generator and the definition's catalogues.

    ``clock_steps``: the share of first rounds with an extension (延期) or a pause and resume
    of the clock (0 by default, so that a seed plays as it always did).
    """

    def __init__(self, definition: Definition, rng: random.Random, clock_steps: float = 0) -> None:
        self.definition, self.rng, self.clock_steps = definition, rng, clock_steps
        self.categories = list(definition.categories)
        self.weights = [VOLUME[c.kind] for c in self.categories]
        self.streets = [u.code for u in definition.units if u.kind in ("street", "township")]
        self.whistles = simulate_whistles.WhistlePlanner(definition, rng)

    def intake(self) -> Intake:
        rng = self.rng
        category = rng.choices(self.categories, self.weights)[0]
        urgent = category.kind == "emergency" or rng.random() < 0.05
        channel = rng.choices([c for c, _ in CHANNELS], [w for _, w in CHANNELS])[0]
        return Intake(
            category.code, f"simulated {category.name}", "urgent" if urgent else "normal", channel
        )

    def steps(self, intake: Intake) -> list[Step]:
        rng, kind = self.rng, self.definition.category(intake.category).kind
        if kind == "consultation" and rng.random() < 0.8:
            return [(rng.uniform(2, 15) * timedelta(minutes=1), "answer", {"answer": "answered"})]
        if rng.random() < 0.04:
            why = {"reason_code": "outside-government", "reason": "pointed to the market"}
            return [(0.2 * H, "decline", why)]
        unit = self.definition.category(intake.category).unit or rng.choice(self.streets)
        route = "via_district" if unit in self.streets and rng.random() < 0.43 else "direct"
        wait = rng.uniform(2, 8) if rng.random() < 0.05 else rng.uniform(0.1, 1.5)  # some late
        plan: list[Step] = [(wait * H, "dispatch", {"lead_unit": unit, "route": route})]
        if unit in self.streets and rng.random() < 0.03:
            other = rng.choice([s for s in self.streets if s != unit] or [unit])
            plan += [(rng.uniform(1, 4) * H, "return", {"reason": "not our jurisdiction"})]
            ruling = {"lead_unit": other, "reason": "the map shows the other street"}
            plan += [(0.5 * H, "confirm_objection", ruling)]
            unit = other
        if rng.random() < 0.02:
            why = {"approver": "leader", "reason": "arbitration"}
            plan.append((rng.uniform(1, 24) * H, "exclude", why))
        return plan + self._rounds(kind, unit)

    def _rounds(self, kind: str, unit: str) -> list[Step]:
        rng, plan = self.rng, []
        for number in range(1, self.definition.round_limit + 1):
            others = [s for s in self.streets if s != unit]
            if number > 1 and unit in self.streets and others and rng.random() < 0.1:
                unit = rng.choice(others)
                plan.append((0.5 * H, "redispatch", {"lead_unit": unit, "reason": "another unit"}))
            late = rng.random() < 0.06
            plan.append(
                (
                    rng.uniform(6, 40) * H if late else rng.uniform(0.2, 2.5) * H,
                    "respond",
                    {"method": "phone"},
                )
            )
            if number == 1:  # a whistle is closed before the unit replies
                plan += self.whistles.steps(kind, unit) + self._clock_steps()
            limit = 20 if kind in ("utility", "emergency") else 70
            plan.append((rng.uniform(1, limit) * H, "reply", {"opinion": "handled"}))
            plan.append((rng.uniform(2, 20) * H, "start_callback", {}))
            answers = self._answers()
            plan.append((rng.uniform(0.1, 3) * H, "record_callback", answers))
            if answers["resolved"] and answers["satisfaction"] != "unsatisfied":
                return plan
        plan.append((2 * H, "close_unresolved", {"reason": "no remedy", "approver": "leader"}))
        return plan

    def _clock_steps(self) -> list[Step]:
        if not self.clock_steps or self.rng.random() >= self.clock_steps:
            return []
        if self.rng.random() < 0.5:
            why = {"by": "1d", "reason": "parts on order", "explained": "sms", "approver": "lead"}
            return [(self.rng.uniform(0.5, 4) * H, "extend", why)]
        pause = (self.rng.uniform(0.5, 4) * H, "pause", {"reason": "citizen away"})
        return [pause, (self.rng.uniform(2, 30) * H, "resume", {})]

    def _answers(self) -> dict[str, Any]:
        draw = self.rng.random()
        if draw < 0.82:
            return {"resolved": True, "satisfaction": "satisfied"}
        if draw < 0.90:
            return {"resolved": True, "satisfaction": "basic"}
        if draw < 0.95:
            return {"resolved": False, "satisfaction": "basic"}
        return {"resolved": False, "satisfaction": "unsatisfied"}


def run(
    service: Service,
    clock: FrozenClock,
    tickets: int,
    days: int,
    seed: int,
    progress: Callable[[int], None] | None = None,
    sweep: timedelta = H,
    definition: str = loader.DEFAULT,
    clock_steps: float = 0,
    relay: Callable[[], object] | None = None,
) -> Outcome:
    """Submit ``tickets`` tickets over ``days`` days from the clock's time and play their plans.

    ``relay``, if given, runs after each sweep (the daemon's outbox relay applying the
    commands of the rungs that fired); ``clock_steps``: see ``Planner``.
    """
    rng = random.Random(seed)
    planner = Planner(service.compiled(definition).definition, rng, clock_steps)
    start, end = clock.now(), clock.now() + timedelta(days=days)
    queue: list[tuple[datetime, int, int, Any]] = []  # (when, ticket number, step, payload)
    for number in range(tickets):
        day, hour = rng.randrange(days), rng.choices(range(24), HOURS)[0]
        at = start + timedelta(days=day, hours=hour, minutes=rng.uniform(0, 60))
        intake = planner.intake()
        heapq.heappush(queue, (at, number, -1, (intake, planner.steps(intake))))
    daemon = _Daemon(Sweeper(service, owner="simulate"), relay)
    return _play(service, clock, queue, end, sweep, progress, definition, daemon)


@dataclass(frozen=True)
class _Daemon:
    """What the daemon does at each sweep: fire the due rungs, then (if given) relay."""

    sweeper: Sweeper
    relay: Callable[[], object] | None

    def sweep(self) -> None:
        self.sweeper.sweep()
        if self.relay is not None:
            self.relay()


def _play(
    service: Service,
    clock: FrozenClock,
    queue: list[tuple[datetime, int, int, Any]],
    end: datetime,
    every: timedelta,
    progress: Callable[[int], None] | None,
    definition: str,
    sweeper: _Daemon,
) -> Outcome:
    ids, plans = {}, {}
    commands = refused = whistles = 0
    next_sweep = clock.now() + every
    while queue and queue[0][0] < end:
        at, number, index, payload = heapq.heappop(queue)
        while next_sweep <= at:  # the daemon would have fired what fell due meanwhile
            clock.set(next_sweep)
            sweeper.sweep()
            next_sweep += every
        clock.set(at)
        if index < 0:
            intake, plans[number] = payload
            ids[number] = service.submit(intake, actor="operator", definition=definition).id
            if progress:
                progress(1)
        else:
            trigger, fields = payload
            if not _fire(service, ids[number], trigger, fields, at):
                refused += 1  # the rest of the plan is dropped
                continue
            commands += 1
            whistles += trigger == "whistle"
        if index + 1 < len(plans[number]):
            wait, trigger, fields = plans[number][index + 1]
            heapq.heappush(queue, (at + wait, number, index + 1, (trigger, fields)))
    clock.set(end)
    sweeper.sweep()
    return Outcome(len(ids), commands, refused, end, whistles)


def _fire(
    service: Service, ticket_id: int, trigger: str, fields: dict[str, Any], at: datetime
) -> bool:
    """Fire one planned step at ``at``; False if refused (it met a state the sweeper changed).
    A ``timedelta`` field is a moment relative to the step (a conference, a task's due date)."""
    try:
        service.fire(ticket_id, trigger, at_moments(fields, at), actor="simulate")
    except CommandError:
        return _taken_already(service, ticket_id, trigger)
    return True


def at_moments(fields: dict[str, Any], at: datetime) -> dict[str, Any]:
    """A step's fields with each ``timedelta`` turned into the moment that long after ``at``."""
    return fields | {k: at + v for k, v in fields.items() if isinstance(v, timedelta)}


def _taken_already(service: Service, ticket_id: int, trigger: str) -> bool:
    """Whether a due deadline already moved the ticket where ``trigger`` leads (Art. 23: the
    callback a citizen would have asked for early started by itself at expiry)."""
    ticket = service.get(ticket_id)
    definition = service.compiled(ticket.definition, ticket.definition_version).definition
    arrived = any(t.trigger == trigger and t.dest == ticket.state for t in definition.transitions)
    return arrived and trigger not in service.allowed(ticket)
