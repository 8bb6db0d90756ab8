"""An animated preview made by one ffmpeg: each clip an input that seeks to the frame shown at
its start (exact: ffmpeg decodes from the keyframe before and drops what comes before), the clips
scaled to the preview's size, at its frame rate, joined, and encoded as animated WebP or MP4.
The picture is turned as players turn it (ffmpeg's autorotate)."""

from __future__ import annotations

from math import floor
from pathlib import Path

import ffmpeg as ffmpeg_builder  # type: ignore[import-untyped,unused-ignore]

from snapcli.core.preview import Clip, PreviewStyle
from snapcli.errors import ResourceContentBad
from snapcli.media import runner
from snapcli.media.probe import VideoInfo
from snapcli.settings import Settings


def make_preview(
    video: VideoInfo,
    clips: list[Clip],
    size: tuple[int, int],
    style: PreviewStyle,
    target: Path,
    settings: Settings | None = None,
) -> None:
    """Write the preview of `clips` to `target`."""
    width, height = size
    # fps keeps the last frame of each tick; shifted by a tick (less a microsecond), each tick
    # gets the frame shown at its start, as a player would show it.
    shift = f"PTS-STARTPTS+{1 / style.fps - 1e-6:.6f}/TB"
    parts = []
    for clip in clips:
        source = ffmpeg_builder.input(
            video.input_url, ss=_seek_seconds(video, clip), t=f"{clip.duration_ms / 1000:.6f}"
        )
        parts.append(
            source[str(video.stream_index)]
            .filter("setpts", shift)
            .filter("fps", style.fps, round="down")
            .filter("trim", end_frame=max(1, round(clip.duration_ms * style.fps / 1000)))
            .filter("scale", width, height)
            .filter("setsar", 1)
        )
    joined = parts[0] if len(parts) == 1 else ffmpeg_builder.concat(*parts, v=1, a=0)
    if style.picture_format == "webp":
        codec = {"vcodec": "libwebp_anim", "loop": 0, "quality": style.quality, "lossless": 0}
    else:
        crf = round(51 - style.quality * 0.33)  # quality 75 → crf 26
        codec = {"vcodec": "libx264", "pix_fmt": "yuv420p", "crf": crf, "movflags": "+faststart"}
    output = joined.output(str(target), an=None, format=style.picture_format, **codec)
    args = output.global_args("-nostdin", "-hide_banner", "-v", "error").compile(
        cmd=runner.find_tool("ffmpeg", settings)
    )
    code, _, errors = runner.run_to_end(args)
    if code != 0:
        runner.raise_if_crashed(code, "ffmpeg", video.source)
        reason = errors.strip().splitlines()[-1] if errors.strip() else "no message"
        raise ResourceContentBad(f"the preview of {video.source} could not be made ({reason}).")


def _seek_seconds(video: VideoInfo, clip: Clip) -> str:
    """Where a clip's input starts: the time of the frame shown at the clip's start, counted as
    -ss counts (from the container's start), rounded down to the microsecond, so that ffmpeg's
    exact seek keeps that frame first."""
    timeline = video.timeline
    seconds = timeline.seconds(timeline.frame_at(clip.start_ms)) - video.start_seconds
    return f"{max(0, floor(seconds * 1_000_000)) / 1_000_000:.6f}"
