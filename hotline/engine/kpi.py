"""The assessment (考评): callback verdicts, the three rates (三率), composite score, ranking.

Everything here is arithmetic on counts the database has already summed (see
``persistence/reports``); nothing here reads a ticket. The rules, from DOMAIN.md:

- assessed: a dispatched ticket not excluded (剔除);
- responded in time: every response deadline the ticket had was met by a ``respond`` on time
  (none went overdue, none was met late), and there was at least one response;
- a valid callback: the counted callback (``KpiSettings.counted_callback``: the ticket's last
  or its first) of an assessed ticket;
- response rate = responded in time / valid callbacks (``denominator: callbacks``) or /
  assessed (``denominator: assessed``); resolution rate = resolved / valid callbacks;
  satisfaction rate = (satisfied + basic_factor × basically satisfied) / valid callbacks;
- composite = Σ weight × rate (rates in percent) + the bonus and penalty points of the period;
- 双是 = resolved and satisfied (基本满意 counts if ``basic_counts_as_satisfied``), 双否 =
  unresolved and not satisfied, 非双是 = every valid callback that is not 双是.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from hotline.engine import values
from hotline.engine.definition import KpiSettings, KpiWeights

SATISFACTION = ("satisfied", "basic", "unsatisfied")


class Verdict(StrEnum):
    """How a callback (回访) classifies a ticket."""

    BOTH_YES = "双是"  # solved and satisfied
    BOTH_NO = "双否"  # neither solved nor satisfied
    NOT_BOTH_YES = "非双是"  # any valid callback that is not 双是 (双否 included)


def satisfied(satisfaction: str | None, kpi: KpiSettings) -> bool:
    """Does this answer count as satisfied? 基本满意 (basic) counts if the definition says so."""
    return satisfaction == "satisfied" or (
        satisfaction == "basic" and kpi.basic_counts_as_satisfied
    )


def verdict(resolved: bool, satisfaction: str, kpi: KpiSettings) -> Verdict:
    happy = satisfied(satisfaction, kpi)
    if resolved and happy:
        return Verdict.BOTH_YES
    if not resolved and satisfaction == "unsatisfied":
        return Verdict.BOTH_NO
    return Verdict.NOT_BOTH_YES


@values.frozen
class Counts:
    """What the database counts for one group of tickets (a unit, a day, a category…).

    ``answers`` holds the valid callbacks by (resolved, satisfaction) as sorted triples, so
    that every verdict and rate can be derived under any KpiSettings.
    """

    received: int = 0
    direct: int = 0
    via_district: int = 0
    excluded: int = 0
    assessed: int = 0
    responded: int = 0  # assessed and responded in time
    redispatched: int = 0  # assessed and handled in more than one round
    callbacks_responded: int = 0  # valid callbacks whose ticket responded in time
    answers: tuple[tuple[bool, str, int], ...] = ()

    def __add__(self, other: Counts) -> Counts:
        mine, theirs = self.__dict__, other.__dict__  # a what-if adds one per ticket and side
        summed = {name: mine[name] + theirs[name] for name in _SUMMED}
        tally: dict[tuple[bool, str], int] = {}
        for resolved, level, n in (*self.answers, *other.answers):
            tally[(resolved, level)] = tally.get((resolved, level), 0) + n
        return Counts(**summed, answers=tuple(sorted((r, s, n) for (r, s), n in tally.items())))

    def __mul__(self, times: int) -> Counts:
        """These counts ``times`` over: tickets that counted alike, added up at once."""
        mine = self.__dict__
        scaled = {name: mine[name] * times for name in _SUMMED}
        return Counts(**scaled, answers=tuple((r, s, n * times) for r, s, n in self.answers))

    def count(self, resolved: bool | None = None, satisfaction: str | None = None) -> int:
        """Valid callbacks with these answers (None: any)."""
        return sum(
            n
            for r, s, n in self.answers
            if (resolved is None or r == resolved) and (satisfaction is None or s == satisfaction)
        )

    @property
    def callbacks(self) -> int:
        return self.count()


_SUMMED = tuple(f.name for f in dataclasses.fields(Counts) if f.name != "answers")


@dataclass(frozen=True)
class Rates:
    """The three rates and the composite, in percent; None where nothing could be rated."""

    response: float | None
    resolution: float | None
    satisfaction: float | None
    composite: float | None


def _share(part: float, whole: int) -> float | None:
    return 100 * part / whole if whole else None


def rates(counts: Counts, kpi: KpiSettings, adjustment: float = 0.0) -> Rates:
    """The 三率 and composite score of ``counts``; ``adjustment`` adds bonus/penalty points."""
    valid = counts.callbacks
    if kpi.denominator == "callbacks":
        response = _share(counts.callbacks_responded, valid)
    else:
        response = _share(counts.responded, counts.assessed)
    resolution = _share(counts.count(resolved=True), valid)
    happy = counts.count(satisfaction="satisfied") + kpi.basic_factor * counts.count(
        satisfaction="basic"
    )
    satisfaction = _share(happy, valid)
    if response is None or resolution is None or satisfaction is None:
        return Rates(response, resolution, satisfaction, None)
    score = composite(response, resolution, satisfaction, kpi.weights, adjustment)
    return Rates(response, resolution, satisfaction, score)


def composite(
    response: float,
    resolution: float,
    satisfaction: float,
    weights: KpiWeights,
    adjustment: float = 0.0,
) -> float:
    """综合评分: the weighted sum of the three rates (in percent), plus bonus/penalty points."""
    w = weights
    score = w.response * response + w.resolution * resolution + w.satisfaction * satisfaction
    return score + adjustment


def verdicts(counts: Counts, kpi: KpiSettings) -> dict[Verdict, int]:
    """How many valid callbacks are 双是, 双否 and 非双是."""
    tally = dict.fromkeys(Verdict, 0)
    for resolved, level, n in counts.answers:
        tally[verdict(resolved, level, kpi)] += n
    tally[Verdict.NOT_BOTH_YES] = counts.callbacks - tally[Verdict.BOTH_YES]
    return tally


def rank(scores: Sequence[float | None], places: int = 2) -> list[int | None]:
    """Competition ranks (1, 2, 2, 4) of ``scores``, highest first, compared as published
    (rounded to ``places`` decimals); an unscored group has no rank."""
    rounded = [None if s is None else round(s, places) for s in scores]
    ordered = sorted((s for s in rounded if s is not None), reverse=True)
    first = {}
    for place, score in enumerate(ordered, start=1):
        first.setdefault(score, place)
    return [None if s is None else first[s] for s in rounded]


def change(current: float | None, previous: float | None) -> float | None:
    """The change against the previous period, in points; None when either is missing."""
    if current is None or previous is None:
        return None
    return current - previous


def growth(current: int, earlier: Sequence[int]) -> float | None:
    """Growth of ``current`` over the average of ``earlier`` periods, in percent."""
    if not earlier or not sum(earlier):
        return None
    average = sum(earlier) / len(earlier)
    return 100 * (current - average) / average
