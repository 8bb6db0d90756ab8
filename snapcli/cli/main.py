"""The command line: click commands that parse, make one library call, and render. This module
is the group and the one place that turns every outcome into an exit status and one line.

Library modules are imported inside the commands, so `snapcli --help` stays quick.
"""

from __future__ import annotations

import contextlib
import sys
import threading
import traceback
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click

from snapcli.cli import api_commands, video_commands
from snapcli.cli.completion import completion
from snapcli.cli.console import warn
from snapcli.cli.options import CONTEXT
from snapcli.errors import ExitStatus, SnapcliError, SnapcliWarning, printable


class _Group(click.Group):
    """The command group; a reader that goes away (… | head -1) ends a command quietly, with
    the status shells give a closed pipe, not as a failed job."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except BrokenPipeError:
            _silence_stdout()
            raise click.exceptions.Exit(ExitStatus.CLOSED_PIPE) from None


@click.group(cls=_Group, context_settings=CONTEXT)
@click.version_option(package_name="snapcli", prog_name="snapcli")
@click.option(
    "--ffmpeg",
    "ffmpeg",
    metavar="PATH",
    envvar="SNAPCLI_FFMPEG",
    help="The ffmpeg program (or its folder) to use, such as a system ffmpeg. Default: "
    "$SNAPCLI_FFMPEG, then the ffmpeg pip installed with snapcli (imageio-ffmpeg), then PATH.",
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
      snapcli sheet talk.mp4                        # a contact sheet; preview: a hover animation
      snapcli submit VideoId=talk.mp4 Count=10      # the API's words; runs in the background
      snapcli serve --access-key dev:s3cret         # the API over HTTP, for the official SDKs
      snapcli probe talk.mp4
    """
    from snapcli.settings import Settings

    ctx.obj = {"settings": Settings.from_environment().with_ffmpeg(ffmpeg)}


for command in (
    video_commands.grab,
    video_commands.sprite,
    video_commands.sheet,
    video_commands.preview,
    video_commands.batch,
    video_commands.probe,
    api_commands.submit,
    api_commands.jobs,
    api_commands.list_snapshots,
    api_commands.template,
    api_commands.serve,
    completion,
):
    cli.add_command(command)


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
        warn(str(message))
    else:
        click.echo(f"snapcli: warning: {printable(str(message))}", err=True)


def _silence_stdout() -> None:
    """Point stdout at nothing, so that Python's last flush on exit meets no closed pipe."""
    import os

    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)


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
