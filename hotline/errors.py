"""Every error Hotline raises on purpose.

    HotlineError
    ├── DefinitionError          a workflow definition is invalid (.problems, each with its line)
    ├── CommandError             a command cannot be applied to a ticket
    │   ├── IllegalTransition    trigger not allowed in this state (.state, .trigger, .allowed)
    │   ├── GuardRejected        the trigger's conditions do not hold (.trigger, .failed)
    │   ├── MissingField         a required field is absent (.field)
    │   └── InvalidField         a field has the wrong type or value (.field)
    ├── AlreadyFired             a deadline rung was fired by someone else first
    ├── CalendarError            a date the business calendar cannot place (unknown year)
    ├── StaleVersion             the ticket changed since the caller read it (.expected, .actual)
    ├── Busy                     a wait for a lock or statement ran out; nothing was written
    ├── KeyReused                a client's idempotency key came with another request (.key)
    └── NotFound (LookupError)
        ├── UnknownTicket        (.ticket_id)
        └── UnknownDefinition    (.name, .version)

Messages are written for the person who made the mistake: they name the state, field or line.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


class HotlineError(Exception):
    """Root of Hotline's errors; the CLI prints these as one line, without a traceback."""


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a definition: where (path in the document, line) and what."""

    message: str
    path: tuple[str | int, ...] = ()
    line: int | None = None

    def __str__(self) -> str:
        where = f"line {self.line}: " if self.line else ""
        return f"{where}{self.message}"


class DefinitionError(HotlineError):
    def __init__(self, problems: Sequence[Problem], source: str = "definition") -> None:
        self.problems = list(problems)
        self.source = source
        listed = "\n".join(f"  {source}:{p}" for p in self.problems)
        super().__init__(f"{source} has {len(self.problems)} problem(s):\n{listed}")


class CommandError(HotlineError):
    """A command was refused; nothing was written."""


class IllegalTransition(CommandError):
    def __init__(self, state: str, trigger: str, allowed: Sequence[str]) -> None:
        self.state, self.trigger, self.allowed = state, trigger, list(allowed)
        options = ", ".join(self.allowed) or "none (the ticket is final)"
        super().__init__(f"cannot {trigger!r} a ticket in state {state!r}; allowed: {options}")


class GuardRejected(CommandError):
    def __init__(self, trigger: str, state: str, failed: Sequence[str]) -> None:
        self.trigger, self.state, self.failed = trigger, state, list(failed)
        super().__init__(
            f"{trigger!r} from {state!r} refused: condition(s) not met: {', '.join(self.failed)}"
        )


class MissingField(CommandError):
    def __init__(self, trigger: str, field: str) -> None:
        self.trigger, self.field = trigger, field
        super().__init__(f"{trigger!r} needs the field {field!r}")


class InvalidField(CommandError):
    def __init__(self, field: str, reason: str) -> None:
        self.field, self.reason = field, reason
        super().__init__(f"field {field!r}: {reason}")


class AlreadyFired(HotlineError):
    """The (deadline, rung) firing row exists: another sweeper fired it first."""


class CalendarError(HotlineError):
    """The calendar has no schedule for a date: never guess a holiday."""


class StaleVersion(HotlineError):
    def __init__(self, ticket_id: int, expected: int, actual: int) -> None:
        self.ticket_id, self.expected, self.actual = ticket_id, expected, actual
        super().__init__(
            f"ticket {ticket_id} is at version {actual}, not {expected}: "
            "someone else changed it; reload and try again"
        )


class Busy(HotlineError):
    """The database did not grant a lock (or finish a statement) in time: another process
    holds it, perhaps stopped. Nothing was written; the same command may be retried."""

    def __init__(self, why: str) -> None:
        self.why = why
        super().__init__(f"the database is busy: {why}; nothing was written, try again")


class Unavailable(HotlineError):
    """The database could not be reached (the server down, the database or file missing, access
    refused): nothing was written. Or the connection was ``lost`` during a transaction: if that
    was while committing, the change may be stored, so a retry must carry the same idempotency
    key or version, which refuses a repeat instead of applying it twice."""

    def __init__(self, where: str, why: str, lost: bool = False) -> None:
        self.where, self.why = where, why
        if lost:
            super().__init__(
                f"lost the connection to the database {where}: {why}; a change being committed"
                " may have been written: retry with the same idempotency key or version"
            )
        else:
            super().__init__(f"cannot reach the database {where}: {why}; nothing was written")


class KeyReused(HotlineError):
    """A client's idempotency key came again with a different request (IETF Idempotency-Key)."""

    def __init__(self, key: str, ticket_id: int) -> None:
        self.key, self.ticket_id = key, ticket_id
        super().__init__(
            f"idempotency key {key!r} was first used for ticket {ticket_id} with a different"
            " request; send a new key for a new request"
        )


class NotFound(HotlineError, LookupError):
    pass


class UnknownTicket(NotFound):
    def __init__(self, ticket_id: object) -> None:
        self.ticket_id = ticket_id
        super().__init__(f"no ticket {ticket_id}")


class UnknownDefinition(NotFound):
    def __init__(self, name: str, version: int | None = None) -> None:
        self.name, self.version = name, version
        which = f"{name}@{version}" if version is not None else name
        super().__init__(f"no workflow definition {which}")
