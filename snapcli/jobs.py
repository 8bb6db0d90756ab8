"""Job records, as `snapcli jobs` shows them: every job that grab, sprite, batch and submit ran
or queued.

    >>> import snapcli
    >>> job = snapcli.submit({"VideoId": "talk.mp4", "Count": 3})
    >>> (record,) = snapcli.jobs.wait([job.job_id], timeout=600)
    >>> record["State"], record["Event"]["Snapshots"][0]["FrameTime"]

A job whose worker died is run again (once) whenever records are read.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from snapcli.service import jobs as _queue

STATES = _queue.STATES


def recent(
    states: Iterable[str] = (), video: str | None = None, limit: int = 20
) -> list[dict[str, Any]]:
    """Job records, newest first, of these states (Submitted, Snapshoting, Success, Fail) and
    this video (any, when not given)."""
    _queue.recover()
    return _queue.list_jobs(states, video, limit)


def show(job_ids: Sequence[str]) -> tuple[list[dict[str, Any]], list[str]]:
    """The records of these jobs (a unique prefix of six or more characters names a job), and
    the ids that name none."""
    _queue.recover()
    return _queue.find_jobs(job_ids)


def wait(job_ids: Sequence[str], timeout: float | None = None) -> list[dict[str, Any]]:
    """Block until every one of these jobs has ended; their records. TimeoutError when
    `timeout` seconds pass first (the jobs go on running)."""
    return _queue.wait_for(job_ids, timeout)
