"""An animated preview's clips: K short stretches spread over a video, as hover previews show
them. Pure (media/preview.py runs ffmpeg, engine/preview.py makes the result)."""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from snapcli.errors import InvalidParameter

PREVIEW_FORMATS = ("webp", "mp4")


@dataclass(frozen=True)
class PreviewStyle:
    """What the preview looks like."""

    clips: int = 5
    clip_ms: int = 1000
    width: int = 320
    fps: int = 12
    quality: int = 75
    picture_format: str = "webp"

    def __post_init__(self) -> None:
        if not 1 <= self.clips <= 60:
            raise InvalidParameter(f"clips must be 1 to 60, got {self.clips}.")
        if not 100 <= self.clip_ms <= 60_000:
            raise InvalidParameter(f"a clip lasts 0.1 to 60 s, got {self.clip_ms} ms.")
        if not 16 <= self.width <= 3840:
            raise InvalidParameter(f"the width must be 16 to 3840 px, got {self.width}.")
        if not 1 <= self.fps <= 60:
            raise InvalidParameter(f"fps must be 1 to 60, got {self.fps}.")
        if not 1 <= self.quality <= 100:
            raise InvalidParameter(f"quality must be 1 to 100, got {self.quality}.")
        if self.picture_format not in PREVIEW_FORMATS:
            raise InvalidParameter(
                f"a preview is {' or '.join(PREVIEW_FORMATS)}, got {self.picture_format!r}."
            )


@dataclass(frozen=True)
class Clip:
    start_ms: int
    duration_ms: int


def clips_of(duration_ms: Fraction | int, style: PreviewStyle) -> list[Clip]:
    """The clips: each centred in its equal part of the video, kept inside it; a video
    shorter than the clips together gives one clip of all of it."""
    duration = Fraction(duration_ms)
    if duration <= style.clips * style.clip_ms:
        return [Clip(0, int(duration))]
    part = duration / style.clips
    last_start = duration - style.clip_ms
    clips = []
    for k in range(style.clips):
        centred = part * k + part / 2 - Fraction(style.clip_ms, 2)
        start: Fraction = min(max(Fraction(0), centred), last_start)
        clips.append(Clip(int(start), style.clip_ms))
    return clips


def scaled_height(display_size: tuple[int, int], width: int) -> int:
    """The preview's height at `width`, the shown aspect kept, even (for the MP4 encoder)."""
    shown_width, shown_height = display_size
    return max(2, round(width * shown_height / shown_width / 2) * 2)
