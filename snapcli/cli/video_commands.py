"""The commands that take snapshots of local videos: grab, sprite, batch, and probe."""

from __future__ import annotations

import json
import sys
import time
from typing import Any

import click

from snapcli.cli import grouping
from snapcli.cli.console import (
    ProgressBar,
    api_errors,
    print_json,
    warn,
    warn_undelivered,
)
from snapcli.cli.options import (
    CONTEXT,
    FILE,
    SPRITE_DEFAULT_CELL_WIDTH,
    SPRITE_DEFAULT_INTERVAL,
    output_options,
    request_options,
    single_video_options,
    sprite_options,
)
from snapcli.errors import ExitStatus, SnapcliError


@grouping.command(context_settings=CONTEXT)
@single_video_options()
@click.pass_context
def grab(ctx: click.Context, /, **flags: Any) -> int:
    """Take snapshots of VIDEO: the exact frames a player shows at the requested times.

    Without a time parameter it takes one snapshot at 0 ms. Files land in
    DIR/<video stem>/: snapshot-00001.jpg …, sprite-00001.jpg … with sprites, thumbnails.vtt with
    --vtt, and snapshots.json (the SnapshotComplete event).

    \b
    Examples:
      snapcli grab movie.mp4 --count 10                 # 0 s, 1 s, … 9 s
      snapcli grab movie.mp4 --interval 30              # every 30 s to the end
      snapcli grab movie.mp4 --interval 0 --count 20    # 20 spread over the whole video
      snapcli grab movie.mp4 --at 1000 --at 2500 --width 640
      snapcli grab movie.mp4 --frame-type intra --interval 10   # keyframes: fast
      snapcli grab movie.mp4 --interval 5 --cell-width 160 --columns 5 --lines 5 --vtt
      snapcli grab --request request.json --json
    """
    return _grab(ctx, flags)


@grouping.command(context_settings=CONTEXT)
@single_video_options(for_sprite=True)
@click.pass_context
def sprite(ctx: click.Context, /, **flags: Any) -> int:
    """Make a player-ready thumbnail track for VIDEO: sprite sheets and thumbnails.vtt.

    The defaults suit web players (video.js, Plyr, Vidstack, JW Player): one thumbnail every
    2 seconds over the whole video, cells 160 px wide (height by the video's aspect), 10 × 10
    cells a sheet, only the sheets kept (no single JPGs), and thumbnails.vtt beside them. Every
    grab option still applies and overrides these defaults.

    \b
    Examples:
      snapcli sprite movie.mp4                          # sprite-0000N.jpg + thumbnails.vtt
      snapcli sprite movie.mp4 --retina                 # plus @2x sheets and their VTT
      snapcli sprite movie.mp4 --interval 5 --cell-width 240 --vtt-base-url https://cdn.example/m/
    """
    flags["vtt"] = True
    if flags.get("template_id") is not None:  # the template decides the rest
        return _grab(ctx, flags)
    timing = ("count", "interval", "offset", "at")
    if not any(flags.get(name) for name in timing) and flags.get("request_file") is None:
        flags["interval"] = SPRITE_DEFAULT_INTERVAL
    if flags.get("cell_width") is None and flags.get("cell_height") is None:
        flags["cell_width"] = SPRITE_DEFAULT_CELL_WIDTH
    if flags.get("keep_cells") is None:
        flags["keep_cells"] = False
    flags["sprite"] = True
    return _grab(ctx, flags)


