"""What commands print: JSON for scripts, warnings and errors in one line, a progress bar for
people."""

from __future__ import annotations

import contextlib
import json
import sys
import time
from collections.abc import Iterator
from typing import Any

import click

from snapcli.errors import SnapcliError, printable


def print_json(value: Any) -> None:
    click.echo(json.dumps(value, ensure_ascii=False, indent=2))


@contextlib.contextmanager
def api_errors(enabled: bool) -> Iterator[None]:
    """With `enabled`, an error that ends a command is also printed on stdout: a job's fail
    event, or else the API's error response {"RequestId", "Code", "Message", "HttpStatusCode"}."""
    try:
        yield
    except SnapcliError as error:
        if enabled:
            print_json(error.event or _error_response(error))
        raise


def _error_response(error: SnapcliError) -> dict[str, Any]:
    from snapcli.core.event import JobIdentity

    return {
        "RequestId": JobIdentity.new().request_id,
        "Code": error.code,
        "Message": error.message,
        "HttpStatusCode": error.http_status,
    }


class ProgressBar:
    """A rich progress bar on stderr that appears only when a job takes more than a moment."""

    DELAY = 0.4

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled and sys.stderr.isatty()
        self.started = time.monotonic()
        self._bar: Any = None
        self._task: Any = None

    def __enter__(self) -> ProgressBar:
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._bar is not None:
            self._bar.stop()

    def update(self, done: int, total: int) -> None:
        if not self.enabled or time.monotonic() - self.started < self.DELAY:
            return
        if self._bar is None:
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
                TimeRemainingColumn,
            )

            self._bar = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                TextColumn("left"),
                TimeRemainingColumn(),
                console=Console(stderr=True),
                transient=True,
            )
            self._task = self._bar.add_task("snapshots", total=total)
            self._bar.start()
        self._bar.update(self._task, completed=done, total=total)


def warn_undelivered(event: Any) -> None:
    if getattr(event, "callback_error", None):
        warn(f"{event.callback_error}; the job itself is unaffected.")


def warn(message: str) -> None:
    click.echo(f"snapcli: warning: {printable(message)}", err=True)


# The API's own commands (submit, jobs, list-snapshots, template) join the group here.
