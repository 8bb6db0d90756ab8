"""Drawing a contact sheet with Pillow: the header, each frame in its box, and its time on it.

The font is Pillow's own (Aileron, built into Pillow with FreeType): the same on every machine.
Text it cannot show (a file name in Chinese, Arabic…) is drawn with a font that fontconfig finds
for those characters, where fontconfig is installed. Without FreeType, Pillow's bitmap font is
used: a plainer sheet, never a broken one.
"""

from __future__ import annotations

import io
import shutil
import subprocess
import threading
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from snapcli.core.contact import (
    FileFacts,
    SheetLayout,
    SheetStyle,
    clock,
    header_lines,
    sheet_layout,
)

if TYPE_CHECKING:
    from PIL import Image

LATIN = 0x250  # Pillow's own font covers Latin; beyond, ask fontconfig
TIMESTAMP_INSET = 4


class ContactSheetWriter:
    """Collects the frames of one sheet as they arrive (from worker threads), and draws it."""

    def __init__(
        self, style: SheetStyle, count: int, frame_size: tuple[int, int], facts: FileFacts
    ) -> None:
        self.style = style
        self.lines = header_lines(facts) if style.header else []
        self.layout: SheetLayout = sheet_layout(count, frame_size, style, len(self.lines))
        self._pictures: dict[int, Image.Image] = {}
        self._lock = threading.Lock()

    def add(self, index: int, picture: Image.Image) -> None:
        """Snapshot number `index` (from 1)."""
        if picture.size != self.layout.cell:
            picture = picture.resize(self.layout.cell)
        with self._lock:
            self._pictures[index] = picture.convert("RGB")

    def render(self, times: dict[int, int], quality: int, picture_format: str) -> bytes:
        """The sheet's file: every frame in its box, `times` (ms, by snapshot) written on."""
        from PIL import Image, ImageDraw

        style, layout = self.style, self.layout
        sheet = Image.new("RGB", (layout.width, layout.height), style.background)
        draw = ImageDraw.Draw(sheet)
        y = style.margin
        for line in self.lines:
            draw.text(
                (style.margin, y), line, fill=style.text_color, font=font(style.font_size, line)
            )
            y += round(style.font_size * 1.35)
        for index, (x, y) in enumerate(layout.boxes, 1):
            picture = self._pictures.get(index)
            if picture is None:
                continue
            sheet.paste(picture, (x, y))
            if style.timestamps != "off" and index in times:
                self._stamp(draw, clock(times[index]), x, y)
        out = io.BytesIO()
        if picture_format == "png":
            sheet.save(out, "PNG", optimize=False)
        elif picture_format == "webp":
            sheet.save(out, "WEBP", quality=quality, method=4)
        else:
            sheet.save(out, "JPEG", quality=quality, optimize=True)
        return out.getvalue()

    def _stamp(self, draw: Any, text: str, x: int, y: int) -> None:
        """A frame's time in a dark box at the chosen corner of its box."""
        style = self.style
        width, height = self.layout.cell
        face = font(max(8, style.font_size - 2), text)
        left, top, right, bottom = draw.textbbox((0, 0), text, font=face)
        box_w, box_h = right - left + 2 * TIMESTAMP_INSET, bottom - top + 2 * TIMESTAMP_INSET
        vertical, horizontal = style.timestamps.split("-")
        bx = x + (width - box_w if horizontal == "right" else 0)
        by = y + (height - box_h if vertical == "bottom" else 0)
        draw.rectangle((bx, by, bx + box_w - 1, by + box_h - 1), fill=(0, 0, 0))
        draw.text((bx + TIMESTAMP_INSET - left, by + TIMESTAMP_INSET - top), text,
                  fill=style.text_color, font=face)  # fmt: skip

    def cells(self, times: dict[int, int]) -> list[dict[str, int]]:
        """Each frame's box on the sheet, for the event."""
        width, height = self.layout.cell
        return [
            {"Snapshot": index, "X": x, "Y": y, "W": width, "H": height, "Time": times[index]}
            for index, (x, y) in enumerate(self.layout.boxes, 1)
            if index in times
        ]


def font(size: int, text: str = "") -> Any:
    """A font of `size` px for `text`."""
    if any(ord(char) >= LATIN for char in text):
        found = _font_for(frozenset(ord(char) for char in text if ord(char) >= LATIN), size)
        if found is not None:
            return found
    return _own_font(size)


@lru_cache(maxsize=16)
def _own_font(size: int) -> Any:
    from PIL import ImageFont

    try:
        return ImageFont.load_default(size=size)
    except (OSError, ImportError, AttributeError, TypeError):  # Pillow without FreeType
        return ImageFont.load_default()


@lru_cache(maxsize=16)
def _font_for(codepoints: frozenset[int], size: int) -> Any:
    """A font fontconfig finds for these characters, or None."""
    from PIL import ImageFont

    matcher = shutil.which("fc-match")
    if matcher is None:
        return None
    charset = " ".join(f"{point:x}" for point in sorted(codepoints)[:64])
    try:
        found = subprocess.run(
            [matcher, "-f", "%{file}", f"sans-serif:charset={charset}"],
            capture_output=True, text=True, timeout=10, check=False,
        ).stdout.strip()  # fmt: skip
        return ImageFont.truetype(found, size) if found else None
    except (OSError, subprocess.TimeoutExpired):
        return None
