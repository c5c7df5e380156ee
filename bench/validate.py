"""Validating large definitions: 20,000 transitions beside 2,000, to show linear time.

Builds a definition of N transitions (a chain of N/2 states, each with a step forward and a
guarded stay; every tenth state has a deadline with a reminder and a ladder), then times
``hotline workflow validate`` (read, parse, check) and, apart, compiling the machine. Prints the
median of ``--repeat`` runs in seconds and the ratio per transition against the small one. On a
shared 2-core machine the figures are noisy: compare the ratio within one run.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

from hotline.workflows import loader


def definition(transitions: int) -> str:
    """A valid definition with ``transitions`` transitions, in compact YAML."""
    steps = transitions // 2
    lines = [
        "name: bench",
        "initial: s0",
        f"final: s{steps}",
        "states:",
    ]
    for i in range(steps):
        if i % 10:
            lines.append(f"  - {{name: s{i}}}")
            continue
        lines.append(
            f"  - {{name: s{i}, deadlines: [{{kind: k, within: 2h, closed_by: [stay{i}], "
            "remind_at: 0.5, escalate: [{level: 1, after: 1h}, {level: 2, after: 2h}]}]}"
        )
    lines.append(f"  - {{name: s{steps}}}")
    lines.append("transitions:")
    for i in range(steps):
        lines.append(f"  - {{trigger: go{i}, source: s{i}, dest: s{i + 1}}}")
        lines.append(
            f"  - {{trigger: stay{i}, source: s{i}, conditions: not_responded, "
            "before: record_response}"
        )
    return "\n".join(lines) + "\n"


def seconds(work, repeat: int) -> float:
    """The median of ``repeat`` timings of ``work()``."""
    timings = []
    for _ in range(repeat):
        started = time.perf_counter()
        work()
        timings.append(time.perf_counter() - started)
    return statistics.median(timings)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", type=int, default=2_000)
    parser.add_argument("--large", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    print(f"load average: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    figures = {}
    for n in (args.small, args.large):
        text = definition(n)
        validate = seconds(lambda text=text: loader.parse(text, "bench"), args.repeat)
        compile_ = seconds(lambda text=text: loader.compile_source(text, 1), args.repeat)
        figures[n] = validate
        print(
            f"{n:>6} transitions ({len(text.encode()) / 1e6:.2f} MB): validate {validate:.2f} s, "
            f"validate + compile {compile_:.2f} s"
        )
    small, large = figures[args.small], figures[args.large]
    scale = args.large / args.small
    print(f"{scale:.0f}x the transitions took {large / small:.1f}x the time (linear: {scale:.0f}x)")


if __name__ == "__main__":
    main()
