"""What a video is: the container, the video stream and its frame timeline, with no ffprobe.

A local MP4/MOV file whose header settles everything is read in-process: its index for the
timeline (mp4index.py), its sample entry for the stream (mp4facts.py); no ffmpeg runs. Otherwise
one run of the ffmpeg that extracts scans the packets (demux.py: no pixels decoded) for every
frame's presentation timestamp and keyframe flag. On an MP4/MOV file the timeline then comes from
the file's own index, checked against the packets read at the file's start and end, and where
that cannot be used, from the packets around the times asked about. Only when a container
carries no packet timestamps does it fall back to decoding the stream, for the times that ffmpeg
gives the frames.
"""

from __future__ import annotations

import math
import os
import re
from array import array
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any, Literal

from snapcli.core.geometry import (
    display_size,
    is_mirrored,
    rotation_from_display_matrix,
    turn_steps,
)
from snapcli.core.rendering import HDR_TRANSFERS
from snapcli.core.timeline import FrameTimeline
from snapcli.errors import PermissionDenied, ResourceContentBad, VideoNotFound
from snapcli.media import demux, mp4facts, mp4index, runner
from snapcli.media.references import FrameReferences
from snapcli.settings import Settings

_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")

# Pixel formats with an alpha channel (yuva420p, rgba, gbrap10le, ya8, …).
_ALPHA_PIXELS = re.compile(r"^(yuva|gbrap|ya\d)|^(rgba|bgra|argb|abgr|rgb32|bgr32)|^pal8$")

# ffprobe's color_space names (demux.py reports ffmpeg's in them) -> the scale filter's.
_COLOR_MATRICES = {
    "bt709": "bt709",
    "smpte170m": "smpte170m",
    "bt470bg": "bt470",
    "fcc": "fcc",
    "smpte240m": "smpte240m",
    "bt2020nc": "bt2020",
    "bt2020c": "bt2020",
}


@dataclass(frozen=True)
class VideoInfo:
    """A probed video: what a job needs to schedule, plan and extract its frames."""

    source: str  # as the user gave it
    input_url: str  # what ffmpeg opens
    format_name: str
    stream_index: int
    codec: str
    width: int  # coded
    height: int
    sar: Fraction
    rotation: int  # clockwise degrees a player turns the picture
    pix_fmt: str
    color_matrix: str  # the scale filter's in_color_matrix
    color_range: str  # "tv" (limited) or "pc" (full)
    frame_rate: Fraction | None
    start_seconds: Fraction  # the container's start time, which ffmpeg's -ss counts from
    timeline: FrameTimeline
    reorders_frames: bool = False  # a video stream decodes frames out of order (B-frames)
    # False for a stream without timestamps (raw H.264, HEVC): its frames are numbered by the
    # frame rate, as ffmpeg numbers them, and a seek by time cannot find them.
    seekable: bool = True
    display_matrix: tuple[int, ...] | None = None  # as the stream stores it (mirrors, too)
    # The frames' times are ffmpeg's guesses while decoding every frame (AVI with B-frames, raw
    # streams): a decode of keyframes alone guesses others.
    dated_by_decoding: bool = False
    # The container dates the frames in decode order (pts = dts) although the decoder reorders
    # them (old MP4 writers, OpenCV's): frame n in display order is shown at the n-th time, and
    # ffmpeg's guesses, which change with where decoding starts, are not used.
    times_by_display_order: bool = False
    transfer: str = ""  # ffprobe's color_transfer: smpte2084 (PQ), arib-std-b67 (HLG), bt709…
    primaries: str = ""  # ffprobe's color_primaries
    field_order: str | None = None  # ffprobe's: progressive, tt, bb, tb, bt; None: not stated
    has_alpha: bool = False  # the picture has an alpha channel the decoder gives
    alpha_decoder: str | None = None  # the decoder that gives it, where not ffmpeg's default
    # Which frames a decode may leave out (H.264 from an MP4/MOV header probe; references.py).
    references: FrameReferences | None = field(default=None, compare=False, repr=False)

    @property
    def keyframes_decode_alone(self) -> bool:
        """Whether a decode of keyframes alone (-skip_frame nokey) dates each keyframe as the
        timeline does. Not where the times are ffmpeg's guesses or a display order's: there a
        reordering decoder puts out each keyframe only when the next one comes in."""
        return not (self.dated_by_decoding or self.times_by_display_order)

    @property
    def turn_steps(self) -> tuple[str, ...]:
        """The filters that show a frame as players do: turned, and mirrored where asked."""
        return turn_steps(self.rotation, self.display_matrix)

    @property
    def display_size(self) -> tuple[int, int]:
        return display_size(self.width, self.height, self.sar, self.rotation)

    @property
    def duration_ms(self) -> Fraction:
        return self.timeline.duration_ms

    def to_dict(self) -> dict[str, Any]:
        """The probe as `snapcli probe --json` prints it."""
        timeline = self.timeline
        spacing = timeline.keyframe_interval_ms()
        display_width, display_height = self.display_size
        return {
            "VideoId": self.source,
            "Format": self.format_name,
            "Codec": self.codec,
            "Duration": round(float(self.duration_ms)),
            "DurationSeconds": round(float(self.duration_ms) / 1000, 3),
            "Width": display_width,
            "Height": display_height,
            "CodedWidth": self.width,
            "CodedHeight": self.height,
            "Rotation": self.rotation,
            "Mirrored": is_mirrored(self.display_matrix),
            "SampleAspectRatio": f"{self.sar.numerator}:{self.sar.denominator}",
            "FrameRate": round(float(self.frame_rate), 3) if self.frame_rate else None,
            "FrameCount": timeline.frame_count,
            "KeyframeCount": len(timeline.keyframes),
            "KeyframeInterval": round(float(spacing[0])) if spacing else None,
            "MaxKeyframeInterval": round(float(spacing[1])) if spacing else None,
            "PixelFormat": self.pix_fmt,
            "ColorMatrix": self.color_matrix,
            "ColorRange": self.color_range,
            "ColorTransfer": self.transfer or None,
            "DynamicRange": HDR_TRANSFERS.get(self.transfer, "SDR"),
            "ColorPrimaries": self.primaries or None,
            "FieldOrder": self.field_order,
            "Alpha": self.has_alpha,
        }


