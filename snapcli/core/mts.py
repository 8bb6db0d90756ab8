"""The media-processing (MTS, 2014-06-18) dialect of SubmitSnapshotJob, translated into the same
engine: a SnapshotRequest, plus where each file goes and how the answers look. Pure.

    {"Input": {"Bucket": "media", "Location": "oss-cn-shanghai", "Object": "in/talk.mp4"},
     "SnapshotConfig": {"OutputFile": {"Bucket": "media", "Object": "out/{FileName}-{Count}.jpg"},
                        "Time": 2000, "Interval": 1, "Num": 3, "Height": 360},
     "PipelineId": "…", "UserData": "…"}

Buckets are folders under a storage root; Objects are URL-decoded paths in them; Location is
recorded and otherwise ignored.
"""

from __future__ import annotations

import json
import posixpath
from collections.abc import Mapping
from dataclasses import dataclass, replace
from math import ceil
from typing import Any
from urllib.parse import unquote

from snapcli.core.request import (
    MAX_SIDE,
    MAX_USER_DATA_BYTES,
    MIN_SIDE,
    SnapshotRequest,
    SpriteConfig,
    build_request,
    parse_color,
    parse_frame_type,
    whole_number,
)
from snapcli.errors import InvalidParameter, JsonFormatInvalid

VERSION = "2014-06-18"
DEFAULT_INTERVAL = 10  # seconds, when Num asks for several shots without an Interval
DEFAULT_PIXEL_BLACK_THRESHOLD = 32  # ffmpeg blackframe's own default
_CONFIG_FIELDS = (
    "OutputFile", "Time", "Interval", "Num", "Width", "Height", "FrameType", "Format", "SubOut",
    "TileOut", "TileOutputFile", "BlackLevel", "PixelBlackThreshold", "TimeArray",
)  # fmt: skip
_TILE_FIELDS = (
    "Lines", "Columns", "CellWidth", "CellHeight", "Margin", "Padding", "Color", "IsKeepCellPic",
    "CellSelStep",
)  # fmt: skip


@dataclass(frozen=True)
class Place:
    """An OSS location: a bucket (a folder under the storage root) and an object path in it."""

    bucket: str
    object: str
    location: str | None = None

    def to_api(self) -> dict[str, str]:
        api = {"Bucket": self.bucket, "Object": self.object}
        if self.location is not None:
            api["Location"] = self.location
        return api


@dataclass(frozen=True)
class MtsRequest:
    """A checked MTS SubmitSnapshotJob request."""

    input: Place
    output: Place  # with the {Count}… placeholders; the VTT's name when vtt
    tile_output: Place | None
    request: SnapshotRequest
    vtt: bool
    pipeline: str | None
    user_data: str | None
    config: dict[str, Any]  # SnapshotConfig as the answers echo it
    several: bool  # more than one snapshot asked for

    @property
    def synchronous(self) -> bool:
        """A single snapshot without Interval or Num is taken before the answer, as the service
        does; everything else is queued."""
        asked = self.config
        return "Interval" not in asked and "Num" not in asked and not self.several


def is_mts(mapping: Mapping[str, Any]) -> bool:
    """Whether a request is in the MTS dialect."""
    return "Input" in mapping or "SnapshotConfig" in mapping or mapping.get("Version") == VERSION


def _json_object(name: str, value: Any) -> dict[str, Any]:
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError as error:
            raise JsonFormatInvalid(f"{name} is not valid JSON: {error.msg}.") from None
    if not isinstance(value, dict):
        raise JsonFormatInvalid(f"{name} must be a JSON object.")
    return value


def _place(name: str, value: Any) -> Place:
    fields = _json_object(name, value)
    bucket, obj = fields.get("Bucket"), fields.get("Object")
    if not isinstance(bucket, str) or not bucket.strip():
        raise InvalidParameter(f"{name}.Bucket is missing.")
    if not isinstance(obj, str) or not obj.strip():
        raise InvalidParameter(f"{name}.Object is missing.")
    bucket, obj = unquote(bucket), unquote(obj)
    check_bucket_name(bucket, f"{name}.Bucket")
    object_parts(obj, f"{name}.Object")  # checked again once its placeholders are filled in
    location = fields.get("Location")
    return Place(bucket=bucket, object=obj, location=None if location is None else str(location))


def object_parts(name: str, what: str) -> list[str]:
    """An Object's folders and file name, or InvalidParameter for one that could leave its
    bucket or name no file: a NUL, an absolute path, a '..' part, or nothing."""
    if "\0" in name:
        raise InvalidParameter(f"{what} must not contain a NUL character.")
    if name.startswith("/"):
        raise InvalidParameter(f"{what} must stay inside its bucket, got {name!r}.")
    parts = [part for part in name.split("/") if part not in ("", ".")]
    if ".." in parts:
        raise InvalidParameter(f"{what} must stay inside its bucket, got {name!r}.")
    if not parts or name.endswith("/"):
        raise InvalidParameter(f"{what} must name a file, got {name!r}.")
    return parts


