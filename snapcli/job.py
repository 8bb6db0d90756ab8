"""One snapshot job, start to end: probe, schedule, plan, extract, write, report.

The only place that orders the steps. The library never prints: progress goes to a callback.
"""

from __future__ import annotations

import io
import os
import threading
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from urllib.parse import unquote, urlparse

from . import callback, runner
from .errors import InternalError, SnapcliError
from .event import (
    JobIdentity,
    SnapshotComplete,
    TakenSnapshot,
    failure_event,
    success_event,
)
from .extract import extract
from .geometry import FrameGeometry, output_size, round_half_up
from .output import StagedOutput, snapshot_name
from .plan import plan_extraction
from .probe import probe
from .request import SnapshotRequest
from .schedule import schedule

Progress = Callable[[int, int], None]
"""Called with (snapshots written, snapshots in the job) as the job goes on."""

DEFAULT_QUALITY = 90


def available_cores() -> int:
    try:
        return max(len(os.sched_getaffinity(0)), 1)
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def output_name(video: str) -> str:
    """The job's folder name: the video file's stem (for a URL, its last path segment's)."""
    if "://" in video:
        video = unquote(urlparse(video).path.rstrip("/").rsplit("/", 1)[-1]) or "video"
    return Path(video).stem or Path(video).name or "video"


def run_job(
    video: str | os.PathLike[str],
    request: SnapshotRequest,
    output_dir: str | os.PathLike[str] = "snapshots",
    *,
    quality: int = DEFAULT_QUALITY,
    progress: Progress | None = None,
    ffmpeg: str | None = None,
    workers: int | None = None,
) -> SnapshotComplete:
    """Take the request's snapshots of one video into ``output_dir/<stem>/``.

    Returns the success event; a failure raises the SnapcliError, with its fail event attached as
    ``error.event``. Nothing is left half-written either way.
    """
    video_id = os.fspath(video)
    identity = JobIdentity.new()
    try:
        event = _run(video_id, identity, request, output_dir, quality, progress, ffmpeg, workers)
    except SnapcliError as error:
        extend = request.user_data.extend if request.user_data else None
        error.event = _announced(request, failure_event(identity, video_id, error, extend))
        raise
    except BaseException:
        runner.kill_all()
        raise
    return _announced(request, event)


def _announced(request: SnapshotRequest, event: SnapshotComplete) -> SnapshotComplete:
    """POST the event to the request's callback URL, if any, noting a failed delivery on it."""
    if request.user_data and request.user_data.callback_url:
        event.callback_error = callback.deliver(request.user_data.callback_url, event)
    return event


def _run(
    video_id: str,
    identity: JobIdentity,
    request: SnapshotRequest,
    output_dir: str | os.PathLike[str],
    quality: int,
    progress: Progress | None,
    ffmpeg: str | None,
    workers: int | None,
) -> SnapshotComplete:
    info = probe(video_id, ffmpeg)
    timeline = info.timeline
    shots = schedule(request, info.duration_ms)
    size = output_size(info.display_size, request.width, request.height)
    geometry = FrameGeometry.for_output(size, info.rotation)
    intra = request.frame_type == "intra"
    frame_of = {
        shot.index: timeline.keyframe_near(shot.time_ms)
        if intra
        else timeline.frame_at(shot.time_ms)
        for shot in shots
    }
    shots_of_frame: dict[int, list[int]] = defaultdict(list)
    for shot in shots:
        shots_of_frame[frame_of[shot.index]].append(shot.index)
    cores = workers or available_cores()
    plan = plan_extraction(
        timeline,
        shots_of_frame,
        keyframes_only=intra,
        pixels_per_frame=info.width * info.height,
        workers=cores,
    )

    with StagedOutput(output_dir, output_name(video_id)) as staged:
        written = 0
        lock = threading.Lock()

        def take_frame(pts: int, rgb: bytes) -> None:
            nonlocal written
            jpeg = _encode_jpeg(rgb, size, quality)
            for index in shots_of_frame[pts]:
                staged.write_bytes(snapshot_name(index), jpeg)
            with lock:
                written += len(shots_of_frame[pts])
                done = written
            if progress:
                progress(done, len(shots))

        if progress:
            progress(0, len(shots))
        extract(info, plan, geometry, take_frame, ffmpeg=ffmpeg, workers=cores)
        if written != len(shots):
            raise InternalError(f"{written} of {len(shots)} snapshots were made.")
        taken = [
            TakenSnapshot(
                index=shot.index,
                path=snapshot_name(shot.index),
                time_ms=shot.time_ms,
                frame_time_ms=round_half_up(timeline.ms(frame_of[shot.index])),
                width=size[0],
                height=size[1],
            )
            for shot in shots
        ]
        event = success_event(identity, video_id, request, staged.final, taken)
        staged.write_json("snapshots.json", event)
        staged.commit()
    return event


def _encode_jpeg(rgb: bytes, size: tuple[int, int], quality: int) -> bytes:
    from PIL import Image

    image = Image.frombuffer("RGB", size, rgb, "raw", "RGB", 0, 1)
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=quality)
    return buffer.getvalue()
