"""A batch on a Dask distributed cluster: each video is a task that runs the same library call
as a local job (batch.run_item) on some worker, into the same output tree, which every worker
sees through a shared filesystem at the same path (docs/cluster.md).

What a local batch promises holds here too:
- resume: a result already made for this request from this input is skipped before any task is
  sent, so a second run decodes nothing;
- one bad file fails alone, each outcome is reported as its task ends, at most `jobs` tasks are
  out at once (default: twice the cluster's worker threads);
- a worker that dies mid-video: the scheduler runs the task again elsewhere, and once every task
  has ended, staging folders that this batch's jobs left behind are removed, on whatever host
  made them;
- Ctrl-C (or SIGTERM): every task sent is told through a shared Event it looks at (one not
  started ends at once, a running one at its next snapshot), nothing half-written stays, and the
  batch ends interrupted. The signal only sets a flag that the batch's loop looks at.

Before anything starts, the cluster must answer, every worker must run this snapcli version, and
every worker must see the output folder; otherwise one line says what is wrong.
"""

from __future__ import annotations

import os
import signal
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import replace
from pathlib import Path
from typing import Any

from snapcli.core.event import JobIdentity
from snapcli.core.request import SnapshotRequest
from snapcli.engine.job import OutputOptions, available_cores
from snapcli.engine.output import remove_orphans
from snapcli.errors import ClusterUnavailable, Interrupted, InvalidParameter
from snapcli.service.batch_items import (
    BatchItem,
    BatchOutcome,
    BatchSummary,
    already_done,
    run_item,
)

LOCAL = "local"
CONNECT_SECONDS = 5.0
CANCEL_CHECK_SECONDS = 0.5
SIGNAL_CHECK_SECONDS = 0.05  # how soon the batch's loop notices Ctrl-C


def run_on_cluster(
    address: str,
    items: Iterable[BatchItem],
    request: SnapshotRequest,
    options: OutputOptions,
    summary: BatchSummary,
    tally: Callable[[BatchOutcome], None],
    *,
    jobs: int | None = None,
    force: bool = False,
    on_start: Callable[[BatchItem], None] | None = None,
) -> BatchSummary:
    """Run a batch's items as tasks on the cluster at `address`, tallying each outcome."""
    started = time.monotonic()
    placed = [_absolute(item) for item in items]
    roots = sorted({str(item.output_dir) for item in placed})
    client, local_cluster = connect(address)
    dask = _distributed()
    cancel = dask.Event(f"snapcli-cancel-{uuid.uuid4().hex}", client=client)
    pending: dict[Any, tuple[BatchItem, JobIdentity]] = {}
    identities: dict[str, set[str]] = {}
    stop = threading.Event()
    previous = _stop_on_signals(stop)
    try:
        threads = check_workers(client, _common_root(roots))
        limit = max(1, jobs or 2 * threads)
        flow = dask.as_completed()

        def next_done() -> Any:
            """The next task to end; KeyboardInterrupt once a signal asked to stop."""
            while not flow.has_ready():
                if stop.is_set():
                    raise KeyboardInterrupt
                time.sleep(SIGNAL_CHECK_SECONDS)
            return next(flow)

        try:
            for item in placed:
                if stop.is_set():
                    raise KeyboardInterrupt
                skipped = already_done(item, request, options, force)
                if skipped is not None:
                    tally(skipped)
                    continue
                while len(pending) >= limit:
                    _take(next_done(), pending, tally)
                identity = JobIdentity.new()
                identities.setdefault(str(item.output_dir), set()).add(identity.job_id)
                if on_start:
                    on_start(item)
                future = client.submit(
                    _task, item, request, options, identity, cancel.name,
                    key=f"snapcli-{identity.job_id}", pure=False,
                )  # fmt: skip
                pending[future] = (item, identity)
                flow.add(future)
            while pending:
                _take(next_done(), pending, tally)
        except KeyboardInterrupt:
            # Every task sent looks at the Event: one not started yet ends at once, a running
            # one at its next snapshot, its staging folder removed. Each result is whole or gone.
            summary.interrupted = True
            cancel.set()
            for future in list(pending):
                _take(future, pending, tally)
    finally:
        _restore_signals(previous)
        for root, job_ids in identities.items():  # ended everywhere: what is left is orphaned
            remove_orphans(Path(root), job_ids, any_host=True)
        client.close()
        if local_cluster is not None:
            local_cluster.close()
        summary.seconds = time.monotonic() - started
    return summary


def _stop_on_signals(stop: threading.Event) -> dict[int, Any]:
    """Ctrl-C and SIGTERM set `stop` instead of raising: raised anywhere, KeyboardInterrupt can
    land in the finaliser of a Dask future, which swallows it (the batch then ran on to its
    end). The batch's loop looks at `stop` and ends itself. The previous handlers, to restore."""
    if threading.current_thread() is not threading.main_thread():
        return {}
    previous = {}
    for name in ("SIGINT", "SIGTERM"):
        number = getattr(signal, name)
        previous[number] = signal.signal(number, lambda *_: stop.set())
    return previous


def _restore_signals(previous: dict[int, Any]) -> None:
    for number, handler in previous.items():
        signal.signal(number, handler)


