"""Getting the planned frames out of ffmpeg, exactly, as RGB pictures of the output size.

Each process of the plan is one ffmpeg, with one input per run: seek to the run's keyframe (input
-ss, -noaccurate_seek, -copyts: decoding starts at the keyframe and timestamps stay the stream's
own; a run of keyframes alone skips every other frame), then ``settb=AVTB, trim (ends the input
after its last target), select=<targets>``. The runs' frames are merged in time order
(interleave), and ``showinfo, scale, turn`` follow, writing raw frames (or JPEGs) to one pipe.
showinfo reports each kept frame's pts on stderr, so every frame is matched to its target by its
real timestamp; the seek is never trusted. Targets missing after a process mean a seek landed
late (MPEG-TS and other containers without an index), and their runs start again from an earlier
keyframe (decoding every frame, where they skipped some).
"""

from __future__ import annotations

import contextlib
import queue
import re
import threading
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from fractions import Fraction
from math import ceil
from typing import TYPE_CHECKING, Any

import ffmpeg as ffmpeg_builder  # type: ignore[import-untyped,unused-ignore]

from snapcli.core.geometry import FrameGeometry, round_half_up
from snapcli.core.plan import Plan, Run
from snapcli.core.rendering import AS_DECODED, Rendering
from snapcli.errors import (
    FFmpegUnavailable,
    InternalError,
    Interrupted,
    PermissionDenied,
    ResourceContentBad,
)
from snapcli.media import capabilities, runner
from snapcli.media.probe import VideoInfo
from snapcli.settings import Settings

if TYPE_CHECKING:
    from concurrent.futures import Future

FrameSink = Callable[[int, bytes], None]
"""Receives (target pts, picture) for every target frame, from worker threads: raw RGB of the
output size, or with `jpeg_quality` a finished JPEG file."""

MICROSECONDS = 1_000_000
MAX_SEEK_RETRIES = 3
# Keyframes only: the decoder skips the other frames. Not `-discard nokey` (the demuxer dropping
# them): ffmpeg's MP4 demuxer then misdates the keyframes of a stream with B-frames, by the
# composition offset it stops tracking. ffmpeg 5.1 ignores -discard for a -filter_complex input,
# but ffmpeg 9 applies it, and no keyframe matched its time.
KEYFRAMES_ONLY = {"skip_frame": "nokey"}
# ffmpeg's own lead for -ss where a stream has B-frames (fftools: 3 * AV_TIME_BASE / 23), and
# the demuxers (ffprobe's format names) that find the keyframe at or before a time in an index.
DTS_SEEK_LEAD_MICROS = 3 * MICROSECONDS // 23
INDEX_SEEKING_FORMATS = ("matroska,webm", "flv", "avi")
# Containers whose header states every stream whole (MP4/MOV: the sample description), so that an
# input needs no stream-info pass. That pass decodes the file's first frames for every input: at
# 4K 0.05 s an input (one 4K keyframe: 0.24 s -> 0.19 s), at 1080p 0.011 s. Without it, ffmpeg
# no longer knows the container's start time, and -ss counts from 0 instead.
STATED_STREAM_FORMATS = ("mov,mp4,m4a,3gp,3g2,mj2",)
SKIP_STREAM_INFO = {"nofind_stream_info": None}
# Frames keep their microsecond times into the encoder. At its default time base (the frame
# rate's), two frames less than a frame apart (variable frame rate, the guessed last frames of an
# H.264 AVI) got the same time, and ffmpeg 9's MJPEG encoder refused the second.
ENCODER_TIME_BASE = {"enc_time_base": "1:1000000"}
# showinfo reports each frame's pts; by default it also sums and checks every pixel of it, which
# costs more than decoding the frame did (15 ms a 4K frame: 100 4K frames 3.2 s against 1.7 s).
SHOWINFO_PTS_ONLY = {"checksum": 0}
# Frames no other frame refers to, and that are not wanted, are dropped before the decoder by an
# input bitstream filter (ffmpeg 7 and newer; a binary that refused them is remembered).
_DROP_OPTION = "bsf:v"
MAX_DROP_CHARACTERS = 16_000
INPUT_FILTERS = "input bitstream filters"  # what capabilities.py remembers a binary lacks
_REFUSED_ON_INPUT = "cannot be applied to input"  # an output-only option, as ffmpeg 5.1 says
_TERMS_PER_SUM = 40


