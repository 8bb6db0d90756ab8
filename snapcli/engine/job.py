"""One snapshot job, start to end: probe, schedule, plan, extract, write, report.

The only place that orders the steps. The library never prints: progress goes to a callback.
"""

from __future__ import annotations

import io
import os
import threading
from bisect import bisect_left, bisect_right
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, replace
from fractions import Fraction
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, unquote, urlparse

from snapcli.core.event import (
    JobIdentity,
    SnapshotComplete,
    TakenSnapshot,
    failure_event,
    success_event,
)
from snapcli.core.geometry import FrameGeometry, output_size, round_half_up
from snapcli.core.layout import SheetRecord, SpriteLayout
from snapcli.core.names import EVENT_FILE, PICTURE_FORMATS, snapshot_name, vtt_name
from snapcli.core.plan import Plan, plan_extraction
from snapcli.core.rendering import Rendering, check_deinterlace, check_tonemap, choose_rendering
from snapcli.core.request import SnapshotRequest, whole_number
from snapcli.core.schedule import Shot, early_times, schedule
from snapcli.core.vtt import cue_url, render, thumbnail_cues
from snapcli.engine.output import StagedOutput, result_name
from snapcli.errors import InternalError, InvalidParameter, SnapcliError
from snapcli.media import runner
from snapcli.media.extract import encodes_jpeg, extract, first_frame_not_black
from snapcli.media.fields import field_order_seen
from snapcli.media.probe import VideoInfo, file_size, probe, read_windows
from snapcli.media.sprite import SheetWriter, background_rgb, encode_picture
from snapcli.settings import Settings

if TYPE_CHECKING:  # Pillow loads only for jobs that make pictures in Python (sheets, RGB)
    from PIL import Image

    from snapcli.core.contact import SheetStyle
    from snapcli.media.contact_sheet import ContactSheetWriter

BLANK_LOOK_SIZE = (64, 36)  # how small a frame is looked at to tell whether it is blank
Progress = Callable[[int, int], None]
"""Called with (snapshots done, snapshots in the job) as the job goes on."""

DEFAULT_QUALITY = 90
RETINA_SCALE = 2
# Up to this many exact frames at times known up front, the probe reads only around them (on a
# long file, much cheaper than reading every packet); more, and the whole timeline is read.
MAX_PROBE_WINDOWS = 16
# Below this size, reading every packet costs about what reading windows does (one ffmpeg run,
# about 0.1 s), and cannot fail to settle a time.
LARGE_FILE_BYTES = 32 << 20
# More times, or an even spread, are read in windows (at most this many) while together they
# cover at most this share of the video. Each read begins at the keyframe before its window,
# reckoned this far back (half a 10 s GOP). Intra windows reach on to the next keyframe, and pay
# on larger files only.
MAX_SPREAD_WINDOWS = 200
WINDOWS_SHARE = 0.5
KEYFRAME_BACK_S = 5.0
INTRA_LARGE_FILE_BYTES = 128 << 20
# A URL's last segment can be any length; a folder name cannot pass 255 bytes.
MAX_URL_NAME_CHARS = 60


@dataclass(frozen=True)
class OutputOptions:
    """What to write besides the request's own snapshots and sprites (not API parameters)."""

    quality: int = DEFAULT_QUALITY
    vtt: bool = False  # thumbnails.vtt beside the pictures
    vtt_base_url: str | None = None  # absolute cue URLs under this base
    retina: bool = False  # a second set of sheets (and VTT) at twice the cell size
    trim_last_sheet: bool = False  # the last sheet cut to the rows it fills (the API: full size)
    picture_format: str = "jpg"  # jpg (the API's), png or webp, for snapshots and sheets
    tonemap: str = "auto"  # HDR to SDR: auto (mobius), off, or a tonemap curve
    deinterlace: str = "auto"  # auto (where the stream or a look says interlaced), on, off
    # The http URL at which the output folder is served (snapcli serve): the event's URLs, and
    # the VTT's unless vtt_base_url says otherwise, point there instead of at files.
    served_at: str | None = None
    contact_sheet: SheetStyle | None = None  # one picture of every frame, with a header
    skip_blank: bool = False  # a blank frame moves to the nearest one that is not (core/blank.py)

    def __post_init__(self) -> None:
        """Checked once, wherever the options come from (flags, the library, a queued job)."""
        if isinstance(self.contact_sheet, dict):  # from a queued job's JSON
            from snapcli.core.contact import SheetStyle

            object.__setattr__(self, "contact_sheet", SheetStyle(**self.contact_sheet))
        whole_number("quality", self.quality, 1, 100)
        check_tonemap(self.tonemap)
        check_deinterlace(self.deinterlace)
        if self.picture_format not in PICTURE_FORMATS:
            raise InvalidParameter(
                f"the picture format must be one of {', '.join(PICTURE_FORMATS)}, got "
                f"{self.picture_format!r}."
            )


