"""What an MP4/MOV file's header says of its video stream, read in-process: no ffmpeg run.

The facts a job needs besides the timeline (mp4index.py) are in the `moov` box too: the sample
entry's codec and size, its `pasp` (pixel aspect), `colr` (colour tags) and codec configuration
(`avcC`, `hvcC`, `vpcC`, `av1C`: chroma format and bit depth), the track header's display
matrix. For H.264, whose colour tags, pixel aspect and reorder depth often live only in its
sequence parameter set (SPS), the SPS is read as ffmpeg's parser reads it.

Pure: bytes in, facts out. Where anything is not certain (another codec, HEVC or AV1 colours
without a `colr` box, interlaced H.264, an SPS it cannot read), the answer is None and the probe
asks ffmpeg instead.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from fractions import Fraction

# ITU-T H.273 code points, by ffmpeg's names (2 and absent: unspecified).
PRIMARIES = {1: "bt709", 4: "bt470m", 5: "bt470bg", 6: "smpte170m", 7: "smpte240m", 8: "film",
             9: "bt2020", 10: "smpte428", 11: "smpte431", 12: "smpte432",
             22: "jedec-p22"}  # fmt: skip
TRANSFERS = {1: "bt709", 4: "gamma22", 5: "gamma28", 6: "smpte170m", 7: "smpte240m", 8: "linear",
             9: "log100", 10: "log316", 11: "iec61966-2-4", 12: "bt1361e", 13: "iec61966-2-1",
             14: "bt2020-10", 15: "bt2020-12", 16: "smpte2084", 17: "smpte428",
             18: "arib-std-b67"}  # fmt: skip
MATRICES = {0: "gbr", 1: "bt709", 4: "fcc", 5: "bt470bg", 6: "smpte170m", 7: "smpte240m",
            8: "ycgco", 9: "bt2020nc", 10: "bt2020c", 11: "smpte2085", 12: "chroma-derived-nc",
            13: "chroma-derived-c", 14: "ictcp"}  # fmt: skip
# H.264's sample aspect ratios by aspect_ratio_idc (255: stated).
_H264_SAR = [(0, 1), (1, 1), (12, 11), (10, 11), (16, 11), (40, 33), (24, 11), (20, 11), (32, 11),
             (80, 33), (18, 11), (15, 11), (64, 33), (160, 99), (4, 3), (3, 2), (2, 1)]  # fmt: skip
_HIGH_PROFILES = (100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135)
_CHROMA = {0: "gray", 1: "yuv420p", 2: "yuv422p", 3: "yuv444p"}
_VISUAL_ENTRY_BYTES = 78  # a visual sample entry's fields, before its child boxes


@dataclass(frozen=True)
class VideoFacts:
    """A video track's facts in ffprobe's names (None: unspecified)."""

    codec: str
    width: int
    height: int
    sar: Fraction | None
    pix_fmt: str
    color_space: str | None
    color_primaries: str | None
    color_transfer: str | None
    full_range: bool
    field_order: str
    reorder_depth: int | None  # frames the decoder holds back; None: not stated
    nal_length_size: int = 0  # H.264: bytes of the length before each NAL unit in a sample


def video_facts(
    entry_kind: bytes, entry: bytes, has_composition_offsets: bool
) -> VideoFacts | None:
    """The facts of a visual sample entry (its type and body), or None where not certain."""
    try:
        return _facts(entry_kind, entry, has_composition_offsets)
    except (struct.error, IndexError, ValueError):
        return None


def _facts(kind: bytes, entry: bytes, offsets: bool) -> VideoFacts | None:
    width, height = struct.unpack_from(">HH", entry, 24)
    children = _children(entry[_VISUAL_ENTRY_BYTES:])
    colr = _colr(children.get(b"colr"))
    sar = _pasp(children.get(b"pasp"))
    if kind in (b"avc1", b"avc3") and b"avcC" in children:
        sps = _avc_sps(children[b"avcC"])
        if sps is None or not sps.frame_mbs_only:
            return None
        colours = colr or sps.colours
        pix_fmt = _pixels(sps.chroma_format, sps.bit_depth)
        return VideoFacts("h264", width, height, sar or sps.sar, pix_fmt, *colours[:3],
                          full_range=colours[3], field_order="progressive",
                          reorder_depth=sps.reorder_depth,
                          nal_length_size=(children[b"avcC"][4] & 3) + 1)  # fmt: skip
    if kind in (b"hvc1", b"hev1") and b"hvcC" in children and colr is not None:
        config = children[b"hvcC"]
        pix_fmt = _pixels(config[16] & 3, (config[17] & 7) + 8)
        return VideoFacts("hevc", width, height, sar, pix_fmt, *colr[:3], full_range=colr[3],
                          field_order="progressive",
                          reorder_depth=1 if offsets else None)  # fmt: skip
    if kind == b"vp09" and b"vpcC" in children:
        config = children[b"vpcC"][4:]  # after version and flags
        bits, chroma = config[2] >> 4, (config[2] >> 1) & 7
        full = bool(config[2] & 1)
        vp9 = (_name(MATRICES, config[5]), _name(PRIMARIES, config[3]), _name(TRANSFERS, config[4]))
        colours = colr or (*vp9, full)
        pix_fmt = _pixels({0: 1, 1: 1, 2: 2, 3: 3}[chroma], bits)
        return VideoFacts("vp9", width, height, sar, pix_fmt, *colours[:3],
                          full_range=colours[3], field_order="progressive",
                          reorder_depth=0)  # fmt: skip
    if kind == b"av01" and b"av1C" in children and colr is not None:
        config = children[b"av1C"]
        high, twelve, mono = config[2] >> 6 & 1, config[2] >> 5 & 1, config[2] >> 4 & 1
        sub_x, sub_y = config[2] >> 3 & 1, config[2] >> 2 & 1
        chroma = 0 if mono else 1 if sub_x and sub_y else 2 if sub_x else 3
        pix_fmt = _pixels(chroma, 12 if twelve else 10 if high else 8)
        return VideoFacts("av1", width, height, sar, pix_fmt, *colr[:3], full_range=colr[3],
                          field_order="progressive", reorder_depth=0)  # fmt: skip
    return None


Colours = tuple[str | None, str | None, str | None, bool]  # matrix, primaries, transfer, full


def _colr(box: bytes | None) -> Colours | None:
    """An `nclx` (MP4) or `nclc` (QuickTime) colour box."""
    if box is None or box[:4] not in (b"nclx", b"nclc"):
        return None
    primaries, transfer, matrix = struct.unpack_from(">HHH", box, 4)
    full = box[:4] == b"nclx" and bool(box[10] >> 7)
    return (_name(MATRICES, matrix), _name(PRIMARIES, primaries), _name(TRANSFERS, transfer), full)


def _pasp(box: bytes | None) -> Fraction | None:
    if box is None:
        return None
    h_spacing, v_spacing = struct.unpack_from(">II", box, 0)
    return Fraction(h_spacing, v_spacing) if h_spacing and v_spacing else None


def _name(table: dict[int, str], code: int) -> str | None:
    return table.get(code)


def _pixels(chroma_format: int, bit_depth: int) -> str:
    base = _CHROMA[chroma_format]
    return base if bit_depth == 8 else f"{base}{bit_depth}le"


def _children(body: bytes) -> dict[bytes, bytes]:
    """A sample entry's child boxes, the first of each type."""
    found: dict[bytes, bytes] = {}
    offset = 0
    while offset + 8 <= len(body):
        size, kind = struct.unpack_from(">I4s", body, offset)
        if size < 8 or offset + size > len(body):
            break
        found.setdefault(kind, body[offset + 8 : offset + size])
        offset += size
    return found


