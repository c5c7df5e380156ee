"""``hotline serve`` as a real process on a free loopback port, for tests that talk HTTP to it.

Kept out of conftest so the name reads at the call site (imported as ``serving``, like
``replica_processes``).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager

from test_serve import _free_port, _wait_until_serving


@contextmanager
def hotline_serve(db_url: str, ready_path: str = "/metrics") -> Iterator[str]:
    """Serve ``db_url`` until the block ends (then SIGTERM); yields the base URL once
    ``ready_path`` answers."""
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "hotline.cli.main", "serve", "--port", str(port)],
        env={**os.environ, "HOTLINE_DB_URL": db_url, "HOTLINE_LOG_LEVEL": "DEBUG"},
        stderr=subprocess.PIPE,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_until_serving(f"{base}{ready_path}", process)
        yield base
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)
        process.stderr.close()
