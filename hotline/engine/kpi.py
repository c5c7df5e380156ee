"""The assessment (考评): callback verdicts now; the three rates (三率) build on them."""

from __future__ import annotations

from enum import StrEnum

from hotline.engine.definition import KpiSettings


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
