"""The assessment reads what a workflow says its transitions mean, not their names: the same
simulated month gives the figures it was built with on every shipped workflow, and a mechanical
renaming of every trigger and state of beijing-12345 gives the same rates, ranks and
permissions."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flavours import BEIJING, SHIPPED, Flavour, renamed_source
from simulated_month import play_month

from hotline.engine import access
from hotline.engine.access import Principal, Role
from hotline.engine.periods import parse as period
from hotline.reports import assessment

MARCH = period("2026-03")
SUFFIX = "_v2"


@pytest.mark.parametrize("flavour", SHIPPED, ids=[f.name for f in SHIPPED])
def test_the_simulated_month_gives_the_figures_it_was_built_with(service, clock, flavour):
    # Given a seeded month of tickets played through this workflow's names
    _, expected = play_month(service, clock, flavour)
    as_of = clock.now() + timedelta(days=60)

    # When the month's rates are reported by unit under the workflow's own rules
    report = assessment.rates(service, MARCH, "unit", as_of=as_of, definition=flavour.name)

    # Then every count is the one built, and the rates follow this workflow's kpi settings
    settings = service.compiled(flavour.name).definition.kpi
    assert report.rules == f"{flavour.name}@1"
    for row in report.rows:
        c, g = row.counts, row.group
        built = {k: expected[g, k] for k in ("received", "direct", "via_district", "excluded")}
        assert {k: getattr(c, k) for k in built} == built, g
        if g == "(none)":
            continue
        redone = expected[g, "redispatched"]
        if not settings.basic_counts_as_satisfied:
            redone += expected[g, "solved_basic"]
        assert (c.assessed, c.callbacks, c.redispatched) == (
            expected[g, "assessed"],
            expected[g, "callbacks"],
            redone,
        )
        assert c.count(resolved=True) == expected[g, "resolved"]
        assert c.count(satisfaction="basic") == expected[g, "basic"]
        valid = expected[g, "callbacks"]
        assert row.rates.response == pytest.approx(100 * expected[g, "responded"] / valid)
        # solved callbacks answer "satisfied" or "basic"; unsolved ones "basic"
        basic = expected[g, "basic"]
        happy = valid - basic + settings.basic_factor * basic
        assert row.rates.satisfaction == pytest.approx(100 * happy / valid)
        assert row.rates.resolution == pytest.approx(100 * expected[g, "resolved"] / valid)


def test_renaming_every_trigger_and_state_changes_no_rate_rank_or_permission(service, clock):
    # Given beijing-12345 and a mechanical copy whose every trigger and state is renamed
    service.publish(renamed_source(BEIJING, SUFFIX), "renamed.yaml")
    renamed = BEIJING.renamed(SUFFIX)
    start = clock.now()

    # When the same simulated month is played through each
    original_ids, _ = play_month(service, clock, BEIJING)
    clock.set(start)
    renamed_ids, _ = play_month(service, clock, renamed)
    as_of = start + timedelta(days=60)

    # Then the rates, ranks and verdicts are the same, row for row
    def records(f: Flavour) -> list[dict]:
        report = assessment.rates(service, MARCH, "unit", as_of=as_of, definition=f.name)
        return [r.record() for r in report.rows] + [report.total.record()]

    assert records(renamed) == records(BEIJING)
    assert records(BEIJING)[-1]["callbacks"] > 0  # the total: something was rated
    # And every principal may fire the same triggers (renamed) on the same tickets
    for before, after in zip(original_ids, renamed_ids, strict=True):
        assert _permissions(service, before, BEIJING) == _permissions(service, after, renamed)


def _permissions(service, ticket_id: int, f: Flavour) -> dict:
    """Who may fire what on the ticket, triggers named by their part (beijing's names)."""
    ticket = service.get(ticket_id)
    definition = service.compiled(ticket.definition, ticket.definition_version).definition
    part_of = {trigger: part for part, trigger in f.triggers.items()}
    units = (f.street, f.other_street, *f.departments)
    principals = [Principal(1, r.value, r) for r in Role if r is not Role.UNIT]
    principals += [Principal(2, u, Role.UNIT, u) for u in units]
    triggers = {t.trigger for t in definition.transitions}
    return {
        p.name: sorted(
            part_of.get(t, t.removesuffix(SUFFIX))
            for t in triggers
            if access.may_fire(p, t, ticket, definition)
        )
        for p in principals
    }
