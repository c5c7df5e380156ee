"""The daemon's timers: APScheduler runs the deadline sweeper (``sweeper``) and the outbox relay
(``relay``), and the heartbeat (``heartbeat``).

Deadlines are rows, not scheduler jobs (DESIGN principle 3): one sweeper job re-arms itself for
the earliest pending rung, with a safety interval for rows written by other processes. Tests
call ``Sweeper.sweep`` and ``Relay.relay`` directly and never start the scheduler thread.
"""

from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime, timedelta
from typing import Any

from apscheduler.events import EVENT_JOB_EXECUTED, JobExecutionEvent
from apscheduler.schedulers.background import BackgroundScheduler

from hotline import clock as clocks
from hotline.daemon import calendar_watch
from hotline.daemon.heartbeat import Heartbeat, IdleWatch
from hotline.daemon.relay import Relay
from hotline.daemon.sweeper import Sweeper
from hotline.service import Service

log = logging.getLogger("hotline.daemon")


class Daemon:
    """APScheduler's BackgroundScheduler running the sweeper and the relay."""

    def __init__(
        self,
        service: Service,
        safety: float = 2.0,
        relay_every: float = 1.0,
        lease: timedelta = timedelta(minutes=2),
        batch: int = 200,
        heartbeat_every: float = 5.0,
    ) -> None:
        self.service = service
        self.sweeper = Sweeper(service, batch=batch, lease=lease)
        self.relay = Relay(service, lease=lease)
        self.safety, self.relay_every = safety, relay_every
        self.heartbeat = Heartbeat(service, self.sweeper.owner, heartbeat_every)
        self.idle = IdleWatch(service)  # set idle.on_idle to stop once nothing is left
        self.scheduler = BackgroundScheduler(timezone=UTC)
        # Held while stopping: the scheduler's shutdown waits for running jobs while holding its
        # own lock, so a sweep must not call back into the scheduler then (it would deadlock).
        self._arming = threading.Lock()

    def start(self) -> None:
        now = datetime.now(UTC)
        common: dict[str, Any] = {
            "coalesce": True,
            "max_instances": 1,
            "misfire_grace_time": None,
            "next_run_time": now,
        }
        self.scheduler.add_job(self._sweep, "interval", seconds=self.safety, id="sweep", **common)
        self.scheduler.add_listener(self._swept, EVENT_JOB_EXECUTED)
        self.scheduler.add_job(
            self.relay.relay, "interval", seconds=self.relay_every, id="relay", **common
        )
        self.heartbeat.schedule(self.scheduler, common)
        self.scheduler.add_job(self._calendars, "interval", hours=24, id="calendars", **common)
        self.scheduler.start()
        if (rate := clocks.rate(self.service.clock)) != 1:
            log.warning(
                "service clock runs %sx real time from %s (%s): a soak or drill, not production",
                rate,
                self.service.clock.now().isoformat(timespec="seconds"),
                clocks.CLOCK_ENV,
                extra={"action": "scaled_clock"},
            )
        log.info(
            "daemon %s started on %s",
            self.sweeper.owner,
            self.service.store.url,
            extra={"action": "started"},
        )

    def stop(self) -> None:
        """Finish the batch in hand, then stop."""
        self.sweeper.stopping.set()
        self.relay.stopping.set()
        with self._arming:
            self.scheduler.shutdown(wait=True)
        self.heartbeat.stop()
        log.info("daemon %s stopped", self.sweeper.owner, extra={"action": "stopped"})

    def _calendars(self) -> None:
        try:
            calendar_watch.check(self.service)
        except Exception:  # a calendar problem must never stop the daemon
            log.exception("calendar check failed", extra={"action": "calendar_check_failed"})

    def _sweep(self) -> None:
        fired = self.sweeper.sweep()
        log.debug("sweep done: %d fired", len(fired), extra={"action": "swept"})
        self.idle.check()

    def _swept(self, event: JobExecutionEvent) -> None:
        """Rearm once a sweep has returned, not from inside it: APScheduler skips a run whose
        previous one is still going (``max_instances=1``), so a rung already due when a sweep
        rearmed itself waited for the safety interval (2 s late at 5,000 rungs a second)."""
        if event.job_id == "sweep":
            self._rearm()

    def _rearm(self) -> None:
        """Run the next sweep when the earliest pending rung falls due, if that is sooner."""
        upcoming = self.service.store.next_fire_at()
        if upcoming is None or not self._arming.acquire(blocking=False):
            return
        try:
            job = self.scheduler.get_job("sweep")
            soonest = max(self._real(upcoming), datetime.now(UTC))
            if job and (job.next_run_time is None or soonest < job.next_run_time):
                self.scheduler.modify_job("sweep", next_run_time=soonest)
        finally:
            self._arming.release()

    def _real(self, service_time: datetime) -> datetime:
        """The real instant at which the service clock shows ``service_time`` (the scheduler
        waits in real time; they differ only under the ``HOTLINE_CLOCK`` hook)."""
        clock = self.service.clock
        wait = (service_time - clock.now()) / clocks.rate(clock)
        return datetime.now(UTC) + wait