@dataclass(frozen=True)
class _Sps:
    chroma_format: int
    bit_depth: int
    frame_mbs_only: bool
    sar: Fraction | None
    colours: Colours
    reorder_depth: int | None


def _avc_sps(avcc: bytes) -> _Sps | None:
    """The first SPS of an `avcC` box, as ffmpeg's H.264 parser reads it."""
    count = avcc[5] & 0x1F
    if count < 1:
        return None
    length = struct.unpack_from(">H", avcc, 6)[0]
    nal = avcc[8 : 8 + length]
    return _parse_sps(_Bits(_unescaped(nal[1:])))


def _unescaped(data: bytes) -> bytes:
    """A NAL unit's payload without its emulation-prevention bytes (00 00 03)."""
    return data.replace(b"\x00\x00\x03", b"\x00\x00")


class _Bits:
    def __init__(self, data: bytes) -> None:
        self.data = data
        self.position = 0

    def u(self, count: int) -> int:
        value = 0
        for _ in range(count):
            byte = self.data[self.position >> 3]
            value = value << 1 | (byte >> (7 - (self.position & 7)) & 1)
            self.position += 1
        return value

    def ue(self) -> int:
        zeros = 0
        while self.u(1) == 0:
            zeros += 1
            if zeros > 31:
                raise ValueError("an exp-Golomb code longer than 32 bits")
        return (1 << zeros) - 1 + self.u(zeros)

    def se(self) -> int:
        value = self.ue()
        return (value + 1) // 2 if value & 1 else -(value // 2)


