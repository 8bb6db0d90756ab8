"""The command line: parse, call the library, render. No logic of its own.

Library modules are imported inside the commands, so `snapcli --help` stays quick.
"""

from __future__ import annotations

import contextlib
import json
import sys
import threading
import time
import traceback
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import click

from .errors import ExitStatus, SnapcliError, SnapcliWarning, printable

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


@click.group(context_settings=CONTEXT)
@click.version_option(package_name="snapcli", prog_name="snapcli")
@click.option(
    "--ffmpeg",
    "ffmpeg",
    metavar="PATH",
    envvar="SNAPCLI_FFMPEG",
    help="The ffmpeg program (or its folder) to use; ffprobe is looked for beside it. "
    "Default: $SNAPCLI_FFMPEG, then PATH.",
)
@click.option("--debug", is_flag=True, help="Show a traceback when something fails.")
@click.pass_context
def cli(ctx: click.Context, ffmpeg: str | None, debug: bool) -> None:
    """Exact snapshots and sprite sheets of local videos, the way the cloud VOD snapshot API
    takes them.

    \b
    Examples:
      snapcli grab talk.mp4 --count 10              # one snapshot a second from the start
      snapcli grab talk.mp4 --interval 0 --count 12 --width 320
      snapcli grab talk.mp4 --at 1500,61000 --json  # exact frames at 1.5 s and 61 s
      snapcli sprite talk.mp4                       # sprite sheets + thumbnails.vtt
      snapcli submit VideoId=talk.mp4 Count=10      # the API's words; runs in the background
      snapcli probe talk.mp4
    """
    ctx.obj = {"ffmpeg": ffmpeg}


def _stacked(
    options: Sequence[Callable[[Any], Any]], command: Callable[..., Any]
) -> Callable[..., Any]:
    """Apply option decorators so that --help lists them in the order written."""
    decorated: Callable[..., Any] = command
    for option in reversed(options):
        decorated = option(decorated)
    return decorated


def request_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """The VOD request parameters of SPEC §1, as flags (values are validated by the library)."""
    options = [
        click.option("--count", metavar="N", help="Count: the most snapshots to take (≥ 1)."),
        click.option(
            "--interval",
            metavar="S",
            help="Interval: whole seconds between snapshots; 0 spreads Count evenly.",
        ),
        click.option(
            "--offset", metavar="MS", help="SpecifiedOffsetTime: time of the first snapshot (ms)."
        ),
        click.option(
            "--at",
            "at",
            metavar="MS[,MS…]",
            multiple=True,
            help="SpecifiedOffsetTimes: exact times in ms (repeat, or a comma list; at most 30). "
            "Overrides Count, Interval and offset.",
        ),
        click.option("--width", metavar="PX", help="Width in [8, 4096]; alone, keeps the aspect."),
        click.option(
            "--height", metavar="PX", help="Height in [8, 4096]; alone, keeps the aspect."
        ),
        click.option(
            "--frame-type",
            metavar="normal|intra",
            help="normal (default): the exact frame a player shows; intra: the nearest "
            "keyframe, much faster.",
        ),
        click.option(
            "--user-data",
            metavar="JSON",
            help='UserData: {"Extend": {…}, "MessageCallback": {"CallbackURL": "…"}}, '
            "≤ 1024 bytes.",
        ),
        click.option(
            "--template-id",
            metavar="ID",
            help="SnapshotTemplateId: take the request from a stored template (snapcli template "
            "add); other request flags are then ignored.",
        ),
        click.option(
            "--request",
            "request_file",
            metavar="FILE",
            type=click.File("r", encoding="utf-8"),
            help="A request in the API's own spelling (JSON; '-' reads stdin). Flags given "
            "as well override its values.",
        ),
    ]
    return _stacked(options, command)


