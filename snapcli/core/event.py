"""The SnapshotComplete event: what a job reports, in the cloud API's shape (docs/api.md §7)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from snapcli.core.layout import SheetRecord
from snapcli.core.names import sheet_format, snapshot_format
from snapcli.core.request import SnapshotRequest
from snapcli.errors import SnapcliError


class SnapshotComplete(dict):  # type: ignore[type-arg]
    """The event as a plain JSON-ready dict, with a few typed accessors for library users."""

    callback_error: str | None = None  # why the callback was not delivered, when it was not

    @property
    def ok(self) -> bool:
        return self.get("Status") == "success"

    @property
    def job_id(self) -> str:
        return str(self["JobId"])

    @property
    def snapshots(self) -> list[dict[str, Any]]:
        return list(self.get("Snapshots", []))

    @property
    def output_dir(self) -> Path | None:
        folder = self.get("OutputDir")
        return Path(folder) if folder else None


@dataclass(frozen=True)
class JobIdentity:
    request_id: str
    job_id: str

    @classmethod
    def new(cls) -> JobIdentity:
        return cls(request_id=str(uuid.uuid4()).upper(), job_id=uuid.uuid4().hex)


@dataclass(frozen=True)
class TakenSnapshot:
    index: int
    path: str | None  # relative to the output folder; None when the cells are not kept
    time_ms: int
    frame_time_ms: int
    width: int
    height: int


def _now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _head(identity: JobIdentity, video_id: str, status: str) -> dict[str, Any]:
    return {
        "EventType": "SnapshotComplete",
        "SubType": "SpecifiedTime",
        "EventTime": _now(),
        "RequestId": identity.request_id,
        "JobId": identity.job_id,
        "VideoId": video_id,
        "Status": status,
    }


def _info(
    identity: JobIdentity, kind: str, count: int, name_format: str, folder_uri: str
) -> dict[str, Any]:
    return {
        "Status": "success",
        "SnapshotType": kind,
        "SnapshotCount": count,
        "SnapshotFormat": name_format,
        "SnapshotRegular": f"{folder_uri}/{name_format}",
        "JobId": identity.job_id,
    }


def _sheets(records: Sequence[SheetRecord]) -> list[dict[str, Any]]:
    return [
        {
            "Index": record.index,
            "Path": record.name,
            "Width": record.width,
            "Height": record.height,
            "Cells": [
                {"Snapshot": index, "X": box.x, "Y": box.y, "W": box.width, "H": box.height}
                for index, box in record.cells
            ],
        }
        for record in records
    ]


def success_event(
    identity: JobIdentity,
    video_id: str,
    request: SnapshotRequest,
    output_dir: Path,
    snapshots: list[TakenSnapshot],
    sprites: Sequence[SheetRecord] = (),
    retina_sprites: Sequence[SheetRecord] = (),
    vtt_files: Sequence[str] = (),
    picture_format: str = "jpg",
    folder_url: str | None = None,
) -> SnapshotComplete:
    """The success event of a job whose files are in `output_dir`; their URLs are under
    `folder_url` where the folder is served over http, else file URLs."""
    event = _head(identity, video_id, "success")
    folder_uri = folder_url or output_dir.absolute().as_uri()
    infos = []
    if any(shot.path for shot in snapshots):
        infos.append(
            _info(
                identity,
                "NormalSnapshot",
                len(snapshots),
                snapshot_format(picture_format),
                folder_uri,
            )
        )
    if sprites:
        infos.append(
            _info(
                identity, "SpriteSnapshot", len(sprites), sheet_format(picture_format), folder_uri
            )
        )
    for name in vtt_files:
        infos.append(_info(identity, "WebVttSnapshot", 1, name, folder_uri))
    event["SnapshotInfos"] = infos
    if request.user_data and request.user_data.extend is not None:
        event["Extend"] = request.user_data.extend
    event["OutputDir"] = str(output_dir.absolute())
    if folder_url:
        event["OutputUrl"] = folder_url
    event["Snapshots"] = [
        {
            "Index": shot.index,
            **({"Path": shot.path} if shot.path else {}),
            "Time": shot.time_ms,
            "FrameTime": shot.frame_time_ms,
            "Width": shot.width,
            "Height": shot.height,
        }
        for shot in snapshots
    ]
    if sprites:
        event["Sprites"] = _sheets(sprites)
    if retina_sprites:
        event["RetinaSprites"] = _sheets(retina_sprites)
    return SnapshotComplete(event)


def failure_event(
    identity: JobIdentity, video_id: str, error: SnapcliError, extend: str | None = None
) -> SnapshotComplete:
    event = _head(identity, video_id, "fail")
    event["ErrorCode"] = error.code
    event["ErrorMessage"] = error.message
    if extend is not None:
        event["Extend"] = extend
    return SnapshotComplete(event)


# The event as library users read it: typed, with the API's JSON one call away.


@dataclass(frozen=True)
class Snapshot:
    """One snapshot of a job: its number, the time asked for and the time of the frame taken
    (ms from the first frame), its picture (None when only sheets were kept) and its size."""

    index: int
    time: int
    frame_time: int
    path: Path | None
    width: int
    height: int


@dataclass(frozen=True)
class Sheet:
    """One sprite sheet: its number, its picture, its size, and which snapshots it holds."""

    index: int
    path: Path
    width: int
    height: int
    snapshots: tuple[int, ...]


@dataclass(frozen=True)
class Event:
    """A job's SnapshotComplete event. `to_api()` gives the API's JSON, exactly as written to
    snapshots.json and printed by --json."""

    job_id: str
    request_id: str
    video_id: str
    ok: bool
    output_dir: Path | None
    snapshots: tuple[Snapshot, ...]
    sprites: tuple[Sheet, ...]
    error_code: str | None = None
    error_message: str | None = None
    callback_error: str | None = None  # why the callback was not delivered, when it was not
    _api: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_api(cls, event: Mapping[str, Any]) -> Event:
        folder = Path(event["OutputDir"]) if event.get("OutputDir") else None

        def picture(name: str | None) -> Path | None:
            return None if name is None else (folder / name if folder else Path(name))

        return cls(
            job_id=str(event["JobId"]),
            request_id=str(event["RequestId"]),
            video_id=str(event["VideoId"]),
            ok=event.get("Status") == "success",
            output_dir=folder,
            snapshots=tuple(
                Snapshot(
                    index=shot["Index"],
                    time=shot["Time"],
                    frame_time=shot["FrameTime"],
                    path=picture(shot.get("Path")),
                    width=shot["Width"],
                    height=shot["Height"],
                )
                for shot in event.get("Snapshots", [])
            ),
            sprites=tuple(
                Sheet(
                    index=sheet["Index"],
                    path=picture(sheet["Path"]) or Path(sheet["Path"]),
                    width=sheet["Width"],
                    height=sheet["Height"],
                    snapshots=tuple(cell["Snapshot"] for cell in sheet.get("Cells", [])),
                )
                for sheet in event.get("Sprites", [])
            ),
            error_code=event.get("ErrorCode"),
            error_message=event.get("ErrorMessage"),
            callback_error=getattr(event, "callback_error", None),
            _api=json.loads(json.dumps(event)),
        )

    def to_api(self) -> dict[str, Any]:
        """The event in the API's spelling, as JSON-ready values (a copy)."""
        return json.loads(json.dumps(self._api))  # type: ignore[no-any-return]
