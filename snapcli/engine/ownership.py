"""What snapcli may replace or remove: only what it provably made (docs/safety.md).

A **result folder** is provably snapcli's when it holds its event file (``snapshots.json``, a
SnapshotComplete event with a 32-hex JobId) and nothing else but the regular files that event
lists. A **staging folder** is provably snapcli's when it carries snapcli's marker file and
holds nothing else but files with the names snapcli writes (or, set aside while a result is
replaced, a previous result). Anything else is the user's, whatever its name.
"""

from __future__ import annotations

import json
import os
import re
import stat
from pathlib import Path
from typing import Any

from snapcli.core.names import EVENT_FILE, OWN_NAME

STAGING_MARKER = ".snapcli-staging.json"
MAX_EVENT_BYTES = 64 << 20
PREVIOUS = "previous"  # a result set aside, inside a staging folder, while it is replaced
_JOB_ID = re.compile(r"[0-9a-f]{32}")


def read_event(folder: Path) -> dict[str, Any] | None:
    """The SnapshotComplete event a folder holds, if it holds a well-formed one."""
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    try:  # not through a link, and a FIFO in its place does not block
        descriptor = os.open(folder / EVENT_FILE, flags)
        with open(descriptor, "rb") as file:
            if not stat.S_ISREG(os.fstat(file.fileno()).st_mode):
                return None
            event = json.loads(file.read(MAX_EVENT_BYTES))
    except (OSError, ValueError):
        return None
    if (
        isinstance(event, dict)
        and event.get("EventType") == "SnapshotComplete"
        and isinstance(event.get("JobId"), str)
        and _JOB_ID.fullmatch(event["JobId"])
    ):
        return event
    return None


def listed_files(event: dict[str, Any]) -> set[str]:
    """The file names a result's event lists: snapshots, sheets, VTT tracks, a contact sheet or
    a preview, itself."""
    names = {EVENT_FILE}
    for key in ("Snapshots", "Sprites", "RetinaSprites"):
        items = event.get(key)
        for item in items if isinstance(items, list) else []:
            if isinstance(item, dict) and isinstance(item.get("Path"), str):
                names.add(item["Path"])
    for key in ("ContactSheet", "Preview"):
        item = event.get(key)
        if isinstance(item, dict) and isinstance(item.get("Path"), str):
            names.add(item["Path"])
    infos = event.get("SnapshotInfos")
    for info in infos if isinstance(infos, list) else []:
        if isinstance(info, dict) and info.get("SnapshotType") == "WebVttSnapshot":
            names.add(str(info.get("SnapshotFormat")))
    return {name for name in names if OWN_NAME.fullmatch(name)}


def _entries(folder: Path) -> list[os.DirEntry[str]] | None:
    try:
        with os.scandir(folder) as scan:
            return list(scan)
    except OSError:
        return None


def is_snapcli_result(folder: Path) -> bool:
    """Whether `folder` (not a link) is a result snapcli made: its event, and only the regular
    files that event lists."""
    if not folder.is_dir() or folder.is_symlink():
        return False
    event = read_event(folder)
    entries = _entries(folder)
    if event is None or entries is None:
        return False
    listed = listed_files(event) | {STAGING_MARKER}  # the marker: a swap cut short by a kill
    return all(entry.name in listed and entry.is_file(follow_symlinks=False) for entry in entries)


def remove_result(folder: Path) -> bool:
    """Remove a snapcli result: only the files its event lists, then the folder if that left it
    empty. Returns whether the folder is gone."""
    event = read_event(folder)
    if event is None:
        return False
    for name in listed_files(event) | {STAGING_MARKER}:
        path = folder / name
        if path.is_file() and not path.is_symlink():
            path.unlink(missing_ok=True)
    try:
        folder.rmdir()
    except OSError:
        return False  # something else appeared in it: it stays
    return True


def is_own_staging(folder: Path) -> dict[str, Any] | None:
    """A staging folder's marker when the folder is provably snapcli's, else None."""
    if not folder.is_dir() or folder.is_symlink():
        return None
    try:
        marker = json.loads((folder / STAGING_MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    entries = _entries(folder)
    if not isinstance(marker, dict) or entries is None:
        return None
    for entry in entries:
        if entry.name == STAGING_MARKER:
            continue
        if entry.name == PREVIOUS and is_snapcli_result(Path(entry.path)):
            continue
        if not (OWN_NAME.fullmatch(entry.name) and entry.is_file(follow_symlinks=False)):
            return None
    return marker


def describe_occupant(path: Path) -> str:
    """What stands at a path, in a few words, for an error message."""
    if path.is_symlink():
        return "is a symbolic link"
    if not path.is_dir():
        return "is a file" if path.exists() else "is in the way"
    entries = _entries(path) or []
    event = read_event(path)
    listed = listed_files(event) if event else set()
    foreign = sorted(entry.name for entry in entries if entry.name not in listed)
    shown = ", ".join(foreign[:3]) + (", …" if len(foreign) > 3 else "")
    return f"is a folder holding files snapcli did not make ({shown})"
