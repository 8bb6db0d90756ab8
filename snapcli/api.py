"""The library's front door: `snapcli.grab` and `snapcli.probe`."""

from __future__ import annotations

import os
from typing import Any

from snapcli.core.event import SnapshotComplete
from snapcli.core.request import REQUEST_KEYWORDS, build_request
from snapcli.engine.job import DEFAULT_QUALITY, OutputOptions, Progress, run_job
from snapcli.errors import InvalidParameter
from snapcli.media.probe import VideoInfo
from snapcli.media.probe import probe as _probe
from snapcli.service.callback import run_announced


def grab(
    video: str | os.PathLike[str],
    *,
    output_dir: str | os.PathLike[str] = "snapshots",
    quality: int = DEFAULT_QUALITY,
    vtt: bool = False,
    vtt_base_url: str | None = None,
    retina: bool = False,
    progress: Progress | None = None,
    ffmpeg: str | None = None,
    **request: Any,
) -> SnapshotComplete:
    """Take snapshots of one video into ``output_dir/<video stem>/`` and return the event.

    Request keywords (values as numbers or numeric strings, like the API): ``count``,
    ``interval`` (s), ``offset`` (ms), ``at`` (list of ms), ``width``, ``height``,
    ``frame_type`` ("normal" | "intra"), ``user_data`` (dict or JSON text), ``sprite``
    (a SpriteSnapshotConfig dict, e.g. ``{"CellWidth": 160, "KeepCellPic": "delete"}``).
    ``vtt`` writes thumbnails.vtt; ``retina`` a second set of sheets at twice the cell size.
    Raises a SnapcliError subclass (its ``code``, ``message`` and fail ``event``) on failure.
    """
    unknown = sorted(set(request) - set(REQUEST_KEYWORDS))
    if unknown:
        raise InvalidParameter(f"unknown request parameter {unknown[0]!r}.")
    options = OutputOptions(quality=quality, vtt=vtt, vtt_base_url=vtt_base_url, retina=retina)
    made = build_request(**request)
    return run_announced(
        made,
        lambda: run_job(video, made, output_dir, options, progress=progress, ffmpeg=ffmpeg),
    )


def probe(video: str | os.PathLike[str], ffmpeg: str | None = None) -> VideoInfo:
    """Duration, display size, rotation, SAR, codec, frame rate and keyframes of a video."""
    return _probe(video, ffmpeg)
