"""The ListSnapshots answer, made from the SnapshotComplete events of a video's jobs. Pure.

    {"RequestId": "…", "MediaSnapshot": {"Total": 10, "Regular": "file:///…/snapshot-{SnapshotCount}.jpg",
     "JobId": "…", "CreationTime": "…Z", "Snapshots": {"Snapshot": [{"Index": 1, "Url": "file:///…"}]}}}

The snapshot types: NormalSnapshot (the single pictures of a job), SpriteSnapshot (its sheets),
SpriteOriginSnapshot (the single pictures a sprite job kept), WebVttSnapshot (its VTT files).
The answer comes from the newest successful job that made pictures of the type asked for, among
the jobs whose result is still in place: a job whose output folder a later job took over is
passed by, since its files are gone.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any
from urllib.parse import quote

from snapcli.core.request import whole_number
from snapcli.errors import InvalidParameter

SNAPSHOT_TYPES = ("NormalSnapshot", "SpriteSnapshot", "SpriteOriginSnapshot", "WebVttSnapshot")
DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE = 20, 100


def parse_listing(kind: Any, page_no: Any, page_size: Any) -> tuple[str, int, int]:
    """SnapshotType, PageNo and PageSize, checked (defaults: NormalSnapshot, 1, 20)."""
    kind = kind or "NormalSnapshot"
    if kind == "CoverSnapshot":
        raise InvalidParameter(
            "CoverSnapshot is made by the cloud when a video is uploaded; snapcli makes none "
            f"(ask for one of {', '.join(SNAPSHOT_TYPES)})."
        )
    if kind not in SNAPSHOT_TYPES:
        raise InvalidParameter(
            f"SnapshotType must be one of {', '.join(SNAPSHOT_TYPES)}, got {kind!r}."
        )
    number = 1 if page_no is None else whole_number("PageNo", page_no, 1)
    size = (
        DEFAULT_PAGE_SIZE
        if page_size is None
        else whole_number("PageSize", page_size, 1, MAX_PAGE_SIZE)
    )
    return kind, number, size


def pictures(event: dict[str, Any], kind: str) -> tuple[list[tuple[int, str]], str | None]:
    """The (index, URL) pairs of one type in an event (file URLs, or http URLs where the
    results are served), and the naming rule's URL."""
    folder = Path(event.get("OutputDir") or ".")
    sprites = event.get("Sprites") or []
    if kind in ("NormalSnapshot", "SpriteOriginSnapshot"):
        if kind == "SpriteOriginSnapshot" and not sprites:
            return [], None
        paths = [(shot["Index"], shot.get("Path")) for shot in event.get("Snapshots", [])]
        info_type = "NormalSnapshot"
    elif kind == "SpriteSnapshot":
        paths = [(sheet["Index"], sheet["Path"]) for sheet in sprites]
        info_type = kind
    else:
        infos = [i for i in event.get("SnapshotInfos", []) if i.get("SnapshotType") == kind]
        paths = [(number, info["SnapshotFormat"]) for number, info in enumerate(infos, 1)]
        info_type = kind
    served = event.get("OutputUrl")
    found = [
        (index, f"{served}/{quote(path)}" if served else (folder / path).as_uri())
        for index, path in paths
        if path
    ]
    regular = next(
        (
            info.get("SnapshotRegular")
            for info in event.get("SnapshotInfos", [])
            if info.get("SnapshotType") == info_type
        ),
        None,
    )
    return found, regular


def list_snapshots(
    events: Iterable[dict[str, Any]], kind: str, page_no: int, page_size: int, request_id: str
) -> dict[str, Any]:
    """The answer for the newest event (of those given, newest first) with pictures of `kind`."""
    replaced: set[str] = set()
    for event in events:
        folder = str(event.get("OutputDir"))
        if folder in replaced:
            continue
        replaced.add(folder)
        found, regular = pictures(event, kind)
        if not found:
            continue
        page = found[(page_no - 1) * page_size : page_no * page_size]
        media = {
            "Total": len(found),
            "Regular": regular,
            "JobId": event.get("JobId"),
            "CreationTime": event.get("CreationTime") or event.get("EventTime"),
            "Snapshots": {"Snapshot": [{"Index": index, "Url": url} for index, url in page]},
        }
        return {"RequestId": request_id, "MediaSnapshot": media}
    return {"RequestId": request_id, "MediaSnapshot": {"Total": 0, "Snapshots": {"Snapshot": []}}}
