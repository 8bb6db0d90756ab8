"""What a video's container says, read by the same ffmpeg that extracts: no ffprobe.

One ffmpeg run copies the first video stream's packets (`-c copy`, nothing decoded) to `framecrc`,
which prints every packet's decode and presentation time, duration and flags, with the stream's
time base. Its log gives the rest: the container (`Input #0, <format>`), its start and duration,
and the stream line (codec, pixel format, colour tags, field order, size, SAR, frame rate, track
id), the stream's metadata and side data (rotation). At debug level with `-debug pict`, the H.264
parser also prints each sequence parameter set, whose `reo:` is how many frames the decoder
holds back to reorder them.

The report has the shape of ffprobe's JSON (`format`, `streams`, `packets`, and ffprobe's names
for every value), so that probe.py reads either alike. Windows of the file are read as several
inputs of one run, each `-ss START -t LENGTH`, as ffprobe's `-read_intervals` reads them.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from fractions import Fraction
from typing import Any

from snapcli.errors import PermissionDenied, ResourceContentBad
from snapcli.media import runner

Interval = tuple[float | None, float | None]
"""(seek to, read for) in seconds; None: from the start, or to the end."""

NO_TIME = -(1 << 63)  # AV_NOPTS_VALUE, as framecrc prints a missing time
KEY, DISCARD = 0x1, 0x4  # AV_PKT_FLAG_KEY, AV_PKT_FLAG_DISCARD
# ffmpeg's words for a field order, and ffprobe's.
_FIELD_ORDERS = {
    "progressive": "progressive",
    "top first": "tt",
    "bottom first": "bb",
    "top coded first (swapped)": "tb",
    "bottom coded first (swapped)": "bt",
}
_COLOR_RANGES = {"tv": "tv", "pc": "pc"}
_CHROMA_LOCATIONS = ("left", "center", "topleft", "top", "bottomleft", "bottom", "unspecified")
_PIXELS = re.compile(
    r"^(yuv|yuvj|yuva|gray|gbr|rgb|bgr|argb|abgr|rgba|bgra|nv|p0|p2|p4|pal|ya|"
    r"xyz|monow|monob|uyvy|yuyv|y2|v2|x2|vuy|ayuv|bayer)[a-z0-9_]*(\(|$)"
)
_COLOUR_NAMES = re.compile(r"^[a-z][a-z0-9-]*(/[a-z][a-z0-9-]*){0,2}$")
# Frame rates ffmpeg prints rounded (29.97 fps) and the exact ones they stand for.
_NTSC_RATES = [Fraction(n * 1000, 1001) for n in (24, 30, 48, 60, 120, 240)]

_INPUT = re.compile(r"^Input #0, (?P<format>.+?), from ")
_DURATION = re.compile(r"^\s+Duration: (?P<duration>[\d:.]+|N/A)(?:, start: (?P<start>-?[\d.]+))?")
_STREAM = re.compile(
    r"^\s+Stream #0:(?P<index>\d+)(?:\[(?P<id>0x[0-9a-fA-F]+)\])?(?:\([^)]*\))?"
    r"(?:, \d+, \d+/\d+)?: "
    r"(?P<kind>\w+): (?P<description>.*)$"
)
_MAPPING = re.compile(r"^\s+Stream #0:(?P<index>\d+) -> #0:\d+ \(copy\)")
_METADATA = re.compile(r"^\s{6,}(?P<key>[^:]+?)\s*: (?P<value>.*)$")
_ROTATION = re.compile(r"(?i)display ?matrix: rotation of (?P<degrees>-?[\d.]+) degrees")
_REORDER = re.compile(r"\bsps:\d+ profile:.* reo:(?P<frames>\d+)")
_TIME_BASE = re.compile(r"^#tb (?P<stream>\d+): (?P<num>\d+)/(?P<den>\d+)")
_SIZE = re.compile(r"(?:^|[ ,])(?P<width>\d{1,5})x(?P<height>\d{1,5})(?=$|[ ,\[])")
_SAR = re.compile(r"SAR (?P<num>\d+):(?P<den>\d+)")
_RATE = re.compile(r"(?:^|, )(?P<rate>[\d.]+k?) fps")


def report(
    ffmpeg: str,
    url: str,
    source: str,
    intervals: Sequence[Interval] | None = None,
    origin: float | None = None,
) -> dict[str, Any]:
    """The container, its first video stream (not a cover picture) and that stream's packets, in
    ffprobe's JSON shape; every packet, or those of `intervals`. Their starts are timestamps, as
    ffprobe's -read_intervals takes them. Where the container's start time is known (`origin`),
    a seek counts from it, as ffmpeg's -ss does; else the seek is by timestamp, and its read
    ends that start time late (a container that starts near 0). Raises ResourceContentBad (or
    PermissionDenied) where ffmpeg cannot read the file."""
    reads: Sequence[Interval] = intervals or [(None, None)]
    args = [ffmpeg, "-hide_banner", "-nostdin", "-v", "debug"]
    for start, length in reads:
        args += ["-debug", "pict", "-copyts"]
        if start is not None and origin is not None:
            args += ["-ss", f"{max(start - origin, 0):.3f}"]
        elif start is not None:
            args += ["-seek_timestamp", "1", "-ss", f"{start:.3f}"]
        args += [] if length is None else ["-t", f"{length:.3f}"]
        args += ["-i", url]
    for number in range(len(reads)):
        args += ["-map", f"{number}:V:0"]
    args += ["-c", "copy", "-f", "framecrc", "-"]
    log: list[str] = []
    with runner.ToolProcess(args, on_stderr_line=log.append) as process:
        output = process.read_all()
        code = process.wait()
    if code != 0:
        runner.raise_if_crashed(code, "ffmpeg", source)
        raise_unreadable(process.stderr_text, source)
    return parse("\n".join(log), output.decode("utf-8", "replace"))


def raise_unreadable(errors: str, source: str) -> None:
    """The one sentence for a video that ffmpeg could not read: its own last words."""
    lines = [line for line in errors.strip().splitlines() if not line.startswith("[")]
    reason = lines[-1] if lines else "ffmpeg could not read it"
    if "Permission denied" in errors:
        raise PermissionDenied(f"the video {source} cannot be read (permission denied).")
    reason = reason.split(": ", 1)[-1] if reason.startswith(("file:", "/")) else reason
    raise ResourceContentBad(f"{source} is not a readable video ({reason}).")


def parse(log: str, frames: str) -> dict[str, Any]:
    """The report from ffmpeg's log and its framecrc output (pure)."""
    container: dict[str, Any] = {}
    streams: dict[int, dict[str, Any]] = {}
    mapped: int | None = None
    reorder = None
    current: dict[str, Any] | None = None
    in_input = False
    for line in log.splitlines():
        if match := _INPUT.match(line):
            container["format_name"] = match["format"]
            in_input = True
            continue
        if line.startswith(("Input #", "Output #")):
            in_input = False  # the other inputs (windows) repeat the first; the output is ours
            current = None
        if match := _REORDER.search(line):
            reorder = max(reorder or 0, int(match["frames"]))
        if match := _MAPPING.match(line):
            mapped = int(match["index"]) if mapped is None else mapped
            continue
        if not in_input:
            continue
        if match := _DURATION.match(line):
            if match["duration"] != "N/A":
                container["duration"] = str(_clock_seconds(match["duration"]))
            if match["start"] is not None:
                container["start_time"] = match["start"]
        elif match := _STREAM.match(line):
            current = _stream(int(match["index"]), match["kind"], match["description"])
            if match["id"]:
                current["id"] = match["id"]
            streams[current["index"]] = current
        elif current is not None and (match := _ROTATION.search(line)):
            current.setdefault("side_data_list", []).append({"rotation": float(match["degrees"])})
        elif current is not None and (match := _METADATA.match(line)):
            current.setdefault("tags", {})[match["key"].strip()] = match["value"].strip()
    video = streams.get(mapped) if mapped is not None else None
    packets, time_bases = _packets(frames, mapped if mapped is not None else 0)
    if video is not None:
        if time_bases:
            video["time_base"] = time_bases[0]
        reorders = any(
            "pts" not in packet or packet["pts"] != packet.get("dts", packet["pts"])
            for packet in packets
        )
        video["has_b_frames"] = max(reorder or 0, 1 if reorders else 0)
    return {
        "format": container,
        "streams": [video] if video is not None else [],
        "packets": packets,
    }