def input_url(video: str | os.PathLike[str]) -> str:
    """What ffmpeg should open for a video: a URL as it is, a local file checked and made absolute.

    The ``file:`` prefix keeps names that begin with '-' or hold ':' from being read as options or
    protocols.
    """
    text = os.fspath(video)
    if _URL.match(text):
        return text
    path = Path(text)
    if not path.exists():
        if path.is_symlink():
            raise VideoNotFound(
                f"the video {text} is a link that leads to no file (a loop, or a missing target)."
            )
        raise VideoNotFound(f"the video {text} does not exist.")
    if not path.is_file():
        raise VideoNotFound(f"the video {text} is not a regular file.")
    if not os.access(path, os.R_OK):
        raise PermissionDenied(f"the video {text} cannot be read (permission denied).")
    if path.stat().st_size == 0:
        raise ResourceContentBad(f"the video {text} is empty (0 bytes).")
    kind = _reference_kind(path)
    if kind is not None:
        raise ResourceContentBad(
            f"the video {text} is {kind}, which makes ffmpeg open the files or URLs it names: "
            "a local file is read as that one file (name the playlist as a file:// or http "
            "URL to read it on purpose)."
        )
    return "file:" + str(path.resolve())


# Text formats whose demuxers open other files or network addresses named inside them; ffmpeg
# recognises them by content, whatever the file's name (docs/safety.md).
_REFERENCE_FORMATS = (
    (re.compile(rb"\A#EXTM3U"), "an HLS playlist"),
    (re.compile(rb"\Affconcat version"), "an ffconcat list"),
    (re.compile(rb"\A<(.*<)?(\w+:)?MPD\b", re.S), "a DASH manifest"),
    (re.compile(rb"\A<(.*<)?(\w+:)?CompositionPlaylist\b", re.S), "an IMF composition playlist"),
    (re.compile(rb"\Av=0\s*\n"), "an SDP session description"),
)


def _reference_kind(path: Path) -> str | None:
    """What kind of reference file (playlist, manifest, session description) a local file is,
    if it is one."""
    try:
        with open(path, "rb") as file:
            head = file.read(4096)
    except OSError:
        return None
    head = head.removeprefix(b"\xef\xbb\xbf").lstrip()
    for pattern, kind in _REFERENCE_FORMATS:
        if pattern.search(head):
            return kind
    return None


