"""A workflow definition: the pydantic models of the YAML an admin edits.

The keys follow the vocabulary of the ``transitions`` library (``states``, ``trigger``,
``source``, ``dest``, ``conditions``, ``unless``, ``before``, ``after``), so a definition reads
like the Machine it compiles to. Shapes are checked here; names and reachability in ``checks``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Hashable, Iterable
from enum import StrEnum, auto
from typing import Annotated, Any, Literal, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    field_validator,
    model_validator,
)

from hotline.engine import durations
from hotline.errors import InvalidField

MAX_SPAN = durations.Span(days=366)  # longer than a year cannot be meant
MAX_ROUNDS = 10  # re-dispatch rounds, and rungs of a supervision ladder


def _sane(value: durations.Span) -> durations.Span:
    if value.days * 86_400 + value.seconds > MAX_SPAN.days * 86_400:  # ints: never overflow
        raise ValueError(f"duration {value} is longer than a year ({MAX_SPAN})")
    return value


Duration = Annotated[
    durations.Span,
    BeforeValidator(durations.parse),
    AfterValidator(_sane),
    PlainSerializer(str),
]
FieldType = Literal[
    "str", "text", "int", "float", "bool", "datetime", "duration", "list", "enum", "ticket"
]  # ticket: the id of an existing ticket, linked both ways (e.g. a repeat's original)
CategoryKind = Literal["consultation", "emergency", "utility", "ordinary", "complex"]
UnitKind = Literal["street", "township", "district", "department", "utility", "city"]
ANY_STATE = "*"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    def memo(self, key: Hashable, make: Callable[[], T]) -> T:
        """``make()``, worked out once for this value and ``key``: what the engine derives from
        a frozen definition alone (the deadline rules of a state for a category and urgency,
        a rule's ladder…) need not be derived again for every command."""
        found = self.__dict__.get("_memo")
        if found is None or found[0] != id(self):  # a model_copy copies __dict__: start afresh
            found = self.__dict__["_memo"] = (id(self), {})
        values = found[1]
        kept = values.get(key, values)  # the dict itself: nothing kept yet (None may be kept)
        if kept is values:
            kept = values[key] = make()
        return kept


class Measure(StrEnum):
    """How a deadline's window is counted."""

    CALENDAR = "calendar"  # wall-clock hours, nights and holidays included
    WORKING = "working"  # working time on the definition's calendar


class ClockEffect(StrEnum):
    """What a transition does to the ticket's running deadlines."""

    PAUSE = auto()  # stop every running clock (waiting on the citizen)
    RESUME = auto()  # restart them where they stopped


class Performer(StrEnum):
    """Who performs a transition: what the API's roles are checked against.

    A unit token may fire a transition whose performers include its part in the ticket; the
    centre's operator fires everything but what only a supervisor signs off; a supervisor fires
    everything. ``system`` marks what a deadline or the engine fires by itself (an operator may
    still fire it by hand).
    """

    OPERATOR = auto()  # the centre's operator (受理, 派单, 回访)
    LEAD_UNIT = auto()  # the unit the ticket is dispatched to (主办)
    CO_UNIT = auto()  # a co-handling unit (协办)
    WHISTLING_UNIT = auto()  # the unit running the ticket's whistle (吹哨)
    SUMMONED_DEPARTMENT = auto()  # a department the whistle summons (报到)
    SUPERVISOR = auto()  # a leader signing off (剔除, closing unresolved)
    SYSTEM = auto()  # fired by a deadline or the engine


class Counts(StrEnum):
    """What a transition counts for in the assessment (三率); see ``KpiSettings``."""

    DISPATCH = auto()  # the ticket enters the assessment (派单)
    RESPONSE = auto()  # first contact; late if it missed ``kpi.response_deadline`` (响应)
    EXCLUSION = auto()  # out of the assessment (剔除)
    REDISPATCH = auto()  # its destination is a re-handling round (再派件)
    CALLBACK = "callback_answers"  # its fields hold the answers, read through ``kpi.answers``


class FieldSpec(_Strict):
    """One field of a command (the data a trigger carries)."""

    type: FieldType = "str"
    required: bool = False
    values: tuple[str, ...] = ()
    description: str = ""

    @model_validator(mode="after")
    def _enum_has_values(self) -> FieldSpec:
        if self.type == "enum" and not self.values:
            raise ValueError("an enum field needs its list of values")
        return self


class Command(_Strict):
    """A command an escalation fires on its ticket, after commit (e.g. an automatic whistle)."""

    trigger: str
    fields: dict[str, Any] = {}


class Escalation(_Strict):
    """A rung of the supervision ladder (督办): fires ``after`` the due time has passed."""

    level: int = Field(ge=1, le=MAX_ROUNDS)
    after: Duration = durations.Span()
    notify: str = "notify_supervisor"
    command: Command | None = None


class DeadlineRule(_Strict):
    """A time limit opened when its state is entered and closed when the state is left."""

    kind: str
    within: Duration
    measure: Measure = Measure.CALENDAR
    categories: tuple[str, ...] = ()  # category codes; empty: every category
    kinds: tuple[CategoryKind, ...] = ()  # category kinds (utility, complex…); empty: every kind
    urgency: tuple[str, ...] = ()  # empty: every urgency
    closed_by: tuple[str, ...] = ()  # triggers that meet the deadline without leaving the state
    remind_at: float | None = Field(default=None, gt=0, lt=1)  # share of the window
    on_due: str | None = None  # a trigger fired on the ticket when the deadline falls due
    # Due when the ticket's deadline of this kind, closed as the state was entered, was due
    # (Art. 23: the callback starts when the handling limit expires; at once if that passed);
    # ``within`` applies when there was none.
    until: str | None = None
    notify: str = "notify_unit"  # told of the reminder and of the missed due time
    escalate: tuple[Escalation, ...] = Field(default=(), max_length=MAX_ROUNDS)

    @field_validator("within")
    @classmethod
    def _positive(cls, value: durations.Span) -> durations.Span:
        if not value:
            raise ValueError("a deadline window must be longer than zero")
        return value


class StateSpec(_Strict):
    name: str
    description: str = ""
    deadlines: tuple[DeadlineRule, ...] = ()


class TransitionSpec(_Strict):
    trigger: str
    source: tuple[str, ...]
    dest: str | None = None  # None: stay in the source state (an internal transition)
    conditions: tuple[str, ...] = ()
    unless: tuple[str, ...] = ()
    before: tuple[str, ...] = ()  # engine actions on the ticket
    after: tuple[str, ...] = ()  # handlers run from the outbox after commit
    fields: dict[str, FieldSpec] = {}
    clock: ClockEffect | None = None  # stop or restart the ticket's deadlines
    extends: tuple[str, ...] = ()  # deadline kinds moved by the command's ``by`` field
    performer: tuple[Performer, ...] = (Performer.OPERATOR,)  # who may fire it
    counts: tuple[Counts, ...] = ()  # what it counts for in the assessment
    description: str = ""

    @field_validator(
        "source",
        "conditions",
        "unless",
        "before",
        "after",
        "extends",
        "performer",
        "counts",
        mode="before",
    )
    @classmethod
    def _one_or_many(cls, value: object) -> object:
        return (value,) if isinstance(value, str) else value


class Category(_Strict):
    code: str
    name: str
    kind: CategoryKind = "ordinary"
    unit: str | None = None  # the unit answerable by default (e.g. the utility company)
    # What intake may ask about a demand of this category (Open311 service attributes); the
    # answers are kept in the ticket's fields.
    fields: dict[str, FieldSpec] = {}


class Unit(_Strict):
    """A handling unit: a street or township, a district, a department, a utility company.

    ``district`` places a unit in its district for reports (区级转派 and rankings);
    ``supervisor`` is who is told when it misses a deadline (督办).
    """

    code: str
    name: str
    kind: UnitKind
    district: str | None = None
    supervisor: str | None = None


class WhistleSettings(_Strict):
    """How a whistle (吹哨报到) is timed: the default report window, how it is measured, and the
    handler told when a department misses its report deadline or a task its due date."""

    within: Duration = durations.parse("24h")
    measure: Measure = Measure.CALENDAR
    notify: str = "notify_supervisor"

    def rule(self, kind: str) -> DeadlineRule:
        """The rule a whistle's deadline of ``kind`` fires by: one rung, at the due time."""
        return DeadlineRule(kind=kind, within=self.within, measure=self.measure, notify=self.notify)


class KpiWeights(_Strict):
    response: float = Field(ge=0, le=1)
    resolution: float = Field(ge=0, le=1)
    satisfaction: float = Field(ge=0, le=1)


class Answers(_Strict):
    """Where a callback keeps its answers: the yes/no field for 解决, the field for 满意, and
    which of its values is which level (satisfied 满意, basic 基本满意, unsatisfied 不满意)."""

    resolved: str
    satisfaction: str
    levels: dict[str, Literal["satisfied", "basic", "unsatisfied"]]


class RouteSpec(_Strict):
    """The dispatch field and value that mean "forwarded via a district" (区级转派)."""

    field: str
    value: str


class KpiSettings(_Strict):
    """How the three rates (三率) and the composite score are computed; see DOMAIN.md.

    ``denominator``: ``callbacks`` puts every rate over the valid callbacks (the ``practice``
    reading); ``assessed`` puts the response rate over every assessed ticket (dispatched, not
    剔除) and the other two over the valid callbacks. ``counted_callback``: which callback of a
    re-dispatched ticket is assessed, its ``last`` (the outcome after re-handling) or ``first``.
    """

    weights: KpiWeights = KpiWeights(response=0.10, resolution=0.50, satisfaction=0.40)
    basic_factor: float = Field(default=0.9, ge=0, le=1)  # weight of 基本满意 in satisfaction
    basic_counts_as_satisfied: bool = True  # does 基本满意 make a callback 双是?
    denominator: Literal["callbacks", "assessed"] = "callbacks"
    counted_callback: Literal["last", "first"] = "last"
    response_deadline: str | None = None  # the deadline kind a timely response meets
    answers: Answers | None = None  # the fields of the transitions that count as callback
    via_district: RouteSpec | None = None  # how a dispatch says it went through a district


class Definition(_Strict):
    name: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    title: str = ""
    calendar: str = "calendar-hours"
    initial: str  # the state a ticket is received in (default: the first declared)
    final: str  # the state a ticket is closed in (default: the one no transition leaves)
    round_limit: int = Field(default=3, ge=1, le=MAX_ROUNDS)
    round_record: tuple[str, ...] = ()  # event fields that make a handling round's record
    urgencies: tuple[str, ...] = ("normal", "urgent")
    channels: tuple[str, ...] = ("phone", "app", "web", "open311", "proactive", "enterprise")
    public_notes: tuple[str, ...] = ()  # fields shown to the public as status notes, first wins
    kpi: KpiSettings = KpiSettings()
    whistle: WhistleSettings = WhistleSettings()
    categories: tuple[Category, ...] = ()
    units: tuple[Unit, ...] = ()
    states: tuple[StateSpec, ...]
    transitions: tuple[TransitionSpec, ...]
    # What people call a state or a trigger (受理, 派单): shown for the code where a screen
    # speaks the definition's language; a code without a label is shown as it is. Cosmetic:
    # a label left over for a trigger a draft removed is ignored, not refused.
    labels: dict[str, Annotated[str, Field(min_length=1, max_length=40)]] = {}

    @model_validator(mode="before")
    @classmethod
    def _default_ends(cls, data: Any) -> Any:
        """Definitions stored before ``initial`` and ``final`` were required still load: the
        first state declared, and the only state no transition leaves (``*`` aside)."""
        if not isinstance(data, dict) or ("initial" in data and "final" in data):
            return data
        states = [s.get("name") for s in data.get("states") or () if isinstance(s, dict)]
        left = set()
        for t in data.get("transitions") or ():
            source = t.get("source") if isinstance(t, dict) else None
            left |= {source} if isinstance(source, str) else set(source or ())
        ends = [name for name in states if name not in left]
        defaults = {"initial": states[0] if states else None}
        if len(ends) == 1:
            defaults["final"] = ends[0]
        return {**{k: v for k, v in defaults.items() if v is not None}, **data}

    def state(self, name: str) -> StateSpec:
        return self._by_name[name]

    def label(self, code: str) -> str:
        """The label of a state or trigger, or the code itself."""
        return self.labels.get(code, code)

    def category(self, code: str) -> Category | None:
        return self._categories.get(code)

    def unit(self, code: str) -> Unit | None:
        return self._units.get(code)

    # Lookups by name in constant time (the first of a name, as the checks require unique
    # ones): a definition with thousands of states stays linear to check and to run.
    @functools.cached_property
    def _by_name(self) -> dict[str, StateSpec]:
        return _first_by(self.states, "name")

    @functools.cached_property
    def _categories(self) -> dict[str, Category]:
        return _first_by(self.categories, "code")

    @functools.cached_property
    def _units(self) -> dict[str, Unit]:
        return _first_by(self.units, "code")

    def require_units(self, field: str, codes: Iterable[str], what: str = "unit") -> None:
        """Refuse a code the ``units`` catalogue does not declare, naming it and the field."""
        for code in codes:
            if self.unit(code) is None:
                known = ", ".join(u.code for u in self.units)
                raise InvalidField(field, f"unknown {what} {code!r}; known units: {known}")

    @property
    def state_names(self) -> list[str]:
        return [s.name for s in self.states]


T = TypeVar("T")


def _first_by(items: Iterable[Any], key: str) -> dict[Any, Any]:
    found: dict[Any, Any] = {}
    for item in items:
        found.setdefault(getattr(item, key), item)
    return found
