"""Every frame's scene score, from one ffmpeg that decodes the whole stream at a small size (the
score compares each frame with the one before it; `select`'s scene variable, printed by the
metadata filter)."""

from __future__ import annotations

import re
from fractions import Fraction

from snapcli.errors import ResourceContentBad
from snapcli.media import runner
from snapcli.media.probe import VideoInfo
from snapcli.settings import Settings

_FRAME = re.compile(r"frame:\s*\d+\s+pts:\s*(-?\d+)")
_SCORE = re.compile(r"lavfi\.scene_score=([0-9.]+)")
SCAN_WIDTH = 160


def scene_scores(
    video: VideoInfo, settings: Settings | None = None
) -> list[tuple[Fraction, float]]:
    """(time in ms from the first frame, scene score) of every frame of the video."""
    args = [
        runner.find_tool("ffmpeg", settings), "-nostdin", "-hide_banner", "-copyts",
        "-i", video.input_url, "-map", f"0:{video.stream_index}",
        "-vf", f"scale={SCAN_WIDTH}:-2,select='gte(scene,0)',metadata=print:key=lavfi.scene_score",
        "-f", "null", "-",
    ]  # fmt: skip
    scores: list[tuple[Fraction, float]] = []
    pending: list[int] = []

    def on_line(line: str) -> None:
        frame = _FRAME.search(line)
        if frame:
            pending.append(int(frame.group(1)))
            return
        score = _SCORE.search(line)
        if score and pending:
            scores.append((video.timeline.ms(pending.pop()), float(score.group(1))))

    with runner.ToolProcess(args, on_stderr_line=on_line) as process:
        process.read_all()
        code = process.wait()
    if code != 0:
        runner.raise_if_crashed(code, "ffmpeg", video.source)
        raise ResourceContentBad(f"the scenes of {video.source} could not be read.")
    return scores