def check_bucket_name(name: str, what: str) -> None:
    if "\0" in name or "/" in name or name in ("", ".", ".."):
        raise InvalidParameter(
            f"{what} must be one folder name under the storage root, got {name!r}."
        )


def _flag(name: str, value: Any) -> bool:
    text = str(value).strip().lower()
    if text in ("true", "keep"):
        return True
    if text in ("false", "delete"):
        return False
    raise InvalidParameter(f"{name} must be true or false, got {value!r}.")


def _tiling(config: Mapping[str, Any]) -> SpriteConfig:
    tile = _json_object("SnapshotConfig.TileOut", config["TileOut"])
    unknown = sorted(set(tile) - set(_TILE_FIELDS))
    if unknown:
        raise InvalidParameter(f"SnapshotConfig.TileOut has no field {unknown[0]!r}.")

    def number(key: str, low: int, high: int) -> int | None:
        raw = tile.get(key)
        return None if raw is None else whole_number(f"TileOut.{key}", raw, low, high)

    fields: dict[str, Any] = {
        "cell_width": number("CellWidth", MIN_SIDE, MAX_SIDE),
        "cell_height": number("CellHeight", MIN_SIDE, MAX_SIDE),
        "columns": number("Columns", 1, 10_000),
        "lines": number("Lines", 1, 10_000),
        "padding": number("Padding", 0, 65_500),
        "margin": number("Margin", 0, 65_500),
        "cell_step": number("CellSelStep", 1, 100_000),
        "color": None if tile.get("Color") is None else parse_color(tile["Color"]),
        "keep_cells": (
            None
            if tile.get("IsKeepCellPic") is None
            else _flag("TileOut.IsKeepCellPic", tile["IsKeepCellPic"])
        ),
    }
    return SpriteConfig(**{key: value for key, value in fields.items() if value is not None})


def read_mts_request(mapping: Mapping[str, Any]) -> MtsRequest:
    """Check an MTS request in the API's spelling and translate it."""
    if "Input" not in mapping:
        raise InvalidParameter('Input is missing: {"Bucket": …, "Object": …}.')
    if "SnapshotConfig" not in mapping:
        raise InvalidParameter("SnapshotConfig is missing.")
    source = _place("Input", mapping["Input"])
    config = _json_object("SnapshotConfig", mapping["SnapshotConfig"])
    unknown = sorted(set(config) - set(_CONFIG_FIELDS))
    if unknown:
        raise InvalidParameter(f"SnapshotConfig has no field {unknown[0]!r}.")
    if "OutputFile" not in config:
        raise InvalidParameter("SnapshotConfig.OutputFile is missing.")
    output = _place("SnapshotConfig.OutputFile", config["OutputFile"])

    times: list[Any] = []
    if config.get("TimeArray") is not None:
        points = _json_object("SnapshotConfig.TimeArray", config["TimeArray"]).get("TimePointList")
        if not isinstance(points, list) or not points:
            raise InvalidParameter("SnapshotConfig.TimeArray.TimePointList must list times in ms.")
        times = [whole_number("TimeArray.TimePointList", point) for point in points]
    start = whole_number("SnapshotConfig.Time", config.get("Time", 0))
    interval = config.get("Interval")
    interval = None if interval is None else whole_number("SnapshotConfig.Interval", interval)
    num = config.get("Num")
    num = None if num is None else whole_number("SnapshotConfig.Num", num, 1, 100_000)
    if num is not None and num > 1 and interval is None:
        interval = DEFAULT_INTERVAL
    several = len(times) > 1 or (num or 0) > 1 or (num is None and bool(interval))

    format_ = str(config.get("Format", "jpg")).strip().lower()
    if format_ not in ("jpg", "vtt"):
        raise InvalidParameter(f"SnapshotConfig.Format must be jpg or vtt, got {format_!r}.")
    vtt = format_ == "vtt"
    sprite = None
    if config.get("TileOut") is not None:
        sprite = _tiling(config)
    tile_output = None
    if config.get("TileOutputFile") is not None:
        tile_output = _place("SnapshotConfig.TileOutputFile", config["TileOutputFile"])
    if vtt and config.get("SubOut") is not None:
        sub_out = _json_object("SnapshotConfig.SubOut", config["SubOut"])
        if _flag("SubOut.IsSptFrag", sub_out.get("IsSptFrag", False)):
            sprite = sprite or SpriteConfig()
    if sprite is not None and tile_output is None and not vtt:
        raise InvalidParameter("SnapshotConfig.TileOut needs a TileOutputFile to write to.")

    black = None
    if config.get("BlackLevel") is not None:
        level = whole_number("SnapshotConfig.BlackLevel", config["BlackLevel"], 0, 100)
        threshold = whole_number(
            "SnapshotConfig.PixelBlackThreshold",
            config.get("PixelBlackThreshold", DEFAULT_PIXEL_BLACK_THRESHOLD),
            0,
            255,
        )
        black = (level, threshold)
    request = build_request(
        offset=start,
        count=None if times else num,
        interval=None if times else interval,
        width=config.get("Width"),
        height=config.get("Height"),
        frame_type=parse_frame_type(config.get("FrameType", "intra")),
    )
    request = replace(request, offset_times=tuple(times), sprite=sprite, skip_black=black)

    user_data = mapping.get("UserData")
    if user_data is not None:
        user_data = str(user_data)
        if len(user_data.encode()) > MAX_USER_DATA_BYTES:
            raise InvalidParameter(f"UserData must be at most {MAX_USER_DATA_BYTES} bytes.")
    pipeline = mapping.get("PipelineId")
    made = MtsRequest(
        input=source,
        output=output,
        tile_output=tile_output,
        request=request,
        vtt=vtt,
        pipeline=None if pipeline in (None, "") else str(pipeline),
        user_data=user_data,
        config=_echo(config),
        several=several,
    )
    check_names(made, len(times) or num or (2 if several else 1))
    if not times and num is None and several and sprite and "{TileCount}" not in tile_pattern(made):
        raise InvalidParameter(
            "a tiling of snapshots to the end of the video may fill several sheets: "
            "its TileOutputFile.Object must contain {TileCount}."
        )
    return made


