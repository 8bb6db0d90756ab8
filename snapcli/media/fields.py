"""Whether a video is interlaced, where its stream does not say: a short look with ffmpeg's idet.

Most streams state their field order (H.264, HEVC, MPEG-2, ProRes: ffmpeg reports it). MPEG-4
Part 2 (Xvid, DivX) and some others do not, and can be interlaced all the same; a player that
deinterlaces by default then decides from the pictures. So does snapcli, from a few dozen frames
a third of the way in (the start is often black or still, where no field order shows).
"""

from __future__ import annotations

import re

import ffmpeg as ffmpeg_builder  # type: ignore[import-untyped,unused-ignore]

from snapcli.media import runner
from snapcli.media.extract import input_options
from snapcli.media.probe import VideoInfo
from snapcli.settings import Settings

FRAMES_LOOKED_AT = 60
_MULTI_FRAME = re.compile(
    r"Multi frame detection:\s*TFF:\s*(\d+)\s*BFF:\s*(\d+)\s*Progressive:\s*(\d+)"
)


def field_order_seen(video: VideoInfo, settings: Settings | None = None) -> str:
    """ "tt" or "bb" where most frames looked at show combing of that field order, else
    "progressive". A look that fails says "progressive": the frames are then taken as coded,
    as before this look, and the extraction that follows reports the failure itself."""
    timeline = video.timeline
    third = timeline.keyframe_near(int(timeline.duration_ms / 3))
    seek = None if third == timeline.keyframes[0] or not video.seekable else third
    args = list(
        ffmpeg_builder.input(video.input_url, **input_options(video, seek))[str(video.stream_index)]
        .filter("idet")
        .output("-", format="null", **{"frames:v": FRAMES_LOOKED_AT})
        .global_args("-nostdin", "-hide_banner")
        .compile(cmd=runner.find_tool("ffmpeg", settings))
    )
    found: list[tuple[str, ...]] = []

    def on_line(line: str) -> None:
        if match := _MULTI_FRAME.search(line):
            found.append(match.groups())

    with runner.ToolProcess(args, on_stderr_line=on_line) as process:
        process.read_all()
        process.wait()
    if not found:
        return "progressive"
    top, bottom, progressive = map(int, found[-1])
    if top + bottom <= progressive:
        return "progressive"
    return "tt" if top >= bottom else "bb"
