"""A contact sheet's geometry and words: where each frame goes on one picture, what the header
says of the file, and how a frame's time is written on it. Pure (media/contact_sheet.py draws).

    header (file name; duration, size, codec, frame rate, bit rate, file size)
    +--------+--------+--------+--------+
    | frame  | frame  | frame  | frame  |   N exact frames, evenly spread, in reading order,
    |  01:05 |  02:10 |  03:15 |  04:20 |   each with the time of the frame it shows
    +--------+--------+--------+--------+
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction

from snapcli.errors import InvalidParameter

TIMESTAMP_PLACES = ("bottom-right", "bottom-left", "top-right", "top-left", "off")
MAX_SHEET_PIXELS = 16384  # either side: what JPEG and WebP can hold
_COLOUR = re.compile(r"#[0-9a-fA-F]{6}")


@dataclass(frozen=True)
class SheetStyle:
    """How a contact sheet looks (vcsi's and mtn's usual knobs)."""

    columns: int = 4
    width: int = 1600  # the whole sheet's, in pixels
    padding: int = 6  # between frames
    margin: int = 12  # around the grid and the header
    background: str = "#000000"
    text_color: str = "#ffffff"
    font_size: int = 16
    header: bool = True
    timestamps: str = "bottom-right"  # where each frame's time is written, or "off"
    keep_pictures: bool = False  # also keep each frame as its own picture

    def __post_init__(self) -> None:
        if not 1 <= self.columns <= 64:
            raise InvalidParameter(f"columns must be 1 to 64, got {self.columns}.")
        if not 160 <= self.width <= MAX_SHEET_PIXELS:
            raise InvalidParameter(f"the sheet width must be 160 to {MAX_SHEET_PIXELS} px.")
        for name, value in (("padding", self.padding), ("margin", self.margin)):
            if not 0 <= value <= 256:
                raise InvalidParameter(f"{name} must be 0 to 256 px, got {value}.")
        if not 6 <= self.font_size <= 128:
            raise InvalidParameter(f"the font size must be 6 to 128, got {self.font_size}.")
        for what, colour in (("background", self.background), ("text colour", self.text_color)):
            if not _COLOUR.fullmatch(colour):
                raise InvalidParameter(f"the {what} must be #RRGGBB, got {colour!r}.")
        if self.timestamps not in TIMESTAMP_PLACES:
            raise InvalidParameter(
                f"timestamps must be one of {', '.join(TIMESTAMP_PLACES)}, got {self.timestamps!r}."
            )
        if self.cell_width < 16:
            raise InvalidParameter(
                f"{self.columns} columns leave frames {self.cell_width} px wide: use fewer "
                "columns or a wider sheet."
            )

    @property
    def cell_width(self) -> int:
        return (self.width - 2 * self.margin - (self.columns - 1) * self.padding) // self.columns


@dataclass(frozen=True)
class SheetLayout:
    """Where everything goes: the sheet's size, the header's height, and each frame's box
    (x, y) of `cell` size, in reading order."""

    width: int
    height: int
    header_height: int
    cell: tuple[int, int]
    boxes: tuple[tuple[int, int], ...]


def sheet_layout(
    count: int, frame: tuple[int, int], style: SheetStyle, header_lines: int
) -> SheetLayout:
    """The layout for `count` frames of `frame` size (as decoded: the cell width, the aspect
    kept) under a header of `header_lines` lines."""
    cell_width, cell_height = frame
    rows = -(-count // style.columns)
    line_height = round(style.font_size * 1.35)
    header = style.margin + header_lines * line_height if style.header and header_lines else 0
    top = header + style.margin
    boxes = tuple(
        (
            style.margin + (k % style.columns) * (cell_width + style.padding),
            top + (k // style.columns) * (cell_height + style.padding),
        )
        for k in range(count)
    )
    height = top + rows * cell_height + (rows - 1) * style.padding + style.margin
    if height > MAX_SHEET_PIXELS:
        raise InvalidParameter(
            f"{count} frames in {style.columns} columns make a sheet {height} px high (at most "
            f"{MAX_SHEET_PIXELS}): use more columns, fewer frames or a narrower sheet."
        )
    return SheetLayout(style.width, height, header, (cell_width, cell_height), boxes)


DEFAULT_FRAMES = 16


def with_sheet_defaults(request: dict[str, object], style: SheetStyle) -> dict[str, object]:
    """A request (the API's spelling) for a contact sheet of each video of a batch: what it
    leaves open, a sheet decides: 16 frames spread evenly, at the cell's width."""
    made = dict(request)
    schedule = ("Count", "Interval", "SpecifiedOffsetTime", "SpecifiedOffsetTimes")
    if not any(key in made for key in schedule):
        made.update({"Count": DEFAULT_FRAMES, "Interval": 0})
    if "Width" not in made and "Height" not in made:
        made["Width"] = style.cell_width
    return made


def clock(ms: int) -> str:
    """A frame's time as a sheet shows it: 1:02:03.040, 02:03.040."""
    seconds, millis = divmod(max(0, ms), 1000)
    minutes, seconds = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    if hours:
        return f"{hours}:{minutes:02d}:{seconds:02d}.{millis:03d}"
    return f"{minutes:02d}:{seconds:02d}.{millis:03d}"


@dataclass(frozen=True)
class FileFacts:
    """What a sheet's header tells of the file."""

    name: str
    duration_ms: Fraction
    size: tuple[int, int]  # as shown
    container: str
    codec: str
    frame_rate: Fraction | None
    file_bytes: int


def header_lines(facts: FileFacts) -> list[str]:
    """The header's lines: the file name, then its facts."""
    seconds = float(facts.duration_ms) / 1000
    bitrate = facts.file_bytes * 8 / seconds / 1000 if seconds > 0 else 0
    width, height = facts.size
    parts = [
        f"Duration {clock(round(facts.duration_ms))}",
        f"{width}x{height}",
        f"{facts.container} / {facts.codec}",
    ]
    if facts.frame_rate:
        parts.append(f"{float(facts.frame_rate):.3f}".rstrip("0").rstrip(".") + " fps")
    parts.append(f"{bitrate:,.0f} kb/s" if bitrate < 10_000 else f"{bitrate / 1000:,.1f} Mb/s")
    parts.append(_bytes(facts.file_bytes))
    return [facts.name, "  ·  ".join(parts)]


def container_name(format_name: str, file_name: str) -> str:
    """ffmpeg's name for a container as people say it: "mov,mp4,m4a,…" for talk.mp4 is MP4."""
    names = format_name.split(",")
    extension = file_name.rsplit(".", 1)[-1].lower() if "." in file_name else ""
    return (extension if extension in names else names[0]).upper()


def _bytes(count: int) -> str:
    size = float(count)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{size:,.0f} {unit}" if unit == "B" else f"{size:,.1f} {unit}"
        size /= 1024
    return f"{size:,.1f} TiB"