def request_record(request: SnapshotRequest, options: OutputOptions) -> dict[str, object]:
    """What made a result: the request in the API's spelling and the output options. A batch
    compares it to decide whether a finished result can be kept. Options that came later are
    named only when used, so that results made before them still match."""
    output: dict[str, object] = {
        "Quality": options.quality,
        "Vtt": options.vtt,
        "VttBaseUrl": options.vtt_base_url,
        "Retina": options.retina,
        "TrimLastSheet": options.trim_last_sheet,
        "Format": options.picture_format,
        "ToneMap": options.tonemap,
        "Deinterlace": options.deinterlace,
    }
    if options.contact_sheet:
        output["Sheet"] = asdict(options.contact_sheet)
    if options.skip_blank:
        output["SkipBlank"] = True
    return {**request.to_api(), "Output": output}


def input_fingerprint(video: str) -> dict[str, int] | None:
    """Size and modification time of a local input (None for a URL)."""
    try:
        stat = os.stat(video)
    except OSError:
        return None
    return {"Size": stat.st_size, "ModifiedTime": stat.st_mtime_ns}


def available_cores() -> int:
    try:
        return max(len(os.sched_getaffinity(0)), 1)
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def output_name(video: str) -> str:
    """The job's folder name: the video file's stem (for a URL, its last path segment's)."""
    if "://" in video:
        video = unquote(urlparse(video).path.rstrip("/").rsplit("/", 1)[-1]) or "video"
        video = video.replace("\0", "")[:MAX_URL_NAME_CHARS]
    return result_name(Path(video).name)


def run_job(
    video: str | os.PathLike[str],
    request: SnapshotRequest,
    output_dir: str | os.PathLike[str] = "snapshots",
    options: OutputOptions = OutputOptions(),
    *,
    progress: Progress | None = None,
    settings: Settings | None = None,
    workers: int | None = None,
    name: str | None = None,
    decoder_threads: int | None = None,
    identity: JobIdentity | None = None,
    event_fields: Mapping[str, Any] | None = None,
) -> SnapshotComplete:
    """Take the request's snapshots of one video into ``output_dir/<name>/`` (name: the video's
    stem by default). `event_fields` are added to the event, success or fail (a cluster batch
    names the worker).

    `workers` ffmpeg processes run at once (default: one per core), each with `decoder_threads`
    threads (default: ffmpeg's choice, or 1 when several run). `identity` gives the job the
    RequestId and JobId it was submitted under (default: new ones). Returns the success event; a
    failure raises the SnapcliError, with its fail event attached as ``error.event``. Nothing is
    left half-written either way.
    """
    video_id = os.fspath(video)
    identity = identity or JobIdentity.new()
    try:
        result = Path(output_dir) / (name or output_name(video_id))
        StagedOutput(result.parent, result.name, inputs=(video_id,)).check()  # before any work
        intra = request.frame_type == "intra"
        windows = None if request.skip_black else partial(_probe_windows, video_id, request)
        info = probe(video_id, settings, near_ms=windows, keyframes=intra)
        job = _Job(info, request, options, _rendering(info, request, options, settings))
        if request.skip_black and len(job.shots) > 1 and job.shots[0].time_ms == 0:
            level, threshold = request.skip_black
            bright = first_frame_not_black(
                info, level, threshold, keyframes=intra, settings=settings
            )
            if bright is not None:
                job.frame_of[job.shots[0].index] = bright
        event = job.run(
            identity,
            result,
            progress,
            settings,
            workers or available_cores(),
            decoder_threads,
            event_fields or {},
        )
    except SnapcliError as error:
        extend = request.user_data.extend if request.user_data else None
        error.event = failure_event(identity, video_id, error, extend)
        error.event.update(event_fields or {})
        raise
    except BaseException:
        runner.kill_all()
        raise
    return event