# The look at the start reads this far: past an edit list's hidden lead-in (up to a GOP), so that
# it shows where the frames shown begin.
HEAD_READ_S = 12
WINDOW_AFTER_S = 1.0  # a window reads this far past its time (B-frame reordering, the next frame)
KEYFRAME_WINDOW_AFTER_S = 20.0  # in intra mode, far enough to meet the next keyframe of most GOPs
MERGE_GAP_S = 10.0  # windows closer than this are read as one (about a long GOP)
# A read's first packets may lack a decode time (as many as B-frames delay, up to 16 in H.264),
# but not all the packets of this many.
DTS_LOOKAHEAD = 32
REORDER_MARGIN_S = 0.25  # the end of a window whose frames may be decoded after it stops
# MPEG-TS: seeks land near a time (by a search of the file's bytes), not on the keyframe
# before it, and the timestamps begin anywhere. Read in windows only from this size on: it takes
# two ffmpeg runs, where one reads a small file whole.
NEAR_SEEKING_CONTAINERS = (".ts", ".m2ts", ".mts", ".m2t")
NEAR_SEEK_MIN_BYTES = 32 << 20
# MP4/MOV files, whose own index mp4index.py reads.
INDEXED_CONTAINERS = (".mp4", ".m4v", ".mov", ".3gp")
# Raw streams of one codec, without a container (ffmpeg's names): no times, no seeking.
RAW_STREAM_FORMATS = ("h264", "hevc", "vvc", "mpegvideo", "m4v", "cavsvideo", "vc1", "h263",
                      "h261", "obu", "dirac", "avs2", "avs3")  # fmt: skip
END_SEEK_S = 99_999_999.0  # a seek this far lands on the last keyframe
# ffprobe's name of the MP4/MOV family, whose index dates every sample: where no sample's
# presentation time differs from its decode time in a stream that reorders, the dates are in
# decode order (no composition offsets were written), and seeks still land on keyframes exactly.
INDEX_DATED_FORMATS = ("mov,mp4,m4a,3gp,3g2,mj2",)
# Containers that seek exactly and state the stream's exact duration: windows settle there, so
# they are worth trying (elsewhere they would mostly end in a second, full read). Matroska states
# it in the track's DURATION tag (ffmpeg, mkvmerge and OBS write one), or for the whole file.
WINDOWED_CONTAINERS = (*INDEXED_CONTAINERS, ".mkv", ".webm")


WindowChoice = Callable[[Fraction | None], Sequence[int] | None]
"""Given D (None where it is not known), the times to read around, or None (the whole file, or
not known without D)."""


def probe(
    video: str | os.PathLike[str],
    settings: Settings | None = None,
    near_ms: Sequence[int] | WindowChoice | None = None,
    keyframes: bool = False,
) -> VideoInfo:
    """Probe a video: container, first video stream, and the presentation timeline of its frames.

    A local MP4 or MOV file is first read at its start and end only: the timeline then comes
    from the file's own index, when that agrees with the packets read there. Otherwise, with
    `near_ms` (or what it answers given D), the timeline is read only around those times (ms
    from the start): on a long file much cheaper than reading every packet. Where the windows do not
    certainly settle a time (a seek landed elsewhere, a container without exact durations), the
    whole file is read after all. With `keyframes`, the windows must settle the nearest keyframe
    of each time instead (intra mode), so they reach further. A large MPEG-TS file is read in
    windows placed from its first timestamp, after a look at its start (`_probe_near`).
    """
    source = os.fspath(video)
    url = input_url(source)
    suffix = Path(source).suffix.lower()
    index: mp4index.FileIndex | None | Literal[False] = False  # False: not read (not MP4/MOV)
    if suffix in INDEXED_CONTAINERS and url.startswith("file:"):
        index = mp4index.read_index(url.removeprefix("file:"))  # once, for every read below
        from_header = _probe_header(source, url, index)
        if from_header is not None:
            return from_header
    ffmpeg = runner.find_tool("ffmpeg", settings)
    if suffix in WINDOWED_CONTAINERS:
        ends = None
        indexed = suffix in INDEXED_CONTAINERS and url.startswith("file:")
        if callable(near_ms) and not indexed:  # times that need no D need no look at the ends
            near_ms = near_ms(None) or near_ms
        if indexed or callable(near_ms):  # for the index, or for D
            ends = _probe(source, url, ffmpeg, [], keyframes, file_index=index)
            if ends is not None and ends.timeline.known is None:
                return ends
        if callable(near_ms):
            near_ms = near_ms(None if ends is None else ends.duration_ms)
        if near_ms:
            info = _probe(source, url, ffmpeg, sorted(set(near_ms)), keyframes, file_index=index)
            if info is not None:
                return info
    elif suffix in NEAR_SEEKING_CONTAINERS and near_ms is not None and _large(url):
        info = _probe_near(source, url, ffmpeg, near_ms, keyframes)
        if info is not None:
            return info
    info = _probe(source, url, ffmpeg, None, keyframes, settings=settings, file_index=index)
    assert info is not None
    return info


@dataclass(frozen=True)
class _Start:
    """What a look at an MPEG-TS file's start tells: where its timestamps begin, how far apart
    its keyframes are, and the duration it states."""

    origin_seconds: Fraction
    keyframe_gap_seconds: Fraction
    duration_ms: Fraction


