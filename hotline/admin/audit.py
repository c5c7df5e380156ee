"""What auditors run: verify the hash chains, seal their heads, rebuild a ticket at an instant.

A chain proves tampering only if its head is kept where the database administrator cannot
rewrite it (DESIGN.md principle 5): ``seal`` writes the root of a Merkle tree over every
ticket's head to the database *and* to a file (``merkle_seal``); ``verify`` checks every chain,
then checks the chains against the latest seal, so a ticket deleted whole since then is named
too. Seals written before the Merkle tree (they list every head) still verify, as legacy.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from hotline import errors
from hotline.admin import merkle_seal
from hotline.engine import history as chain
from hotline.engine import replay
from hotline.engine.ticket import Event, Ticket
from hotline.persistence import history, rows
from hotline.persistence.history import Head, Seal
from hotline.service import Service

UPLOADED = "the seal given"
EXPORT_FORMATS = ("jsonl", "csv")


@dataclass
class Report:
    """What ``verify`` found: one line per broken ticket or event."""

    checked: int = 0
    problems: list[str] = field(default_factory=list)
    seal: Seal | None = None

    @property
    def ok(self) -> bool:
        return not self.problems


def verify(
    service: Service,
    ticket_id: int | None = None,
    seal_file: Path | None = None,
    on_ticket: Callable[[], None] = lambda: None,
    seal_text: str | None = None,
) -> Report:
    """Recompute every chain (or one ticket's) and check them against the latest seal (or the
    seal in ``seal_file``, or the text of one given as ``seal_text``): one ticket by its
    inclusion proof, all by recomputing the root."""
    problems: list[str] = []
    given = None
    if seal_file is not None:
        given = read_seal(seal_file), str(seal_file)
    elif seal_text is not None:
        given = parse_seal(seal_text, UPLOADED), UPLOADED
    report = Report(seal=_seal_to_check(service, given, problems), problems=problems)

    def checked(head: Head, events: list[Event], against_seal: list[str]) -> None:
        broken = chain.broken_links(events) + chain.broken_head(events, head.seq, head.hash)
        report.problems.extend(f"ticket {head.ticket_id}: {why}" for why in broken + against_seal)
        report.checked += 1
        on_ticket()

    sealed = report.seal
    if sealed is None or sealed.legacy:
        _verify_legacy(service, ticket_id, report, checked)
    elif ticket_id is None:
        report.problems += merkle_seal.every(service, sealed, checked)
    else:
        for head, events in history.chains(service.store, ticket_id):
            checked(head, events, merkle_seal.one(service, sealed, head, events))
    return report


def _verify_legacy(
    service: Service,
    ticket_id: int | None,
    report: Report,
    checked: Callable[[Head, list[Event], list[str]], None],
) -> None:
    """Against a seal listing every head (before 0007), or against no seal at all."""
    sealed = dict(report.seal.heads) if report.seal else {}
    for head, events in history.chains(service.store, ticket_id):
        checked(
            head, events, _against_seal(events, sealed.pop(str(head.ticket_id), None), report.seal)
        )
    if ticket_id is None and report.seal:
        report.problems += [
            f"ticket {gone}: existed at the seal of {report.seal.day} and is gone"
            for gone in sealed
        ]


def _seal_to_check(
    service: Service, given: tuple[Seal, str] | None, problems: list[str]
) -> Seal | None:
    """The seal to check against: the latest stored, or ``given`` (a seal, and where it came
    from) once it is found in the database."""
    stored = history.latest_seal(service.store)
    if given is None:
        seal = stored
    else:
        seal, origin = given
        if stored is None or stored.digest != seal.digest:
            problems.append(f"the database's latest seal is not the one in {origin}")
        if not seal.legacy:
            seal = _with_rows(service, seal, origin, problems)
    if seal is not None:
        problems += _self_check(seal)
    return seal


def _with_rows(service: Service, seal: Seal, origin: str, problems: list[str]) -> Seal | None:
    """The file's seal, pointing at its leaves in the database (found by its digest)."""
    row = history.seal_by_digest(service.store, seal.digest)
    if row is None:
        problems.append(f"no seal in the database is the one in {origin}: its tree is gone")
        return None
    return dataclasses.replace(seal, id=row.id)


def _self_check(seal: Seal) -> list[str]:
    if not seal.legacy:
        return merkle_seal.self_check(seal)
    if _digest(seal.heads) != seal.digest:
        return [f"the seal of {seal.day} does not match its own digest"]
    return []


def _against_seal(events: list[Event], sealed: list[Any] | None, seal: Seal | None) -> list[str]:
    if sealed is None or seal is None:
        return []
    seq, head = sealed
    at = next((e for e in events if e.seq == seq), None)
    if at is None or at.hash != head:
        return [f"event {seq} is not the one sealed on {seal.day}"]
    return []


