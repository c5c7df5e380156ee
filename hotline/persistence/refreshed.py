"""A value read from the database again at most every few seconds, for what every command
consults but an admin rarely changes (webhook subscriptions, the newest definition versions)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class Refreshed(Generic[T]):
    """``read()``'s answer, read again once it is older than ``ttl`` seconds.

    A change made by another process is seen within ``ttl``; one made by this process at once,
    if it calls ``invalidate``.
    """

    def __init__(self, read: Callable[[], T], ttl: float = 5.0) -> None:
        self.read, self.ttl = read, ttl
        self._lock = threading.Lock()
        self._value: T | None = None
        self._read_at: float | None = None

    def get(self) -> T:
        with self._lock:
            if self._read_at is None or time.monotonic() - self._read_at > self.ttl:
                self._value = self.read()
                self._read_at = time.monotonic()
            return self._value  # type: ignore[return-value]  # read above

    def invalidate(self) -> None:
        with self._lock:
            self._read_at = None