def _stream(index: int, kind: str, description: str) -> dict[str, Any]:
    """A stream line's facts, in ffprobe's names."""
    stream: dict[str, Any] = {"index": index, "codec_type": kind.lower()}
    parts = _top_level_parts(description)
    stream["codec_name"] = parts[0].split()[0] if parts and parts[0] else ""
    if "(attached pic)" in description:
        stream["disposition"] = {"attached_pic": 1}
    if kind != "Video":
        return stream
    for part in parts[1:]:
        if _PIXELS.match(part):  # the first part that names a pixel format
            pixels, _, colour = part.partition("(")
            stream["pix_fmt"] = pixels.strip()
            stream.update(_colour(colour.removesuffix(")")))
            break
    if match := _SIZE.search(description):
        stream["width"], stream["height"] = int(match["width"]), int(match["height"])
    if match := _SAR.search(description):
        stream["sample_aspect_ratio"] = f"{match['num']}:{match['den']}"
    if match := _RATE.search(description):
        rate = _rate(match["rate"])
        stream["avg_frame_rate"] = f"{rate.numerator}/{rate.denominator}"
    return stream


def _colour(properties: str) -> dict[str, str]:
    """ffmpeg's "(tv, bt2020nc/bt2020/smpte2084, progressive)": the range, the matrix, primaries
    and transfer (one name where all three agree), and the field order, each where stated."""
    found: dict[str, str] = {}
    for part in _top_level_parts(properties):
        if part in _COLOR_RANGES:
            found["color_range"] = _COLOR_RANGES[part]
        elif part in _FIELD_ORDERS:
            found["field_order"] = _FIELD_ORDERS[part]
        elif _COLOUR_NAMES.match(part) and part not in _CHROMA_LOCATIONS:
            names = part.split("/")
            space, primaries, transfer = names if len(names) == 3 else names * 3
            for key, name in (
                ("color_space", space),
                ("color_primaries", primaries),
                ("color_transfer", transfer),
            ):
                if name not in ("unknown", "reserved"):
                    found[key] = name
    return found


