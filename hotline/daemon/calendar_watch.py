"""The daemon's eye on the calendars: warn before a year runs out, recount provisional deadlines.

Run at start and then daily: a year's official schedule may arrive with a package upgrade (a
restart) or in an admin's calendar file (picked up here without one).
"""

from __future__ import annotations

import logging

from hotline.service import Service
from hotline.workflows import calendars

log = logging.getLogger("hotline.daemon")


def check(service: Service) -> int:
    """Log a warning per calendar near its end; recompute provisional deadlines on the
    calendars as they are now. Return how many tickets changed."""
    today = service.clock.now().date()
    for found in calendars.coverage(today):
        if found.warning:
            log.warning(
                "%s",
                found.warning,
                extra={
                    "action": "calendar_ending",
                    "calendar": found.name,
                    "days_left": found.days_left,
                },
            )
    service.reload_calendars()
    changed = service.recompute_provisional()
    if changed:
        log.info(
            "recomputed provisional deadlines of %d ticket(s)",
            changed,
            extra={"action": "deadlines_recomputed", "tickets": changed},
        )
    return changed
