"""The clock hook (``HOTLINE_CLOCK``): every process given the same value agrees on an
accelerated service time, and the daemon turns its service-time waits into real ones."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from freezegun import freeze_time

from hotline import clock as clocks
from hotline.errors import HotlineError

SERVICE_START = datetime(2026, 3, 2, 0, 30, tzinfo=UTC)
REAL_START = datetime(2026, 12, 6, 20, 0, tzinfo=UTC)


def test_without_the_hook_the_clock_is_the_system_clock():
    assert isinstance(clocks.from_environment({}), clocks.SystemClock)
    assert clocks.rate(clocks.SystemClock()) == 1


def test_the_hook_runs_service_time_faster_from_its_origin():
    spec = f"{SERVICE_START.isoformat()} {REAL_START.isoformat()} 3600"
    clock = clocks.from_environment({clocks.CLOCK_ENV: spec})
    with freeze_time(REAL_START + timedelta(seconds=90)):
        assert clock.now() == SERVICE_START + timedelta(hours=90)
    assert clocks.rate(clock) == 3600
    assert clocks.from_environment({clocks.CLOCK_ENV: clock.spec()}).now() <= clock.now()


@pytest.mark.parametrize(
    "spec", ["tomorrow", "2026-03-02T00:00:00+00:00 3600", "2026-03-02 2026-12-06 3600", "a b 0"]
)
def test_a_malformed_hook_is_refused_by_name(spec):
    with pytest.raises(HotlineError, match="HOTLINE_CLOCK"):
        clocks.from_environment({clocks.CLOCK_ENV: spec})


def test_the_daemon_waits_real_seconds_for_service_hours(service):
    from hotline.daemon.scheduler import Daemon

    with freeze_time(REAL_START):
        service.clock = clocks.ScaledClock(SERVICE_START, REAL_START, 3600)
        daemon = Daemon(service)
        assert daemon._real(SERVICE_START + timedelta(hours=2)) == REAL_START + timedelta(seconds=2)