@dataclass(frozen=True)
class _Window:
    """A target's pts in microseconds (ffmpeg's AV_TIME_BASE) and the tolerance around it."""

    pts: int
    micros: int
    tolerance: int


def extract(
    video: VideoInfo,
    plan: Plan,
    geometry: FrameGeometry,
    sink: FrameSink,
    *,
    settings: Settings | None = None,
    workers: int = 1,
    decoder_threads: int | None = None,
    jpeg_quality: int | None = None,
    rendering: Rendering = AS_DECODED,
) -> None:
    """Run every process of the plan, `workers` at once, and hand each target frame to sink once.

    Each input decodes with `decoder_threads` threads; by default ffmpeg's choice when one run
    has the machine to itself, and one when several share the cores. With `jpeg_quality` (for a
    video that `encodes_jpeg` accepts), ffmpeg hands over finished JPEGs instead of RGB."""
    binary = runner.find_tool("ffmpeg", settings)
    parallel = min(workers, len(plan.processes))
    alone = parallel <= 1 and len(plan.runs) <= 1
    threads = decoder_threads or (None if alone else 1)
    extractor = _RunExtractor(
        video, plan.keyframes_only, geometry, sink, binary, threads, jpeg_quality, rendering,
        settings,
    )  # fmt: skip
    if parallel <= 1:
        for runs in plan.processes:
            extractor.extract(runs)
        return
    from concurrent.futures import ThreadPoolExecutor  # a one-process job does without

    with ThreadPoolExecutor(max_workers=parallel) as pool:
        futures = [pool.submit(extractor.extract, runs) for runs in plan.processes]
        try:
            for future in futures:
                future.result()
        except BaseException:
            _abandon(extractor, futures)
            raise


def _abandon(extractor: _RunExtractor, futures: list[Future[None]]) -> None:
    """Stop every run of a failed or interrupted job, and return only when none is left running,
    so that nothing writes into the job's output after it is cleaned up. A worker may be starting
    an ffmpeg just as the others are killed: keep killing until every run has ended."""
    from concurrent.futures import wait

    extractor.abandoned.set()
    for future in futures:
        future.cancel()
    while True:
        extractor.kill_running()  # this job's ffmpeg only: a batch runs other jobs beside it
        try:
            _, running = wait(futures, timeout=0.1)
        except KeyboardInterrupt:  # a second Ctrl-C: the cleanup still has to finish
            continue
        if not running:
            return


@dataclass
class _Input:
    """One run as an input of an ffmpeg process: where it seeks, its targets not yet delivered
    (by their time in microseconds), and whether it decodes keyframes only."""

    seek: int | None
    pending: dict[int, _Window]
    keyframes_only: bool = False
    may_drop: bool = True  # may leave out the frames no other refers to (references.py)


