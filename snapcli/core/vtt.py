"""The WebVTT thumbnail track (docs/api.md §6). Pure: cue times and text."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from math import ceil


@dataclass(frozen=True)
class Cue:
    start_ms: int
    end_ms: int
    text: str


def timestamp(ms: int) -> str:
    """HH:MM:SS.mmm, always with hours (the form every player parses)."""
    seconds, millis = divmod(ms, 1000)
    minutes, seconds = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours:02d}:{minutes:02d}:{seconds:02d}.{millis:03d}"


def thumbnail_cues(pictures: Sequence[tuple[int, str]], duration_ms: Fraction | int) -> list[Cue]:
    """Cues that tile [0, duration) without gaps or overlaps: each picture from its time to the
    next picture's time, the last to the end, the first from 0.

    `pictures` are (time in ms, cue text) in any order; a time already taken keeps its first
    picture.
    """
    seen: set[int] = set()
    ordered: list[tuple[int, str]] = []
    for time_ms, text in sorted(pictures, key=lambda picture: picture[0]):
        if time_ms not in seen:
            seen.add(time_ms)
            ordered.append((time_ms, text))
    end = ceil(duration_ms)
    starts = [0] + [time_ms for time_ms, _ in ordered[1:]]
    ends = starts[1:] + [end]
    return [
        Cue(start, stop, text)
        for start, stop, (_, text) in zip(starts, ends, ordered)
        if stop > start
    ]


def render(cues: Sequence[Cue]) -> str:
    blocks = ["WEBVTT"]
    blocks += [f"{timestamp(c.start_ms)} --> {timestamp(c.end_ms)}\n{c.text}" for c in cues]
    return "\n\n".join(blocks) + "\n"


def cue_url(name: str, base_url: str | None) -> str:
    """A picture's URL: relative to the VTT file, or under base_url when given."""
    return f"{base_url.rstrip('/')}/{name}" if base_url else name