def tile_pattern(mts: MtsRequest) -> str:
    if mts.tile_output is not None:
        return mts.tile_output.object
    return vtt_companion(mts.output.object, "sprite-{TileCount}.jpg")


def check_names(mts: MtsRequest, shots: int) -> None:
    """A job of several snapshots must name them apart ({Count}), and a tiling of several
    sheets its sheets ({TileCount}): InvalidParameter, before any work."""
    if shots > 1 and not mts.vtt and "{Count}" not in mts.output.object:
        raise InvalidParameter(
            "SnapshotConfig.OutputFile.Object must contain {Count} when a job takes several "
            f"snapshots, got {mts.output.object!r}."
        )
    sprite = mts.request.sprite
    if sprite is not None:
        sheets = ceil(ceil(shots / sprite.cell_step) / (sprite.columns * sprite.lines))
        if sheets > 1 and "{TileCount}" not in tile_pattern(mts):
            raise InvalidParameter(
                f"the tiling fills {sheets} sheets: TileOutputFile.Object must contain "
                "{TileCount}."
            )


def vtt_companion(vtt_object: str, suffix: str) -> str:
    """The name of a picture that a VTT points at: beside it, after it (talk.vtt → talk-…)."""
    stem = vtt_object[: -len(".vtt")] if vtt_object.lower().endswith(".vtt") else vtt_object
    return f"{stem}-{suffix}"


def object_name(
    pattern: str,
    source: Place,
    *,
    count: int | None = None,
    tile: int | None = None,
    time_ms: int | None = None,
) -> str:
    """An Object pattern with its placeholders filled: {Count} and {TileCount} (1-based, five
    digits), {ObjectPrefix} (the input's folder, with its slash), {FileName} (the input's name
    without extension), {ExtName} (its extension, without the dot), {SnapshotTime} (ms)."""
    folder, name = posixpath.split(source.object)
    stem, dot, extension = name.rpartition(".")
    if not dot:
        stem, extension = name, ""
    values = {
        "{ObjectPrefix}": f"{folder}/" if folder else "",
        "{FileName}": stem,
        "{ExtName}": extension,
        "{Count}": "" if count is None else f"{count:05d}",
        "{TileCount}": "" if tile is None else f"{tile:05d}",
        "{SnapshotTime}": "" if time_ms is None else str(time_ms),
    }
    for placeholder, value in values.items():
        pattern = pattern.replace(placeholder, value)
    return pattern


def _echo(value: Any, key: str = "") -> Any:
    """The config as the SDK models type it: scalars as strings (TimePointList stays numbers)."""
    if isinstance(value, dict):
        return {k: _echo(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return value if key == "TimePointList" else [_echo(v) for v in value]
    if isinstance(value, bool):
        return "true" if value else "false"
    return value if isinstance(value, str) else str(value)


def snapshot_job(record: Mapping[str, Any]) -> dict[str, Any]:
    """A job record in the MTS SnapshotJob shape (every scalar a string)."""
    asked = record["Request"]
    event = record.get("Event") or {}
    job = {
        "Id": record["JobId"],
        "State": record["State"],
        "Code": record.get("Code") or "",
        "Message": record.get("Message") or "",
        "Count": str(len(event.get("Snapshots", []))),
        "TileCount": str(len(event.get("Sprites", []))),
        "CreationTime": record.get("CreationTime") or "",
        "Input": asked["Input"],
        "SnapshotConfig": asked["SnapshotConfig"],
    }
    if asked.get("PipelineId"):
        job["PipelineId"] = asked["PipelineId"]
    if asked.get("UserData") is not None:
        job["UserData"] = asked["UserData"]
    return job


def request_record(mts: MtsRequest) -> dict[str, Any]:
    """The request as a job records it and the answers echo it."""
    record: dict[str, Any] = {"Input": mts.input.to_api(), "SnapshotConfig": mts.config}
    if mts.pipeline:
        record["PipelineId"] = mts.pipeline
    if mts.user_data is not None:
        record["UserData"] = mts.user_data
    return record
