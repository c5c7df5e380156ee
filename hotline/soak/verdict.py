"""The soak's verdict: the database read back and compared with what the clients were told
and what the daemons logged. Each promise is one count that must be zero."""

from __future__ import annotations

import statistics
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from hotline.admin import audit
from hotline.engine.decide import SUBMIT
from hotline.engine.escalation import FIRE_COMMAND, FIRED
from hotline.persistence import integrity
from hotline.service import Service
from hotline.soak.clients import ACTOR, Tally
from hotline.soak.daemons import Replica


@dataclass
class Verdict:
    tickets: int = 0
    commands: int = 0
    rungs: int = 0
    messages: int = 0
    replies_lost: int = 0  # replies the clients did not get: they sent the request again
    busy_retries: int = 0  # calls retried while a paused replica held the database
    p99_late: float = 0.0  # service seconds after a rung fell due until it fired
    lost: int = 0  # intake, messages or commands the clients were told of and are not there
    duplicated: int = 0  # two tickets for a key, a command or a rung applied twice
    unfired: int = 0  # rungs due before the checkpoint and not fired
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (self.lost or self.duplicated or self.unfired or self.problems)


def judge(service: Service, tally: Tally, replicas: list[Replica], before: datetime) -> Verdict:
    """Every check; ``before``: the checkpoint by which the daemons had time to fire and
    deliver everything that fell due or was written (later rows may still be in flight)."""
    verdict = Verdict(replies_lost=tally.lost_replies, busy_retries=tally.busy_retries)
    _intake(service, tally, verdict)
    _commands(service, tally, verdict)
    _firings(service, before, verdict)
    _messages(service, replicas, before, verdict)
    report = audit.verify(service)
    verdict.problems += report.problems[:20]
    late = sorted(x for r in replicas for x in r.lateness)
    verdict.p99_late = statistics.quantiles(late, n=100)[98] if len(late) > 1 else 0.0
    return verdict


def _intake(service: Service, tally: Tally, verdict: Verdict) -> None:
    stored = integrity.tickets_by_key(service.store, ACTOR)
    verdict.tickets = len(stored)
    lost = [key for key, ticket_id in tally.tickets.items() if stored.get(key) != [ticket_id]]
    verdict.lost += len(lost) + len(tally.key_mismatches)
    verdict.duplicated += sum(len(ids) - 1 for ids in stored.values())
    verdict.problems += [
        f"intake {key}: told {tally.tickets[key]}, stored {stored.get(key)}" for key in lost[:10]
    ]
    verdict.problems += [f"intake {m}" for m in tally.key_mismatches[:10]]


def _commands(service: Service, tally: Tally, verdict: Verdict) -> None:
    """Each command a client saw applied is in the history exactly once (its lost-reply
    repeat refused), and none it was refused on is."""
    recorded = integrity.commands_by(service.store, ACTOR)
    recorded = Counter({c: n for c, n in recorded.items() if c[1] != SUBMIT})  # intake: above
    verdict.commands = tally.applied.total()
    for command in tally.applied.keys() | recorded.keys():
        told, found = tally.applied[command], recorded[command]
        if told != found:
            verdict.lost += max(0, told - found)
            verdict.duplicated += max(0, found - told)
            verdict.problems.append(f"command {command}: told applied {told}, recorded {found}")


def _firings(service: Service, before: datetime, verdict: Verdict) -> None:
    verdict.rungs = integrity.firing_count(service.store)
    mismatched = integrity.firings_without_one_event(service.store, FIRED)
    verdict.duplicated += len(mismatched)
    verdict.problems += [f"deadline {d}: firing rows and events differ" for d in mismatched[:10]]
    verdict.unfired = integrity.due_unfired(service.store, before)


def _messages(service: Service, replicas: list[Replica], before: datetime, v: Verdict) -> None:
    """Every message written before ``before`` was delivered (a rung's command may be refused
    by the engine: parked dead with its refusal in the history), and every handler that logs
    its deliveries logged this one at least once."""
    messages = integrity.messages(service.store, before)
    logged = set().union(*(r.notified for r in replicas))
    v.messages = len(messages)
    for m in messages:
        refused_command = m.handler == FIRE_COMMAND and m.status == "dead"
        if m.status != "delivered" and not refused_command:
            v.lost += 1
            v.problems.append(f"message {m.key} ({m.handler}) {m.status}")
        elif m.handler != FIRE_COMMAND and m.key not in logged:
            v.lost += 1
            v.problems.append(f"message {m.key} ({m.handler}) delivered but never handled")