class _RunExtractor:
    def __init__(
        self,
        video: VideoInfo,
        keyframes_only: bool,
        geometry: FrameGeometry,
        sink: FrameSink,
        binary: str,
        threads: int | None,
        jpeg_quality: int | None = None,
        rendering: Rendering = AS_DECODED,
        settings: Settings | None = None,
    ) -> None:
        self.video = video
        self.rendering = rendering
        self.settings = settings
        self.jpeg_quality = jpeg_quality
        self.keyframes_only = keyframes_only  # intra mode: only keyframes are ever wanted
        self.geometry = geometry
        self.sink = sink
        self.binary = binary
        self.threads = threads
        self.abandoned = threading.Event()  # set when the job fails: start no more ffmpeg
        self.running: set[runner.ToolProcess] = set()
        self.running_lock = threading.Lock()
        timeline = video.timeline
        gap = Fraction(timeline.min_frame_gap()) * timeline.time_base * MICROSECONDS
        self.tolerance = max(1, min(500, int(gap / 3)))
        width, height = geometry.output_size
        self.frame_bytes = width * height * (4 if rendering.alpha else 3)

    def extract(self, runs: tuple[Run, ...]) -> None:
        """The targets of `runs`, from one ffmpeg process (and more, where seeks land late)."""
        timeline = self.video.timeline
        inputs = [
            _Input(
                run.seek_pts,
                {window.micros: window for window in map(self._window, run.targets)},
                run.keyframes_only,
            )
            for run in runs
        ]
        for attempt in range(MAX_SEEK_RETRIES + 2):
            waiting = [each for each in inputs if each.pending]
            if not waiting:
                return
            self._decode(waiting)
            for each in waiting:
                if not each.pending:
                    continue
                each.may_drop = False  # whatever went wrong, decode every frame from now on
                if each.keyframes_only and not self.keyframes_only:
                    # Exact targets on keyframes, missing: the decoder may not take every frame
                    # the container flags for a keyframe. Decode every frame from now on.
                    each.keyframes_only = False
                elif each.seek is None:  # decoded from the very start, and still missing
                    first = min(window.pts for window in each.pending.values())
                    raise ResourceContentBad(
                        f"the frame at {float(timeline.ms(first)):.0f} ms of {self.video.source} "
                        "could not be decoded (the file may be truncated or damaged)."
                    )
                # The seek landed after targets (a container that seeks inexactly): start one
                # keyframe earlier each time, and at last from the very start.
                seek: int | None = timeline.keyframe_before(
                    min(w.pts for w in each.pending.values())
                )
                for _ in range(attempt + 1):
                    seek = timeline.previous_keyframe(seek) if seek is not None else None
                if attempt >= MAX_SEEK_RETRIES or seek == timeline.keyframes[0]:
                    seek = None
                each.seek = seek

    def _window(self, pts: int) -> _Window:
        return _Window(pts, self._micros(pts), self.tolerance)

    def _decode(self, inputs: list[_Input]) -> None:
        """One ffmpeg process; removes what it delivers from the inputs' pending targets."""
        if self.abandoned.is_set():
            raise Interrupted("the job was stopped.")
        shown: queue.Queue[int] = queue.Queue()

        def on_line(line: str) -> None:
            match = runner.SHOWN_FRAME.search(line)
            if match:
                shown.put(int(match.group(1)))

        owner = {micros: each for each in inputs for micros in each.pending}
        command = self._command(inputs)
        with runner.ToolProcess(command, on_stderr_line=on_line) as process, self._held(process):
            next_frame = (
                _JpegStream(process).next if self.jpeg_quality else self._raw_reader(process)
            )
            while owner:
                frame = next_frame()
                if frame is None:
                    break
                try:
                    micros = shown.get(timeout=runner.stall_timeout())
                except queue.Empty:
                    raise InternalError("ffmpeg sent a frame without its timestamp.") from None
                window = self._match(micros, owner)
                if window is not None:
                    del owner.pop(window.micros).pending[window.micros]
                    self.sink(window.pts, frame)
            if owner:
                code = process.wait()
                if code != 0:
                    runner.raise_if_crashed(code, "ffmpeg", self.video.source)
                    if f"-{_DROP_OPTION}" in command and _REFUSED_ON_INPUT in process.stderr_text:
                        # An ffmpeg before 7 takes no input bitstream filter: nothing was read.
                        capabilities.remember_lacking(self.binary, INPUT_FILTERS, self.settings)
                        return self._decode(inputs)
                    self._raise_failure(process.stderr_text)

    def kill_running(self) -> None:
        with self.running_lock:
            processes = list(self.running)
        for process in processes:
            process.kill()

    @contextlib.contextmanager
    def _held(self, process: runner.ToolProcess) -> Iterator[None]:
        """Counts a process among this job's running ones while it runs."""
        with self.running_lock:
            self.running.add(process)
        try:
            yield
        finally:
            with self.running_lock:
                self.running.discard(process)

    def _raw_reader(self, process: runner.ToolProcess) -> Callable[[], bytes | None]:
        """Reads one raw RGB frame at a time; None at the end of the stream."""

        def next_frame() -> bytes | None:
            frame = process.read(self.frame_bytes)
            return frame if len(frame) == self.frame_bytes else None

        return next_frame

    def _match(self, micros: int, owner: dict[int, _Input]) -> _Window | None:
        for candidate in (micros, *range(micros - self.tolerance, micros + self.tolerance + 1)):
            if candidate in owner:
                return owner[candidate].pending[candidate]
        return None

    def _micros(self, pts: int) -> int:
        """A pts in microseconds, rounded as ffmpeg's settb=AVTB rounds it (half away from 0)."""
        exact = pts * self.video.timeline.time_base * MICROSECONDS
        return int(exact + Fraction(1, 2)) if exact >= 0 else -int(-exact + Fraction(1, 2))

    def _command(self, inputs: list[_Input]) -> list[str]:
        by_start: dict[tuple[int | None, bool], list[_Input]] = {}
        for each in inputs:
            by_start.setdefault((each.seek, each.keyframes_only), []).append(each)
        streams = []
        budget = [MAX_DROP_CHARACTERS]
        for (seek, keyframes_only), sharing in by_start.items():  # alike: one decoder
            decoded = self._decoded_from(seek, keyframes_only, self._drops(seek, sharing, budget))
            branches = [decoded] if len(sharing) == 1 else decoded.split()
            streams += [self._selected(branches[n], each) for n, each in enumerate(sharing)]
        stream = (
            streams[0]
            if len(streams) == 1
            else ffmpeg_builder.filter(streams, "interleave", nb_inputs=len(streams))
        ).filter("showinfo", **SHOWINFO_PTS_ONLY)
        if self.jpeg_quality:
            output = _as_jpeg(stream, self.video, self.geometry, self.jpeg_quality)
        else:
            output = _as_rgb(stream, self.video, self.geometry, self.rendering)
        return list(output.global_args("-nostdin", "-hide_banner").compile(cmd=self.binary))

    def _drops(self, seek: int | None, sharing: list[_Input], budget: list[int]) -> str:
        """The bitstream filter that drops the packets of the frames a decode from `seek` for
        these inputs may leave out (references.py), or "" for none. `budget` holds the
        characters of expressions the command has room for still (Windows caps a command line
        at 32767); dropping fewer frames than might be is always exact."""
        video = self.video
        references = video.references
        if (
            references is None
            or capabilities.lacks(self.binary, INPUT_FILTERS, self.settings)
            or not all(each.may_drop and not each.keyframes_only for each in sharing)
            or self.rendering.deinterlaced  # bwdif looks at the neighbouring frames too
            or not video.keyframes_decode_alone  # frames picked by their count
        ):
            return ""
        start = video.timeline.keyframes[0] if seek is None else seek
        targets = [window.pts for each in sharing for window in each.pending.values()]
        terms = []
        for pts in references.unreferenced(start, targets):
            term = f"not(pts{-pts:+d})"
            budget[0] -= len(term) + 1
            if budget[0] < 0:
                break
            terms.append(term)
        return f"noise=drop={_sum_of(terms)}" if terms else ""

    def _decoded_from(self, seek: int | None, keyframes_only: bool, drops: str = "") -> Any:
        """The video stream decoded from the keyframe `seek` (None: from the start), with
        timestamps in microseconds, leaving out the packets `drops` names. Keyframes only, with
        one thread: frame threads pass every skipped packet from thread to thread (a 10-minute
        720p file, 0.70 s against 0.31 s)."""
        threads = self.threads or (1 if keyframes_only else None)
        options = input_options(self.video, seek, keyframes_only, threads)
        if drops:
            options[_DROP_OPTION] = drops
        if self.rendering.alpha and self.video.alpha_decoder:
            options["c:v"] = self.video.alpha_decoder
        stream = ffmpeg_builder.input(self.video.input_url, **options)
        return stream[str(self.video.stream_index)].filter("settb", "AVTB")

    def _selected(self, decoded: Any, each: _Input) -> Any:
        """A run's target frames, ending after the last of them (trim ends the input there, so
        that ffmpeg decodes no further)."""
        windows = sorted(each.pending.values(), key=lambda w: w.micros)
        if self.video.times_by_display_order:
            return self._selected_by_order(decoded, each.seek, windows)
        picks = "+".join(
            f"between(pts,{w.micros - w.tolerance},{w.micros + w.tolerance})" for w in windows
        )
        last = windows[-1]
        if self.rendering.deinterlaced:  # bwdif looks at the next frame too
            last = self._window(self._next_pts(last.pts))
        end = last.micros + last.tolerance + 1
        return self._deinterlaced(decoded.filter("trim", end_pts=end)).filter("select", picks)

    def _next_pts(self, pts: int) -> int:
        """The frame after `pts`, or `pts` itself at the end of the stream."""
        frames = self.video.timeline.pts
        after = bisect_right(frames, pts)
        return frames[after] if after < len(frames) else pts

    def _deinterlaced(self, stream: Any) -> Any:
        """Deinterlaced as players do (bwdif, from both fields and the frames on either side),
        one picture for each frame, where the rendering asks."""
        rendering = self.rendering
        if not rendering.deinterlaced:
            return stream
        deinterlaced = stream.filter(
            "bwdif", mode="send_frame", parity=rendering.parity, deint="all"
        )
        return deinterlaced.filter("settb", "AVTB")  # bwdif halves the time base

    def _selected_by_order(self, decoded: Any, seek: int | None, windows: list[_Window]) -> Any:
        """A run's target frames by their places in display order, counted from the keyframe it
        starts at (a decoder puts out every frame from there, in display order), and dated with
        their times: ffmpeg's own dates of such a stream are guesses."""
        pts = self.video.timeline.pts
        start = bisect_left(pts, pts[0] if seek is None else seek)
        places = [bisect_left(pts, window.pts) - start for window in windows]
        picks = "+".join(f"eq(n,{place})" for place in places)
        dates = "+".join(f"eq(N,{k})*{w.micros}" for k, w in enumerate(windows))
        end = places[-1] + (2 if self.rendering.deinterlaced else 1)  # bwdif: the next one too
        return (
            self._deinterlaced(decoded.filter("trim", end_frame=end))
            .filter("select", picks)
            .filter("setpts", dates)
        )

    def _raise_failure(self, errors: str) -> None:
        reason = errors.strip().splitlines()[-1] if errors.strip() else "no message"
        if "Permission denied" in errors:
            raise PermissionDenied(f"{self.video.source} cannot be read (permission denied).")
        if "No such filter" in errors:
            raise FFmpegUnavailable(
                f"this ffmpeg lacks a filter the picture needs ({reason}): use another ffmpeg, "
                "or --tonemap off / --deinterlace off."
            )
        if "Unrecognized option" in errors or "Option 'checksum' not found" in errors:
            raise FFmpegUnavailable(f"snapcli needs ffmpeg 5.1 or newer ({reason}).")
        raise ResourceContentBad(f"ffmpeg could not decode {self.video.source} ({reason}).")


