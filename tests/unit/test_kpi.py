"""The assessment's arithmetic: rates from counts, composite, verdicts, ranks, periods."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from hotline.engine import kpi, periods
from hotline.engine.definition import KpiSettings, KpiWeights
from hotline.engine.kpi import Counts, Verdict
from hotline.engine.periods import Period, PeriodError

PRACTICE = KpiSettings()
EVEN = KpiSettings(weights=KpiWeights(response=0.10, resolution=0.45, satisfaction=0.45))


def answers(**by_kind: int) -> tuple[tuple[bool, str, int], ...]:
    """answers(yes_satisfied=3, no_basic=1) -> the sorted triples Counts keeps."""
    found = []
    for key, n in by_kind.items():
        resolved, level = key.split("_")
        found.append((resolved == "yes", level, n))
    return tuple(sorted(found))


def test_the_published_monthly_averages_give_the_published_composites():
    # DOMAIN.md: the seed street's 100 / 97.01 / 97.57 give 97.53 (practice), 97.56 (even).
    rates = (100, 97.01, 97.57)

    assert round(kpi.composite(*rates, PRACTICE.weights), 2) == 97.53
    assert round(kpi.composite(*rates, EVEN.weights), 2) == 97.56
    assert round(kpi.composite(*rates, EVEN.weights, adjustment=0.2), 2) == 97.76


def test_rates_are_over_valid_callbacks_with_basic_satisfaction_worth_point_nine():
    counts = Counts(
        assessed=12,
        responded=11,
        callbacks_responded=9,
        answers=answers(yes_satisfied=6, yes_basic=2, no_basic=1, no_unsatisfied=1),
    )

    rates = kpi.rates(counts, PRACTICE)

    assert (rates.response, rates.resolution) == (90.0, 80.0)
    assert rates.satisfaction == pytest.approx(100 * (6 + 0.9 * 3) / 10)
    assert rates.composite == pytest.approx(0.1 * 90 + 0.5 * 80 + 0.4 * 87)


def test_the_assessed_denominator_puts_the_response_rate_over_every_assessed_ticket():
    settings = KpiSettings(denominator="assessed")
    counts = Counts(
        assessed=12, responded=9, callbacks_responded=2, answers=answers(yes_satisfied=2)
    )

    assert kpi.rates(counts, settings).response == 75.0


def test_nothing_rated_gives_no_rates_and_no_composite():
    assert kpi.rates(Counts(received=3, assessed=3), PRACTICE) == kpi.Rates(None, None, None, None)


@pytest.mark.parametrize(
    ("basic_counts", "expected"),
    [(True, (3, 1, 2)), (False, (2, 1, 3))],
)
def test_verdicts_follow_the_basic_satisfaction_setting(basic_counts, expected):
    settings = KpiSettings(basic_counts_as_satisfied=basic_counts)
    counts = Counts(answers=answers(yes_satisfied=2, yes_basic=1, no_unsatisfied=1, no_basic=1))

    tally = kpi.verdicts(counts, settings)

    assert (
        tally[Verdict.BOTH_YES],
        tally[Verdict.BOTH_NO],
        tally[Verdict.NOT_BOTH_YES],
    ) == expected


def test_counts_add_up_field_by_field_and_answer_by_answer():
    one = Counts(received=2, assessed=1, answers=answers(yes_satisfied=1))
    other = Counts(received=1, assessed=1, answers=answers(yes_satisfied=2, no_basic=1))

    assert one + other == Counts(
        received=3, assessed=2, answers=answers(yes_satisfied=3, no_basic=1)
    )


def test_counts_taken_n_times_are_n_of_them_added_up():
    one = Counts(received=1, direct=1, assessed=1, answers=answers(yes_satisfied=1, no_basic=2))

    assert one * 3 == one + one + one
    assert one * 0 + one == one


def test_ties_share_a_rank_as_published_and_the_unrated_have_none():
    assert kpi.rank([90.0, 95.004, 95.001, None, 80.0]) == [3, 1, 1, None, 4]


def test_change_and_growth_need_both_sides():
    assert kpi.change(86.6, 100.0) == pytest.approx(-13.4)
    assert kpi.change(86.6, None) is None
    assert kpi.growth(30, [10, 20, 30]) == 50.0
    assert kpi.growth(5, [0, 0]) is None


@pytest.mark.parametrize(
    ("text", "start", "grain", "count", "label"),
    [
        ("2022-07", date(2022, 7, 1), "month", 1, "2022-07"),
        ("2022-01..2022-07", date(2022, 1, 1), "month", 7, "2022-01..2022-07"),
        ("2022-07-15", date(2022, 7, 15), "day", 1, "2022-07-15"),
        ("2022-W28", date(2022, 7, 11), "week", 1, "2022-W28"),
        ("2022", date(2022, 1, 1), "year", 1, "2022"),
    ],
)
def test_periods_are_read_in_every_form(text, start, grain, count, label):
    period = periods.parse(text)

    assert (period.start, period.grain, period.count, period.label) == (start, grain, count, label)


def test_the_previous_period_has_the_same_length():
    assert periods.parse("2022-01..2022-07").previous().label == "2021-06..2021-12"
    assert periods.parse("2022-03-01").previous().label == "2022-02-28"


def test_a_beijing_month_starts_at_four_in_the_afternoon_utc_the_day_before():
    from zoneinfo import ZoneInfo

    start, end = periods.parse("2022-07").instants(ZoneInfo("Asia/Shanghai"))

    assert (start, end) == (
        datetime(2022, 6, 30, 16, tzinfo=UTC),
        datetime(2022, 7, 31, 16, tzinfo=UTC),
    )


def test_weeks_inside_a_month_are_clipped_to_it():
    buckets = Period(date(2022, 7, 1), "month").buckets("week", UTC)

    assert [name for name, _, _ in buckets] == [f"2022-W{n}" for n in range(26, 31)]
    assert buckets[0][1] == datetime(2022, 7, 1, tzinfo=UTC)
    assert buckets[-1][2] == datetime(2022, 8, 1, tzinfo=UTC)


@pytest.mark.parametrize("text", ["2022-13", "July", "2022-07..2022-07-15", "2022-07..2022-01"])
def test_unreadable_periods_are_refused_with_the_text(text):
    with pytest.raises(PeriodError, match="period"):
        periods.parse(text)