def sprite_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """SpriteSnapshotConfig (SPEC §5) and the WebVTT track (§6); any cell flag makes sprites."""
    options = [
        click.option("--sprite", is_flag=True, help="Make sprite sheets (all defaults)."),
        click.option(
            "--sprite-config",
            metavar="JSON",
            help="SpriteSnapshotConfig as JSON (single quotes allowed); cell flags override it.",
        ),
        click.option("--cell-width", metavar="PX", help="Cell width (default: snapshot size)."),
        click.option(
            "--cell-height", metavar="PX", help="Cell height; one alone keeps the aspect."
        ),
        click.option("--columns", metavar="N", help="Cells across a sheet (default 10)."),
        click.option("--lines", metavar="N", help="Cells down a sheet (default 10)."),
        click.option("--padding", metavar="PX", help="Pixels between cells (default 0)."),
        click.option("--margin", metavar="PX", help="Pixels around the grid (default 0)."),
        click.option(
            "--color", metavar="COLOUR", help="Background: a name, #RRGGBB or random (black)."
        ),
        click.option(
            "--keep-cells/--delete-cells",
            "keep_cells",
            default=None,
            help="KeepCellPic: also keep the single JPGs (default), or only the sheets.",
        ),
        click.option("--vtt", is_flag=True, help="Write thumbnails.vtt, a WebVTT thumbnail track."),
        click.option(
            "--vtt-base-url", metavar="URL", help="Make the VTT's picture URLs absolute under URL."
        ),
        click.option(
            "--retina",
            is_flag=True,
            help="Also write sheets at twice the cell size (sprite-00001@2x.jpg, "
            "thumbnails@2x.vtt) for high-density screens.",
        ),
    ]
    return _stacked(options, command)


def output_options(command: Callable[..., Any]) -> Callable[..., Any]:
    options = [
        click.option(
            "-o",
            "--output-dir",
            default="snapshots",
            show_default=True,
            metavar="DIR",
            help="Where results go: each video gets DIR/<file stem>/, replaced whole on a re-run.",
        ),
        click.option("--quality", metavar="1-100", help="JPEG quality (default 90)."),
        click.option("-q", "--quiet", is_flag=True, help="Print nothing on success."),
    ]
    return _stacked(options, command)


def single_video_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """What grab and sprite take: VIDEO, the request, sprites and VTT, output, --json."""
    return _stacked(
        [
            click.argument("video", required=False),
            request_options,
            sprite_options,
            output_options,
            click.option(
                "--json",
                "as_json",
                is_flag=True,
                help="Print the SnapshotComplete event as JSON on stdout.",
            ),
        ],
        command,
    )


@cli.command(context_settings=CONTEXT)
@single_video_options
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


SPRITE_DEFAULT_INTERVAL = "2"
SPRITE_DEFAULT_CELL_WIDTH = "160"


@cli.command(context_settings=CONTEXT)
@single_video_options
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


def _output_options(flags: dict[str, Any]) -> Any:
    """OutputOptions from the flags (taking them out of `flags`)."""
    from .job import DEFAULT_QUALITY, OutputOptions
    from .request import whole_number

    quality = flags.pop("quality")
    return OutputOptions(
        quality=DEFAULT_QUALITY if quality is None else whole_number("--quality", quality, 1, 100),
        vtt=flags.pop("vtt"),
        vtt_base_url=flags.pop("vtt_base_url"),
        retina=flags.pop("retina"),
    )


def _finished_request(
    values: dict[str, Any], template_id: str | None, options: Any
) -> tuple[Any, Any]:
    """The request from build_request keywords, or from the template `template_id` names (with a
    warning for what it overrides), and the output options with the VTT a WebVTT template asks
    for; checked together."""
    from .errors import InvalidParameter
    from .request import build_request
    from .templates import with_template

    values, ignored, template_vtt = with_template(values, template_id)
    if ignored:
        _warn(f"the template decides the request: {', '.join(ignored)} ignored.")
    request = build_request(**values)
    if template_vtt:
        options = replace(options, vtt=True)
    if options.retina and request.sprite is None:
        raise InvalidParameter("--retina makes a second set of sprite sheets: ask for sprites too.")
    return request, options


