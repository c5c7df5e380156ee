"""Whistle coordination (吹哨报到): a unit summons departments to one ticket; each must report.

A ``Whistle`` is a frozen value on its ticket's snapshot (``Ticket.whistle``): the latest one,
open or closed. It changes only through the definition's whistle transitions, whose ``before``
actions (``engine.actions``) call the pure steps of ``whistle_steps``.
"""

from __future__ import annotations

from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict

from hotline.engine import deadlines
from hotline.errors import InvalidField

Status = Literal["summoned", "absent", "reported", "declined", "excused"]
WAITING = ("summoned", "absent")  # still owes its report
SETTLED = ("reported", "excused")
CLOSED, ABSENT, TASK_OVERDUE = "whistle_closed", "whistle_absent", "whistle_task_overdue"
SETTLED_REASON = "every department reported or was excused and every task is done"


class _Value(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Participant(_Value):
    """A summoned department: its report deadline and its answer."""

    department: str
    summoned_at: AwareDatetime
    due_at: AwareDatetime
    status: Status = "summoned"
    answered_at: AwareDatetime | None = None
    in_time: bool | None = None  # reported by its due time
    absences: int = 0  # times its report deadline passed unanswered
    person: str | None = None
    note: str | None = None
    reason: str | None = None  # of a decline


class Conference(_Value):
    """联席会商: a joint conference on the case."""

    held_at: AwareDatetime
    attendees: tuple[str, ...]
    decisions: str


class Task(_Value):
    """A share of the work a conference gave a department, due by a date."""

    no: int
    owner: str
    title: str
    due_at: AwareDatetime
    conference: int  # 1-based index into the whistle's conferences
    done_at: AwareDatetime | None = None
    overdue: bool = False
    note: str | None = None


class Whistle(_Value):
    no: int  # 1, 2… on its ticket
    whistler: str  # the unit that blew the whistle
    reason: str
    opened_at: AwareDatetime
    participants: tuple[Participant, ...]
    conferences: tuple[Conference, ...] = ()
    tasks: tuple[Task, ...] = ()
    closed_at: AwareDatetime | None = None
    close_reason: str | None = None

    @property
    def open(self) -> bool:
        return self.closed_at is None

    @property
    def scope(self) -> str:
        """The ``state`` of this whistle's deadlines."""
        return f"{deadlines.WHISTLE}{self.no}"

    @property
    def missing(self) -> list[str]:
        return [p.department for p in self.participants if p.status in WAITING]

    @property
    def finished(self) -> bool:
        """Open, yet every participant reported or was excused and every task is done."""
        settled = all(p.status in SETTLED for p in self.participants)
        return self.open and settled and all(t.done_at for t in self.tasks)

    def participant(self, department: str) -> Participant:
        found = next((p for p in self.participants if p.department == department), None)
        if found is None:
            summoned = ", ".join(p.department for p in self.participants)
            raise InvalidField(
                "department",
                f"{department!r} was not summoned by whistle {self.no}; summoned: {summoned}",
            )
        return found

    def task(self, no: int) -> Task:
        found = next((t for t in self.tasks if t.no == no), None)
        if found is None:
            raise InvalidField("task", f"whistle {self.no} has no task {no}")
        return found


# The key a ticket's whistle goes by in event payloads, outbox messages, rows and errors (and the
# definition's section of whistle settings): the model's own name, lower-cased.
KEY = Whistle.__name__.lower()