def _sum_of(terms: list[str]) -> str:
    """An ffmpeg expression adding up the terms. ffmpeg's parser refuses a sum of 100 terms or
    more ("Cannot allocate memory"), so they are added in parenthesised groups."""
    while len(terms) > _TERMS_PER_SUM:
        step = _TERMS_PER_SUM
        terms = [f"({'+'.join(terms[at : at + step])})" for at in range(0, len(terms), step)]
    return "+".join(terms)


def input_options(
    video: VideoInfo, seek: int | None, keyframes_only: bool = False, threads: int | None = None
) -> dict[str, object]:
    """The options of an input that decodes from the keyframe `seek` (None: from the start),
    keeping the stream's own timestamps and leaving the picture unturned (turning is ours)."""
    options: dict[str, object] = {"noautorotate": None, "copyts": None, "noaccurate_seek": None}
    if video.format_name in STATED_STREAM_FORMATS:
        options.update(SKIP_STREAM_INFO)
    if seek is not None:
        options.update(seek_options(video, seek))
    if keyframes_only:
        options.update(KEYFRAMES_ONLY)
    if threads:
        options["threads"] = threads
    return options


def seek_options(video: VideoInfo, keyframe: int) -> dict[str, str]:
    """The input options that start decoding at `keyframe` (a pts), as nearly as the container
    lets a seek land: -ss counts from the container's start time, or from 0 for an input without
    the stream-info pass (STATED_STREAM_FORMATS).

    Where a stream has B-frames, ffmpeg seeks 3/23 s before the -ss time, for demuxers that seek
    by decode time (MPEG-TS lands on the next keyframe after the byte it finds, and needs that).
    Those that look the time up in an index of keyframes (Matroska/WebM cues, FLV, AVI) then land
    a whole GOP early, so they are asked for that much later, plus a third of a frame."""
    origin = 0 if video.format_name in STATED_STREAM_FORMATS else video.start_seconds
    start = video.timeline.seconds(keyframe) - origin
    if start <= 0:
        return {}
    micros = ceil(start * MICROSECONDS)
    if video.reorders_frames and video.format_name in INDEX_SEEKING_FORMATS:
        gap = video.timeline.min_frame_gap() * video.timeline.time_base * MICROSECONDS
        micros += DTS_SEEK_LEAD_MICROS + int(gap / 3)
    return {"ss": f"{micros / MICROSECONDS:.6f}"}


