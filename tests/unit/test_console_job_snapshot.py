"""A job's page shows the job as read once: a job that ends while its page is rendered shows
either "running" (and the page reloads) or "done" with its result, never "done" without it."""

from __future__ import annotations

from hotline.api.jobs import DONE, RUNNING, Job
from hotline.console import jobs


class EndsWhenAsked(Job):
    """A job whose thread finishes right after its status is first read (as it may, between a
    page's reads)."""

    def __getattribute__(self, name: str):
        value = super().__getattribute__(name)
        if name == "status" and value == RUNNING:
            object.__setattr__(self, "result", {"id": 7})
            object.__setattr__(self, "status", DONE)
        return value


def test_a_job_ending_while_its_page_is_read_shows_running_not_done_without_its_result():
    job = EndsWhenAsked("a" * 32, "audit-seal", 1)

    shown = jobs.snapshot(job)

    assert shown.status == RUNNING  # the page reloads and then shows the result
    assert job.status == DONE and job.result == {"id": 7}


def test_a_finished_job_shows_done_with_its_result():
    job = Job("b" * 32, "audit-seal", 1, done=1, status=DONE, result={"id": 8})

    shown = jobs.snapshot(job)

    assert (shown.status, shown.result) == (DONE, {"id": 8})