@grouping.command(context_settings=CONTEXT)
@click.argument("video", type=FILE)
@grouping.option_group(
    "The sheet",
    click.option("-n", "--count", default=16, show_default=True, help="Frames on the sheet."),
    click.option("--columns", default=4, show_default=True, help="Frames across."),
    click.option("--width", default=1600, show_default=True, help="The sheet's width, px."),
    click.option("--padding", default=6, show_default=True, help="Pixels between frames."),
    click.option("--margin", default=12, show_default=True, help="Pixels around everything."),
    click.option("--background", default="#000000", show_default=True, metavar="#RRGGBB"),
    click.option("--text-color", default="#ffffff", show_default=True, metavar="#RRGGBB"),
    click.option("--font-size", default=16, show_default=True, help="Header text, px."),
    click.option("--no-header", is_flag=True, help="No header of the file's facts."),
    click.option(
        "--timestamps",
        type=click.Choice(["bottom-right", "bottom-left", "top-right", "top-left", "off"]),
        default="bottom-right",
        show_default=True,
        help="Where each frame's time is written.",
    ),
    click.option("--keep-pictures", is_flag=True, help="Also keep each frame as a picture."),
    click.option(
        "--skip-black",
        is_flag=True,
        help="Move a black or one-colour frame to the nearest that is not (within 3 s).",
    ),
    click.option(
        "--pick",
        type=click.Choice(["even", "scenes"]),
        default="even",
        show_default=True,
        help="scenes: the frames at the strongest scene changes (-n ≤ 30).",
    ),
)
@grouping.option_group(
    "Output",
    click.option(
        "-o",
        "--output-dir",
        default="snapshots",
        show_default=True,
        metavar="DIR",
        help="The sheet lands in DIR/<video stem>/.",
    ),  # fmt: skip
    click.option(
        "--format",
        "picture_format",
        type=click.Choice(["jpg", "png", "webp"]),
        default="jpg",
        show_default=True,
        help="The sheet's picture format.",
    ),  # fmt: skip
    click.option("--quality", default=90, show_default=True, metavar="1-100", help="JPEG/WebP."),
    click.option(
        "--frame-type",
        type=click.Choice(["normal", "intra"]),
        help="normal: exact frames (default); intra: nearest keyframes, faster.",
    ),  # fmt: skip
    click.option("--json", "as_json", is_flag=True, help="Print the event as JSON."),
    click.option("-q", "--quiet", is_flag=True, help="Print nothing but errors."),
)
@click.pass_context
def sheet(ctx: click.Context, /, video: str, **flags: Any) -> int:
    """Make a contact sheet of VIDEO: a header with the file's facts, and exact frames spread
    evenly over it, each with the time of its frame.

    \b
    Examples:
      snapcli sheet talk.mp4                                # 16 frames, 4 across, 1600 px
      snapcli sheet talk.mp4 -n 30 --columns 5 --format webp
      snapcli sheet talk.mp4 --timestamps top-left --no-header --json
      snapcli batch videos/ -r --sheet -o sheets            # one sheet per video
    """
    from snapcli import api

    as_json, quiet = flags.pop("as_json"), flags.pop("quiet")
    with api_errors(as_json):
        progress = ProgressBar(enabled=not (quiet or as_json))
        with progress:
            event = api.sheet(
                video,
                header=not flags.pop("no_header"),
                progress=progress.update,
                settings=ctx.obj["settings"],
                **flags,
            )
    _print_made(event, "ContactSheet", f"{len(event.snapshots)} frames", as_json, quiet)
    return ExitStatus.SUCCESS


def _print_made(event: Any, key: str, what: str, as_json: bool, quiet: bool) -> None:
    """The event as JSON, or the one file a sheet or a preview made, its size and `what`."""
    if as_json:
        print_json(event.to_api())
    elif not quiet:
        record = event.to_api()[key]
        shown = event.output_dir / record["Path"] if event.output_dir else record["Path"]
        click.echo(f"{shown}  ({record['Width']}x{record['Height']}, {what})")


@grouping.command(context_settings=CONTEXT)
@click.argument("video", type=FILE)
@grouping.option_group(
    "The preview",
    click.option("--clips", default=5, show_default=True, help="Stretches spread over the video."),
    click.option(
        "--clip-length",
        default="1s",
        show_default=True,
        metavar="TIME",
        help="Each stretch (ms, or 1.5s).",
    ),  # fmt: skip
    click.option("--width", default=320, show_default=True, help="Width in px (aspect kept)."),
    click.option("--fps", default=12, show_default=True, help="Frames a second."),
    click.option("--quality", default=75, show_default=True, metavar="1-100"),
    click.option(
        "--format",
        "picture_format",
        type=click.Choice(["webp", "mp4"]),
        default="webp",
        show_default=True,
        help="Animated WebP, or MP4.",
    ),  # fmt: skip
    click.option(
        "-o",
        "--output-dir",
        default="snapshots",
        show_default=True,
        metavar="DIR",
        help="The preview lands in DIR/<video stem>/.",
    ),  # fmt: skip
    click.option("--json", "as_json", is_flag=True, help="Print the event as JSON."),
    click.option("-q", "--quiet", is_flag=True, help="Print nothing but errors."),
)
@click.pass_context
def preview(ctx: click.Context, /, video: str, **flags: Any) -> int:
    """Make an animated preview of VIDEO: short stretches spread over it, joined, as the
    previews that play when a pointer hovers over a video.

    \b
    Examples:
      snapcli preview talk.mp4                         # 5 × 1 s, 320 px, animated WebP
      snapcli preview talk.mp4 --clips 8 --clip-length 2s --width 480 --format mp4
    """
    from snapcli import api
    from snapcli.core.times import time_ms

    as_json, quiet = flags.pop("as_json"), flags.pop("quiet")
    with api_errors(as_json):
        event = api.preview(
            video,
            clip_ms=time_ms(flags.pop("clip_length"), "--clip-length"),
            settings=ctx.obj["settings"],
            **flags,
        )
    clips = len(event.to_api()["Preview"]["Clips"])
    _print_made(event, "Preview", f"{clips} clips", as_json, quiet)
    return ExitStatus.SUCCESS