def _as_rgb(
    stream: Any, video: VideoInfo, geometry: FrameGeometry, rendering: Rendering = AS_DECODED
) -> Any:
    """Scale and turn to the output size, converting to RGB with the source's own matrix and
    range (as players do), HDR tone-mapped to SDR BT.709, and write raw frames (RGBA where the
    alpha is kept or flattened in Python)."""
    size = (geometry.scale_width, geometry.scale_height)
    if rendering.tone_curve or (wide_gamut(video) and not rendering.hdr):
        stream = stream.filter("scale", *size, flags=SCALE_FLAGS)
        stream = _to_bt709_light(stream, video, rendering)
    else:
        stream = stream.filter(
            "scale",
            *size,
            flags=SCALE_FLAGS + "+full_chroma_int",
            in_color_matrix=video.color_matrix,
            in_range=video.color_range,
            out_range="pc",
        )
    pixels = "rgba" if rendering.alpha else "rgb24"
    stream = stream.filter("format", pixels)
    for name, options in geometry.turn_filters():
        stream = stream.filter(name, **options)
    return stream.output(
        "pipe:1",
        format="rawvideo",
        pix_fmt=pixels,
        fps_mode="passthrough",
        flush_packets=1,
        **ENCODER_TIME_BASE,
    )


SCALE_FLAGS = "bicubic+accurate_rnd"
# Tone mapping works on light, not on coded values: linear light, in floating point, in BT.709
# primaries, where 1.0 is HDR's reference white (203 cd/m², ITU-R BT.2408: graphics white, a
# white page), which becomes SDR's white, as libplacebo (mpv, VLC) takes it. Mid-tones keep
# their level; only what is brighter is rolled off by the curve.
HDR_REFERENCE_WHITE_NITS = 203
# zscale's names of the transfers, matrices and primaries ffprobe reports.
_ZSCALE_TRANSFER = {"smpte2084": "smpte2084", "arib-std-b67": "arib-std-b67", "bt709": "709",
                    "smpte170m": "601", "bt470bg": "601", "bt2020-10": "2020_10",
                    "bt2020-12": "2020_12", "iec61966-2-1": "iec61966-2-1"}  # fmt: skip
