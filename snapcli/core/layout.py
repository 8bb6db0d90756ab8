"""Where each snapshot goes on a sprite sheet (docs/api.md §5). Pure: sizes and boxes only."""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from math import ceil

from snapcli.core.geometry import round_half_up
from snapcli.core.request import SpriteConfig
from snapcli.errors import InvalidParameter

MAX_JPEG_SIDE = 65_500
# The largest side each picture format can hold (PNG's is far past any memory budget).
MAX_SIDE = {"jpg": MAX_JPEG_SIDE, "png": MAX_JPEG_SIDE, "webp": 16_383}
NAMES = {"jpg": "a JPEG", "png": "a PNG", "webp": "a WebP picture"}
# A sheet is composed whole in memory (3 bytes a pixel) before it is encoded: a budget that
# keeps one sheet near 3 GB. A 10 × 10 sheet of 4K cells (829 Mpx) fits.
MAX_SHEET_PIXELS = 1_000_000_000


@dataclass(frozen=True)
class CellBox:
    sheet: int  # 1-based
    x: int
    y: int
    width: int
    height: int

    @property
    def xywh(self) -> str:
        return f"{self.x},{self.y},{self.width},{self.height}"


@dataclass(frozen=True)
class SpriteLayout:
    """A grid of `columns` × `lines` cells, filled row by row, `padding` between cells and
    `margin` around the grid."""

    columns: int
    lines: int
    cell_width: int
    cell_height: int
    padding: int = 0
    margin: int = 0

    @classmethod
    def for_request(
        cls, config: SpriteConfig, display: tuple[int, int], snapshot_size: tuple[int, int]
    ) -> SpriteLayout:
        """The layout of a request: cells default to the snapshot size; one side given keeps
        the display aspect."""
        display_width, display_height = display
        width, height = config.cell_width, config.cell_height
        if width and not height:
            height = max(round_half_up(Fraction(width * display_height, display_width)), 1)
        elif height and not width:
            width = max(round_half_up(Fraction(height * display_width, display_height)), 1)
        elif not width and not height:
            width, height = snapshot_size
        assert width and height
        return cls(config.columns, config.lines, width, height, config.padding, config.margin)

    @property
    def cells_per_sheet(self) -> int:
        return self.columns * self.lines

    @property
    def sheet_size(self) -> tuple[int, int]:
        return (
            2 * self.margin + self.columns * self.cell_width + (self.columns - 1) * self.padding,
            2 * self.margin + self.lines * self.cell_height + (self.lines - 1) * self.padding,
        )

    def trimmed_size(self, cells: int) -> tuple[int, int]:
        """The size of a sheet cut to the rows its `cells` fill (the full width is kept)."""
        width, _ = self.sheet_size
        rows = max(1, ceil(cells / self.columns))
        return width, 2 * self.margin + rows * self.cell_height + (rows - 1) * self.padding

    def sheet_count(self, cells: int) -> int:
        return ceil(cells / self.cells_per_sheet)

    def cells_on_sheet(self, sheet: int, cells: int) -> int:
        """How many of `cells` land on the given (1-based) sheet."""
        return min(self.cells_per_sheet, cells - (sheet - 1) * self.cells_per_sheet)

    def place(self, position: int) -> CellBox:
        """The box of the cell at 0-based `position` in schedule order."""
        sheet, slot = divmod(position, self.cells_per_sheet)
        line, column = divmod(slot, self.columns)
        return CellBox(
            sheet=sheet + 1,
            x=self.margin + column * (self.cell_width + self.padding),
            y=self.margin + line * (self.cell_height + self.padding),
            width=self.cell_width,
            height=self.cell_height,
        )

    def scaled(self, factor: int) -> SpriteLayout:
        """The same grid at `factor` times the pixel density (high-density screens)."""
        return SpriteLayout(
            self.columns,
            self.lines,
            self.cell_width * factor,
            self.cell_height * factor,
            self.padding * factor,
            self.margin * factor,
        )

    def check_buildable(self, picture_format: str = "jpg") -> None:
        """Refuse, before any work, a sheet larger than its picture format can hold or than the
        memory budget allows, saying what to change."""
        width, height = self.sheet_size
        largest = MAX_SIDE[picture_format]
        if width * height > MAX_SHEET_PIXELS and max(width, height) <= largest:
            raise InvalidParameter(
                f"a sprite sheet would be {width}×{height} px ({width * height / 1e6:.0f} Mpx, "
                f"about {width * height * 3 / 1e9:.1f} GB of memory), more than the "
                f"{MAX_SHEET_PIXELS // 1_000_000} Mpx a sheet may have: lower Columns "
                f"({self.columns}), Lines ({self.lines}), CellWidth ({self.cell_width}) or "
                f"CellHeight ({self.cell_height})."
            )
        for side, size, count, cell in (
            ("wide", width, self.columns, self.cell_width),
            ("tall", height, self.lines, self.cell_height),
        ):
            if size > largest:
                what = "Columns" if side == "wide" else "Lines"
                cell_name = "CellWidth" if side == "wide" else "CellHeight"
                raise InvalidParameter(
                    f"a sprite sheet would be {size} px {side}, more than the {largest} px "
                    f"{NAMES[picture_format]} can hold: lower {what} ({count}), {cell_name} "
                    f"({cell}), Padding or Margin."
                )


@dataclass
class SheetRecord:
    """A written sheet, as the event lists it."""

    index: int
    name: str
    width: int
    height: int
    cells: list[tuple[int, CellBox]] = field(default_factory=list)  # (snapshot index, box)