def _probe_near(
    source: str, url: str, ffmpeg: str, near_ms: Sequence[int] | WindowChoice, keyframes: bool
) -> VideoInfo | None:
    """The timeline of an MPEG-TS file read in windows (None where they do not settle): a first
    run reads its start, for where its timestamps begin (windows are placed from there) and its
    keyframe spacing (its seeks land near a time, not on the keyframe before it, so each window
    begins that much earlier); a second reads the windows and the end."""
    start = _look_at_start(source, url, ffmpeg)
    if start is None:
        return None
    times = near_ms(start.duration_ms) if callable(near_ms) else near_ms
    if not times:
        return None
    info = _probe(source, url, ffmpeg, sorted(set(times)), keyframes, start)
    if info is None or not callable(near_ms):
        return info
    # The times spread over D as the windows found it, if that differs from the stated one.
    final = near_ms(info.duration_ms) or []
    return info if _knows_all(info.timeline, final, keyframes) else None


def _look_at_start(source: str, url: str, ffmpeg: str) -> _Start | None:
    report = demux.report(ffmpeg, url, source, [(None, HEAD_READ_S)])
    stream, time_base, packets = _video_packets(report, source)
    stated = _stated_duration_ms(stream, report.get("format", {}))
    if stated is None or not packets or not all("pts" in p for p in packets):
        return None
    keys = sorted(int(p["pts"]) for p in packets if _flagged(p, "K"))
    gaps = [b - a for a, b in zip(keys, keys[1:])]
    widest = max(gaps, default=0) * time_base
    return _Start(
        origin_seconds=min(int(p["pts"]) for p in packets) * time_base,
        # Two keyframes seen: the widest gap between them; one: all the start read held.
        keyframe_gap_seconds=widest if gaps else Fraction(HEAD_READ_S),
        duration_ms=stated,
    )


def _large(url: str) -> bool:
    """A local file large enough that reading it twice in part beats reading it whole."""
    return url.startswith("file:") and file_size(url.removeprefix("file:")) >= NEAR_SEEK_MIN_BYTES


def file_size(path: str) -> int:
    """A local file's size in bytes (0 where it cannot be read, or for a URL)."""
    try:
        return os.stat(path).st_size
    except OSError:
        return 0


def _probe(
    source: str,
    url: str,
    ffmpeg: str,
    near_ms: list[int] | None,
    keyframes: bool,
    start: _Start | None = None,
    settings: Settings | None = None,
    file_index: mp4index.FileIndex | None | Literal[False] = False,
) -> VideoInfo | None:
    """One ffmpeg run (demux.py); None when a windowed read does not settle every time asked
    about. A read of the ends alone (`near_ms` empty) gives the whole timeline where the file's
    index can be trusted."""
    intervals: list[demux.Interval] | None = None
    if near_ms is not None:
        head: demux.Interval = (None, HEAD_READ_S)
        if start is None:
            spans: list[demux.Interval] = [
                (a / 1000, (b - a) / 1000) for a, b in read_windows(near_ms, keyframes)
            ]
            # The tail: a seek past the end lands on the last keyframe.
            tail: demux.Interval = (END_SEEK_S, None)
        else:
            spans, tail = _near_spans(near_ms, keyframes, start)
        intervals = [head, *spans, tail]
    origin = None if start is None else float(start.origin_seconds)
    report = demux.report(ffmpeg, url, source, intervals, origin)
    stream, time_base, packets = _video_packets(report, source)
    index = int(stream["index"])
    format_name = str(report.get("format", {}).get("format_name", ""))
    if file_index is False:  # not read by the caller: read it here, where it is an MP4/MOV
        file_index = _file_index(url, format_name)
    frame_rate = _fraction(stream.get("avg_frame_rate")) or _fraction(stream.get("r_frame_rate"))
    fallback_duration = (
        int(round(1 / (frame_rate * time_base))) if frame_rate and frame_rate > 0 else None
    )
    timed = bool(packets) and all("pts" in p for p in packets)
    reorders = any(_int(s.get("has_b_frames")) > 0 for s in report.get("streams", []))
    seekable = True
    if near_ms is not None:
        if not timed or not any("dts" in packet for packet in packets[:DTS_LOOKAHEAD]):
            return None
        windows = _split_windows(packets, fallback_duration)
        indexed = None
        if not near_ms and Path(source).suffix.lower() in INDEXED_CONTAINERS:
            indexed = _indexed_timeline(file_index, stream, time_base, windows, fallback_duration)
        if indexed is not None:
            timeline = indexed
        else:
            read = _windowed_timeline(windows, time_base, fallback_duration)
            stated = _stated_duration_ms(stream, report.get("format", {}))
            if read is None or not _settles(read, near_ms, stated, keyframes):
                return None
            timeline = read
    else:
        if timed:
            frames, discarded = [_frame(p) for p in packets], _discarded(packets)
        else:
            decoder = runner.find_tool("ffmpeg", settings)
            frames, discarded = _decoded_frames(decoder, url, index, time_base, source), set()
            # A raw stream (H.264, HEVC) has no times at all: ffmpeg numbers its frames by the
            # frame rate, and a seek by time cannot find them.
            seekable = format_name not in RAW_STREAM_FORMATS
        try:
            timeline = FrameTimeline.from_frames(frames, time_base, fallback_duration, discarded)
        except ValueError:
            raise ResourceContentBad(f"the video {source} holds no video frames.") from None
    width, height = int(stream.get("width") or 0), int(stream.get("height") or 0)
    if width <= 0 or height <= 0:
        raise ResourceContentBad(f"the video {source} has a video stream without a picture size.")
    return VideoInfo(
        source=source,
        input_url=url,
        format_name=format_name,
        stream_index=index,
        codec=str(stream.get("codec_name", "")),
        width=width,
        height=height,
        sar=_fraction(stream.get("sample_aspect_ratio"), separator=":") or Fraction(1),
        rotation=_rotation(stream),
        display_matrix=_display_matrix(file_index, stream),
        pix_fmt=str(stream.get("pix_fmt", "")),
        color_matrix=_color_matrix(stream, width, height),
        color_range=_color_range(stream),
        transfer=str(stream.get("color_transfer", "")),
        primaries=str(stream.get("color_primaries", "")),
        field_order=_field_order(stream),
        has_alpha=_ALPHA_PIXELS.search(str(stream.get("pix_fmt", ""))) is not None
        or _vpx_alpha(stream) is not None,
        alpha_decoder=_vpx_alpha(stream),
        frame_rate=frame_rate,
        start_seconds=_seconds(report.get("format", {}).get("start_time")),
        timeline=timeline,
        reorders_frames=reorders,
        seekable=seekable,
        dated_by_decoding=not timed,
        times_by_display_order=reorders
        and timed
        and format_name in INDEX_DATED_FORMATS
        and all(p.get("dts", p["pts"]) == p["pts"] for p in packets),
    )


