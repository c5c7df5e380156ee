"""``hotline demo``: about twenty tickets driven through every path of beijing-12345.

Each scenario is a list of steps (trigger, fields) with the time that passes before each, so
the histories read like a real week at a street office. Everything goes through the Service.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from hotline.clock import FrozenClock
from hotline.daemon.sweeper import Sweeper
from hotline.engine.ticket import Ticket
from hotline.service import Intake, Service

Step = tuple[str, dict[str, Any], timedelta]

H, M = timedelta(hours=1), timedelta(minutes=1)


def _dispatch(unit: str, route: str = "direct", co: str | None = None) -> Step:
    fields = {"lead_unit": unit, "route": route} | ({"co_units": co} if co else {})
    return ("dispatch", fields, 10 * M)


def _handle(opinion: str) -> list[Step]:
    return [("respond", {"method": "phone"}, 40 * M), ("reply", {"opinion": opinion}, 20 * H)]


def _callback(resolved: bool, satisfaction: str) -> list[Step]:
    """回访 an hour after the reply, early at the citizen's request (Art. 23 would otherwise
    start it when the unit's time limit expires: see the street-lights ticket)."""
    answers = {"resolved": resolved, "satisfaction": satisfaction}
    return [("start_callback", {}, 1 * H), ("record_callback", answers, 15 * M)]


def _solved(unit: str, opinion: str, satisfaction: str = "satisfied") -> list[Step]:
    return [_dispatch(unit), *_handle(opinion), *_callback(True, satisfaction)]


def _redo(unit: str) -> list[Step]:
    """One unsatisfied round, then solved (再派件、再处置、再验收)."""
    return [
        _dispatch(unit),
        *_handle("explained the rules to the citizen"),
        *_callback(False, "unsatisfied"),
        *_handle("repaired on the second visit"),
        *_callback(True, "satisfied"),
    ]


def _returned(first: str, second: str) -> list[Step]:
    """退单 (Art. 12): the first unit objects; the centre confirms and re-routes the ticket."""
    objection = {"reason": "the road belongs to the next street"}
    ruling = {"lead_unit": second, "reason": "the street map agrees"}
    return [
        _dispatch(first),
        ("return", objection, 2 * H),
        ("confirm_objection", ruling, 1 * H),
        *_handle("pothole filled"),
        *_callback(True, "satisfied"),
    ]


def _kept(unit: str) -> list[Step]:
    """退单 rejected: the unit keeps the ticket; its clock never stopped."""
    objection = {"reason": "the bins belong to the market, not the street"}
    ruling = {"reason": "the pavement by the market is the street's"}
    return [
        _dispatch(unit),
        ("return", objection, 2 * H),
        ("reject_objection", ruling, 1 * H),
        *_handle("bins emptied, collection added"),
        *_callback(True, "satisfied"),
    ]


@dataclass(frozen=True)
class Scenario:
    """A field value naming the ticket of another (earlier) scenario, by its number."""

    number: int


def _repeat_of(original: int) -> list[Step]:
    told = {"repeat_of": Scenario(original), "reason": "no new facts; told the progress"}
    return [("merge_repeat", told, 5 * M)]


def _whistled(street: str, departments: list[str]) -> list[Step]:
    """吹哨报到: the street summons every unit the repair needs; all report the next morning."""
    reports = [
        ("whistle_report", {"department": d, "person": f"{d} duty officer"}, wait)
        for d, wait in zip(departments, [14 * H] + [20 * M] * (len(departments) - 1), strict=True)
    ]
    summons = {"to": ",".join(departments), "reason": "a leaking main under a home"}
    return [
        _dispatch(street),
        ("respond", {"method": "visit"}, 30 * M),
        ("whistle", summons, 15 * M),
        *reports,
        ("reply", {"opinion": "main repaired, road and basement reinstated"}, 6 * H),
        *_callback(True, "satisfied"),
    ]


def _unresolved(unit: str) -> list[Step]:
    rounds = [*_handle("negotiated with the owner"), *_callback(False, "unsatisfied")]
    close = (
        "close_unresolved",
        {"reason": "private dispute, no lawful remedy", "approver": "street-leader-wang"},
        1 * H,
    )
    return [_dispatch(unit), *rounds * 3, close]


STREET_LIGHTS = 18  # replied, never called back by hand: the callback starts at expiry
LOUDSPEAKERS = 19  # the scenario the repeats below point to