_ZSCALE_MATRIX = {"bt2020": "2020_ncl", "bt709": "709", "smpte170m": "170m", "bt470": "470bg"}
_ZSCALE_PRIMARIES = {"bt2020": "2020", "bt709": "709", "smpte170m": "170m", "bt470bg": "470bg",
                     "smpte432": "smpte432", "smpte431": "smpte431"}  # fmt: skip
_WIDE_PRIMARIES = ("bt2020", "smpte431", "smpte432")


def _to_bt709_light(stream: Any, video: VideoInfo, rendering: Rendering) -> Any:
    """HDR (PQ, HLG), or SDR of wider primaries (BT.2020, P3), to SDR BT.709 as mpv and VLC show
    it: to linear light, to BT.709 primaries, for HDR the tone curve over the highlights (no
    desaturation: colours keep their hue and strength, as libplacebo's defaults do), then
    BT.709's transfer and matrix, full range for RGB. The peak is the stream's mastering
    metadata where it has some (the tonemap filter reads it), else the format's nominal one."""
    source = {
        "tin": _ZSCALE_TRANSFER.get(video.transfer, "709"),
        "min": _ZSCALE_MATRIX.get(video.color_matrix, "709"),
        "pin": _ZSCALE_PRIMARIES.get(video.primaries, "709"),
        "rin": "full" if video.color_range == "pc" else "limited",
    }
    stream = (
        stream.filter("zscale", transfer="linear", npl=HDR_REFERENCE_WHITE_NITS, **source)
        .filter("format", "gbrpf32le")
        .filter("zscale", primaries="709")
    )
    if rendering.tone_curve:
        stream = stream.filter("tonemap", tonemap=rendering.tone_curve, desat=0)
    return stream.filter("zscale", transfer="709", matrix="709", range="full")