def _top_level_parts(text: str) -> list[str]:
    """`text` split at the commas outside brackets and parentheses."""
    parts, depth, start = [], 0, 0
    for position, character in enumerate(text):
        if character in "([":
            depth += 1
        elif character in ")]":
            depth -= 1
        elif character == "," and depth == 0:
            parts.append(text[start:position].strip())
            start = position + 1
    parts.append(text[start:].strip())
    return parts


def _rate(text: str) -> Fraction:
    """A frame rate as ffmpeg prints it (25, 29.97, 1k), as the exact rate it stands for."""
    value = Fraction(text.removesuffix("k")) * (1000 if text.endswith("k") else 1)
    for exact in _NTSC_RATES:
        if abs(value - exact) < Fraction(1, 100):
            return exact
    return value


def _clock_seconds(text: str) -> Fraction:
    hours, minutes, seconds = text.split(":")
    return int(hours) * 3600 + int(minutes) * 60 + Fraction(seconds)


def _packets(frames: str, stream_index: int) -> tuple[list[dict[str, Any]], list[str]]:
    """framecrc's packets in ffprobe's shape, window after window (every output stream is one
    window of the same input stream; framecrc interleaves them by time), and the time bases it
    states."""
    windows: dict[int, list[dict[str, Any]]] = {}
    time_bases: list[str] = []
    for line in frames.splitlines():
        if line.startswith("#"):
            if match := _TIME_BASE.match(line):
                time_bases.append(f"{match['num']}/{match['den']}")
            continue
        fields = [field.strip() for field in line.split(",")]
        if len(fields) < 6:
            continue
        dts, pts, duration = int(fields[1]), int(fields[2]), int(fields[3])
        flags = KEY
        for extra in fields[6:]:
            if extra.startswith("F="):
                flags = int(extra[2:], 16)
        packet: dict[str, Any] = {"stream_index": stream_index}
        if pts != NO_TIME:
            packet["pts"] = pts
        if dts != NO_TIME:
            packet["dts"] = dts
        if duration > 0:
            packet["duration"] = duration
        packet["flags"] = ("K" if flags & KEY else "_") + ("D" if flags & DISCARD else "_")
        windows.setdefault(int(fields[0]), []).append(packet)
    packets = [packet for window in sorted(windows) for packet in windows[window]]
    return packets, time_bases
