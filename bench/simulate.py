"""How long `hotline simulate --tickets N` takes, run as a user runs it, beside a tenth of N.

Prints wall and CPU seconds (user + system of the child) for each size, on fresh SQLite files;
the two should scale alike (cost per ticket flat). Target (issue 18): N = 5,000 in <= 30 s
wall. On a shared 2-core machine give the load printed with them.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HOTLINE = [sys.executable, "-m", "hotline.cli.main"]


def timed(tickets: int, folder: Path) -> tuple[float, float]:
    """Wall and CPU seconds of one `hotline simulate --tickets` on a new file."""
    url = f"sqlite:///{folder / f'simulate-{tickets}.db'}"
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    command = [*HOTLINE, "simulate", "--tickets", str(tickets), "--db", url]
    subprocess.run(command, check=True, capture_output=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=5000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="hotline-simulate-") as folder:
        print(f"load before: {os.getloadavg()[0]:.2f}")
        for tickets in (args.tickets // 10, args.tickets):
            wall, cpu = timed(tickets, Path(folder))
            print(
                f"hotline simulate --tickets {tickets:>6}: {wall:6.1f} s wall, {cpu:6.1f} s CPU, "
                f"{tickets / wall:5.0f} tickets/s"
            )
        print(f"load after: {os.getloadavg()[0]:.2f} (target: 5,000 tickets in <= 30 s wall)")


if __name__ == "__main__":
    main()
