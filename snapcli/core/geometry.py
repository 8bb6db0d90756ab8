"""Sizes and orientation: display size from coded size, SAR and rotation; the size to output.

Pure. Rotation is the clockwise turn, in degrees (0, 90, 180, 270), that makes the picture upright,
as a player applies it from the stream's display matrix.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from math import floor


def round_half_up(value: Fraction | float) -> int:
    return floor(Fraction(value) + Fraction(1, 2))


def display_size(width: int, height: int, sar: Fraction, rotation: int) -> tuple[int, int]:
    """Coded size with the sample aspect ratio applied (to the width), then turned."""
    shown_width = max(round_half_up(width * sar), 1)
    return (height, shown_width) if rotation in (90, 270) else (shown_width, height)


def output_size(display: tuple[int, int], width: int | None, height: int | None) -> tuple[int, int]:
    """docs/api.md §3: one side keeps the display aspect, both are exact, neither is display."""
    display_width, display_height = display
    if width and height:
        return width, height
    if width:
        return width, max(round_half_up(Fraction(width * display_height, display_width)), 1)
    if height:
        return max(round_half_up(Fraction(height * display_width, display_height)), 1), height
    return display


@dataclass(frozen=True)
class FrameGeometry:
    """How a decoded frame becomes an output picture: scale to (width, height), then turn (and
    mirror, where the display matrix says so)."""

    scale_width: int  # before turning
    scale_height: int
    rotation: int
    steps: tuple[str, ...] | None = None  # the turn as ffmpeg filters; None: from rotation

    @classmethod
    def for_output(
        cls, size: tuple[int, int], rotation: int, steps: tuple[str, ...] | None = None
    ) -> FrameGeometry:
        width, height = size
        if rotation in (90, 270):
            return cls(height, width, rotation, steps)
        return cls(width, height, rotation, steps)

    @property
    def output_size(self) -> tuple[int, int]:
        if self.rotation in (90, 270):
            return self.scale_height, self.scale_width
        return self.scale_width, self.scale_height

    def turn_filters(self) -> list[tuple[str, dict[str, str]]]:
        """ffmpeg filters (name, options) that turn the scaled frame upright."""
        steps = self.steps if self.steps is not None else turn_steps(self.rotation, None)
        filters: list[tuple[str, dict[str, str]]] = []
        for step in steps:
            name, _, direction = step.partition("=")
            filters.append((name, {"dir": direction} if direction else {}))
        return filters


def turn_steps(rotation: int, matrix: tuple[int, ...] | None) -> tuple[str, ...]:
    """The filters that show a frame as players do, from its clockwise rotation and, where the
    stream has one, its display matrix (nine numbers, row by row). A matrix with a mirror in it
    (a negative determinant) turns and flips, as FFmpeg's own autorotate reads it: a left-right
    mirror reports a 180° rotation but wants only hflip."""
    if matrix is None or len(matrix) < 5:
        plain = {0: (), 90: ("transpose=clock",), 180: ("hflip", "vflip"),
                 270: ("transpose=cclock",)}  # fmt: skip
        return plain[rotation]
    a, c, d = matrix[0], matrix[3], matrix[4]
    if rotation == 90:
        return ("transpose=cclock_flip",) if c > 0 else ("transpose=clock",)
    if rotation == 270:
        return ("transpose=clock_flip",) if c < 0 else ("transpose=cclock",)
    if rotation == 180:
        return (("hflip",) if a < 0 else ()) + (("vflip",) if d < 0 else ())
    return ("vflip",) if d < 0 else ()


def is_mirrored(matrix: tuple[int, ...] | None) -> bool:
    """Whether a display matrix mirrors the picture (its 2×2 part has a negative determinant)."""
    return matrix is not None and len(matrix) >= 5 and matrix[0] * matrix[4] < matrix[1] * matrix[3]


def rotation_from_display_matrix(degrees_counterclockwise: float) -> int:
    """ffprobe reports the display matrix as a counter-clockwise angle; players turn clockwise by
    its negation. Snapped to a quarter turn."""
    return int(round(-degrees_counterclockwise / 90.0)) % 4 * 90
