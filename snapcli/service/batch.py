"""Many videos, one request: find them, run a bounded pool of jobs, resume, never lose work.

Each video is an ordinary job (job.run_job) into ``DIR/<folder relative to its PATH>/<stem>/``, so
a batch's outputs are exactly what `grab` would make. A job whose finished result was made for the
same request from the same input (size and modification time) is skipped. A bad file fails alone.
An interrupted batch starts no new ffmpeg, kills the running ones, removes their partial outputs
(each job's staging folder) and keeps every finished result.
"""

from __future__ import annotations

import fnmatch
import os
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from pathlib import Path

from snapcli.core.event import SnapshotComplete
from snapcli.core.request import SnapshotRequest
from snapcli.engine.job import OutputOptions, available_cores
from snapcli.engine.output import glob_escape, result_name
from snapcli.errors import InvalidParameter
from snapcli.media import runner
from snapcli.service.batch_items import (
    BatchItem,
    BatchOutcome,
    BatchSummary,
    already_done,
    run_item,
)
from snapcli.service.dialects import JobSpec
from snapcli.service.vod import record_quietly
from snapcli.settings import Settings, current

VIDEO_EXTENSIONS = (
    ".mp4", ".m4v", ".mov", ".mkv", ".webm", ".avi", ".ts", ".m2ts", ".mts", ".mpg", ".mpeg",
    ".flv", ".wmv", ".3gp", ".ogv", ".mxf",
)  # fmt: skip


def find_videos(
    paths: Sequence[str | os.PathLike[str]],
    output_root: str | os.PathLike[str],
    *,
    recursive: bool = False,
    include: Sequence[str] = (),
    exclude: Sequence[str] = (),
    extensions: Sequence[str] = VIDEO_EXTENSIONS,
) -> Iterator[BatchItem]:
    """The videos under `paths`, in a stable order, each with its output place.

    A folder contributes the files with a video extension (`recursive`: in its subfolders too),
    mirrored under `output_root`; a file named directly lands at the top of `output_root`.
    `include`/`exclude` are globs matched against the path relative to its PATH and against the
    file name. Two videos of one folder with the same stem (a.mp4, a.mkv) get folders named after
    their whole file names, so neither overwrites the other.
    """
    root = Path(output_root)
    wanted = tuple(ext.lower() for ext in extensions)
    claimed: set[Path] = set()
    for given in paths:
        path = Path(given)
        if not os.path.lexists(path):
            raise InvalidParameter(f"{given} does not exist.")
        if path.is_dir():
            for video in _walk(path, recursive, wanted, root):
                relative = video.relative_to(path)
                if _selected(relative, include, exclude):
                    yield _placed(video, root / relative.parent, wanted, claimed)
        elif _selected(Path(path.name), include, exclude):
            yield _placed(path, root, wanted, claimed)


def _walk(
    folder: Path, recursive: bool, extensions: tuple[str, ...], output_root: Path
) -> Iterator[Path]:
    try:
        entries = sorted(os.scandir(folder), key=lambda entry: entry.name)
    except OSError:
        return
    skip = output_root.resolve()
    for entry in entries:
        if entry.name.startswith("."):
            continue  # hidden files, and snapcli's own staging folders
        if entry.is_dir(follow_symlinks=False):
            if recursive and Path(entry.path).resolve() != skip:
                yield from _walk(Path(entry.path), recursive, extensions, output_root)
        elif Path(entry.name).suffix.lower() in extensions and _is_file_or_broken(entry):
            yield Path(entry.path)


def _is_file_or_broken(entry: os.DirEntry[str]) -> bool:
    """A file, or a link that leads to no file (a loop, a missing target): such a "video" is
    listed, so that it fails alone and is reported, rather than vanishing or stopping the
    batch."""
    try:
        return entry.is_file() or (entry.is_symlink() and not entry.is_dir())
    except OSError:
        return True


def _selected(relative: Path, include: Sequence[str], exclude: Sequence[str]) -> bool:
    def matches(pattern: str) -> bool:
        return fnmatch.fnmatch(str(relative), pattern) or fnmatch.fnmatch(relative.name, pattern)

    if include and not any(matches(p) for p in include):
        return False
    return not any(matches(p) for p in exclude)


