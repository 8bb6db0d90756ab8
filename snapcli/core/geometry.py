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
    """How a decoded frame becomes an output picture: scale to (width, height), then turn."""

    scale_width: int  # before turning
    scale_height: int
    rotation: int

    @classmethod
    def for_output(cls, size: tuple[int, int], rotation: int) -> FrameGeometry:
        width, height = size
        if rotation in (90, 270):
            return cls(height, width, rotation)
        return cls(width, height, rotation)

    @property
    def output_size(self) -> tuple[int, int]:
        if self.rotation in (90, 270):
            return self.scale_height, self.scale_width
        return self.scale_width, self.scale_height

    def turn_filters(self) -> list[tuple[str, dict[str, str]]]:
        """ffmpeg filters (name, options) that turn the scaled frame upright."""
        turns: dict[int, list[tuple[str, dict[str, str]]]] = {
            0: [],
            90: [("transpose", {"dir": "clock"})],
            180: [("hflip", {}), ("vflip", {})],
            270: [("transpose", {"dir": "cclock"})],
        }
        return turns[self.rotation]


def rotation_from_display_matrix(degrees_counterclockwise: float) -> int:
    """ffprobe reports the display matrix as a counter-clockwise angle; players turn clockwise by
    its negation. Snapped to a quarter turn."""
    return int(round(-degrees_counterclockwise / 90.0)) % 4 * 90
