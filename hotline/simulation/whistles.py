"""Whistles in a simulation (吹哨报到): which tickets whistle, whom, and how each one answers.

A complex (复杂疑难) or basic-utility (水电气热) ticket may be whistled by its lead unit after its
first response: 2–4 departments or utility companies of the definition's ``units`` (of the
lead's district, or city-wide companies). Most report in time; some report late, after the
sweeper has marked them absent; a few never do, and the whistling unit closes the whistle;
now and then one declines and the whistling unit excuses it or overrules it (it reports
afresh); a joint conference (联席会商) with a task happens now and then. The ticket replies
only once the whistle is closed (the definition's guard). Every draw comes from the
simulation's one seeded generator, so the same seed gives the same whistles.

A field given as a ``timedelta`` (a conference's time, a task's due date) is a moment
relative to the step: ``simulate`` resolves it when it plays the step.
"""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any

from hotline.engine.definition import Definition

H = timedelta(hours=1)
Step = tuple[timedelta, str, dict[str, Any]]  # wait before the step, trigger, fields
Timed = tuple[float, str, dict[str, Any]]  # hours after the whistle, trigger, fields
SHARE = {"complex": 0.5, "utility": 0.15}  # of the tickets of a kind, whistled
WITHIN = {"complex": 24.0, "utility": 8.0}  # report window in hours (the leak: next morning)
REASON = {
    "complex": "a hard case that needs several departments",
    "utility": "a basic-utility fault that needs the company and the site's managers",
}
SUMMONED = ("department", "utility")
CONFERENCE = 0.25


class WhistlePlanner:
    """Draws a ticket's whistle, if it has one, as steps between its response and its reply."""

    def __init__(self, definition: Definition, rng: random.Random) -> None:
        self.rng = rng
        self.units = [u for u in definition.units if u.kind in SUMMONED]
        self.districts = {u.code: u.district for u in definition.units}

    def steps(self, kind: str, whistler: str) -> list[Step]:
        """The whistle's steps, or none (most tickets are never whistled)."""
        rng = self.rng
        candidates = self._candidates(whistler)
        if kind not in SHARE or rng.random() >= SHARE[kind] or len(candidates) < 2:
            return []
        to = rng.sample(candidates, rng.randint(2, min(4, len(candidates))))
        within = WITHIN[kind]
        answers = [self._answers(department, within) for department in to]
        timed = sorted((step for steps in answers for step in steps), key=lambda s: s[0])
        never = not all(answers)  # someone never reports: the whistle does not close by itself
        if rng.random() < CONFERENCE:
            timed = self._with_conference(timed, [whistler, *to], never)
        if never:
            end = max([within, *(t for t, _, _ in timed)]) + rng.uniform(4, 24)
            timed.append((end, "whistle_close", {"reason": "the rest is handled without them"}))
        opened = {"to": to, "within": f"{within:g}h", "reason": REASON[kind]}
        return [(rng.uniform(0.5, 4) * H, "whistle", opened), *_waits(timed)]

    def _candidates(self, whistler: str) -> list[str]:
        """Departments of the whistler's district and the city-wide companies, or all."""
        district = self.districts.get(whistler)
        return [
            u.code
            for u in self.units
            if u.code != whistler and (district is None or u.district in (district, None))
        ]

    def _answers(self, department: str, within: float) -> list[Timed]:
        """How one department answers, in hours after the whistle; [] if it never reports."""
        rng, draw = self.rng, self.rng.random()
        if draw < 0.72:
            return [(rng.uniform(0.1, 0.9) * within, "whistle_report", _report(department))]
        if draw < 0.84:  # late: the sweeper marks it absent before it shows up
            return [(within + rng.uniform(1.5, 12), "whistle_report", _report(department))]
        if draw < 0.95:
            return self._declines(department, within)
        return []

    def _declines(self, department: str, within: float) -> list[Timed]:
        rng = self.rng
        said = rng.uniform(0.1, 0.5) * within
        ruled = said + rng.uniform(0.5, 4)
        who = {"department": department}
        declined = (said, "whistle_decline", who | {"reason": "not our matter"})
        if rng.random() < 0.6:
            return [declined, (ruled, "whistle_accept_decline", who | {"note": "agreed"})]
        again = {"reason": "the pipes are yours", "within": f"{within:g}h"}
        reports = ruled + rng.uniform(0.2, 0.8) * within
        return [
            declined,
            (ruled, "whistle_reject_decline", who | again),
            (reports, "whistle_report", _report(department)),
        ]

    def _with_conference(
        self, timed: list[Timed], attendees: list[str], never: bool
    ) -> list[Timed]:
        """A conference and its task before the last answer (which would close the whistle),
        and the task done after it."""
        rng = self.rng
        head, last = (timed, []) if never or not timed else (timed[:-1], timed[-1:])
        at = (head[-1][0] if head else 1.0) + 0.5
        meeting = {"held_at": timedelta(0), "attendees": attendees, "decisions": "shares agreed"}
        task = {
            "owner": rng.choice(attendees[1:]),
            "title": "do the agreed share",
            "due": timedelta(days=rng.uniform(2, 6)),
        }
        done_at = max([at, *(t for t, _, _ in last)]) + rng.uniform(6, 72)
        return [
            *head,
            (at, "whistle_conference", meeting),
            (at + 0.2, "whistle_task", task),
            *last,
            (done_at, "whistle_task_done", {"task": 1, "note": "done"}),
        ]


def _report(department: str) -> dict[str, Any]:
    return {"department": department, "person": "duty officer"}


def _waits(timed: list[Timed]) -> list[Step]:
    """Hours after the whistle into waits between steps (in the given order)."""
    steps, before = [], 0.0
    for at, trigger, fields in timed:
        steps.append((max(0.0, at - before) * H, trigger, fields))
        before = max(before, at)
    return steps