def _digest(heads: dict[str, Any]) -> str:
    ordered = sorted((int(k), v[0], v[1]) for k, v in heads.items())
    return chain.heads_digest(ordered)


def seal(service: Service, path: Path | None = None) -> Seal:
    """Seal every chain head now (a Merkle root in the database); also write it to ``path``."""
    sealed = merkle_seal.seal(service)
    if path is not None:
        text = json.dumps(merkle_seal.as_json(sealed), indent=1) + "\n"
        path.write_text(text, encoding="utf-8")
    return sealed


def seals(service: Service, limit: int) -> list[Seal]:
    """The latest ``limit`` seals, newest first (without a legacy seal's heads)."""
    return history.seal_listing(service.store, limit)


def seal_file(service: Service, seal_id: int) -> tuple[Seal, dict[str, Any]]:
    """A stored seal and the content of its file, as ``seal`` wrote it."""
    found = history.seal_by_id(service.store, seal_id)
    if found is None or not found.digest:
        raise errors.NotFound(f"no seal {seal_id}")
    if not found.legacy:
        return found, merkle_seal.as_json(found)
    legacy = {"day": found.day, "sealed_at": found.sealed_at.isoformat(), "tickets": found.tickets}
    return found, legacy | {"digest": found.digest, "heads": dict(found.heads)}


def read_seal(path: Path) -> Seal:
    """A seal written by ``seal`` (or a legacy one, listing every head); a clear error if the
    file is missing or not a seal."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise errors.HotlineError(f"cannot read the seal file {path}: {error}") from None
    return parse_seal(text, f"the seal file {path}")


def parse_seal(text: str, origin: str) -> Seal:
    """The seal in ``text`` (a seal file's content); a clear error naming ``origin`` if the
    text is not a seal."""
    try:
        data = json.loads(text)
        if "root" in data:
            return merkle_seal.from_json(data)
        return Seal(
            data["day"],
            datetime.fromisoformat(data["sealed_at"]),
            data["tickets"],
            data["digest"],
            data["heads"],
        )
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        raise errors.HotlineError(f"cannot read {origin}: not a seal ({error})") from None


def as_of(service: Service, ticket_id: int, at: datetime | None) -> Ticket | None:
    """The ticket as it was at ``at`` (now if None), rebuilt from its events alone.

    A history that does not verify is refused (HistoryTampered), never shown: each event must
    match its own hash and follow the one before (an edited payload), and the chain must end
    at the head the ticket row recorded (its last events deleted)."""
    current = service.get(ticket_id)
    events = service.history(ticket_id)
    if problems := chain.broken_links(events):
        raise HistoryTampered(ticket_id, _first_broken(events), problems)
    if problems := chain.broken_head(events, current.seq, current.head_hash):
        raise HistoryTampered(ticket_id, current.seq, problems)
    version = replay.first_version(events, current.definition_version)
    compiled = lambda v: service.compiled(current.definition, v)  # noqa: E731
    return replay.rebuild(events, current.definition, version, compiled, at)


class HistoryTampered(replay.ReplayMismatch):
    """A ticket's history fails verification, so no state is rebuilt from it."""

    def __init__(self, ticket_id: int, seq: int, problems: list[str]) -> None:
        super().__init__(ticket_id, seq, "; ".join(problems))
        self.problems = problems


def _first_broken(events: list[Event]) -> int:
    """The seq of the first event whose link or content does not verify."""
    return next(
        (e.seq for i, e in enumerate(events) if chain.broken_links(events[: i + 1])),
        events[-1].seq if events else 0,
    )


def export(service: Service, since: datetime, until: datetime | None = None) -> Iterator[Event]:
    """Every event from ``since`` (up to ``until``), in the order they were written."""
    return history.stream(service.store, since, until)


def export_lines(found: Iterable[Event], fmt: str) -> Iterator[str]:
    """The events as JSON lines, or as CSV with a header (the payload as JSON in its column)."""
    if fmt not in EXPORT_FORMATS:
        raise errors.HotlineError(f"unknown format {fmt!r}; choose jsonl or csv")
    if fmt == "jsonl":
        yield from (json.dumps(_record(e), ensure_ascii=False) + "\n" for e in found)
        return
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=rows.EVENT_FIELDS)
    writer.writeheader()
    for event in found:
        record = _record(event)
        writer.writerow(record | {"payload": json.dumps(record["payload"], ensure_ascii=False)})
        yield out.getvalue()
        out.seek(0)
        out.truncate()
    yield out.getvalue()


def _record(event: Event) -> dict[str, Any]:
    return rows.event_values(event) | {"occurred_at": event.occurred_at.isoformat()}