SCENARIOS: Sequence[tuple[Intake, list[Step]]] = [
    (
        Intake("policy-consultation", "How to apply for a residence permit?"),
        [("answer", {"answer": "Explained the documents and the office hours"}, 6 * M)],
    ),
    (
        Intake("policy-consultation", "Opening hours of the social security office"),
        [("answer", {"answer": "Read out the opening hours"}, 3 * M)],
    ),
    (
        Intake("public-safety-hazard", "Smoke from a neighbour's flat", urgency="urgent"),
        [("refer", {"reason_code": "emergency", "to": "119", "reason": "fire"}, 1 * M)],
    ),
    (
        Intake("noise", "Wants the hotline to pick a soundproofing company"),
        [("decline", {"reason_code": "outside-government", "reason": "a market choice"}, 4 * M)],
    ),
    (
        Intake("market-regulation", "Wants the hotline to sue a shop"),
        [
            (
                "refer",
                {"reason_code": "legal-channel", "to": "district court", "reason": "a lawsuit"},
                5 * M,
            )
        ],
    ),
    (
        Intake("water-supply", "No water since this morning", channel="app"),
        _solved("water-group", "valve repaired, supply restored"),
    ),
    (Intake("heating", "Radiators cold in building 3"), _solved("heating-group", "bled the pipes")),
    (
        Intake("sanitation", "Rubbish not collected for 3 days"),
        _solved("street-jianwai", "collection rescheduled", "basic"),
    ),
    (Intake("noise", "Construction at night"), _solved("street-jianwai", "night work stopped")),
    (
        Intake("parking", "Cars block the fire lane", channel="web"),
        _solved("street-chaowai", "markings painted, patrols added"),
    ),
    (Intake("property-management", "Lift broken for a week"), _redo("street-chaowai")),
    (Intake("road-damage", "Pothole at the crossing"), _redo("street-jianwai")),
    (Intake("gas-supply", "Gas meter reading is wrong"), _redo("gas-group")),
    (
        Intake("road-damage", "Broken kerb outside school"),
        _returned("street-chaowai", "street-jianwai"),
    ),
    (
        Intake("sanitation", "Overflowing bins by the market"),
        _kept("street-jianwai"),
    ),
    (
        Intake("wage-arrears", "Unpaid wages at a building site"),
        [
            _dispatch("chaoyang-labour", "via_district"),
            (
                "exclude",
                {"approver": "street-leader-wang", "reason": "labour arbitration in progress"},
                2 * H,
            ),
        ],
    ),
    (Intake("property-management", "Neighbour's dog barks all day"), _unresolved("street-chaowai")),
    (
        Intake("illegal-construction", "Rooftop shed being built"),
        [
            _dispatch("street-chaowai", co="chaoyang-urban,chaoyang-planning"),
            ("respond", {}, 1 * H),
        ],
    ),
    (
        Intake("power-supply", "Street lights out on Main Road", channel="proactive"),
        [_dispatch("power-company"), *_handle("lamps replaced")],
    ),
    (Intake("noise", "Loudspeakers at the square every evening"), []),
    # Two more citizens about the same loudspeakers (Art. 11 repeats): one group of three.
    (Intake("noise", "Square dancing music too loud"), _repeat_of(LOUDSPEAKERS)),
    (Intake("noise", "Music at the square again"), _repeat_of(LOUDSPEAKERS)),
    (
        Intake("water-supply", "Water leaking from the main under our building"),
        _whistled(
            "street-jianwai", ["water-group", "water-repair", "jianwai-property", "chaoyang-roads"]
        ),
    ),
    (
        Intake("water-supply", "Burst main, no water in building 5", urgency="urgent"),
        [_dispatch("water-group"), ("respond", {"method": "visit"}, 30 * M)],
    ),  # and then nothing
]


UNIT_TRIGGERS = {"respond", "reply", "return", "extend", "whistle"}  # the rest are the centre's


def _timeline(start: datetime) -> list[tuple[datetime, int, int]]:
    """(when, scenario, step) for every step: intakes 7 minutes apart, steps after their wait."""
    moments = []
    for number, (_, steps) in enumerate(SCENARIOS):
        at = start + number * 7 * M
        moments.append((at, number, -1))  # -1: the intake itself
        for index, (_, _, wait) in enumerate(steps):
            at += wait
            moments.append((at, number, index))
    return sorted(moments)


def _sweep_until(service: Service, sweeper: Sweeper, clock: FrozenClock, until: datetime) -> None:
    """Fire every rung falling due before ``until`` at its own minute, as the daemon would."""
    while (due := service.store.next_fire_at()) is not None and due <= until:
        clock.set(max(due, clock.now()))
        if not sweeper.sweep():
            break  # nothing could fire (a stale row): leave it to the real daemon
    clock.set(until)


def run(service: Service, clock: FrozenClock) -> list[Ticket]:
    """Play every scenario, interleaved in time, ending about now; return the final tickets.

    Deadlines are swept before every step, as the daemon would have done meanwhile, so an
    unanswered ticket is reminded and escalated (督办) on time.
    """
    sweeper = Sweeper(service, owner="demo")
    moments = _timeline(clock.now())
    clock.set(clock.now() - (moments[-1][0] - moments[0][0]))  # so the week ends today
    offset = clock.now() - moments[0][0]
    tickets: dict[int, Ticket] = {}
    for at, number, index in moments:
        _sweep_until(service, sweeper, clock, at + offset)
        intake, steps = SCENARIOS[number]
        if index < 0:
            tickets[number] = service.submit(intake, actor="operator-017")
            continue
        trigger, fields, _ = steps[index]
        fields = {
            k: tickets[v.number].id if isinstance(v, Scenario) else v for k, v in fields.items()
        }
        ticket = tickets[number]
        actor = ticket.lead_unit if trigger in UNIT_TRIGGERS else fields.get("department")
        tickets[number] = service.fire(ticket.id, trigger, fields, actor=actor or "centre")
    _sweep_until(service, sweeper, clock, clock.now() + timedelta(hours=1))
    return [service.get(tickets[number].id) for number in sorted(tickets)]