def _frame(packet: dict[str, Any]) -> tuple[int, bool, int | None]:
    return int(packet["pts"]), _flagged(packet, "K"), packet.get("duration")


def _flagged(packet: dict[str, Any], flag: str) -> bool:
    """Whether ffprobe flags the packet: K a keyframe, D decoded but not shown."""
    return flag in packet.get("flags", "")


def _discarded(packets: Iterable[dict[str, Any]]) -> set[int]:
    """The pts of frames decoded but not shown: before the start of an edit list (or after its
    end), which the demuxer flags 'D'."""
    return {int(packet["pts"]) for packet in packets if _flagged(packet, "D")}


def _split_windows(
    packets: list[dict[str, Any]], fallback_duration: int | None
) -> list[list[dict[str, Any]]]:
    """Packets read in windows, split where their decode timestamps jump.

    Where the container stores presentation times only (Matroska), ffmpeg works out decode
    times as it goes, and the first packets after a seek (as many as B-frames delay) have none:
    such a packet after one that has one begins a new window."""
    windows: list[list[dict[str, Any]]] = [[]]
    previous = None
    for packet in packets:
        dts = int(packet["dts"]) if "dts" in packet else None
        step = max(int(packet.get("duration") or 0), fallback_duration or 1)
        if previous is not None and (dts is None or not 0 < dts - previous <= 4 * step):
            windows.append([])
        windows[-1].append(packet)
        previous = dts
    return windows


def _windowed_timeline(
    windows: list[list[dict[str, Any]]], time_base: Fraction, fallback_duration: int | None
) -> FrameTimeline | None:
    """The timeline of packets read in windows, each window from a keyframe on."""
    discarded = _discarded(packet for window in windows for packet in window)
    frames = [[_frame(packet) for packet in window] for window in windows]
    frames = [window for window in frames if any(key for _, key, _ in window)]
    if len(frames) < 2:
        return None
    margin = round(Fraction(REORDER_MARGIN_S) / time_base)
    try:
        return FrameTimeline.from_windows(frames, time_base, margin, fallback_duration, discarded)
    except ValueError:  # a window of frames that are not shown (a long edit-list lead-in)
        return None


