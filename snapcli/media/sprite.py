"""Composing sprite sheets with Pillow as the cells arrive.

Frames arrive in any order from parallel ffmpeg runs. A sheet is kept open only until its last
cell is in; then it is encoded, written and let go. So memory holds a few sheets at a time, never
all the frames of a job.
"""

from __future__ import annotations

import io
import random
import threading
from collections.abc import Callable
from math import ceil
from typing import TYPE_CHECKING

from snapcli.core.layout import SheetRecord, SpriteLayout
from snapcli.core.names import sheet_name

if TYPE_CHECKING:  # Pillow loads when a picture is made: a job without sheets may need none
    from PIL import Image

Writer = Callable[[str, bytes], None]


def background_rgb(color: str, rng: random.Random | None = None) -> tuple[int, int, int]:
    """The sheet colour; "random" draws one colour for the whole job."""
    if color == "random":
        rng = rng or random.Random()
        return (rng.randrange(256), rng.randrange(256), rng.randrange(256))
    from PIL import ImageColor

    red, green, blue = ImageColor.getrgb(color)[:3]
    return (red, green, blue)


def encode_picture(
    picture: Image.Image, quality: int, full_chroma: bool = False, picture_format: str = "jpg"
) -> bytes:
    """The picture's file bytes: JPEG (`full_chroma` keeps colour at full resolution, 4:4:4,
    which sheets of small cells need so that colours do not bleed across cell edges), PNG
    (lossless: quality does not apply), or WebP (lossy, at `quality`)."""
    buffer = io.BytesIO()
    if picture_format == "png":
        picture.save(buffer, "PNG", compress_level=6)
    elif picture_format == "webp":
        picture.save(buffer, "WEBP", quality=quality, method=4)
    else:
        picture.save(buffer, "JPEG", quality=quality, subsampling=0 if full_chroma else 2)
    return buffer.getvalue()


class SheetWriter:
    """Pastes each snapshot into its cell; writes a sheet the moment its last cell is in. With a
    `cell_step` of k, only snapshots 1, 1 + k, 1 + 2k, … are tiled."""

    def __init__(
        self,
        layout: SpriteLayout,
        snapshots: int,
        background: tuple[int, int, int],
        write: Writer,
        quality: int,
        scale: int = 1,
        cell_step: int = 1,
        trim_last: bool = False,
        picture_format: str = "jpg",
    ) -> None:
        self.layout = layout
        self.cell_step = cell_step
        self.total_cells = ceil(snapshots / cell_step)
        self.background = background
        self.scale = scale
        self._write = write
        self._quality = quality
        self._format = picture_format
        self._open: dict[int, Image.Image] = {}
        self._filled: dict[int, int] = {}
        self._lock = threading.Lock()
        self.records = {
            sheet: SheetRecord(sheet, sheet_name(sheet, scale, picture_format), *layout.sheet_size)
            for sheet in range(1, layout.sheet_count(self.total_cells) + 1)
        }
        if trim_last and self.records:  # the last sheet cut to the rows it fills
            last = self.records[len(self.records)]
            cells = layout.cells_on_sheet(last.index, self.total_cells)
            last.width, last.height = layout.trimmed_size(cells)

    def add(self, snapshot_index: int, picture: Image.Image) -> None:
        """Place snapshot `snapshot_index` (1-based, schedule order) in its cell, if it has one."""
        position, skipped = divmod(snapshot_index - 1, self.cell_step)
        if skipped:
            return
        box = self.layout.place(position)
        size = (box.width, box.height)
        from PIL import Image

        cell = picture if picture.size == size else picture.resize(size, Image.Resampling.LANCZOS)
        with self._lock:
            sheet = self._open.get(box.sheet)
            if sheet is None:
                # Cells with alpha (kept for PNG/WebP) make a sheet with alpha, its gaps opaque.
                mode = "RGBA" if cell.mode == "RGBA" else "RGB"
                sheet = Image.new(mode, self.layout.sheet_size, self.background)
                self._open[box.sheet] = sheet
            sheet.paste(cell, (box.x, box.y))
            self.records[box.sheet].cells.append((snapshot_index, box))
            self._filled[box.sheet] = self._filled.get(box.sheet, 0) + 1
            complete = self._filled[box.sheet] == self.layout.cells_on_sheet(
                box.sheet, self.total_cells
            )
            if complete:
                del self._open[box.sheet]
        if complete:
            record = self.records[box.sheet]
            if (record.width, record.height) != sheet.size:
                sheet = sheet.crop((0, 0, record.width, record.height))
            encoded = encode_picture(
                sheet, self._quality, full_chroma=True, picture_format=self._format
            )
            self._write(record.name, encoded)

    def finished_records(self) -> list[SheetRecord]:
        """Every sheet's record, cells in snapshot order, once all are written."""
        if self._open:
            raise RuntimeError(f"sprite sheets {sorted(self._open)} were not completed")
        for record in self.records.values():
            record.cells.sort(key=lambda cell: cell[0])
        return [self.records[sheet] for sheet in sorted(self.records)]