def _rendering(
    info: VideoInfo, request: SnapshotRequest, options: OutputOptions, settings: Settings | None
) -> Rendering:
    """What the frames need to look as a player shows them. Where the stream states no field
    order and deinterlacing is automatic, a look at its frames decides."""
    field_order = info.field_order
    if field_order is None and options.deinterlace == "auto":
        field_order = field_order_seen(info, settings)
    return choose_rendering(
        transfer=info.transfer,
        field_order=field_order,
        has_alpha=info.has_alpha,
        tonemap=options.tonemap,
        deinterlace=options.deinterlace,
        picture_format=options.picture_format,
    )


def _probe_windows(
    video: str, request: SnapshotRequest, duration: Fraction | None
) -> list[int] | None:
    """The times to read the frame timeline around (where the file's own index cannot be
    used), when the windows around them are a small part of the video; None reads the whole
    timeline. Up to 16 exact times named up front are always read in windows. Otherwise D
    decides: the share the windows cover, and where an even spread falls."""
    intra = request.frame_type == "intra"
    times = early_times(request)
    if times is not None and len(times) <= MAX_PROBE_WINDOWS:
        return times
    if times is None and request.interval != 0:  # every Interval to the end: the whole video
        return None
    count = len(times) if times is not None else request.count_or_default
    large = INTRA_LARGE_FILE_BYTES if intra else LARGE_FILE_BYTES
    if duration is None or count > MAX_SPREAD_WINDOWS or file_size(video) < large:
        return None
    if times is None:
        times = [shot.time_ms for shot in schedule(request, duration)]
        if not intra and count <= MAX_PROBE_WINDOWS:
            return times
    return times if _windows_cover_ms(times, intra) <= duration * WINDOWS_SHARE else None


def _windows_cover_ms(times: list[int], intra: bool) -> float:
    """How much of the video the probe's windows around `times` read, about."""
    windows = read_windows(sorted(set(times)), intra)
    return sum(end - start + KEYFRAME_BACK_S * 1000 for start, end in windows)


def _decoded(jpeg: bytes, cell: tuple[int, int] | None) -> Image.Image | None:
    """A JPEG decoded no larger than the biggest cell needs (libjpeg scales by 1/2, 1/4, 1/8 in
    the DCT, far cheaper than decoding whole and shrinking); None where no sheet needs it."""
    if cell is None:
        return None
    from PIL import Image

    picture = Image.open(io.BytesIO(jpeg))
    picture.draft("RGB", cell)
    return picture.convert("RGB")


def _flattened(picture: Image.Image, color: tuple[int, int, int]) -> Image.Image:
    """An RGBA picture laid over `color`, as RGB."""
    from PIL import Image

    ground = Image.new("RGB", picture.size, color)
    ground.paste(picture, (0, 0), picture)
    return ground