def _parse_sps(bits: _Bits) -> _Sps | None:
    profile = bits.u(8)
    bits.u(16)  # constraint flags, level
    bits.ue()  # seq_parameter_set_id
    chroma_format, bit_depth = 1, 8
    if profile in _HIGH_PROFILES:
        chroma_format = bits.ue()
        if chroma_format == 3:
            bits.u(1)
        bit_depth = bits.ue() + 8
        bits.ue()  # chroma bit depth
        bits.u(1)
        if bits.u(1):  # seq_scaling_matrix_present_flag
            for index in range(8 if chroma_format != 3 else 12):
                if bits.u(1):
                    _skip_scaling_list(bits, 16 if index < 6 else 64)
    bits.ue()  # log2_max_frame_num
    poc_type = bits.ue()
    if poc_type == 0:
        bits.ue()
    elif poc_type == 1:
        bits.u(1)
        bits.se()
        bits.se()
        for _ in range(bits.ue()):
            bits.se()
    references = bits.ue()
    bits.u(1)
    bits.ue()
    bits.ue()  # picture width and height in macroblocks
    frame_mbs_only = bool(bits.u(1))
    if not frame_mbs_only:
        bits.u(1)
    bits.u(1)
    if bits.u(1):  # frame cropping
        for _ in range(4):
            bits.ue()
    sar = None
    colours: Colours = (None, None, None, False)
    reorder = None
    if bits.u(1):  # vui_parameters_present_flag
        if bits.u(1):
            idc = bits.u(8)
            if idc == 255:
                num, den = bits.u(16), bits.u(16)
            elif idc < len(_H264_SAR):
                num, den = _H264_SAR[idc]
            else:
                num, den = 0, 1
            sar = Fraction(num, den) if num and den else None
        if bits.u(1):
            bits.u(1)  # overscan
        if bits.u(1):  # video_signal_type_present_flag
            bits.u(3)
            full = bool(bits.u(1))
            colours = (None, None, None, full)
            if bits.u(1):
                primaries, transfer, matrix = bits.u(8), bits.u(8), bits.u(8)
                colours = (_name(MATRICES, matrix), _name(PRIMARIES, primaries),
                           _name(TRANSFERS, transfer), full)  # fmt: skip
        if bits.u(1):
            bits.ue()
            bits.ue()  # chroma sample locations
        if bits.u(1):
            bits.u(32)
            bits.u(32)
            bits.u(1)  # timing
        nal_hrd = bits.u(1)
        if nal_hrd:
            _skip_hrd(bits)
        vcl_hrd = bits.u(1)
        if vcl_hrd:
            _skip_hrd(bits)
        if nal_hrd or vcl_hrd:
            bits.u(1)
        bits.u(1)  # pic_struct_present_flag
        if bits.u(1):  # bitstream_restriction_flag
            bits.u(1)
            for _ in range(4):
                bits.ue()
            reorder = bits.ue()
            bits.ue()
    if reorder is None and references:
        reorder = 15  # ffmpeg assumes the worst where the stream does not say (then the level's)
    return _Sps(chroma_format, bit_depth, frame_mbs_only, sar, colours, reorder)


def _skip_scaling_list(bits: _Bits, size: int) -> None:
    last = next_scale = 8
    for _ in range(size):
        if next_scale:
            next_scale = (last + bits.se()) % 256
        last = next_scale or last


def _skip_hrd(bits: _Bits) -> None:
    count = bits.ue() + 1
    bits.u(8)
    for _ in range(count):
        bits.ue()
        bits.ue()
        bits.u(1)
    bits.u(20)
