"""A soak from start to verdict: an empty database, replicas on a scaled clock, clients and
chaos for a while, a calm settle, then the checks."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from hotline import errors
from hotline.clock import ScaledClock
from hotline.persistence import integrity
from hotline.persistence.sql import SqlStore
from hotline.service import Service
from hotline.soak import verdict
from hotline.soak.clients import Clients
from hotline.soak.daemons import Replica

# Service time starts on a Monday morning in Beijing, so working-hours deadlines fall due
# during a short run.
SERVICE_START = datetime(2026, 3, 2, 8, 30, tzinfo=UTC) - timedelta(hours=8)
GRACE = 2.0  # real seconds the daemons get to fire a due rung or deliver a message


@dataclass(frozen=True)
class Plan:
    url: str
    seconds: float = 60.0  # of chaos, in real time
    replicas: int = 1
    speed: float = 3600.0  # service seconds per real second
    intake: float = 10.0  # new tickets per real second
    lost: float = 0.05  # the share of replies lost
    lease: float = 1.5  # real seconds a replica's claim holds
    safety: float = 0.2  # real seconds between sweeps
    seed: int = 1


@dataclass
class Chaos:
    kills: int = 0
    pauses: int = 0


def soak(plan: Plan, say: Callable[[str], None] = lambda _: None) -> tuple[verdict.Verdict, Chaos]:
    """Run ``plan`` on its database (which must hold no tickets) and judge it."""
    service = _prepare(plan.url)
    rng = random.Random(plan.seed)
    clock = ScaledClock(SERVICE_START, datetime.now(UTC), plan.speed)
    service.clock = clock
    lease = plan.lease * plan.speed
    replicas = [Replica(plan.url, clock.spec(), lease, plan.safety) for _ in range(plan.replicas)]
    for replica in replicas:
        replica.start()
    clients = Clients(service, rng, plan.lost)
    chaos = Chaos()
    try:
        say(
            f"soak: {plan.replicas} replica(s) on {plan.url}, {plan.seconds:.0f} s, x{plan.speed:g}"
        )
        _storm(plan, rng, clients, replicas, chaos)
        _calm(replicas, plan.lease + GRACE + 4 * plan.safety)
        checkpoint = clock.now() - timedelta(seconds=GRACE * plan.speed)
    finally:
        for replica in replicas:
            if replica.running:
                replica.stop()
    return verdict.judge(service, clients.tally, replicas, checkpoint), chaos


def _prepare(url: str) -> Service:
    store = SqlStore(url)
    store.migrate()
    service = Service(store)
    service.install_shipped()
    if found := integrity.ticket_count(store):
        raise errors.HotlineError(
            f"{url} holds {found} ticket(s): a soak checks every row, give it an empty database"
        )
    return service


def _storm(
    plan: Plan, rng: random.Random, clients: Clients, replicas: list[Replica], chaos: Chaos
) -> None:
    """Intake, commands and chaos for ``plan.seconds``: every second or two one replica is
    killed (restarted a moment later) or paused past its lease (then resumed)."""
    start = time.monotonic()
    next_ticket = next_blow = start
    # Restarts and resumes run on timers, not in this loop: a replica paused inside its write
    # transaction holds the SQLite lock, so the clients below wait on it until it resumes.
    wakes: list[threading.Timer] = []
    while (now := time.monotonic()) < start + plan.seconds:
        while next_ticket <= now:
            clients.submit()
            next_ticket += rng.expovariate(plan.intake)
        clients.act()
        if now >= next_blow:
            victim = rng.choice([r for r in replicas if r.running and not r.paused] or [None])
            if victim is not None and (chaos.kills + chaos.pauses) % 2 == 0:
                victim.kill()
                chaos.kills += 1
                wakes.append(_later(rng.uniform(0.2, 1.0), victim.start))
            elif victim is not None:
                victim.pause()
                chaos.pauses += 1
                wakes.append(_later(plan.lease + rng.uniform(0.5, 1.5), victim.resume))
            next_blow = now + rng.uniform(1.0, 3.0)
        time.sleep(0.01)
    for timer in wakes:
        timer.join()


def _later(seconds: float, action: Callable[[], None]) -> threading.Timer:
    timer = threading.Timer(seconds, action)
    timer.daemon = True
    timer.start()
    return timer


def _calm(replicas: list[Replica], seconds: float) -> None:
    """Every replica running, nothing new: time for leases to run out and work to drain."""
    for replica in replicas:
        if not replica.running:
            replica.start()
    time.sleep(seconds)