def _grab(ctx: click.Context, flags: dict[str, Any]) -> int:
    """What grab and sprite share: one library call, then the event for people or scripts."""
    from snapcli import api

    as_json, quiet = flags.pop("as_json"), flags.pop("quiet")
    if flags["output_dir"] == "-":
        return _grab_to_stdout(ctx, flags, as_json)
    with api_errors(as_json):
        request, sprite = request_from_flags(flags)
        progress = ProgressBar(enabled=not (quiet or as_json))
        started = time.monotonic()
        try:
            with progress:
                event = api.grab(
                    flags.pop("video"),
                    request=request,
                    sprite=sprite,
                    template_id=flags.pop("template_id"),
                    output_dir=flags.pop("output_dir"),
                    quality=flags.pop("quality"),
                    vtt=flags.pop("vtt"),
                    vtt_base_url=flags.pop("vtt_base_url"),
                    retina=flags.pop("retina"),
                    trim_last_sheet=flags.pop("trim_last_sheet"),
                    picture_format=flags.pop("picture_format"),
                    skip_black=flags.pop("skip_black"),
                    pick=flags.pop("pick"),
                    tonemap=flags.pop("tonemap"),
                    deinterlace=flags.pop("deinterlace"),
                    progress=progress.update,
                    settings=ctx.obj["settings"],
                )
        except SnapcliError as error:
            warn_undelivered(error.event)
            raise
    warn_undelivered(event)
    if as_json:
        print_json(event.to_api())
    elif not quiet:
        from snapcli.cli.render import print_job_summary

        print_job_summary(event.to_api(), time.monotonic() - started)
    return ExitStatus.SUCCESS


def _grab_to_stdout(ctx: click.Context, flags: dict[str, Any], as_json: bool) -> int:
    """-o -: one snapshot's JPEG on stdout, for a pipe; nothing is kept or recorded."""
    import tempfile

    from snapcli import api
    from snapcli.errors import InvalidParameter

    with api_errors(as_json):
        if as_json or flags["vtt"] or flags["retina"]:
            raise InvalidParameter(
                "-o - writes one picture on stdout, which then holds nothing else."
            )
        if sys.stdout.isatty():
            raise InvalidParameter("-o - writes a picture on stdout, which is a terminal: pipe it.")
        request, sprite = request_from_flags(flags)
        if sprite is not None:
            raise InvalidParameter("-o - writes one snapshot, not sprite sheets.")
        with tempfile.TemporaryDirectory(prefix="snapcli-stdout-") as folder:
            event = api.grab(
                flags["video"],
                request=request,
                template_id=flags["template_id"],
                output_dir=folder,
                quality=flags["quality"],
                picture_format=flags["picture_format"],
                skip_black=flags["skip_black"],
                pick=flags["pick"],
                tonemap=flags["tonemap"],
                deinterlace=flags["deinterlace"],
                settings=ctx.obj["settings"],
                record=False,
            )
            pictures = [shot.path for shot in event.snapshots if shot.path]
            if len(pictures) != 1:
                raise InvalidParameter(
                    f"-o - writes one snapshot, and this request takes {len(event.snapshots)}: "
                    "ask for one time (--at TIME)."
                )
            data = pictures[0].read_bytes()
    sys.stdout.buffer.write(data)
    sys.stdout.buffer.flush()
    return ExitStatus.SUCCESS


# The request flags, named as the API names them.
API_FLAGS = {
    "count": "Count",
    "interval": "Interval",
    "offset": "SpecifiedOffsetTime",
    "at": "SpecifiedOffsetTimes",
    "width": "Width",
    "height": "Height",
    "frame_type": "FrameType",
    "user_data": "UserData",
}


