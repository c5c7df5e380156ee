"""The shipped workflows as tests drive them: one ``Flavour`` per definition, naming its triggers,
states, fields, units and categories by the part they play, so one test runs on every workflow.

``renamed`` makes the mechanical copy of a flavour whose every trigger and state has another
name (the rename test publishes the matching YAML copy).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Any

from hotline.workflows import loader

# The parts a trigger plays, named after beijing-12345's (the first shipped workflow).
PARTS = (
    "answer", "dispatch", "respond", "return", "extend", "pause", "resume", "reply", "whistle",
    "whistle_report", "whistle_decline", "whistle_accept_decline", "whistle_reject_decline",
    "whistle_conference", "whistle_task", "whistle_task_done", "whistle_close",
    "start_callback", "record_callback", "redispatch", "close_unresolved", "exclude",
)  # fmt: skip
STATES = ("received", "dispatched", "handled", "callback", "re-dispatched", "closed")


@dataclass(frozen=True)
class Flavour:
    name: str
    triggers: dict[str, str]  # part -> trigger
    states: dict[str, str]  # part -> state
    route: tuple[str, str, str]  # dispatch field, direct value, via-district value
    answers: tuple[str, str, dict[str, str]]  # resolved field, satisfaction field, level -> value
    respond_fields: dict[str, Any]
    reply_fields: dict[str, Any]
    answer_fields: dict[str, Any]
    street: str  # a street-level unit
    other_street: str
    utility: str  # the unit a utility category names
    departments: tuple[str, ...]  # units a whistle summons
    category: str  # an ordinary category
    utility_category: str
    consultation: str

    def t(self, part: str) -> str:
        return self.triggers[part]

    def s(self, part: str) -> str:
        return self.states[part]

    def dispatch(self, unit: str, via: bool = False, co_units=None) -> tuple[str, dict]:
        key, direct, through = self.route
        fields = {"lead_unit": unit, key: through if via else direct}
        if co_units:
            fields["co_units"] = list(co_units)
        return self.t("dispatch"), fields

    def respond(self) -> tuple[str, dict]:
        return self.t("respond"), dict(self.respond_fields)

    def reply(self) -> tuple[str, dict]:
        return self.t("reply"), dict(self.reply_fields)

    def callback(self, resolved: bool, level: str) -> tuple[str, dict]:
        solved, satisfaction, levels = self.answers
        return self.t("record_callback"), {solved: resolved, satisfaction: levels[level]}

    def exclude(self) -> tuple[str, dict]:
        return self.t("exclude"), {"approver": "leader", "reason": "a duplicate"}

    def answer(self) -> tuple[str, dict]:
        return self.t("answer"), dict(self.answer_fields)

    def whistle(self, to, within: str = "24h") -> tuple[str, dict]:
        return self.t("whistle"), {"to": list(to), "within": within, "reason": "joint case"}

    def report(self, department: str) -> tuple[str, dict]:
        return self.t("whistle_report"), {"department": department, "person": "duty officer"}

    def handled(self, resolved: bool = True, level: str = "satisfied") -> list[tuple[str, dict]]:
        """Respond, reply, start the callback and record its answers."""
        return [
            self.respond(),
            self.reply(),
            (self.t("start_callback"), {}),
            self.callback(resolved, level),
        ]  # noqa: E501

    def renamed(self, suffix: str) -> Flavour:
        """The flavour of the mechanical copy whose triggers and states end in ``suffix``."""
        return replace(
            self,
            name=self.name + "-renamed",
            triggers={p: t + suffix for p, t in self.triggers.items()},
            states={p: s + suffix for p, s in self.states.items()},
        )


BEIJING = Flavour(
    name="beijing-12345",
    triggers={p: p for p in PARTS},
    states={s: s for s in STATES},
    route=("route", "direct", "via_district"),
    answers=(
        "resolved",
        "satisfaction",
        {"satisfied": "satisfied", "basic": "basic", "unsatisfied": "unsatisfied"},
    ),
    respond_fields={"method": "phone"},
    reply_fields={"opinion": "done"},
    answer_fields={"answer": "opening hours"},
    street="street-jianwai",
    other_street="street-chaowai",
    utility="water-group",
    departments=("chaoyang-housing", "chaoyang-urban", "chaoyang-roads"),
    category="noise",
    utility_category="water-supply",
    consultation="policy-consultation",
)

CITY_311 = Flavour(
    name="city-311",
    triggers={
        "answer": "inform",
        "dispatch": "route",
        "respond": "acknowledge",
        "return": "bounce",
        "extend": "postpone",
        "pause": "hold",
        "resume": "unhold",
        "reply": "complete",
        "whistle": "summon",
        "whistle_report": "check_in",
        "whistle_decline": "pass",
        "whistle_accept_decline": "excuse",
        "whistle_reject_decline": "overrule",
        "whistle_conference": "huddle",
        "whistle_task": "action_item",
        "whistle_task_done": "action_item_done",
        "whistle_close": "end_visit",
        "start_callback": "open_survey",
        "record_callback": "log_survey",
        "redispatch": "reassign",
        "close_unresolved": "close_unfixed",
        "exclude": "void",
    },
    states={
        "received": "new",
        "dispatched": "assigned",
        "handled": "completed",
        "callback": "survey",
        "re-dispatched": "reopened",
        "closed": "done",
    },
    route=("path", "straight", "via_ward"),
    answers=("fixed", "rating", {"satisfied": "happy", "basic": "okay", "unsatisfied": "unhappy"}),
    respond_fields={"how": "call"},
    reply_fields={"work_notes": "patched"},
    answer_fields={"info": "the dump opens at 8"},
    street="streets-north",
    other_street="streets-south",
    utility="water-utility",
    departments=("sanitation", "police-parking", "power-utility"),
    category="pothole",
    utility_category="water-main",
    consultation="city-info",
)

SHIPPED = (BEIJING, CITY_311)
VOCABULARY = ("counts:", "clock:", "performer:")  # keys whose values are the engine's words


def renamed_source(flavour: Flavour, suffix: str) -> str:
    """The YAML of ``flavour``'s definition with every trigger and state name suffixed.

    Mechanical: each name is replaced as a whole word wherever it stands (keys' values, lists,
    ``closed_by``, ``on_due``, escalation commands), and the definition gets a new name.
    """
    text = loader.shipped_text(flavour.name)
    shipped = loader.parse(text, flavour.name)
    every = {t.trigger for t in shipped.transitions} | set(shipped.state_names)
    names = sorted(every, key=len, reverse=True)
    # A name as a value, never a key (a field may share a trigger's name) nor part of a word.
    pattern = re.compile(r"(?<![\w-])(" + "|".join(map(re.escape, names)) + r")(?![\w:-])")
    head, body = text.split("\nstates:", 1)
    head = head.replace(f"name: {flavour.name}", f"name: {flavour.name}-renamed", 1)
    head = re.sub(r"^(initial|final): (\S+)", lambda m: f"{m[1]}: {m[2]}{suffix}", head, flags=re.M)
    lines = [
        line if line.strip().startswith(VOCABULARY) else pattern.sub(lambda m: m[1] + suffix, line)
        for line in (line.split(" #", 1)[0].rstrip() for line in body.splitlines())
    ]
    return head + "\nstates:" + "\n".join(lines)