def wide_gamut(video: VideoInfo) -> bool:
    """Whether the source's primaries reach beyond BT.709's, so that its colours need converting
    as light (shown as BT.709, they look dull)."""
    return video.primaries in _WIDE_PRIMARIES


# The colorspace filter's names of the matrices the probe reports (the scale filter's names),
# for the sources it converts.
_COLORSPACE_OF = {"bt709": "bt709", "smpte170m": "smpte170m", "bt470": "bt470bg",
                  "smpte240m": "smpte240m", "bt2020": "bt2020"}  # fmt: skip
_JPEG_SOURCES = ("yuv420p", "yuv420p10le")


def encodes_jpeg(
    video: VideoInfo, size: tuple[int, int], rendering: Rendering = AS_DECODED
) -> bool:
    """Whether ffmpeg can hand over this video's frames as JPEGs of `size` with the right
    colours: 4:2:0 SDR sources of BT.709's primaries or narrower, without alpha, of a matrix
    the colorspace filter knows, to an even size (which 4:2:0 pictures need)."""
    even = size[0] % 2 == 0 and size[1] % 2 == 0
    plain = not (rendering.hdr or rendering.alpha or wide_gamut(video))
    return (
        even and plain and video.pix_fmt in _JPEG_SOURCES and video.color_matrix in _COLORSPACE_OF
    )


def jpeg_qscale(quality: int) -> int:
    """ffmpeg's MJPEG quantiser scale for a libjpeg-style quality (1-100): the one whose
    quantisation tables are nearest libjpeg's at that quality, rounded to the finer side (90
    gives 2, 95 gives 1, 75 gives 7)."""
    libjpeg_scale = 5000 / quality if quality < 50 else 200 - 2 * quality  # percent
    return max(1, min(31, int(libjpeg_scale * 0.1415)))


def _as_jpeg(stream: Any, video: VideoInfo, geometry: FrameGeometry, quality: int) -> Any:
    """Scale and turn in YUV, convert the source's matrix and range to JPEG's (BT.601, full
    range: what every JPEG decoder assumes) and encode in ffmpeg: no RGB on the way, and the
    chroma is resampled once, if at all."""
    if (geometry.scale_width, geometry.scale_height) != (video.width, video.height):
        stream = stream.filter(
            "scale", geometry.scale_width, geometry.scale_height, flags=SCALE_FLAGS
        )
    for name, options in geometry.turn_filters():
        stream = stream.filter(name, **options)
    stream = stream.filter(
        "colorspace",
        all="bt470bg",
        range="pc",
        format="yuv420p",
        fast=1,
        iall=_COLORSPACE_OF[video.color_matrix],
        irange=video.color_range,
    ).filter("format", "yuvj420p")
    return stream.output(
        "pipe:1",
        format="image2pipe",
        vcodec="mjpeg",
        qmin=1,
        fps_mode="passthrough",
        flush_packets=1,
        **{"q:v": jpeg_qscale(quality)},
        **ENCODER_TIME_BASE,
    )


