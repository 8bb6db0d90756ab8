"""Job records and the background queue behind `snapcli submit` and `snapcli jobs`.

Every job has a row in the state database: its ids, the video, what to run (a JobSpec), its state
(Submitted → Snapshoting → Success | Fail), timings, the event, and how its callback went.
`grab`, `sprite` and `batch` record their jobs when they end; `submit` queues one and returns.

Queued jobs are run by worker processes (``python -m snapcli.service.worker``) that outlive the
command. At most `job_slots()` run at once: a worker holds one slot lock for its whole life, and
exits when the queue is empty. A running job holds a lock of its own; the kernel drops both when
a worker dies, however it dies, so a job that is "Snapshoting" while nobody holds its lock has
lost its worker. `recover()` puts such a job back in the queue once, and marks it failed if it
loses a worker again.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from snapcli.core.event import JobIdentity, SnapshotComplete, failure_event
from snapcli.engine.job import available_cores
from snapcli.errors import InternalError, InvalidParameter, SnapcliError, VideoNotFound
from snapcli.service.dialects import JobSpec, dialect, video_key
from snapcli.service.state import FileLock, connect, home
from snapcli.settings import Settings

SUBMITTED, SNAPSHOTING, SUCCESS, FAIL = "Submitted", "Snapshoting", "Success", "Fail"
STATES = (SUBMITTED, SNAPSHOTING, SUCCESS, FAIL)
FINISHED = (SUCCESS, FAIL)
MAX_ATTEMPTS = 2  # a job whose worker dies is run once more, then failed
WORKER_LOG = "worker.log"


def _iso(seconds: float | None) -> str | None:
    if seconds is None:
        return None
    return datetime.fromtimestamp(seconds, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _insert(db: Any, identity: JobIdentity, spec: JobSpec, **columns: Any) -> None:
    row = {
        "job_id": identity.job_id,
        "request_id": identity.request_id,
        "video_id": spec.video_id,
        "video_path": spec.video_path,
        "spec": json.dumps(asdict(spec)),
        "created": time.time(),
        **columns,
    }
    names = ", ".join(row)
    db.execute(
        f"INSERT INTO jobs ({names}) VALUES ({', '.join('?' * len(row))})", list(row.values())
    )


def submit(
    spec: JobSpec,
    *,
    dialect: str = "vod",
    pipeline: str | None = None,
    identity: JobIdentity | None = None,
    start_worker: bool = True,
) -> JobIdentity:
    """Queue a job and make sure a worker will run it; returns its ids at once."""
    if "://" not in spec.video_id and not Path(spec.video_path).is_file():
        raise VideoNotFound(f"the video {spec.video_id} does not exist or is not a file.")
    identity = identity or JobIdentity.new()
    with connect() as db:
        _insert(db, identity, spec, state=SUBMITTED, dialect=dialect, pipeline=pipeline)
    if start_worker:
        ensure_worker()
    return identity


def record_finished(
    spec: JobSpec,
    event: SnapshotComplete | dict[str, Any],
    dialect: str = "vod",
    pipeline: str | None = None,
) -> None:
    """Record a job that ran in the foreground (grab, sprite, batch, a synchronous MTS
    snapshot), with its event."""
    identity = JobIdentity(request_id=event["RequestId"], job_id=event["JobId"])
    now = time.time()
    with connect() as db:
        _insert(
            db,
            identity,
            spec,
            state=SUCCESS if event.get("Status") == "success" else FAIL,
            dialect=dialect,
            pipeline=pipeline,
            started=now,
            finished=now,
            attempts=1,
            code=event.get("ErrorCode"),
            message=event.get("ErrorMessage"),
            event=json.dumps(event, ensure_ascii=False),
            callback=_callback_note(spec, event),
        )


def _callback_note(spec: JobSpec, event: Any) -> str | None:
    """How the callback went: None without a callback URL."""
    user_data = spec.request.get("UserData")
    if not isinstance(user_data, dict):  # none, or the MTS dialect's plain text
        return None
    url = (user_data.get("MessageCallback") or {}).get("CallbackURL")
    if not url:
        return None
    error = getattr(event, "callback_error", None)
    return json.dumps({"CallbackURL": url, "Delivered": error is None, "Error": error})


# The queue, as the workers see it.


@dataclass
class ClaimedJob:
    identity: JobIdentity
    spec: JobSpec
    lock: FileLock
    dialect: str


def _job_lock(job_id: str) -> FileLock:
    return FileLock(f"job-{job_id}.lock")


# Queued, and not behind a running job of its pipeline.
_CLAIMABLE = (
    "state = ? AND (pipeline IS NULL OR pipeline NOT IN "
    "(SELECT pipeline FROM jobs WHERE state = ? AND pipeline IS NOT NULL))"
)


def claim_next() -> ClaimedJob | None:
    """Take the oldest queued job whose pipeline has no job running, and mark it Snapshoting."""
    with connect(immediate=True) as db:
        rows = db.execute(
            f"SELECT job_id, request_id, spec, dialect FROM jobs WHERE {_CLAIMABLE} "
            "ORDER BY seq LIMIT 1",
            (SUBMITTED, SNAPSHOTING),
        ).fetchall()
        for row in rows:
            lock = _job_lock(row["job_id"])
            if not lock.acquire():  # being checked by recover() this instant: next time
                continue
            db.execute(
                "UPDATE jobs SET state = ?, started = ?, worker_pid = ?, attempts = attempts + 1 "
                "WHERE job_id = ?",
                (SNAPSHOTING, time.time(), os.getpid(), row["job_id"]),
            )
            spec = JobSpec(**json.loads(row["spec"]))
            identity = JobIdentity(row["request_id"], row["job_id"])
            return ClaimedJob(identity, spec, lock, row["dialect"])
    return None


def run_claimed(claimed: ClaimedJob, workers: int, decoder_threads: int | None) -> None:
    """Run a claimed job as grab would, and record how it ended (its lock is released after)."""
    spec = claimed.spec
    event: SnapshotComplete
    try:
        os.chdir(spec.cwd)
        event = dialect(claimed.dialect).run(spec, claimed.identity, workers, decoder_threads)
    except SnapcliError as error:
        event = (
            error.event
            if isinstance(error.event, SnapshotComplete)
            else failure_event(claimed.identity, spec.video_id, error)
        )
    except Exception as error:  # a bug must not leave the job Snapshoting
        problem = InternalError(f"{type(error).__name__}: {error}")
        event = failure_event(claimed.identity, spec.video_id, problem)
    finish(claimed, event)


def finish(claimed: ClaimedJob, event: SnapshotComplete) -> None:
    with connect(immediate=True) as db:
        db.execute(
            "UPDATE jobs SET state = ?, finished = ?, code = ?, message = ?, event = ?, "
            "callback = ?, worker_pid = NULL WHERE job_id = ?",
            (
                SUCCESS if event.ok else FAIL,
                time.time(),
                event.get("ErrorCode"),
                event.get("ErrorMessage"),
                json.dumps(event, ensure_ascii=False),
                _callback_note(claimed.spec, event),
                claimed.identity.job_id,
            ),
        )
    claimed.lock.release(remove=True)


def claimable() -> int:
    """How many queued jobs a worker could start now."""
    with connect() as db:
        query = f"SELECT COUNT(*) FROM jobs WHERE {_CLAIMABLE}"
        return int(db.execute(query, (SUBMITTED, SNAPSHOTING)).fetchone()[0])


def recover(start_worker: bool = True) -> int:
    """Find jobs whose worker died mid-job: queue each again once, else mark it failed. Returns
    how many were found."""
    with connect() as db:
        running = [row["job_id"] for row in db.execute(
            "SELECT job_id FROM jobs WHERE state = ?", (SNAPSHOTING,)
        )]  # fmt: skip
    found = requeued = 0
    for job_id in running:
        lock = _job_lock(job_id)
        if not lock.acquire():
            continue  # its worker is alive
        try:
            with connect(immediate=True) as db:
                row = db.execute(
                    "SELECT state, attempts, request_id, video_id, spec, dialect FROM jobs "
                    "WHERE job_id = ?",
                    (job_id,),
                ).fetchone()
                if row is None or row["state"] != SNAPSHOTING:
                    continue  # it ended between the two looks
                found += 1
                spec = JobSpec(**json.loads(row["spec"]))
                dialect(row["dialect"]).remove_staging(spec, job_id)
                if row["attempts"] < MAX_ATTEMPTS:
                    requeued += 1
                    db.execute(
                        "UPDATE jobs SET state = ?, worker_pid = NULL WHERE job_id = ?",
                        (SUBMITTED, job_id),
                    )
                else:
                    _fail_lost(db, row, job_id)
        finally:
            lock.release(remove=True)
    if requeued and start_worker:
        ensure_worker()
    return found


def _fail_lost(db: Any, row: Any, job_id: str) -> None:
    error = InternalError(
        f"the worker running this job stopped before it ended, {row['attempts']} times "
        "(killed, or the machine restarted)."
    )
    identity = JobIdentity(row["request_id"], job_id)
    event = failure_event(identity, row["video_id"], error)
    db.execute(
        "UPDATE jobs SET state = ?, finished = ?, code = ?, message = ?, event = ?, "
        "worker_pid = NULL WHERE job_id = ?",
        (FAIL, time.time(), error.code, error.message, json.dumps(event), job_id),
    )


# Workers.


def job_slots() -> int:
    """How many queued jobs run at once: $SNAPCLI_JOB_SLOTS, else one per core."""
    return Settings.from_environment().job_slots or available_cores()


def take_slot() -> FileLock | None:
    for slot in range(job_slots()):
        lock = FileLock(f"worker-{slot}.lock")
        if lock.acquire():
            return lock
    return None


def ensure_worker() -> None:
    """Start a worker unless every slot already has one (each looks at the queue again before it
    exits, so a job queued before this call is never stranded)."""
    slot = take_slot()
    if slot is None:
        return
    slot.release()
    spawn_worker()


def spawn_worker() -> None:
    """A worker process in a session of its own, so that it outlives this command."""
    package_parent = str(Path(__file__).resolve().parent.parent)
    env = dict(os.environ, SNAPCLI_HOME=str(home()))
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [package_parent, env.get("PYTHONPATH")]))
    with open(home() / WORKER_LOG, "ab") as log:
        subprocess.Popen(
            [sys.executable, "-m", "snapcli.service.worker"],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
            cwd=home(),
            env=env,
            start_new_session=True,
            close_fds=True,
        )


# Reading records.


def record_of(row: Any) -> dict[str, Any]:
    """A job as `jobs show` reports it."""
    spec = json.loads(row["spec"])
    record: dict[str, Any] = {
        "JobId": row["job_id"],
        "RequestId": row["request_id"],
        "VideoId": row["video_id"],
        "State": row["state"],
        "Dialect": row["dialect"],
        "CreationTime": _iso(row["created"]),
        "StartTime": _iso(row["started"]),
        "CompleteTime": _iso(row["finished"]),
        "Attempts": row["attempts"],
        "Request": spec["request"],
        "OutputDir": os.path.join(spec["cwd"], spec["output_dir"]),
    }
    if row["pipeline"]:
        record["PipelineId"] = row["pipeline"]
    if row["worker_pid"]:
        record["WorkerPid"] = row["worker_pid"]
    if row["code"]:
        record["Code"], record["Message"] = row["code"], row["message"]
    if row["callback"]:
        record["Callback"] = json.loads(row["callback"])
    if row["event"]:
        record["Event"] = json.loads(row["event"])
    return record


def find_jobs(job_ids: Sequence[str]) -> tuple[list[dict[str, Any]], list[str]]:
    """The records of these jobs (a unique prefix of at least 6 characters names a job), and the
    ids that name none."""
    found, missing = [], []
    with connect() as db:
        for job_id in job_ids:
            key = job_id.strip().lower()
            rows = []
            if len(key) >= 6 and all(c in "0123456789abcdef" for c in key):
                rows = db.execute(
                    "SELECT * FROM jobs WHERE job_id LIKE ? ORDER BY seq LIMIT 2", (key + "%",)
                ).fetchall()
            if len(rows) == 1:
                found.append(record_of(rows[0]))
            elif len(rows) > 1:
                raise InvalidParameter(f"{job_id!r} names more than one job: give more of it.")
            else:
                missing.append(job_id)
    return found, missing


def list_jobs(
    states: Iterable[str] = (), video: str | None = None, limit: int = 20
) -> list[dict[str, Any]]:
    """Job records, newest first, of these states and this video (any when not given)."""
    clauses, values = [], []
    states = list(states)
    if states:
        clauses.append(f"state IN ({', '.join('?' * len(states))})")
        values.extend(states)
    if video is not None:
        clauses.append("video_path = ?")
        values.append(video_key(video))
    where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
    with connect() as db:
        rows = db.execute(
            f"SELECT * FROM jobs {where} ORDER BY seq DESC LIMIT ?", (*values, limit)
        ).fetchall()
    return [record_of(row) for row in rows]


def successful_events(video: str) -> Iterable[dict[str, Any]]:
    """The events of a video's successful jobs, newest first."""
    with connect() as db:
        rows = db.execute(
            "SELECT event, created FROM jobs WHERE video_path = ? AND state = ? ORDER BY seq DESC",
            (video_key(video), SUCCESS),
        ).fetchall()
    for row in rows:
        event = json.loads(row["event"])
        event["CreationTime"] = _iso(row["created"])
        yield event


def wait_for(
    job_ids: Sequence[str], timeout: float | None = None, poll: float = 0.2
) -> list[dict[str, Any]]:
    """Block until every one of these jobs has ended; their records. Jobs that lost their worker
    are recovered on the way. Raises InvalidParameter for an id that names no job, and
    TimeoutError when `timeout` seconds pass first."""
    deadline = None if timeout is None else time.monotonic() + timeout
    last_recovery = 0.0
    while True:
        records, missing = find_jobs(job_ids)
        if missing:
            raise InvalidParameter(f"there is no job {missing[0]!r}.")
        if all(record["State"] in FINISHED for record in records):
            return records
        if time.monotonic() - last_recovery > 1.0:
            recover()
            last_recovery = time.monotonic()
        if deadline is not None and time.monotonic() > deadline:
            raise TimeoutError
        time.sleep(poll)
