"""Published rankings (月通报) frozen as sealed snapshots, and their comparison with a
recomputation.

``publish`` computes a period's rates by unit under the rules in force in the period (or the
version the admin names), stores the document once with a seal (SHA-256 over its canonical
JSON with the period, rules, cut-off and publisher), and never replaces it: publishing new
weights later changes a recomputation, never what was published. ``compare`` recomputes the
period under the snapshot's own rules and cut-off and says, row by row, what differs, and
whether the seal still matches the stored document (a changed row would break it).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from hotline import errors
from hotline.engine import history
from hotline.engine.periods import Period
from hotline.persistence import snapshots
from hotline.persistence.snapshots import Snapshot
from hotline.reports import assessment, documents
from hotline.service import Service
from hotline.workflows import loader

SEALED = ("definition", "period", "by", "rules", "as_of", "published_by", "document")


def seal(snapshot: Snapshot) -> str:
    """The SHA-256 of the snapshot's sealed fields, as canonical JSON."""
    content = {key: getattr(snapshot, key) for key in SEALED}
    content["as_of"] = snapshot.as_of.isoformat()
    return history.canonical_hash(content)


def publish(
    service: Service,
    period: Period,
    published_by: str,
    definition: str = loader.DEFAULT,
    rules: int | None = None,
    as_of: datetime | None = None,
) -> Snapshot:
    """Freeze ``period``'s ranking of units; raise AlreadyPublished if it already is."""
    now = service.clock.now()
    cut = (as_of or now).astimezone(UTC)
    report = assessment.rates(
        service, period, "unit", as_of=cut, definition=definition, rules=rules
    )
    document = documents.rates(report)
    unsealed = Snapshot(
        definition, report.period, "unit", report.rules, cut, now, published_by, document, ""
    )
    sealed = Snapshot(**{**unsealed.__dict__, "seal": seal(unsealed)})
    number = snapshots.add(service.store, sealed)
    return Snapshot(**{**sealed.__dict__, "id": number})


def published(service: Service, definition: str | None = None) -> list[Snapshot]:
    return snapshots.listing(service.store, definition)


@dataclass(frozen=True)
class Difference:
    group: str
    field: str
    published: Any
    recomputed: Any


@dataclass(frozen=True)
class Comparison:
    snapshot: Snapshot
    intact: bool  # the seal matches the stored document
    differences: list[Difference]

    def record(self) -> dict[str, Any]:
        s = self.snapshot
        return {
            "definition": s.definition,
            "period": s.period,
            "rules": s.rules,
            "published_at": s.published_at.isoformat(),
            "seal": s.seal,
            "intact": self.intact,
            "differences": [d.__dict__ for d in self.differences],
        }


def compare(service: Service, period: Period, definition: str = loader.DEFAULT) -> Comparison:
    """The published snapshot of ``period`` against a recomputation under its own rules."""
    found = snapshots.find(service.store, definition, period.label)
    if found is None:
        raise errors.HotlineError(f"{definition} {period.label} has not been published")
    version = int(found.rules.rsplit("@", 1)[1])
    report = assessment.rates(
        service, period, "unit", as_of=found.as_of, definition=definition, rules=version
    )
    now = documents.rates(report)["rows"]
    return Comparison(found, seal(found) == found.seal, _differences(found.document["rows"], now))


def _differences(published_rows: list[dict], recomputed: list[dict]) -> list[Difference]:
    before = {r["group"]: r for r in published_rows}
    after = {r["group"]: r for r in recomputed}
    found = []
    for group in sorted(before.keys() | after.keys()):
        old, new = before.get(group, {}), after.get(group, {})
        for key in sorted(old.keys() | new.keys()):
            if old.get(key) != new.get(key):
                found.append(Difference(group, key, old.get(key), new.get(key)))
    return found
