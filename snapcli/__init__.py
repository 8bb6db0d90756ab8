"""snapcli: exact snapshots and sprite sheets of local videos, with the cloud VOD snapshot API's
semantics.

    >>> import snapcli
    >>> event = snapcli.grab("talk.mp4", count=10, width=640, output_dir="out")
    >>> [shot["FrameTime"] for shot in event.snapshots]
"""

from __future__ import annotations

import os
from typing import Any

from .errors import InvalidParameter, SnapcliError
from .event import SnapshotComplete
from .job import DEFAULT_QUALITY, Progress, run_job
from .probe import VideoInfo
from .probe import probe as _probe
from .request import REQUEST_KEYWORDS, SnapshotRequest, build_request

__version__ = "0.1.0"
__all__ = [
    "SnapcliError",
    "SnapshotComplete",
    "SnapshotRequest",
    "VideoInfo",
    "build_request",
    "grab",
    "probe",
]


def grab(
    video: str | os.PathLike[str],
    *,
    output_dir: str | os.PathLike[str] = "snapshots",
    quality: int = DEFAULT_QUALITY,
    progress: Progress | None = None,
    ffmpeg: str | None = None,
    **request: Any,
) -> SnapshotComplete:
    """Take snapshots of one video into ``output_dir/<video stem>/`` and return the event.

    Request keywords (values as numbers or numeric strings, like the API): ``count``,
    ``interval`` (s), ``offset`` (ms), ``at`` (list of ms), ``width``, ``height``,
    ``frame_type`` ("normal" | "intra"), ``user_data`` (dict or JSON text).
    Raises a SnapcliError subclass (its ``code``, ``message`` and fail ``event``) on failure.
    """
    unknown = sorted(set(request) - set(REQUEST_KEYWORDS))
    if unknown:
        raise InvalidParameter(f"unknown request parameter {unknown[0]!r}.")
    return run_job(
        video,
        build_request(**request),
        output_dir,
        quality=quality,
        progress=progress,
        ffmpeg=ffmpeg,
    )


def probe(video: str | os.PathLike[str], ffmpeg: str | None = None) -> VideoInfo:
    """Duration, display size, rotation, SAR, codec, frame rate and keyframes of a video."""
    return _probe(video, ffmpeg)