def _indexed_timeline(
    index: mp4index.FileIndex | None,
    stream: dict[str, Any],
    time_base: Fraction,
    windows: list[list[dict[str, Any]]],
    fallback_duration: int | None,
) -> FrameTimeline | None:
    """Every frame from the MP4/MOV index, when it agrees with the packets read at the file's
    start and end (the first and last windows).

    Agreeing: the same presentation times once shifted by one constant (the edit list's), the
    same keyframes, and the frames not shown exactly those before the first one shown. Samples
    that ffmpeg dropped or retimed would show there: the first packet would not be the first
    sample, or the last not the last. The last frame's duration is the one its packet states.
    """
    track_id = _track_id(stream)
    if index is None or track_id is None:
        return None
    samples = mp4index.track_samples(index, track_id)
    if samples is None or Fraction(1, samples.timescale) != time_base:
        return None
    head, tail = windows[0], windows[-1]
    tail_start = len(samples.keyframes) - len(tail)
    shown = (int(packet["pts"]) for packet in head if not _flagged(packet, "D"))
    first_shown = min(shown, default=None)
    if tail_start < 0 or first_shown is None:
        return None
    times = samples.presentation_times(int(head[0]["pts"]) - samples.first_time)
    keyframes = samples.keyframes

    def agree(packets: list[dict[str, Any]], first: int) -> bool:
        return all(
            int(packet["pts"]) == times[first + i]
            and _flagged(packet, "K") == keyframes[first + i]
            and _flagged(packet, "D") == (times[first + i] < first_shown)
            for i, packet in enumerate(packets)
        )

    if not agree(head, 0) or not agree(tail, tail_start):
        return None
    durations = {int(p["pts"]): int(p["duration"]) for p in tail if p.get("duration")}
    hidden = any(_flagged(packet, "D") for packet in head)
    discarded = set(filter(first_shown.__gt__, times)) if hidden else set()
    return FrameTimeline.from_columns(
        times, keyframes, time_base, durations, fallback_duration, discarded
    )


def _settles(
    timeline: FrameTimeline, near_ms: list[int], stated: Fraction | None, keyframes: bool
) -> bool:
    """Every time before the end is settled (its frame, or its nearest keyframe), and the end is
    the `stated` one (the last window reached the end of the stream)."""
    if stated is None:
        return False
    frame_ms = Fraction(timeline.min_frame_gap()) * timeline.time_base * 1000
    return abs(stated - timeline.duration_ms) <= 2 * frame_ms and _knows_all(
        timeline, near_ms, keyframes
    )


def _knows_all(timeline: FrameTimeline, times: Sequence[int], keyframes: bool) -> bool:
    """Every time before the end is settled: its frame, or in intra mode its nearest keyframe."""
    settled = timeline.knows_keyframe_near if keyframes else timeline.knows_time
    return all(settled(t) for t in times if t < timeline.duration_ms)


def _near_spans(
    near_ms: list[int], keyframes: bool, start: _Start
) -> tuple[list[demux.Interval], demux.Interval]:
    """The windows (and the tail) of a file whose seeks land near a time: placed from where its
    timestamps begin, each beginning a keyframe gap (and a second) early, joined where that
    makes them meet."""
    lead = float(start.keyframe_gap_seconds) + 1
    origin = float(start.origin_seconds)
    end = origin + float(start.duration_ms) / 1000
    joined: list[list[float]] = []
    for a, b in read_windows(near_ms, keyframes):
        first, last = origin + a / 1000 - lead, origin + b / 1000
        if joined and first <= joined[-1][1]:
            joined[-1][1] = last
        else:
            joined.append([first, last])
    tail_start = end - lead
    while joined and joined[-1][1] >= tail_start:  # windows that reach the tail join it
        tail_start = min(tail_start, joined.pop()[0])
    spans: list[demux.Interval] = [
        (max(first, origin), last - max(first, origin)) for first, last in joined
    ]
    return spans, (max(tail_start, origin), None)


def _stated_duration_ms(
    stream: dict[str, Any], container: dict[str, Any] | None = None
) -> Fraction | None:
    """The stream's duration as its container states it: MP4 in the track header, Matroska in
    a DURATION tag ("HH:MM:SS.nnnnnnnnn"); else the whole file's (`container`, ffprobe's format
    section), which is the stream's where no other stream outlasts it, and is checked anyway."""
    try:
        return Fraction(str(stream["duration"])) * 1000
    except (KeyError, ValueError):
        pass
    tags = {str(key).upper(): str(value) for key, value in stream.get("tags", {}).items()}
    match = re.fullmatch(r"(\d+):(\d\d):(\d\d(?:\.\d+)?)", tags.get("DURATION", ""))
    if match is not None:
        hours, minutes, seconds = match.groups()
        return (int(hours) * 3600 + int(minutes) * 60 + Fraction(seconds)) * 1000
    try:
        return Fraction(str((container or {})["duration"])) * 1000
    except (KeyError, ValueError):
        return None


