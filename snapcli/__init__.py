"""snapcli: exact snapshots and sprite sheets of local videos, with the cloud VOD snapshot API's
semantics.

    >>> import snapcli
    >>> event = snapcli.grab("talk.mp4", count=10, width=640, output_dir="out")
    >>> [shot["FrameTime"] for shot in event.snapshots]

The public names load on first use, so that `snapcli --help` does not pay for the whole library.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_PUBLIC = {
    "grab": "snapcli.api",
    "probe": "snapcli.api",
    "SnapcliError": "snapcli.errors",
    "SnapshotComplete": "snapcli.core.event",
    "SnapshotRequest": "snapcli.core.request",
    "build_request": "snapcli.core.request",
    "VideoInfo": "snapcli.media.probe",
}
__all__ = [
    "SnapcliError",
    "SnapshotComplete",
    "SnapshotRequest",
    "VideoInfo",
    "build_request",
    "grab",
    "probe",
]

if TYPE_CHECKING:
    from snapcli.api import grab, probe
    from snapcli.core.event import SnapshotComplete
    from snapcli.core.request import SnapshotRequest, build_request
    from snapcli.errors import SnapcliError
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
    if name in _PUBLIC:
        return getattr(importlib.import_module(_PUBLIC[name]), name)
    raise AttributeError(f"module 'snapcli' has no attribute {name!r}")