class _JpegStream:
    """Splits ffmpeg's stream of JPEG files into single files: headers are walked by their
    lengths, and the entropy-coded data ends at the first EOI (0xFFD9 occurs nowhere else in
    it, JPEG's byte stuffing sees to that)."""

    def __init__(self, process: runner.ToolProcess) -> None:
        self.process = process
        self.buffer = bytearray()

    def _fill(self, size: int) -> bool:
        while len(self.buffer) < size:
            chunk = self.process.read_some(1 << 16)
            if not chunk:
                return False
            self.buffer += chunk
        return True

    def next(self) -> bytes | None:
        """The next JPEG file, or None at the end of the stream."""
        if not self._fill(2):
            return None
        if self.buffer[:2] != b"\xff\xd8":
            raise InternalError("ffmpeg's JPEG stream lost its place.")
        position = 2
        while True:  # header segments, up to and including the start of scan
            if not self._fill(position + 4):
                return None
            marker = self.buffer[position + 1]
            length = int.from_bytes(self.buffer[position + 2 : position + 4], "big")
            position += 2 + length
            if marker == 0xDA:
                break
        while True:
            end = self.buffer.find(b"\xff\xd9", position)
            if end >= 0:
                picture = bytes(self.buffer[: end + 2])
                del self.buffer[: end + 2]
                return picture
            position = max(position, len(self.buffer) - 1)
            if not self._fill(len(self.buffer) + 1):
                return None


_BLACKFRAME = re.compile(r"\[Parsed_blackframe_\d+ @ [^\]]+\] frame:\s*(\d+) pblack:")


def first_frame_not_black(
    video: VideoInfo,
    black_level: int,
    pixel_threshold: int,
    *,
    within_ms: int = 5000,
    keyframes: bool = False,
    settings: Settings | None = None,
) -> int | None:
    """The pts of the first frame (with `keyframes`, keyframe) in the first `within_ms` whose
    share of black pixels (luma below `pixel_threshold`) is under `black_level` percent; None
    when all are darker."""
    binary = runner.find_tool("ffmpeg", settings)
    timeline = video.timeline
    start_micros = timeline.seconds(timeline.origin) * MICROSECONDS
    input_options: dict[str, object] = {"noautorotate": None, "copyts": None}
    skips = keyframes and video.keyframes_decode_alone
    if skips:
        input_options.update(KEYFRAMES_ONLY)
    in_window = f"lt(pts,{int(start_micros) + within_ms * 1000})"
    if video.times_by_display_order:  # ffmpeg's dates are guesses: count the frames instead
        in_window = f"lt(n,{bisect_right(timeline.pts, timeline.frame_at(within_ms))})"
    args = list(
        ffmpeg_builder.input(video.input_url, **input_options)[str(video.stream_index)]
        .filter("settb", "AVTB")
        .filter("select", in_window)
        .filter("showinfo", **SHOWINFO_PTS_ONLY)
        .filter("scale", 160, -2)
        .filter("blackframe", amount=black_level, threshold=pixel_threshold)
        .output("-", format="null")
        .global_args("-nostdin", "-hide_banner")
        .compile(cmd=binary)
    )
    shown: list[tuple[int, bool]] = []  # every frame that passed, in order: (pts, keyframe)
    black: set[int] = set()  # their places in that order

    def on_line(line: str) -> None:
        if match := runner.SHOWN_FRAME.search(line):
            shown.append((int(match.group(1)), match.group(2) == "1"))
        elif match := _BLACKFRAME.search(line):
            black.add(int(match.group(1)))

    with runner.ToolProcess(args, on_stderr_line=on_line) as process:
        process.read_all()
        if process.wait() != 0:
            raise ResourceContentBad(f"ffmpeg could not decode {video.source}.")
    for place, (micros, key) in enumerate(shown):
        if place in black or (keyframes and not key):
            continue
        if video.times_by_display_order:
            return timeline.pts[place]
        return timeline.frame_at(round_half_up((micros - start_micros) / 1000))
    return None