def request_from_flags(
    flags: dict[str, Any],
) -> tuple[dict[str, Any], dict[str, Any] | bool | None]:
    """The request in the API's spelling: --request's file, with the request flags winning over
    it; and the sprite flags as SpriteSnapshotConfig fields (--sprite-config, then the cell
    flags), or True for --sprite alone. Takes them out of `flags`."""
    from snapcli.core.request import SPRITE_FIELDS, parse_request_json, sprite_fields

    request_file = flags.pop("request_file")
    request: dict[str, Any] = {}
    if request_file is not None:
        request = parse_request_json(request_file.read(), request_file.name)
    for name, api in API_FLAGS.items():
        value = flags.pop(name)
        if value not in (None, ()):
            if name == "at":  # the flag replaces the file's times, however spelled
                request = {k: v for k, v in request.items() if not k.startswith(api)}
            request[api] = _people_times(name, api, value)
    # The cell flags are named like SpriteSnapshotConfig's fields (CellWidth: --cell-width).
    cells = {api: flags.pop(name) for api, name in SPRITE_FIELDS.items()}
    if cells["KeepCellPic"] is not None:
        cells["KeepCellPic"] = "keep" if cells["KeepCellPic"] else "delete"
    wants_sprite, sprite_config = flags.pop("sprite"), flags.pop("sprite_config")
    if sprite_config is not None or any(value is not None for value in cells.values()):
        return request, sprite_fields(sprite_config, cells)
    return request, True if wants_sprite else None


def _people_times(name: str, api: str, value: Any) -> Any:
    """Times as people write them (1:30, 90s, 2.5s; a bare number is still ms, or seconds for
    --interval), as the API's numbers."""
    from snapcli.core.times import time_ms, whole_seconds

    if name == "offset":
        return time_ms(value, api)
    if name == "interval":
        return whole_seconds(value, api)
    if name == "at":
        times: list[Any] = []
        for piece in value:
            if piece.strip().startswith("["):  # a JSON array, as the API writes it
                times.append(piece)
            else:
                times += [time_ms(part, api) for part in piece.split(",") if part.strip()]
        return times
    return value


def options_from_flags(flags: dict[str, Any]) -> Any:
    """The output options from the flags (taking them out of `flags`)."""
    from snapcli.engine.job import OutputOptions

    return OutputOptions(
        quality=flags.pop("quality"),
        vtt=flags.pop("vtt"),
        vtt_base_url=flags.pop("vtt_base_url"),
        retina=flags.pop("retina"),
        trim_last_sheet=flags.pop("trim_last_sheet", False),
        picture_format=flags.pop("picture_format", "jpg"),
        skip_blank=flags.pop("skip_black", False),
        tonemap=flags.pop("tonemap", "auto"),
        deinterlace=flags.pop("deinterlace", "auto"),
    )


