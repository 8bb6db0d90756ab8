"""snapcli: exact snapshots and sprite sheets of local videos, with the cloud VOD snapshot API's
semantics.

    >>> import snapcli
    >>> event = snapcli.grab("talk.mp4", count=10, width=640, output_dir="out")
    >>> [(shot.time, shot.frame_time, shot.path) for shot in event.snapshots]
    >>> snapcli.probe("talk.mp4").duration_ms

The public names load on first use, so that `snapcli --help` does not pay for the whole library.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_PUBLIC = {
    "grab": "snapcli.api",
    "probe": "snapcli.api",
    "submit": "snapcli.api",
    "serve": "snapcli.api",
    "sheet": "snapcli.api",
    "preview": "snapcli.api",
    "Submission": "snapcli.api",
    "Event": "snapcli.core.event",
    "Snapshot": "snapcli.core.event",
    "Sheet": "snapcli.core.event",
    "VideoInfo": "snapcli.media.probe",
    "SnapcliError": "snapcli.errors",
    "SnapcliWarning": "snapcli.errors",
    "SnapshotRequest": "snapcli.core.request",
    "build_request": "snapcli.core.request",
}
__all__ = [
    "Event",
    "Sheet",
    "SnapcliError",
    "SnapcliWarning",
    "Snapshot",
    "SnapshotRequest",
    "Submission",
    "VideoInfo",
    "build_request",
    "grab",
    "jobs",
    "preview",
    "probe",
    "serve",
    "sheet",
    "submit",
]

if TYPE_CHECKING:
    from snapcli import jobs
    from snapcli.api import Submission, grab, preview, probe, serve, sheet, submit
    from snapcli.core.event import Event, Sheet, Snapshot
    from snapcli.core.request import SnapshotRequest, build_request
    from snapcli.errors import SnapcliError, SnapcliWarning
    from snapcli.media.probe import VideoInfo


def run() -> None:
    """The console script: load the CLI, run it, exit with its status. A Ctrl-C that lands
    while Python is still loading modules is also just "interrupted", never a traceback; one that
    lands once the work is over (as Python shuts down) changes nothing."""
    import signal
    import sys

    try:
        from snapcli.cli.main import main

        status = main()
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    except KeyboardInterrupt:
        sys.stderr.write("snapcli: interrupted.\n")
        sys.exit(130)
    sys.exit(status)


def __getattr__(name: str) -> Any:
    if name == "jobs":
        return importlib.import_module("snapcli.jobs")
    if name in _PUBLIC:
        return getattr(importlib.import_module(_PUBLIC[name]), name)
    raise AttributeError(f"module 'snapcli' has no attribute {name!r}")
