"""When a frame is blank, for --skip-black: near-black (a fade, a black intro) or near-uniform (a
slate of one colour). Pure: it reads a luma histogram (256 bins, 0-255).

A frame is blank when 98% of its pixels are darker than 32 (of 255), or when its luma spreads
less than 4 levels (standard deviation). Such a snapshot moves to the nearest frame that is not
blank within 3 s either side (the later one on a tie), or stays where it is when there is none.
"""

from __future__ import annotations

from collections.abc import Sequence

DARK_LEVEL = 32
DARK_SHARE = 0.98
FLAT_SPREAD = 4.0
WINDOW_MS = 3000


def is_blank(histogram: Sequence[int]) -> bool:
    """Whether a frame with this luma histogram is blank."""
    total = sum(histogram)
    if not total:
        return True
    if sum(histogram[:DARK_LEVEL]) >= DARK_SHARE * total:
        return True
    mean = sum(level * count for level, count in enumerate(histogram)) / total
    variance = sum(count * (level - mean) ** 2 for level, count in enumerate(histogram)) / total
    return bool(variance < FLAT_SPREAD**2)


def nearest_acceptable(asked_ms: int, candidates: dict[int, tuple[float, bool]]) -> int | None:
    """The candidate (pts: (time in ms, blank)) nearest to `asked_ms` that is not blank, the
    later on a tie; None when every one is blank."""
    fine = [(abs(ms - asked_ms), ms < asked_ms, pts) for pts, (ms, blank) in candidates.items()
            if not blank]  # fmt: skip
    return min(fine)[2] if fine else None