@grouping.command(context_settings=CONTEXT)
@click.argument("paths", nargs=-1, required=True, metavar="PATH...", type=FILE)
@grouping.option_group(
    "Which videos",
    click.option("-r", "--recursive", is_flag=True, help="Look in subfolders too."),
    click.option("--include", multiple=True, metavar="GLOB", help="Only videos matching (repeat)."),
    click.option(
        "--exclude", multiple=True, metavar="GLOB", help="Leave out videos matching (repeat)."
    ),
    click.option(
        "--ext",
        "extensions",
        metavar="EXT[,EXT…]",
        help="Which files in folders are videos (default: mp4,m4v,mov,mkv,webm,avi,ts,m2ts,mts,"
        "mpg,mpeg,flv,wmv,3gp,ogv,mxf).",
    ),
)
@grouping.option_group(
    "Running the batch",
    click.option("-j", "--jobs", metavar="N", help="Videos at once (default: one per core)."),
    click.option(
        "--cluster",
        envvar="SNAPCLI_CLUSTER",
        metavar="ADDRESS",
        help="Run each video as a task on a Dask cluster: tcp://HOST:PORT, or local[:N] for N "
        "worker processes here (docs/cluster.md).",
    ),
    click.option(
        "--sheet",
        is_flag=True,
        help="Make a contact sheet of each video (16 frames spread evenly, unless the request "
        "says otherwise; see snapcli sheet).",
    ),
    click.option("--force", is_flag=True, help="Redo videos that already have a finished result."),
    click.option("--jsonl", is_flag=True, help="Print one event per line on stdout as jobs end."),
    click.option("--dry-run", is_flag=True, help="List what would run, and run nothing."),
)
@request_options
@sprite_options
@output_options
@click.pass_context
def batch(ctx: click.Context, /, **flags: Any) -> int:
    """Take snapshots of many videos: files and folders (PATH...), one job per video.

    Results mirror the input tree: DIR/<folder relative to PATH>/<stem>/ (two videos of one
    folder with the same stem get DIR/…/<file name>/). Every request option of grab applies to
    every video. A video whose finished result was made for the same request from the same input
    (size and modification time) is skipped, so an interrupted batch resumes where it stopped;
    --force redoes it. A bad file fails alone; the exit status is 3 when any failed.

    \b
    Examples:
      snapcli batch videos/ -r --interval 0 --count 12 -o thumbs
      snapcli batch videos/ -r --include '*.mp4' --exclude 'raw/*' --cell-width 160 --vtt
      snapcli batch a.mp4 b.mkv --at 1000 --jsonl | jq -c '{VideoId, Status}'
      snapcli batch videos/ -r --dry-run
      snapcli batch /mnt/videos -r -o /mnt/thumbs --cluster tcp://scheduler:8786
    """
    from snapcli.core.request import whole_number
    from snapcli.service.batch import VIDEO_EXTENSIONS, find_videos, run_batch
    from snapcli.service.batch_items import finished_result

    paths, output_dir = flags.pop("paths"), flags.pop("output_dir")
    quiet, as_jsonl, dry_run = flags.pop("quiet"), flags.pop("jsonl"), flags.pop("dry_run")
    jobs, cluster = flags.pop("jobs"), flags.pop("cluster")
    jobs = None if jobs is None else whole_number("--jobs", jobs, 1, 256)
    force = flags.pop("force")
    extensions = flags.pop("extensions")
    extensions = (
        tuple(f".{e.strip().lstrip('.').lower()}" for e in extensions.split(",") if e.strip())
        if extensions
        else VIDEO_EXTENSIONS
    )
    found = find_videos(
        paths,
        output_dir,
        recursive=flags.pop("recursive"),
        include=flags.pop("include"),
        exclude=flags.pop("exclude"),
        extensions=extensions,
    )
    from snapcli.service.vod import assemble

    api, sprite = request_from_flags(flags)
    options = options_from_flags(flags)
    if flags.pop("sheet"):
        from dataclasses import replace

        from snapcli.core.contact import SheetStyle, with_sheet_defaults

        api = with_sheet_defaults(api, SheetStyle())
        options = replace(options, contact_sheet=SheetStyle())
    made = assemble(
        api,
        sprite=None if sprite is None else ([] if sprite is True else [sprite]),
        template_id=flags.pop("template_id"),
        options=options,
    )
    request, options = made.request, made.options
    if made.video_id is not None:
        warn("the request's VideoId is ignored: a batch takes its videos from PATH.")
    items = list(found)  # names only: nothing is probed before the first job starts
    if dry_run:
        for item in items:
            finished = not force and finished_result(item, request, options) is not None
            click.echo(f"{'skip' if finished else 'run '}  {item.video}  →  {item.result}")
        return ExitStatus.SUCCESS

    from snapcli.cli.render import BatchProgress, print_batch_summary

    display = BatchProgress(len(items), enabled=not (quiet or as_jsonl) and sys.stderr.isatty())

    def report(outcome: Any) -> None:
        display.finished(outcome)
        if as_jsonl:
            event = dict(outcome.event or {})
            if outcome.status == "skipped":
                event["Skipped"] = True
            click.echo(json.dumps(event, ensure_ascii=False))
            sys.stdout.flush()

    with display:
        summary = run_batch(
            items,
            request,
            options,
            jobs=jobs,
            force=force,
            settings=ctx.obj["settings"],
            on_start=display.started,
            on_done=report,
            cluster=cluster,
        )
    if not quiet:
        print_batch_summary(summary, to_stderr=as_jsonl)
    if summary.interrupted:
        raise KeyboardInterrupt
    return ExitStatus.BATCH_PARTIAL if summary.failed else ExitStatus.SUCCESS


@grouping.command(context_settings=CONTEXT)
@click.argument("video", type=FILE)
@click.option("--json", "as_json", is_flag=True, help="Print the probe as JSON.")
@click.pass_context
def probe(ctx: click.Context, /, video: str, as_json: bool) -> int:
    """Show what snapcli sees in VIDEO: duration, display size, rotation, SAR, codec, frame rate
    and keyframe spacing.

    \b
    Examples:
      snapcli probe movie.mp4
      snapcli probe movie.mp4 --json | jq .Duration
    """
    from snapcli import api

    info = api.probe(video, ctx.obj["settings"]).to_dict()
    if as_json:
        click.echo(json.dumps(info, ensure_ascii=False, indent=2))
    else:
        from snapcli.cli.render import print_probe

        print_probe(info)
    return ExitStatus.SUCCESS