def read_windows(times: list[int], keyframes: bool = False) -> list[tuple[int, float]]:
    """The stretches (ms) the probe reads around `times` (sorted): each from its time to a frame
    after it (to the next keyframe, in intra mode), joined where the gap between two is at most
    MERGE_GAP_S, since reading on costs less than a new seek, which reads again from the keyframe
    before. Each read also begins at the keyframe before its stretch."""
    after_ms = (KEYFRAME_WINDOW_AFTER_S if keyframes else WINDOW_AFTER_S) * 1000
    windows: list[tuple[int, float]] = []
    for t in times:
        if windows and t <= windows[-1][1] + MERGE_GAP_S * 1000:
            windows[-1] = (windows[-1][0], t + after_ms)
        else:
            windows.append((t, t + after_ms))
    return windows


def _video_packets(
    report: dict[str, Any], source: str
) -> tuple[dict[str, Any], Fraction, list[dict[str, Any]]]:
    """An ffprobe report's video stream, its time base, and the packets of that stream."""
    stream = _video_stream(report.get("streams", []), source)
    index = int(stream["index"])
    packets = [p for p in report.get("packets", []) if p.get("stream_index") == index]
    return stream, Fraction(stream.get("time_base", "1/90000")), packets


def _video_stream(streams: list[dict[str, Any]], source: str) -> dict[str, Any]:
    for stream in streams:
        if stream.get("codec_type") == "video" and not stream.get("disposition", {}).get(
            "attached_pic"
        ):
            return stream
    raise ResourceContentBad(f"{source} has no video stream.")


def _decoded_frames(
    ffmpeg: str, url: str, index: int, time_base: Fraction, source: str
) -> list[tuple[int, bool, int | None]]:
    """The frames' times as ffmpeg itself gives them to the frames it decodes, for containers
    whose packets carry none (AVI with B-frames, raw streams). These times are ffmpeg's guesses,
    and its versions guess differently (the last frames of an H.264 AVI, the first of a raw
    MPEG-2 stream): the program that extracts the frames is the one that dates them here."""
    frames: list[tuple[int, bool, int | None]] = []

    def on_line(line: str) -> None:
        match = runner.SHOWN_FRAME.search(line)
        if match:
            frames.append((int(match.group(1)), match.group(2) == "1", None))

    args = [
        ffmpeg, "-nostdin", "-hide_banner", "-copyts", "-i", url, "-map", f"0:{index}",
        "-vf", f"settb={time_base.numerator}/{time_base.denominator},showinfo=checksum=0",
        "-f", "null", "-",
    ]  # fmt: skip
    with runner.ToolProcess(args, on_stderr_line=on_line) as process:
        process.read_all()
        code = process.wait()
    if code != 0:
        runner.raise_if_crashed(code, "ffmpeg", source)
        demux.raise_unreadable(process.stderr_text, source)
    return frames


def _fraction(value: Any, separator: str = "/") -> Fraction | None:
    try:
        numerator, denominator = (int(part) for part in str(value).split(separator))
    except (TypeError, ValueError):
        return None
    return Fraction(numerator, denominator) if numerator > 0 and denominator > 0 else None


def _int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def _seconds(value: Any) -> Fraction:
    try:
        return Fraction(str(value))
    except (TypeError, ValueError):
        return Fraction(0)


