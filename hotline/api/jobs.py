"""Background jobs of the API: work too long for one request (a what-if replay), run on a
thread of its own; the client polls the job's URL for its progress and result.

Jobs live in the process that started them: a restarted server forgets them (the work writes
nothing, so it is simply asked for again). A few run at once; the latest finished ones are kept.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from hotline import errors
from hotline.api.problems import Problem

log = logging.getLogger("hotline.api")
RUNNING, DONE, FAILED = "running", "done", "failed"
Work = Callable[[Callable[[int], None]], dict[str, Any]]  # told of progress; returns the result


@dataclass
class Job:
    id: str
    kind: str
    total: int
    done: int = 0
    status: str = RUNNING
    result: dict[str, Any] | None = None
    error: str | None = None
    thread: threading.Thread | None = field(default=None, repr=False)

    def record(self, url: str) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "url": url,
            "status": self.status,
            "done": self.done,
            "total": self.total,
            "error": self.error,
            "result": self.result,
        }


class Jobs:
    """The jobs of one API process: at most ``running`` at once, the last ``kept`` remembered."""

    def __init__(self, running: int = 2, kept: int = 50) -> None:
        self.running, self.kept = running, kept
        self._jobs: OrderedDict[str, Job] = OrderedDict()
        self._lock = threading.Lock()

    def start(self, kind: str, total: int, work: Work) -> Job:
        """Run ``work`` on a thread of its own; 503 while ``running`` jobs are busy."""
        with self._lock:
            if sum(j.status == RUNNING for j in self._jobs.values()) >= self.running:
                problem = Problem(503, "jobs-busy", f"{self.running} jobs are running; retry later")
                problem.headers["Retry-After"] = "10"
                raise problem
            job = Job(uuid.uuid4().hex, kind, total)
            self._jobs[job.id] = job
            self._forget_old()
        job.thread = threading.Thread(target=self._run, args=(job, work), daemon=True)
        job.thread.start()
        return job

    def get(self, job_id: str) -> Job:
        with self._lock:
            found = self._jobs.get(job_id)
        if found is None:
            raise Problem(404, "not-found", f"no job {job_id}")
        return found

    def _run(self, job: Job, work: Work) -> None:
        def advance(n: int) -> None:
            job.done += n

        try:
            job.result = work(advance)
            job.status = DONE
        except errors.HotlineError as error:
            job.error, job.status = str(error), FAILED
        except Exception:  # the traceback goes to the log; the client sees that it failed
            log.exception("job %s (%s) failed", job.id, job.kind, extra={"action": "job_failed"})
            job.error, job.status = "an internal error occurred; it is logged", FAILED

    def _forget_old(self) -> None:
        finished = [k for k, j in self._jobs.items() if j.status != RUNNING]
        for key in finished[: max(0, len(finished) - self.kept)]:
            del self._jobs[key]