def _distributed() -> Any:
    """The distributed package (an optional extra), as an untyped module: its API is only
    partly annotated."""
    try:
        import distributed
    except ImportError:
        raise ClusterUnavailable(
            "--cluster needs the distributed package: pip install 'snapcli[cluster]'."
        ) from None
    return distributed


def connect(address: str) -> tuple[Any, Any]:
    """A client of the cluster at `address` ("tcp://host:port", or "local[:N]" for N worker
    processes here); the local cluster too, to close after. ClusterUnavailable when the
    scheduler does not answer, or the distributed package is missing."""
    dask = _distributed()
    import logging

    logging.getLogger("distributed").setLevel(logging.ERROR)  # its chatter is not ours to show
    if address == LOCAL or address.startswith(LOCAL + ":"):
        count = address.partition(":")[2] or str(available_cores())
        if not count.isdigit() or not 1 <= int(count) <= 256:
            raise InvalidParameter(f"--cluster local:N takes 1 to 256 workers, got {address!r}.")
        cluster = dask.LocalCluster(
            n_workers=int(count),
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            silence_logs=logging.ERROR,
        )
        return dask.Client(cluster), cluster
    try:
        return dask.Client(address, timeout=CONNECT_SECONDS), None
    except (OSError, TimeoutError, ValueError) as error:
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise ClusterUnavailable(
            f"the cluster at {address} cannot be reached ({reason}); nothing was started."
        ) from None


def check_workers(client: Any, output_root: str) -> int:
    """Every worker's snapcli version and view of the output folder, checked; the cluster's
    worker threads in all."""
    facts: dict[str, tuple[str, bool, int]] = client.run(_worker_facts, output_root)
    problems = worker_problems(facts, snapcli_version(), output_root)
    if problems:
        raise ClusterUnavailable(problems[0])
    return sum(threads for _, _, threads in facts.values())


def worker_problems(
    facts: dict[str, tuple[str, bool, int]], version: str, output_root: str
) -> list[str]:
    """What keeps these workers (address: snapcli version, sees the output, threads) from
    running this batch, one sentence each."""
    if not facts:
        return ["the cluster has no workers: start some (dask worker ADDRESS)."]
    problems = []
    for address, (theirs, sees_output, _) in sorted(facts.items()):
        if theirs != version:
            problems.append(
                f"the worker {address} runs snapcli {theirs}, this is {version}: install the "
                "same version on every worker."
            )
        elif not sees_output:
            problems.append(
                f"the worker {address} does not see {output_root}: the output folder must be on "
                "a filesystem every worker mounts at the same path."
            )
    return problems


def _worker_facts(output_root: str, dask_worker: Any = None) -> tuple[str, bool, int]:
    """Run on each worker (client.run hands it the worker)."""
    return snapcli_version(), os.path.isdir(output_root), dask_worker.state.nthreads


def snapcli_version() -> str:
    """The installed snapcli's version, as `snapcli --version` says it."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("snapcli")
    except PackageNotFoundError:
        return "not installed"


def _task(
    item: BatchItem,
    request: SnapshotRequest,
    options: OutputOptions,
    identity: JobIdentity,
    cancel_name: str,
) -> BatchOutcome:
    """One video, on a worker: the same call a local batch makes, with this worker's cores
    shared among its threads, its own ffmpeg and settings, and the event naming the worker."""
    dask = _distributed()
    worker = dask.get_worker()
    cancel = dask.Event(cancel_name)
    if cancel.is_set():
        return BatchOutcome(item, "interrupted")
    threads = max(1, worker.state.nthreads)
    checked = [time.monotonic()]

    def progress(done: int, total: int) -> None:
        if time.monotonic() - checked[0] >= CANCEL_CHECK_SECONDS:
            checked[0] = time.monotonic()
            if cancel.is_set():
                raise Interrupted("the batch was interrupted.")

    return run_item(
        item,
        request,
        options,
        workers=max(1, available_cores() // threads),
        decoder_threads=1 if threads > 1 else None,
        identity=identity,
        progress=progress,
        event_fields={"Worker": worker.address},
    )


def _take(
    future: Any,
    pending: dict[Any, tuple[BatchItem, JobIdentity]],
    tally: Callable[[BatchOutcome], None],
) -> None:
    """Tally a finished task; one that failed outright (its worker died too often, or it could
    not be unpickled) is that video's failure."""
    item, _ = pending.pop(future)
    try:
        outcome: BatchOutcome = future.result()
    except Exception as error:
        from snapcli.core.event import failure_event
        from snapcli.errors import InternalError

        problem = InternalError(f"the cluster could not run this video: {error}")
        event = failure_event(JobIdentity.new(), str(item.video), problem)
        outcome = BatchOutcome(item, "fail", event)
    tally(outcome)


def _absolute(item: BatchItem) -> BatchItem:
    """Workers run elsewhere, from another folder: every path absolute."""
    video, output_dir = Path(os.path.abspath(item.video)), Path(os.path.abspath(item.output_dir))
    return replace(item, video=video, output_dir=output_dir)


def _common_root(roots: list[str]) -> str:
    """The folder that holds every result folder of the batch (made if missing)."""
    root = os.path.commonpath(roots) if roots else os.getcwd()
    os.makedirs(root, exist_ok=True)
    return root
