"""The soak's daemon replicas: real ``hotline run`` child processes that can be killed
(SIGKILL), paused (SIGSTOP) and restarted, with what their logs say kept for the verdict."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
from collections import deque

# What the verdict reads from the logs: the key of each message a notify handler delivered, and
# how late each claimed rung fired (service seconds).
NOTIFIED = re.compile(r"notify \w+: .* \[(?P<key>[^\]]+)\]$")
FIRED_LATE = re.compile(r"\(fired (?P<late>-?[\d.]+)s late\)$")


class Replica:
    """One ``hotline run`` replica; ``start`` again after ``kill`` is a restart."""

    def __init__(self, url: str, clock_spec: str, lease: float, safety: float) -> None:
        self.env = {
            **os.environ,
            "HOTLINE_DB_URL": url,
            "HOTLINE_CLOCK": clock_spec,
            "HOTLINE_LOG_LEVEL": "INFO",
        }
        self.command = [
            sys.executable,
            "-m",
            "hotline.cli.main",
            "run",
            "--no-api",
            f"--lease={lease}",
            f"--safety={safety}",
        ]
        self.process: subprocess.Popen[str] | None = None
        self.paused = False
        self.notified: set[str] = set()
        self.lateness: list[float] = []
        self.tail: deque[str] = deque(maxlen=30)
        self._readers: list[threading.Thread] = []

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def start(self) -> None:
        self.process = subprocess.Popen(
            self.command, env=self.env, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True
        )
        reader = threading.Thread(target=self._read, args=(self.process,), daemon=True)
        reader.start()
        self._readers.append(reader)

    def kill(self) -> None:
        """SIGKILL: no batch finished, no row released; its leases must run out."""
        assert self.process is not None
        self.process.kill()
        self.process.wait()
        self.paused = False

    def pause(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGSTOP)
        self.paused = True

    def resume(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGCONT)
        self.paused = False

    def stop(self, timeout: float = 60) -> int:
        """SIGTERM and wait: the daemon finishes the batch in hand; the exit code."""
        assert self.process is not None
        if self.paused:
            self.resume()
        self.process.terminate()
        try:
            code = self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            code = self.process.wait()
        for reader in self._readers:
            reader.join(timeout=10)
        return code

    def _read(self, process: subprocess.Popen[str]) -> None:
        assert process.stderr is not None
        for line in process.stderr:
            line = line.rstrip("\n")
            self.tail.append(line)
            if notified := NOTIFIED.search(line):
                self.notified.add(notified["key"])
            elif late := FIRED_LATE.search(line):
                self.lateness.append(float(late["late"]))
        process.stderr.close()
