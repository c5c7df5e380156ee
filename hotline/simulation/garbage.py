"""Fewer garbage collections while a replay runs.

A replay builds and drops millions of small frozen values (tickets, deadlines, events,
decisions) that reference counting frees at once; almost none form cycles. CPython still runs
its cycle collector every 700 allocations, over the young objects, which cost a replay about a
tenth of its time (``bench/whatif.py``). While at least one replay runs, the first generation
is collected every 50,000 allocations instead; the last replay to finish puts back what was
set before. Replays may run in several threads (the API's what-if jobs), hence the count.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

YOUNG = 50_000  # allocations between collections of the youngest generation while replaying

_lock = threading.Lock()
_running = 0
_before: tuple[int, int, int] = gc.get_threshold()


@contextmanager
def fewer_collections() -> Iterator[None]:
    """Collect the youngest generation less often inside the block (see the module)."""
    global _running, _before
    with _lock:
        if _running == 0:
            _before = gc.get_threshold()
            gc.set_threshold(max(YOUNG, _before[0]), *_before[1:])
        _running += 1
    try:
        yield
    finally:
        with _lock:
            _running -= 1
            if _running == 0:
                gc.set_threshold(*_before)
