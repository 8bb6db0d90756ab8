"""Picking snapshot times at the strongest scene changes (--pick scenes). Pure: it reads each
frame's scene score (media/scenes.py) and chooses.

A frame's score says how much it differs from the one before (ffmpeg's `scene`, 0 to 1), so a
high score marks the first frame of a new shot: that frame's time is the pick. The N highest
scores are taken, strongest first, each at least a minimum gap from those already taken (the
video's duration over 4N: a fade or a flash scores on several frames in a row, and one shot is
enough), and returned in time order. A video with fewer cuts than N gives fewer times.
"""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction

MIN_SCORE = 0.08  # below this a frame change is motion, not a cut


def scene_times(
    scores: Sequence[tuple[Fraction, float]], count: int, duration_ms: Fraction
) -> list[int]:
    """Up to `count` times (ms, each a frame's own time) at the strongest scene changes, given
    (time in ms, score) of every frame."""
    gap = duration_ms / (4 * count) if count else duration_ms
    taken: list[Fraction] = []
    for ms, score in sorted(scores, key=lambda item: (-item[1], item[0])):
        if score < MIN_SCORE or len(taken) == count:
            break
        if all(abs(ms - other) >= gap for other in taken):
            taken.append(ms)
    return sorted(_ceil_ms(ms) for ms in taken)


def _ceil_ms(ms: Fraction) -> int:
    """A frame's time in whole ms, not before the frame starts (so that it shows that frame)."""
    whole = int(ms)
    return whole if whole == ms else whole + 1
