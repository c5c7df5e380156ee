"""How long an operator waits for `hotline`: CPU seconds (user + system) of `hotline --help`
and `hotline show 1`, beside the bare interpreter and `import typer` measured in the same run.

Target (issue 13): under 0.3 s of CPU for both. Each figure is the median of --repeat runs;
on a shared 2-core machine give the load (`uptime`) with them.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

HOTLINE = [sys.executable, "-m", "hotline.cli.main"]


def cpu(command: list[str], env: dict[str, str]) -> float:
    """CPU seconds one run of ``command`` took (user + system of the child)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(command, env=env, check=True, capture_output=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "HOTLINE_DB_URL": f"sqlite:///{Path(tmp) / 'startup.db'}"}
        subprocess.run([*HOTLINE, "init"], env=env, check=True, capture_output=True)
        submit = [*HOTLINE, "submit", "--category", "water-supply", "--summary", "no water"]
        subprocess.run(submit, env=env, check=True, capture_output=True)
        runs = {
            "python -c pass (floor)": [sys.executable, "-c", "pass"],
            "python -c 'import typer'": [sys.executable, "-c", "import typer"],
            "hotline --help": [*HOTLINE, "--help"],
            "hotline show 1": [*HOTLINE, "show", "1"],
        }
        print(f"load: {os.getloadavg()[0]:.2f}; median CPU seconds of {args.repeat} runs")
        for label, command in runs.items():
            median = statistics.median(cpu(command, env) for _ in range(args.repeat))
            print(f"{label:<28} {median:6.3f} s")


if __name__ == "__main__":
    main()
