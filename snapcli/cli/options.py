"""The flags that several commands share, bundled as decorators, each bundle a group of its own
in --help (grouping.py's sections): the VOD request parameters, the sprite and VTT flags, the
output flags."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import click

from snapcli.cli import grouping
from snapcli.core.rendering import DEINTERLACE_CHOICES, TONEMAP_CHOICES

HELP_OPTIONS = ["-h", "--help"]
# Paths as click types, for the shell to complete file and folder names; they check nothing, so
# that a missing video gets the API's error code from the library.
FILE = click.Path()
FOLDER = click.Path(file_okay=False, allow_dash=True)
CONTEXT = {"help_option_names": HELP_OPTIONS, "max_content_width": 100}
# What `snapcli sprite` asks for when not told otherwise: what web players want.
SPRITE_DEFAULT_INTERVAL = "2"
SPRITE_DEFAULT_CELL_WIDTH = "160"


def stacked(
    options: Sequence[Callable[[Any], Any]], command: Callable[..., Any]
) -> Callable[..., Any]:
    """Apply option decorators so that --help lists them in the order written."""
    decorated: Callable[..., Any] = command
    for option in reversed(options):
        decorated = option(decorated)
    return decorated


def request_options(command: Callable[..., Any], for_sprite: bool = False) -> Callable[..., Any]:
    """The VOD request parameters of docs/api.md §1, as flags (the library checks the values).
    `for_sprite`: the help says the sprite command's own defaults."""
    options = [
        click.option("--count", metavar="N", help="Count: the most snapshots to take (≥ 1)."),
        click.option(
            "--interval",
            metavar="S",
            help="Interval: seconds between snapshots (30, 30s, 1m); 0 spreads Count evenly."
            + (f" Default here: {SPRITE_DEFAULT_INTERVAL}, to the end." if for_sprite else ""),
        ),
        click.option(
            "--offset",
            metavar="TIME",
            help="SpecifiedOffsetTime: time of the first snapshot (ms, or 2.5s, 1:30, 1:02:03.5).",
        ),
        click.option(
            "--at",
            "at",
            metavar="TIME[,TIME…]",
            multiple=True,
            help="SpecifiedOffsetTimes: exact times (ms, or 90s, 1:30, 1:02:03.5; repeat, or a "
            "comma list; at most 30). "
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
    return grouping.option_group("Request: the API's parameters (docs/api.md)", *options)(command)


def sprite_options(command: Callable[..., Any], for_sprite: bool = False) -> Callable[..., Any]:
    """SpriteSnapshotConfig (docs/api.md §5) and the VTT track (§6); any cell flag makes sprites.
    `for_sprite`: the help says the sprite command's own defaults."""
    options = [
        click.option("--sprite", is_flag=True, help="Make sprite sheets (all defaults)."),
        click.option(
            "--sprite-config",
            metavar="JSON",
            help="SpriteSnapshotConfig as JSON (single quotes allowed); cell flags override it.",
        ),
        click.option(
            "--cell-width",
            metavar="PX",
            help="Cell width (default: "
            + (f"{SPRITE_DEFAULT_CELL_WIDTH})." if for_sprite else "the snapshot size)."),
        ),
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
            help="KeepCellPic: also keep the single JPGs, or only the sheets (default: "
            + ("delete)." if for_sprite else "keep)."),
        ),
        click.option(
            "--trim-last-sheet",
            is_flag=True,
            help="Cut the last sheet to the rows it fills (the API keeps every sheet full size).",
        ),
        click.option(
            "--vtt",
            is_flag=True,
            help="Write thumbnails.vtt, a WebVTT thumbnail track"
            + (" (always, here)." if for_sprite else "."),
        ),
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
    return grouping.option_group("Sprite sheets and the VTT track", *options)(command)


def output_options(command: Callable[..., Any]) -> Callable[..., Any]:
    options = [
        click.option(
            "-o",
            "--output-dir",
            default="snapshots",
            show_default=True,
            metavar="DIR",
            type=FOLDER,
            help="Where results go: each video gets DIR/<file stem>/, replaced whole on a re-run; "
            "- writes one snapshot's JPEG on stdout.",
        ),
        click.option(
            "--quality",
            type=int,
            default=90,
            metavar="1-100",
            help="JPEG and WebP quality (default 90).",
        ),
        click.option(
            "--format",
            "picture_format",
            type=click.Choice(["jpg", "png", "webp"]),
            default="jpg",
            show_default=True,
            help="Snapshots and sheets as JPEG (the API's), PNG (lossless) or WebP.",
        ),
        click.option(
            "--tonemap",
            type=click.Choice(TONEMAP_CHOICES),
            default="auto",
            show_default=True,
            help="HDR (PQ, HLG) to SDR as players show it: auto uses the mobius curve; off "
            "gives the coded values (grey, washed out); or name a curve.",
        ),
        click.option(
            "--deinterlace",
            type=click.Choice(DEINTERLACE_CHOICES),
            default="auto",
            show_default=True,
            help="Deinterlace (bwdif, one picture a frame): auto where the stream says it is "
            "interlaced or its frames show it; on always; off never.",
        ),
        click.option(
            "--skip-black",
            is_flag=True,
            help="A snapshot whose frame is black or one colour moves to the nearest frame that "
            "is not, within 3 s (the event keeps the time asked for and says which moved).",
        ),
        click.option("-q", "--quiet", is_flag=True, help="Print nothing on success."),
    ]
    return grouping.option_group("Output", *options)(command)


def single_video_options(for_sprite: bool = False) -> Callable[..., Any]:
    """What grab and sprite take: VIDEO, the request, sprites and VTT, output, --json."""
    return lambda command: stacked(
        [
            click.argument("video", required=False, type=FILE),
            lambda c: request_options(c, for_sprite),
            lambda c: sprite_options(c, for_sprite),
            output_options,
            click.option(
                "--pick",
                type=click.Choice(["even", "scenes"]),
                default="even",
                show_default=True,
                help="scenes: --count (≤ 30, default 10) snapshots at the strongest scene "
                "changes, where even takes the request's schedule.",
            ),
            click.option(
                "--json",
                "as_json",
                is_flag=True,
                help="Print the SnapshotComplete event as JSON on stdout.",
            ),
        ],
        command,
    )