def _placed(
    video: Path, output_dir: Path, extensions: tuple[str, ...], claimed: set[Path]
) -> BatchItem:
    siblings = [
        other
        for other in video.parent.glob(f"{glob_escape(video.stem)}.*")
        if other != video and other.suffix.lower() in extensions and other.stem == video.stem
    ]
    name = video.name if siblings else result_name(video.name)
    place, counter = output_dir / name, 2
    while place in claimed:  # the same name from different folders given as files
        place, counter = output_dir / f"{name}-{counter}", counter + 1
    claimed.add(place)
    return BatchItem(video=video, output_dir=output_dir, name=place.name)


def run_batch(
    items: Iterable[BatchItem],
    request: SnapshotRequest,
    options: OutputOptions,
    *,
    jobs: int | None = None,
    force: bool = False,
    settings: Settings | None = None,
    on_start: Callable[[BatchItem], None] | None = None,
    on_done: Callable[[BatchOutcome], None] | None = None,
    record: bool = True,
    cluster: str | None = None,
) -> BatchSummary:
    """Run one job per item, `jobs` at a time; record each finished job in the job records
    (unless `record` is False) and report each outcome as it ends. With `cluster` (a Dask
    scheduler's address, or "local[:N]"), each job is a task on that cluster (cluster.py).

    On KeyboardInterrupt no new job starts, running ffmpeg children are killed, their partial
    outputs removed, and the summary comes back with `interrupted` set.
    """
    jobs_asked = jobs
    cores = available_cores()
    jobs = max(1, jobs or cores)
    workers_per_job = max(1, cores // jobs)
    summary = BatchSummary()
    started = time.monotonic()

    ffmpeg = current(settings).ffmpeg

    def tally(outcome: BatchOutcome) -> None:
        if record and outcome.status in ("success", "fail") and outcome.event:
            item = outcome.item
            spec = JobSpec.of(
                str(item.video), request, item.output_dir, options, ffmpeg, name=item.name
            )
            event = outcome.event
            record_quietly(
                spec, event if isinstance(event, SnapshotComplete) else SnapshotComplete(event)
            )
        if outcome.status == "success":
            summary.succeeded += 1
        elif outcome.status == "skipped":
            summary.skipped += 1
        elif outcome.status == "fail":
            summary.failed.append(outcome)
        if on_done and outcome.status != "interrupted":
            on_done(outcome)

    def one(item: BatchItem) -> BatchOutcome:
        if on_start:
            on_start(item)
        return run_item(
            item,
            request,
            options,
            settings=settings,
            workers=workers_per_job,
            decoder_threads=1 if jobs > 1 else None,
        )

    if cluster is not None:
        from snapcli.service.cluster import run_on_cluster

        return run_on_cluster(
            cluster, items, request, options, summary, tally, jobs=jobs_asked, force=force,
            on_start=on_start,
        )  # fmt: skip
    pending: set[Future[BatchOutcome]] = set()
    pool = ThreadPoolExecutor(max_workers=jobs)
    try:
        for item in items:
            skipped = already_done(item, request, options, force)
            if skipped is not None:
                tally(skipped)
                continue
            while len(pending) >= jobs:  # bounded: thousands of items never queue up at once
                finished, pending = wait(pending, return_when=FIRST_COMPLETED)
                for future in finished:
                    tally(future.result())
            pending.add(pool.submit(one, item))
        while pending:  # each outcome reported once, even when Ctrl-C lands in the middle
            future = pending.pop()
            tally(future.result())
    except KeyboardInterrupt:
        summary.interrupted = True
        runner.stop_all()
        for future in pending:
            future.cancel()
        pool.shutdown(wait=True, cancel_futures=True)
        for future in pending:
            if future.done() and not future.cancelled():
                tally(future.result())
    finally:
        pool.shutdown(wait=True)
        summary.seconds = time.monotonic() - started
    return summary