class _Job:
    """Everything decided before decoding: shots, frames, sizes, sheets; checked up front."""

    def __init__(
        self,
        info: VideoInfo,
        request: SnapshotRequest,
        options: OutputOptions,
        rendering: Rendering,
    ) -> None:
        self.info = info
        self.request = request
        self.options = options
        self.rendering = rendering
        timeline = info.timeline
        self.shots = schedule(request, info.duration_ms)
        self.intra = request.frame_type == "intra"
        self.frame_of = {
            shot.index: (
                timeline.keyframe_near(shot.time_ms)
                if self.intra
                else timeline.frame_at(shot.time_ms)
            )
            for shot in self.shots
        }
        self.snapshot_size = output_size(info.display_size, request.width, request.height)
        sprite = request.sprite
        style = options.contact_sheet
        self.keep_cells = (sprite is None or sprite.keep_cells) and (
            style is None or style.keep_pictures
        )
        self.layouts: list[tuple[int, SpriteLayout]] = []
        if sprite is not None:
            layout = SpriteLayout.for_request(sprite, info.display_size, self.snapshot_size)
            self.layouts.append((1, layout))
            if options.retina:
                self.layouts.append((RETINA_SCALE, layout.scaled(RETINA_SCALE)))
            for _, each in self.layouts:
                each.check_buildable(options.picture_format)
        # Decode straight to the largest size anything needs; smaller cells are cut from it.
        if self.keep_cells or not self.layouts:
            self.frame_size = self.snapshot_size
        else:
            largest = self.layouts[-1][1]
            self.frame_size = (largest.cell_width, largest.cell_height)

    def run(
        self,
        identity: JobIdentity,
        result: Path,
        progress: Progress | None,
        settings: Settings | None,
        workers: int,
        decoder_threads: int | None,
        event_fields: Mapping[str, Any],
    ) -> SnapshotComplete:
        info = self.info
        shots_of_frame: dict[int, list[Shot]] = defaultdict(list)
        for shot in self.shots:
            shots_of_frame[self.frame_of[shot.index]].append(shot)
        plan = self._plan(shots_of_frame, workers)
        geometry = FrameGeometry.for_output(self.frame_size, info.rotation, info.turn_steps)
        quality = self.options.quality
        total = len(self.shots)
        staged_output = StagedOutput(
            result.parent, result.name, job_id=identity.job_id, inputs=(info.source,)
        )
        with staged_output as staged:
            color = background_rgb(self.request.sprite.color) if self.request.sprite else (0, 0, 0)
            step = self.request.sprite.cell_step if self.request.sprite else 1
            sheets = [
                SheetWriter(
                    layout,
                    total,
                    color,
                    staged.write_bytes,
                    quality,
                    scale,
                    step,
                    trim_last=self.options.trim_last_sheet,
                    picture_format=self.options.picture_format,
                )
                for scale, layout in self.layouts
            ]
            contact = self._contact_writer(total)
            done = 0
            lock = threading.Lock()

            # The snapshots' JPEGs come straight from ffmpeg where it can make them; sheets
            # then decode them again, at a fraction of the size (JPEG's DCT scaling).
            picture_format = self.options.picture_format
            jpeg_from_ffmpeg = (
                self.keep_cells
                and picture_format == "jpg"
                and encodes_jpeg(info, self.frame_size, self.rendering)
            )
            flatten = self.rendering.alpha == "flattened"
            mode = "RGBA" if self.rendering.alpha else "RGB"

            pending = {"shots": shots_of_frame}  # the replacements' pass swaps in its own
            blank: dict[int, bytes] = {}  # target pts → its picture, where it is blank

            def take_frame(pts: int, payload: bytes) -> None:
                shots = pending["shots"][pts]
                if self.options.skip_blank and shots is shots_of_frame.get(pts):
                    if self._is_blank(payload, jpeg_from_ffmpeg, mode):
                        with lock:
                            blank[pts] = payload
                        return
                deliver(payload, shots)

            def deliver(payload: bytes, shots: list[Shot]) -> None:
                nonlocal done
                if jpeg_from_ffmpeg:
                    jpeg = payload
                    picture = _decoded(jpeg, self._largest_cell(sheets, contact))
                else:
                    from PIL import Image

                    picture = Image.frombuffer(mode, self.frame_size, payload, "raw", mode, 0, 1)
                    if flatten:  # onto the sheet colour, as JPEG keeps no alpha
                        picture = _flattened(picture, color)
                    jpeg = (
                        encode_picture(picture, quality, picture_format=picture_format)
                        if self.keep_cells
                        else b""
                    )
                if self.keep_cells:
                    for shot in shots:
                        staged.write_bytes(snapshot_name(shot.index, picture_format), jpeg)
                for writer in sheets:
                    for shot in shots:
                        assert picture is not None
                        writer.add(shot.index, picture)
                if contact is not None:
                    for shot in shots:
                        assert picture is not None
                        contact.add(shot.index, picture)
                with lock:
                    done += len(shots)
                    so_far = done
                if progress:
                    progress(so_far, total)

            if progress:
                progress(0, total)
            extract(
                info,
                plan,
                geometry,
                take_frame,
                settings=settings,
                workers=workers,
                decoder_threads=decoder_threads,
                jpeg_quality=quality if jpeg_from_ffmpeg else None,
                rendering=self.rendering,
            )
            skipped = []
            if blank:
                moved = self._replacements(
                    blank, shots_of_frame, workers, decoder_threads, settings
                )
                replacing: dict[int, list[Shot]] = defaultdict(list)
                for old, payload in sorted(blank.items()):
                    new = moved.get(old)
                    if new is None:  # nothing better near: the blank frame it is
                        deliver(payload, shots_of_frame[old])
                        continue
                    for shot in shots_of_frame[old]:
                        self.frame_of[shot.index] = new
                        replacing[new].append(shot)
                        ms = round_half_up(info.timeline.ms(old))
                        skipped.append({"Index": shot.index, "BlankFrameTime": ms})
                if replacing:
                    pending["shots"] = replacing
                    extract(info, self._plan(replacing, workers), geometry, take_frame,
                            settings=settings, workers=workers, decoder_threads=decoder_threads,
                            jpeg_quality=quality if jpeg_from_ffmpeg else None,
                            rendering=self.rendering)  # fmt: skip
            if done != total:
                raise InternalError(f"{done} of {total} snapshots were made.")
            records = {writer.scale: writer.finished_records() for writer in sheets}
            taken = self._taken()
            vtt_files = self._write_vtt(staged, taken, records)
            event = success_event(
                identity,
                info.source,
                self.request,
                staged.final,
                taken,
                sprites=records.get(1, []),
                retina_sprites=records.get(RETINA_SCALE, []),
                vtt_files=vtt_files,
                picture_format=picture_format,
                folder_url=self._folder_url(staged.final),
            )
            event["Rendering"] = self.rendering.to_api()
            event["Request"] = request_record(self.request, self.options)
            event["Input"] = input_fingerprint(info.source)
            if skipped:
                event["BlankSkipped"] = sorted(skipped, key=lambda item: item["Index"])
            if contact is not None:
                event["ContactSheet"] = self._write_contact_sheet(contact, staged, taken)
            event.update(event_fields)
            staged.write_json(EVENT_FILE, event)
            staged.commit()
        return event

    def _taken(self) -> list[TakenSnapshot]:
        width, height = self.snapshot_size if self.keep_cells else self.frame_size
        timeline = self.info.timeline
        return [
            TakenSnapshot(
                index=shot.index,
                path=(
                    snapshot_name(shot.index, self.options.picture_format)
                    if self.keep_cells
                    else None
                ),
                time_ms=shot.time_ms,
                frame_time_ms=round_half_up(timeline.ms(self.frame_of[shot.index])),
                width=width,
                height=height,
            )
            for shot in self.shots
        ]

    def _plan(self, targets: Iterable[int], workers: int) -> Plan:
        """The ffmpeg runs that take these frames (pts)."""
        info = self.info
        decode_alone = info.keyframes_decode_alone and not self.rendering.deinterlaced
        return plan_extraction(
            info.timeline,
            targets,
            # Where ffmpeg dates frames as it decodes them, or a display order does, and where
            # a picture is made from its neighbours too (deinterlaced): every frame.
            keyframes_only=self.intra and decode_alone,
            pixels_per_frame=info.width * info.height,
            workers=workers,
            seekable=info.seekable,
            keyframes_decode_alone=decode_alone,
            runs_within_gops=self.rendering.deinterlaced,
        )

    def _is_blank(self, payload: bytes, is_jpeg: bool, mode: str) -> bool:
        """Whether a snapshot's picture (a JPEG, or raw pixels of the frame size) is blank."""
        from PIL import Image

        from snapcli.core.blank import is_blank

        if is_jpeg:
            jpeg = Image.open(io.BytesIO(payload))
            jpeg.draft("L", BLANK_LOOK_SIZE)
            return is_blank(jpeg.convert("L").histogram())
        picture = Image.frombuffer(mode, self.frame_size, payload, "raw", mode, 0, 1)
        return is_blank(picture.convert("L").histogram())

    def _replacements(
        self,
        blank: dict[int, bytes],
        shots_of_frame: dict[int, list[Shot]],
        workers: int,
        decoder_threads: int | None,
        settings: Settings | None,
    ) -> dict[int, int]:
        """For each blank target (pts), the nearest frame within the window that is not blank,
        where there is one: every frame (keyframe, in intra mode) around it, looked at small."""
        from PIL import Image

        from snapcli.core.blank import WINDOW_MS as BLANK_WINDOW_MS
        from snapcli.core.blank import is_blank, nearest_acceptable

        timeline = self.info.timeline
        frames = timeline.keyframes if self.intra else timeline.pts
        asked = {pts: min(shot.time_ms for shot in shots_of_frame[pts]) for pts in blank}

        def near(ms: int) -> list[int]:  # the frames within the window, found by bisection
            first = timeline.origin + Fraction(ms - BLANK_WINDOW_MS, 1000) / timeline.time_base
            last = timeline.origin + Fraction(ms + BLANK_WINDOW_MS, 1000) / timeline.time_base
            window = frames[bisect_left(frames, first) : bisect_right(frames, last)]
            return [frame for frame in window if frame not in blank]

        around = {pts: near(asked[pts]) for pts in blank}
        looked: dict[int, bool] = {}
        size = BLANK_LOOK_SIZE

        def look(pts: int, payload: bytes) -> None:
            looked[pts] = is_blank(Image.frombytes("RGB", size, payload).convert("L").histogram())

        candidates = sorted({frame for frames_near in around.values() for frame in frames_near})
        if candidates:
            geometry = FrameGeometry.for_output(size, self.info.rotation, self.info.turn_steps)
            extract(self.info, self._plan(candidates, workers), geometry, look, settings=settings,
                    workers=workers, decoder_threads=decoder_threads,
                    rendering=replace(self.rendering, alpha=None))  # fmt: skip
        moved = {}
        for pts, nearby in around.items():
            seen = {f: (float(timeline.ms(f)), looked.get(f, True)) for f in nearby}
            choice = nearest_acceptable(asked[pts], seen)
            if choice is not None:
                moved[pts] = choice
        return moved

    def _contact_writer(self, total: int) -> ContactSheetWriter | None:
        """The contact sheet's writer, where one is asked for (media/contact_sheet.py)."""
        style = self.options.contact_sheet
        if style is None:
            return None
        from snapcli.core.contact import FileFacts, container_name
        from snapcli.media.contact_sheet import ContactSheetWriter

        info = self.info
        facts = FileFacts(
            name=Path(info.source).name,
            duration_ms=info.duration_ms,
            size=info.display_size,
            container=container_name(info.format_name, Path(info.source).name),
            codec=info.codec,
            frame_rate=info.frame_rate,
            file_bytes=file_size(info.source) or 0,
        )
        return ContactSheetWriter(style, total, self.frame_size, facts)

    @staticmethod
    def _largest_cell(
        sheets: list[SheetWriter], contact: ContactSheetWriter | None
    ) -> tuple[int, int] | None:
        """The largest picture a sheet needs, or None where no sheet needs one."""
        sizes = [(w.layout.cell_width, w.layout.cell_height) for w in sheets]
        if contact is not None:
            sizes.append(contact.layout.cell)
        return (max(w for w, _ in sizes), max(h for _, h in sizes)) if sizes else None

    def _write_contact_sheet(
        self, contact: ContactSheetWriter, staged: StagedOutput, taken: list[TakenSnapshot]
    ) -> dict[str, Any]:
        """Draw the contact sheet into the result; its record for the event."""
        times = {shot.index: shot.frame_time_ms for shot in taken}
        picture_format = self.options.picture_format
        name = f"sheet.{picture_format}"
        staged.write_bytes(name, contact.render(times, self.options.quality, picture_format))
        layout = contact.layout
        return {"Path": name, "Width": layout.width, "Height": layout.height,
                "Cells": contact.cells(times)}  # fmt: skip

    def _folder_url(self, folder: Path) -> str | None:
        """The result folder's http URL, where the output folder is served."""
        served_at = self.options.served_at
        return f"{served_at.rstrip('/')}/{quote(folder.name)}" if served_at else None

    def _write_vtt(
        self,
        staged: StagedOutput,
        taken: list[TakenSnapshot],
        records: dict[int, list[SheetRecord]],
    ) -> list[str]:
        """thumbnails.vtt (and thumbnails@2x.vtt): cues at the scheduled times, or at the real
        frame times in intra mode, pointing at sheet cells or single pictures."""
        if not self.options.vtt:
            return []
        base_url = self.options.vtt_base_url or self._folder_url(staged.final)
        written = []
        for scale in sorted(records) or [1]:
            targets: dict[int, str] = {}
            for record in records.get(scale, []):
                for index, box in record.cells:
                    targets[index] = f"{record.name}#xywh={box.xywh}"
            pictures = [
                (
                    shot.frame_time_ms if self.intra else shot.time_ms,
                    cue_url(str(targets.get(shot.index) or shot.path), base_url),
                )
                for shot in taken
                if shot.index in targets or shot.path  # a snapshot left out of the sheets
            ]
            name = vtt_name(scale)
            cues = thumbnail_cues(pictures, self.info.duration_ms)
            staged.write_bytes(name, render(cues).encode())
            written.append(name)
        return written