def _grab(ctx: click.Context, flags: dict[str, Any]) -> int:
    """What grab and sprite share: read the request, run the job, record and report it."""
    from .errors import InvalidParameter
    from .job import run_job

    as_json, quiet = flags.pop("as_json"), flags.pop("quiet")
    with _api_errors(as_json):
        output_dir = flags.pop("output_dir")
        request, options, video_id = _read_request(flags, _output_options(flags))
        if video_id is None:
            raise InvalidParameter("no video given: name VIDEO or give VideoId in --request.")
        progress = _ProgressBar(enabled=not (quiet or as_json))
        started = time.monotonic()
        job = (ctx.obj["ffmpeg"], video_id, request, output_dir, options)
        try:
            with progress:
                event = run_job(
                    video_id,
                    request,
                    output_dir,
                    options,
                    progress=progress.update,
                    ffmpeg=ctx.obj["ffmpeg"],
                )
        except SnapcliError as error:
            if error.event is not None:
                _record(error.event, *job)
                _warn_undelivered(error.event)
            raise
    _record(event, *job)
    _warn_undelivered(event)
    if as_json:
        _print_json(event)
    elif not quiet:
        from .render import print_job_summary

        print_job_summary(event, time.monotonic() - started)
    return ExitStatus.SUCCESS


def _record(
    event: Any,
    ffmpeg: str | None,
    video_id: str,
    request: Any,
    output_dir: Any,
    options: Any,
    name: str | None = None,
) -> None:
    """Record a finished job in the job records (the state database loads only now, after the
    job); a state folder that cannot be written costs a warning, never the job."""
    from .jobs import JobSpec, record_finished

    if event.get("ErrorCode") == "Interrupted":
        return
    spec = JobSpec.of(video_id, request, output_dir, options, ffmpeg, name=name)
    try:
        record_finished(spec, event)
    except SnapcliError as error:
        _warn(f"the job was not recorded: {error.message}")


def _print_json(value: Any) -> None:
    click.echo(json.dumps(value, ensure_ascii=False, indent=2))


@contextlib.contextmanager
def _api_errors(enabled: bool) -> Iterator[None]:
    """With `enabled`, an error that ends a command is also printed on stdout: a job's fail
    event, or else the API's error response {"RequestId", "Code", "Message", "HttpStatusCode"}."""
    try:
        yield
    except SnapcliError as error:
        if enabled:
            _print_json(error.event or _error_response(error))
        raise


def _error_response(error: SnapcliError) -> dict[str, Any]:
    from .event import JobIdentity

    return {
        "RequestId": JobIdentity.new().request_id,
        "Code": error.code,
        "Message": error.message,
        "HttpStatusCode": error.http_status,
    }