def _probe_header(source: str, url: str, index: mp4index.FileIndex | None) -> VideoInfo | None:
    """A local MP4/MOV file probed from its header boxes alone, with no ffmpeg run (so that a
    one-frame grab runs one ffmpeg in all): the timeline from its index, the stream's facts from
    its sample entry (mp4facts.py). None where the header does not settle everything."""
    track = None if index is None else mp4index.first_video_track(index)
    if index is None or track is None:
        return None
    facts = mp4facts.video_facts(track.entry_kind, track.entry, track.has_composition_offsets)
    samples = mp4index.track_samples(index, track.track_id)
    if facts is None or samples is None:
        return None
    times = samples.presentation_times(track.shift)
    media_start = track.shown_from - track.shift  # where the edit list starts the media
    if track.shift and media_start not in set(samples.presentation_times(0)):
        return None  # an edit that starts mid-frame: ffmpeg's own rounding decides, ask it
    last = max(range(len(times)), key=times.__getitem__)
    time_base = Fraction(1, samples.timescale)
    frame_rate = Fraction(len(times) * samples.timescale, samples.total_duration or 1)
    try:
        timeline = FrameTimeline.from_columns(
            times,
            samples.keyframes,
            time_base,
            {times[last]: samples.duration_of(last)},
            round(1 / (frame_rate * time_base)),
            set(filter(track.shown_from.__gt__, times)),
        )
    except ValueError:
        return None
    matrix = mp4index.display_matrix(index, track.track_id)
    reorders = bool(facts.reorder_depth) or track.has_composition_offsets
    places = mp4index.sample_places(index, track.track_id) if facts.nal_length_size else None
    references = None
    if places is not None:
        path = url.removeprefix("file:")
        references = FrameReferences(path, array("q", times), places, facts.nal_length_size)
    return VideoInfo(
        source=source,
        input_url=url,
        format_name=INDEX_DATED_FORMATS[0],
        stream_index=track.stream_index,
        codec=facts.codec,
        width=facts.width,
        height=facts.height,
        sar=facts.sar or Fraction(1),
        rotation=rotation_from_display_matrix(matrix_degrees(matrix)) if matrix else 0,
        display_matrix=matrix,
        pix_fmt=facts.pix_fmt,
        color_matrix=_color_matrix({"color_space": facts.color_space}, facts.width, facts.height),
        color_range="pc" if facts.full_range else "tv",
        transfer=facts.color_transfer or "",
        primaries=facts.color_primaries or "",
        field_order=facts.field_order,
        frame_rate=frame_rate,
        # The video's own start (ffmpeg's is the earliest stream's). Unused for MP4, whose
        # seeks count from 0.
        start_seconds=timeline.seconds(timeline.origin),
        timeline=timeline,
        reorders_frames=reorders,
        times_by_display_order=reorders and not track.has_composition_offsets,
        references=references,
    )


def matrix_degrees(matrix: tuple[int, ...]) -> float:
    """The counter-clockwise rotation of a display matrix, as ffmpeg's av_display_rotation_get
    reads it (and ffprobe reports it)."""
    first, second = math.hypot(matrix[0], matrix[3]), math.hypot(matrix[1], matrix[4])
    if not first or not second:
        return 0.0
    return -math.degrees(math.atan2(matrix[1] / second, matrix[0] / first))


def _file_index(url: str, format_name: str) -> mp4index.FileIndex | None:
    """A local MP4/MOV file's own index (its header boxes), where it has one."""
    if not url.startswith("file:") or format_name not in INDEX_DATED_FORMATS:
        return None
    return mp4index.read_index(url.removeprefix("file:"))


def _track_id(stream: dict[str, Any]) -> int | None:
    """The stream's MP4 track id, as ffmpeg's log gives it ([0x1])."""
    try:
        return int(str(stream.get("id")), 16)
    except ValueError:
        return None


def _display_matrix(
    index: mp4index.FileIndex | None, stream: dict[str, Any]
) -> tuple[int, ...] | None:
    """The stream's display matrix, nine numbers row by row, from an MP4/MOV track header
    (the only containers that store a whole one)."""
    track_id = _track_id(stream)
    if index is None or track_id is None:
        return None
    return mp4index.display_matrix(index, track_id)


def _rotation(stream: dict[str, Any]) -> int:
    for side_data in stream.get("side_data_list", []):
        if "rotation" in side_data:
            return rotation_from_display_matrix(float(side_data["rotation"]))
    rotate_tag = stream.get("tags", {}).get("rotate")
    if rotate_tag is not None:
        return rotation_from_display_matrix(-float(rotate_tag))
    return 0


def _color_matrix(stream: dict[str, Any], width: int, height: int) -> str:
    """The source's YUV matrix; untagged video is guessed by size, as players guess it."""
    tagged = _COLOR_MATRICES.get(str(stream.get("color_space", "")))
    if tagged:
        return tagged
    return "bt709" if width >= 1280 or height > 576 else "smpte170m"


def _field_order(stream: dict[str, Any]) -> str | None:
    order = str(stream.get("field_order", ""))
    return order if order in ("progressive", "tt", "bb", "tb", "bt") else None


def _vpx_alpha(stream: dict[str, Any]) -> str | None:
    """VP8/VP9 in WebM keeps alpha beside the picture (alpha_mode 1), which only libvpx's own
    decoders give; ffmpeg's default VP9 decoder drops it."""
    if (
        str(stream.get("tags", {}).get("alpha_mode", stream.get("tags", {}).get("ALPHA_MODE")))
        != "1"
    ):
        return None
    return {"vp8": "libvpx", "vp9": "libvpx-vp9"}.get(str(stream.get("codec_name")))


def _color_range(stream: dict[str, Any]) -> str:
    if stream.get("color_range") == "pc" or str(stream.get("pix_fmt", "")).startswith("yuvj"):
        return "pc"
    return "tv"
