"""How a decoded frame is made to look as a player shows it: tone mapping of HDR, deinterlacing,
alpha. Pure: decided from what the probe read and what the user asked (docs/api.md §3).

Players (mpv, VLC) tone-map HDR to SDR BT.709 and deinterlace interlaced video by default; a
snapshot that did neither looks grey (HDR) or combed (interlaced). The choices made are recorded
in the event (`Rendering`), so a script can tell what it got.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from snapcli.errors import InvalidParameter

# ffmpeg's tonemap filter's curves. Mobius is linear up to a knee and rolls off only the
# highlights, as the BT.2390 curve that mpv and VLC use by default does; hable darkens the
# midtones too.
TONE_CURVES = ("mobius", "hable", "reinhard", "linear", "clip", "gamma")
DEFAULT_TONE_CURVE = "mobius"
TONEMAP_CHOICES = ("auto", "off", *TONE_CURVES)
DEINTERLACE_CHOICES = ("auto", "on", "off")
# The transfer functions of HDR video (ffprobe's names), by the names people know them by.
# Dolby Vision profile 8 carries one of these in its HDR10- or HLG-compatible base layer.
HDR_TRANSFERS = {"smpte2084": "PQ", "arib-std-b67": "HLG"}
# ffprobe's field orders: tt/bb (coded and shown top or bottom field first), tb/bt (coded one
# way, shown the other); the first letter is the field shown first.
FIELD_ORDERS = {"tt": "tff", "tb": "tff", "bb": "bff", "bt": "bff"}
# Picture formats that keep an alpha channel.
ALPHA_FORMATS = ("png", "webp")


@dataclass(frozen=True)
class Rendering:
    """What is done to every frame of a job beyond scaling and turning it."""

    hdr: str | None = None  # "PQ" or "HLG": the source's dynamic range, where HDR
    tone_curve: str | None = None  # the tonemap curve applied, None where none is
    field_order: str = "progressive"  # "tff", "bff", "progressive", or "unknown" (not looked at)
    deinterlaced: bool = False  # bwdif applied, one picture per frame
    alpha: str | None = None  # "kept" or "flattened" onto the background, where the source has it

    @property
    def parity(self) -> str:
        """The field bwdif takes first."""
        return "bff" if self.field_order == "bff" else "tff"

    def to_api(self) -> dict[str, Any]:
        """The event's `Rendering` object: the source's kind and what was applied to it."""
        return {
            "DynamicRange": self.hdr or "SDR",
            "ToneMapping": self.tone_curve or "none",
            "FieldOrder": self.field_order,
            "Deinterlace": "bwdif" if self.deinterlaced else "none",
            "Alpha": self.alpha or "none",
        }


def check_tonemap(choice: str) -> str:
    if choice not in TONEMAP_CHOICES:
        raise InvalidParameter(
            f"tonemap must be one of {', '.join(TONEMAP_CHOICES)}, got {choice!r}."
        )
    return choice


def check_deinterlace(choice: str) -> str:
    if choice not in DEINTERLACE_CHOICES:
        raise InvalidParameter(
            f"deinterlace must be one of {', '.join(DEINTERLACE_CHOICES)}, got {choice!r}."
        )
    return choice


def choose_rendering(
    *,
    transfer: str,
    field_order: str | None,
    has_alpha: bool,
    tonemap: str = "auto",
    deinterlace: str = "auto",
    picture_format: str = "jpg",
) -> Rendering:
    """The rendering of a source with these facts, as asked. `field_order` is what the stream
    says or a look at its frames found ("tt", "bb", …, "progressive"), None where neither
    told ("unknown"). With "on", a source that states no interlaced field order is taken for
    top field first, as most interlaced video is."""
    hdr = HDR_TRANSFERS.get(transfer)
    curve = None
    if hdr and tonemap != "off":
        curve = DEFAULT_TONE_CURVE if tonemap == "auto" else tonemap
    order = "unknown" if field_order is None else FIELD_ORDERS.get(field_order, "progressive")
    interlaced = order in ("tff", "bff")
    return Rendering(
        hdr=hdr,
        tone_curve=curve,
        field_order=order,
        deinterlaced=deinterlace == "on" or (interlaced and deinterlace == "auto"),
        alpha=None if not has_alpha else "kept" if picture_format in ALPHA_FORMATS else "flattened",
    )


AS_DECODED = Rendering()
"""Nothing beyond scaling and turning: the rendering of a progressive SDR source without alpha."""