@cli.command(context_settings=CONTEXT)
@click.argument("paths", nargs=-1, required=True, metavar="PATH...")
@click.option("-r", "--recursive", is_flag=True, help="Look in subfolders too.")
@click.option("--include", multiple=True, metavar="GLOB", help="Only videos matching (repeat).")
@click.option(
    "--exclude", multiple=True, metavar="GLOB", help="Leave out videos matching (repeat)."
)
@click.option(
    "--ext",
    "extensions",
    metavar="EXT[,EXT…]",
    help="Which files in folders are videos (default: mp4,m4v,mov,mkv,webm,avi,ts,m2ts,mts,"
    "mpg,mpeg,flv,wmv,3gp,ogv,mxf).",
)
@click.option("-j", "--jobs", metavar="N", help="Videos at once (default: one per core).")
@click.option("--force", is_flag=True, help="Redo videos that already have a finished result.")
@click.option("--jsonl", is_flag=True, help="Print one event per line on stdout as jobs end.")
@click.option("--dry-run", is_flag=True, help="List what would run, and run nothing.")
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
    """
    from .batch import VIDEO_EXTENSIONS, find_videos, finished_result, run_batch
    from .request import whole_number

    paths, output_dir = flags.pop("paths"), flags.pop("output_dir")
    quiet, as_jsonl, dry_run = flags.pop("quiet"), flags.pop("jsonl"), flags.pop("dry_run")
    jobs = flags.pop("jobs")
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
    request, options, video_id = _read_request(flags, _output_options(flags))
    if video_id is not None:
        _warn("the request's VideoId is ignored: a batch takes its videos from PATH.")
    items = list(found)  # names only: nothing is probed before the first job starts
    if dry_run:
        for item in items:
            finished = not force and finished_result(item, request, options) is not None
            click.echo(f"{'skip' if finished else 'run '}  {item.video}  →  {item.result}")
        return ExitStatus.SUCCESS

    from .render import BatchProgress, print_batch_summary

    display = BatchProgress(len(items), enabled=not (quiet or as_jsonl) and sys.stderr.isatty())

    def report(outcome: Any) -> None:
        display.finished(outcome)
        if outcome.status in ("success", "fail") and outcome.event:
            item = outcome.item
            _record(
                outcome.event,
                ctx.obj["ffmpeg"],
                str(item.video),
                request,
                item.output_dir,
                options,
                item.name,
            )
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
            ffmpeg=ctx.obj["ffmpeg"],
            on_start=display.started,
            on_done=report,
        )
    if not quiet:
        print_batch_summary(summary, to_stderr=as_jsonl)
    if summary.interrupted:
        raise KeyboardInterrupt
    return ExitStatus.BATCH_PARTIAL if summary.failed else ExitStatus.SUCCESS


@cli.command(context_settings=CONTEXT)
@click.argument("video")
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
    from .probe import probe as probe_video

    info = probe_video(video, ctx.obj["ffmpeg"]).to_dict()
    if as_json:
        click.echo(json.dumps(info, ensure_ascii=False, indent=2))
    else:
        from .render import print_probe

        print_probe(info)
    return ExitStatus.SUCCESS


def _read_request(flags: dict[str, Any], options: Any) -> tuple[Any, Any, str | None]:
    """The request from --request (API spelling) and the flags, which win over the file; sprite
    fields merge field by field (file, then --sprite-config, then the cell flags). A template
    (--template-id or the file's SnapshotTemplateId) replaces them all but UserData. Returns the
    request, the output options (a WebVTT template turns the VTT on) and the video."""
    from .request import (
        SPRITE_FIELDS,
        merged,
        parse_request_json,
        read_api_request,
        sprite_fields,
    )

    video_id = flags.pop("video", None)
    request_file = flags.pop("request_file")
    template_id = flags.pop("template_id")
    from_file: dict[str, Any] = {}
    if request_file is not None:
        mapping = parse_request_json(request_file.read(), request_file.name)
        api = read_api_request(mapping)
        for key in api.unknown_keys:
            _warn(f"the request's {key} is not a SubmitSnapshotJob parameter; it is ignored.")
        from_file = api.values
        video_id = video_id or api.video_id
        template_id = template_id or api.template_id
    # The cell flags are named like SpriteSnapshotConfig's fields (CellWidth: --cell-width).
    cell_flags = {api: flags.pop(name) for api, name in SPRITE_FIELDS.items()}
    if cell_flags["KeepCellPic"] is not None:
        cell_flags["KeepCellPic"] = "keep" if cell_flags["KeepCellPic"] else "delete"
    wants_sprite = flags.pop("sprite")
    sprite_config = flags.pop("sprite_config")
    given = {key: value for key, value in flags.items() if value not in (None, ())}
    values = merged([from_file, given])
    if wants_sprite or sprite_config is not None or any(v is not None for v in cell_flags.values()):
        values["sprite"] = sprite_fields(from_file.get("sprite"), sprite_config, cell_flags)
    request, options = _finished_request(values, template_id, options)
    return request, options, video_id


class _ProgressBar:
    """A rich progress bar on stderr that appears only when a job takes more than a moment."""

    DELAY = 0.4

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled and sys.stderr.isatty()
        self.started = time.monotonic()
        self._bar: Any = None
        self._task: Any = None

    def __enter__(self) -> _ProgressBar:
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._bar is not None:
            self._bar.stop()

    def update(self, done: int, total: int) -> None:
        if not self.enabled or time.monotonic() - self.started < self.DELAY:
            return
        if self._bar is None:
            from rich.console import Console
            from rich.progress import Progress

            self._bar = Progress(console=Console(stderr=True), transient=True)
            self._task = self._bar.add_task("snapshots", total=total)
            self._bar.start()
        self._bar.update(self._task, completed=done, total=total)


def _warn_undelivered(event: Any) -> None:
    if getattr(event, "callback_error", None):
        _warn(f"{event.callback_error}; the job itself is unaffected.")


def _warn(message: str) -> None:
    click.echo(f"snapcli: warning: {printable(message)}", err=True)


# The API's own commands (submit, jobs, list-snapshots, template) join the group here.
from . import cli_api  # noqa: E402, F401


def main(argv: list[str] | None = None) -> int:
    """Run the CLI and return its exit status: every failure is one line on stderr, and so is
    every warning the library gives."""
    with warnings.catch_warnings(), _terminations_interrupt():
        warnings.simplefilter("always", SnapcliWarning)
        warnings.showwarning = _show_warning
        return _main(argv)


@contextlib.contextmanager
def _terminations_interrupt() -> Iterator[None]:
    """SIGTERM and SIGHUP (a closed terminal, a service manager stopping us) end a command as
    Ctrl-C does, so that its cleanup runs: ffmpeg children killed, staging folders removed."""
    import signal

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    previous = {}
    if threading.current_thread() is threading.main_thread():
        for name in ("SIGTERM", "SIGHUP"):
            if hasattr(signal, name):
                number = getattr(signal, name)
                previous[number] = signal.signal(number, interrupt)
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


def _show_warning(message: Warning | str, category: type[Warning], *args: Any, **kw: Any) -> None:
    if issubclass(category, SnapcliWarning):
        _warn(str(message))
    else:
        click.echo(f"snapcli: warning: {printable(str(message))}", err=True)


def _main(argv: list[str] | None) -> int:
    args = sys.argv[1:] if argv is None else argv
    debug = "--debug" in args
    try:
        status = cli.main(args=args, prog_name="snapcli", standalone_mode=False)
    except click.exceptions.Exit as done:
        return done.exit_code
    except click.UsageError as error:
        hint = f" (see '{error.ctx.command_path} --help')" if error.ctx else ""
        dashed = [arg for arg in args if arg.startswith("-") and Path(arg).is_file()]
        if isinstance(error, click.NoSuchOption) and dashed:
            hint = f" (to name the file {dashed[0]}, put -- before it)"
        message = printable(error.format_message().rstrip("."))
        click.echo(f"snapcli: InvalidParameter: {message}{hint}.", err=True)
        return ExitStatus.INVALID_REQUEST
    except SnapcliError as error:
        if debug:
            traceback.print_exc()
        click.echo(f"snapcli: {error.code}: {printable(error.message)}", err=True)
        return error.exit_status
    except (KeyboardInterrupt, click.Abort):
        click.echo("snapcli: interrupted.", err=True)
        return ExitStatus.INTERRUPTED
    except Exception as error:  # a bug: say what failed, in one line
        if debug:
            traceback.print_exc()
        click.echo(
            f"snapcli: InternalError: {type(error).__name__}: {printable(str(error))} (run with "
            "--debug for details)",
            err=True,
        )
        return ExitStatus.JOB_FAILED
    return int(status or 0)
