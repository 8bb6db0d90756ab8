"""The library's front door: one typed call per job.

    >>> import snapcli
    >>> event = snapcli.grab("talk.mp4", count=10, width=640, output_dir="out")
    >>> [(shot.time, shot.frame_time, shot.path.name) for shot in event.snapshots]
    >>> info = snapcli.probe("talk.mp4")

The command line is a thin caller of exactly these functions.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from snapcli.core.event import Event
from snapcli.core.mts import is_mts
from snapcli.core.request import whole_number
from snapcli.engine.job import DEFAULT_QUALITY, OutputOptions, Progress
from snapcli.errors import InvalidParameter, SnapcliWarning
from snapcli.media.probe import VideoInfo
from snapcli.media.probe import probe as _probe
from snapcli.service.vod import assemble, grab_now
from snapcli.settings import Settings

FrameType = Literal["normal", "intra"]
Pick = Literal["even", "scenes"]
DEFAULT_SCENES = 10
MAX_SCENES = 30  # SpecifiedOffsetTimes' limit, which the picks become
PictureFormat = Literal["jpg", "png", "webp"]
MAX_SHEET_FRAMES = 400
Deinterlace = Literal["auto", "on", "off"]


def grab(
    video: str | os.PathLike[str] | None = None,
    *,
    count: int | None = None,
    interval: int | None = None,
    offset: int | None = None,
    at: Sequence[int] | None = None,
    width: int | None = None,
    height: int | None = None,
    frame_type: FrameType | None = None,
    sprite: Mapping[str, Any] | bool | None = None,
    template_id: str | None = None,
    user_data: Mapping[str, Any] | str | None = None,
    request: Mapping[str, Any] | None = None,
    output_dir: str | os.PathLike[str] = "snapshots",
    quality: int = DEFAULT_QUALITY,
    vtt: bool = False,
    vtt_base_url: str | None = None,
    retina: bool = False,
    trim_last_sheet: bool = False,
    picture_format: PictureFormat = "jpg",
    tonemap: str = "auto",
    deinterlace: Deinterlace = "auto",
    skip_black: bool = False,
    pick: Pick = "even",
    progress: Progress | None = None,
    settings: Settings | None = None,
    record: bool = True,
) -> Event:
    """Take snapshots of one video into ``output_dir/<video stem>/`` and return its event.

    The request is the cloud API's: `count`, `interval` (s), `offset` (ms), `at` (ms, at most 30),
    `width`/`height` (8–4096; one alone keeps the aspect), `frame_type` ("normal": the exact frame
    a player shows; "intra": the nearest keyframe), `sprite` (True, or SpriteSnapshotConfig fields
    such as ``{"CellWidth": 160, "KeepCellPic": "delete"}``), `template_id` (a stored template
    decides the request), `user_data` (``{"Extend": …, "MessageCallback": {"CallbackURL": …}}``).
    `request` is a whole request in the API's own spelling (as the SDKs send it, numbers as
    numbers or numeric strings, VideoId included); the keywords above win over it.

    `vtt` writes thumbnails.vtt (`vtt_base_url` makes its URLs absolute); `retina` a second set of
    sheets at twice the cell size; `trim_last_sheet` cuts the last sheet to the rows it fills (the
    API keeps every sheet full size); `picture_format` writes snapshots and sheets as "jpg" (the
    API's), "png" or "webp". `tonemap` makes HDR (PQ, HLG) look as players show it: "auto"
    (the mobius curve), "off", or a curve of ffmpeg's tonemap filter; `deinterlace` is "auto"
    (where the stream says, or its frames show, it is interlaced), "on" or "off". The event's
    `Rendering` says what was done. `skip_black` moves a snapshot whose frame is black or one
    colour to the nearest frame that is not, within 3 s (its `frame_time` says which; the event's
    `BlankSkipped` lists them). `pick="scenes"` takes `count` (≤ 30, default 10) snapshots at the
    strongest scene changes instead (core/scenes.py; the whole video is scanned once, small).
    `progress(done, total)` is called as snapshots are made. The
    job is recorded in the job records (`snapcli jobs`) unless `record` is False.

    Raises a SnapcliError subclass on failure: its `code` (the API's), `message`, and the fail
    event as `event` (the API's JSON) once the job had started.
    """
    options = OutputOptions(
        quality=quality,
        vtt=vtt,
        vtt_base_url=vtt_base_url,
        retina=retina,
        trim_last_sheet=trim_last_sheet,
        picture_format=picture_format,
        tonemap=tonemap,
        deinterlace=deinterlace,
        skip_blank=skip_black,
    )
    overrides = {
        "count": count,
        "interval": interval,
        "offset": offset,
        "at": at,
        "width": width,
        "height": height,
        "frame_type": frame_type,
        "user_data": user_data,
    }
    layers = None if sprite is None or sprite is False else ([] if sprite is True else [sprite])
    video_given = os.fspath(video) if video is not None else None
    if pick == "scenes":
        if video_given is None:
            raise InvalidParameter("pick='scenes' needs the video named.")
        asked = count if count is not None else (request or {}).get("Count")
        picks = DEFAULT_SCENES if asked is None else whole_number("Count", asked, 1, MAX_SCENES)
        overrides.update(
            at=scene_picks(video_given, picks, settings), count=None, interval=None, offset=None
        )
    elif pick != "even":
        raise InvalidParameter(f"pick must be even or scenes, got {pick!r}.")
    made = assemble(request, overrides, sprite=layers, template_id=template_id, options=options)
    video_id = video_given or made.video_id
    if not video_id:
        raise InvalidParameter("no video given: name the video, or VideoId in the request.")
    event = grab_now(
        video_id,
        made.request,
        made.options,
        output_dir,
        progress=progress,
        settings=settings,
        record=record,
    )
    return Event.from_api(event)


def probe(video: str | os.PathLike[str], settings: Settings | None = None) -> VideoInfo:
    """Duration, display size, rotation, SAR, codec, frame rate and keyframes of a video."""
    return _probe(video, settings)


@dataclass(frozen=True)
class Submission:
    """A submitted job: its ids, its dialect ("vod" or "mts"), and its record as
    `snapcli jobs show` gives it (finished when waited for, or for a single MTS snapshot)."""

    request_id: str
    job_id: str
    dialect: str
    record: dict[str, Any]


def submit(
    request: Mapping[str, Any],
    *,
    output_dir: str | os.PathLike[str] = "snapshots",
    storage_root: str | os.PathLike[str] = ".",
    quality: int = DEFAULT_QUALITY,
    vtt: bool = False,
    vtt_base_url: str | None = None,
    wait: bool = False,
    settings: Settings | None = None,
) -> Submission:
    """Submit a SubmitSnapshotJob request in the API's own spelling, as the cloud takes it: the
    job runs in a background worker (`wait` waits for it). A request with Input and
    SnapshotConfig is in the MTS dialect: its buckets are folders under `storage_root`, and a
    single snapshot without Interval or Num is taken before the answer."""
    # Here, not above: a grab needs neither the queue nor the MTS dialect.
    from snapcli.service.jobs import find_jobs, wait_for
    from snapcli.service.mts_job import submit_mts
    from snapcli.service.vod import submit_vod

    if is_mts(request):
        identity, record, unknown = submit_mts(dict(request), storage_root, settings, wait=wait)
        for key in unknown:
            warnings.warn(
                f"{key} is not a SubmitSnapshotJob parameter; it is ignored.",
                SnapcliWarning,
                stacklevel=2,
            )
        return Submission(identity.request_id, identity.job_id, "mts", record)
    options = OutputOptions(quality=quality, vtt=vtt, vtt_base_url=vtt_base_url)
    identity = submit_vod(request, output_dir, options, settings)
    if wait:
        (record,) = wait_for([identity.job_id])
    else:
        (record,), _ = find_jobs([identity.job_id])
    return Submission(identity.request_id, identity.job_id, "vod", record)


def serve(
    *,
    host: str = "127.0.0.1",
    port: int = 8080,
    media_root: str | os.PathLike[str] = ".",
    output_dir: str | os.PathLike[str] = "snapshots",
    access_keys: Mapping[str, str] | None,
    callback_key: str | None = None,
    public_url: str | None = None,
    settings: Settings | None = None,
    on_ready: Any = None,
) -> None:
    """Serve the VOD and MTS snapshot API over HTTP until interrupted, for the official SDKs
    pointed at ``host:port`` (docs/serve.md). `access_keys` maps AccessKeyId to secret; None
    serves unsigned calls (loopback only). VideoIds are paths under `media_root` (MTS buckets
    its folders); VOD results go to `output_dir`, served at ``/results/``. `callback_key`
    signs callbacks as the cloud does. `on_ready(url, service)` is called once it listens."""
    from snapcli.service.http.server import serve as run_server

    run_server(
        host=host,
        port=port,
        media_root=media_root,
        output_dir=output_dir,
        access_keys=access_keys,
        callback_key=callback_key,
        public_url=public_url,
        settings=settings,
        on_ready=on_ready,
    )


def sheet(
    video: str | os.PathLike[str],
    *,
    count: int = 16,
    columns: int = 4,
    width: int = 1600,
    padding: int = 6,
    margin: int = 12,
    background: str = "#000000",
    text_color: str = "#ffffff",
    font_size: int = 16,
    header: bool = True,
    timestamps: str = "bottom-right",
    keep_pictures: bool = False,
    skip_black: bool = False,
    pick: Pick = "even",
    frame_type: FrameType | None = None,
    output_dir: str | os.PathLike[str] = "snapshots",
    quality: int = DEFAULT_QUALITY,
    picture_format: PictureFormat = "jpg",
    tonemap: str = "auto",
    deinterlace: Deinterlace = "auto",
    progress: Progress | None = None,
    settings: Settings | None = None,
    record: bool = True,
) -> Event:
    """A contact sheet of one video into ``output_dir/<video stem>/sheet.jpg``: a header with the
    file's facts over `count` exact frames spread evenly (the ends left out: the first at half a
    step), `columns` across a sheet `width` px wide, each with the time of its frame written in
    its `timestamps` corner ("bottom-right", "top-left", …, "off"). The event's `ContactSheet`
    gives the sheet's file, size and each frame's box; `keep_pictures` keeps the frames too;
    `skip_black` moves black or one-colour frames to the nearest that are not."""
    from snapcli.core.contact import SheetStyle

    style = SheetStyle(
        columns=columns, width=width, padding=padding, margin=margin, background=background,
        text_color=text_color, font_size=font_size, header=header, timestamps=timestamps,
        keep_pictures=keep_pictures,
    )  # fmt: skip
    whole_number("count", count, 1, MAX_SHEET_FRAMES)
    duration = _probe(video, settings).duration_ms
    options = OutputOptions(
        quality=quality,
        picture_format=picture_format,
        tonemap=tonemap,
        deinterlace=deinterlace,
        contact_sheet=style,
        skip_blank=skip_black,
    )
    overrides: dict[str, Any] = {
        "count": count,
        "interval": 0,
        "offset": int(duration / (2 * count)),
        "width": style.cell_width,
        "frame_type": frame_type,
    }
    if pick == "scenes":
        overrides.update(
            at=scene_picks(video, count, settings), count=None, interval=None, offset=None
        )
    made = assemble(None, overrides, options=options)
    event = grab_now(
        os.fspath(video),
        made.request,
        made.options,
        output_dir,
        progress=progress,
        settings=settings,
        record=record,
    )
    return Event.from_api(event)


def preview(
    video: str | os.PathLike[str],
    *,
    clips: int = 5,
    clip_ms: int = 1000,
    width: int = 320,
    fps: int = 12,
    quality: int = 75,
    picture_format: Literal["webp", "mp4"] = "webp",
    output_dir: str | os.PathLike[str] = "snapshots",
    settings: Settings | None = None,
) -> Event:
    """An animated preview of one video into ``output_dir/<video stem>/preview.webp`` (or .mp4):
    `clips` stretches of `clip_ms` spread evenly over it, `width` px wide at `fps` frames a
    second, as hover previews show. The event's ``to_api()["Preview"]`` gives the file, its
    size and each clip's start."""
    from snapcli.core.preview import PreviewStyle
    from snapcli.engine.preview import run_preview

    style = PreviewStyle(clips, clip_ms, width, fps, quality, picture_format)
    return Event.from_api(run_preview(video, style, output_dir, settings=settings))


def scene_picks(
    video: str | os.PathLike[str], count: int, settings: Settings | None = None
) -> list[int]:
    """`count` times (ms) at the strongest scene changes of a video (core/scenes.py)."""
    from snapcli.core.scenes import scene_times
    from snapcli.media.scenes import scene_scores

    whole_number("count", count, 1, MAX_SCENES)
    info = _probe(video, settings)
    times = scene_times(scene_scores(info, settings), count, info.duration_ms)
    if not times:
        raise InvalidParameter(
            f"{os.fspath(video)} shows no scene change: pick the times evenly instead."
        )
    return times
