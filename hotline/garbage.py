"""Fewer garbage collections while a batch runs: a what-if replay, a sweep of due deadlines, a
relay of outbox messages.

They build and drop hundreds of thousands of small values (tickets, deadlines, events,
decisions, rows) that reference counting frees at once, while a chunk of them stays alive
for the whole batch; almost none form cycles. CPython still runs its cycle collector every 700
allocations over the young objects, and every tenth time over those that survived (the batch
in hand): a tenth of a replay's time, a sixth of a sweep's (``bench/whatif.py``,
``bench/deadlines.py``). While at least one batch runs, the youngest generation is collected
every 50,000 allocations instead; the last batch to finish puts back what was set before.
Batches may run in several threads (the daemon's sweeper and relay, the API's what-if jobs),
hence the count.
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
