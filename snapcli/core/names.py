"""The names of a result's files, in one place: every name a job writes into its folder, the
formats its event gives them, and the pattern that tells snapcli's files from anyone else's."""

from __future__ import annotations

import re

EVENT_FILE = "snapshots.json"  # the SnapshotComplete event
SNAPSHOT_FORMAT = "snapshot-{SnapshotCount}.jpg"  # as the event's SnapshotInfos write them
SHEET_FORMAT = "sprite-{SnapshotCount}.jpg"
# Every name snapcli writes into a result folder.
OWN_NAME = re.compile(
    r"(snapshot|sprite)-\d{5,}(@\dx)?\.jpg|thumbnails(@\dx)?\.vtt|snapshots\.json"
)


def snapshot_name(index: int) -> str:
    """Snapshot `index` (1-based): five digits, more past 99 999."""
    return f"snapshot-{index:05d}.jpg"


def sheet_name(sheet: int, scale: int = 1) -> str:
    """Sprite sheet `sheet` (1-based); `scale` 2 for the high-density (@2x) set."""
    return f"sprite-{sheet:05d}{'' if scale == 1 else f'@{scale}x'}.jpg"


def vtt_name(scale: int = 1) -> str:
    """The WebVTT thumbnail track, pointing at sheets of this scale."""
    return "thumbnails.vtt" if scale == 1 else f"thumbnails@{scale}x.vtt"
