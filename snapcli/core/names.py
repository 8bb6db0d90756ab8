"""The names of a result's files, in one place: every name a job writes into its folder, the
formats its event gives them, and the pattern that tells snapcli's files from anyone else's."""

from __future__ import annotations

import re

EVENT_FILE = "snapshots.json"  # the SnapshotComplete event
PICTURE_FORMATS = ("jpg", "png", "webp")  # jpg: the API's, and the default
# Every name snapcli writes into a result folder.
OWN_NAME = re.compile(
    r"(snapshot|sprite)-\d{5,}(@\dx)?\.(jpg|png|webp)|thumbnails(@\dx)?\.vtt|snapshots\.json"
    r"|sheet\.(jpg|png|webp)|preview\.(webp|mp4)"
)


def snapshot_name(index: int, extension: str = "jpg") -> str:
    """Snapshot `index` (1-based): five digits, more past 99 999."""
    return f"snapshot-{index:05d}.{extension}"


def sheet_name(sheet: int, scale: int = 1, extension: str = "jpg") -> str:
    """Sprite sheet `sheet` (1-based); `scale` 2 for the high-density (@2x) set."""
    return f"sprite-{sheet:05d}{'' if scale == 1 else f'@{scale}x'}.{extension}"


def snapshot_format(extension: str = "jpg") -> str:
    """Snapshots' names as the event's SnapshotInfos write them."""
    return f"snapshot-{{SnapshotCount}}.{extension}"


def sheet_format(extension: str = "jpg") -> str:
    return f"sprite-{{SnapshotCount}}.{extension}"


def vtt_name(scale: int = 1) -> str:
    """The WebVTT thumbnail track, pointing at sheets of this scale."""
    return "thumbnails.vtt" if scale == 1 else f"thumbnails@{scale}x.vtt"
