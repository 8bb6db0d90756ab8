"""The snapshot request: its parameters, every value form the API accepts, and their validation.

Pure: no I/O. Values arrive as the CLI's strings, as JSON numbers or numeric strings (the API types
Width/Height as strings), as lists, JSON-array strings or comma lists (SpecifiedOffsetTimes); all
of them become one validated, frozen :class:`SnapshotRequest`.
"""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import urlparse

from snapcli.errors import InvalidParameter

FrameType = Literal["normal", "intra"]

MAX_OFFSET_TIMES = 30
DEFAULT_COUNT = 1  # Count not given: one snapshot (or one to spread)
MAX_COUNT = 100_000  # not an API limit: a guard against a typo that would run for days
MIN_SIDE, MAX_SIDE = 8, 4096
MAX_USER_DATA_BYTES = 1024
MAX_EXTEND_BYTES = 512

_WHOLE_NUMBER = re.compile(r"^[+-]?\d+(\.0*)?$")


@dataclass(frozen=True)
class UserData:
    """`UserData` as the API defines it: a JSON object with an optional callback and `Extend`."""

    value: dict[str, Any]
    callback_url: str | None = None
    extend: str | None = None  # serialised as the event carries it


@dataclass(frozen=True)
class SpriteConfig:
    """SpriteSnapshotConfig: how snapshots are tiled into sheets (docs/api.md §5)."""

    cell_width: int | None = None  # None: from the snapshot size / the display aspect
    cell_height: int | None = None
    columns: int = 10
    lines: int = 10
    padding: int = 0
    margin: int = 0
    color: str = "black"  # a colour name, #RRGGBB, or "random"
    keep_cells: bool = True
    cell_step: int = 1  # tile every k-th snapshot (the MTS dialect's CellSelStep)

    def to_api(self) -> dict[str, Any]:
        api: dict[str, Any] = {
            "Columns": self.columns,
            "Lines": self.lines,
            "Padding": self.padding,
            "Margin": self.margin,
            "Color": self.color,
            "KeepCellPic": "keep" if self.keep_cells else "delete",
        }
        if self.cell_width is not None:
            api["CellWidth"] = self.cell_width
        if self.cell_height is not None:
            api["CellHeight"] = self.cell_height
        if self.cell_step != 1:
            api["CellSelStep"] = self.cell_step
        return api


@dataclass(frozen=True)
class SnapshotRequest:
    """A validated VOD SubmitSnapshotJob request, without the video."""

    offset_time: int = 0
    offset_times: tuple[int, ...] = ()
    count: int | None = None
    interval: int | None = None
    width: int | None = None
    height: int | None = None
    frame_type: FrameType = "normal"
    user_data: UserData | None = field(default=None)
    sprite: SpriteConfig | None = None
    # (BlackLevel %, PixelBlackThreshold): a job of several shots from 0 starts at the first frame
    # of the first 5 s that is not that dark (the MTS dialect's black-frame filter).
    skip_black: tuple[int, int] | None = None

    @property
    def count_or_default(self) -> int:
        """Count, or the API's default of one snapshot when it is not given."""
        return DEFAULT_COUNT if self.count is None else self.count

    def to_api(self) -> dict[str, Any]:
        """The request in the API's own spelling (what a job record or a resume check compares)."""
        api: dict[str, Any] = {
            "SpecifiedOffsetTime": self.offset_time,
            "FrameType": self.frame_type,
        }
        optional = {
            "SpecifiedOffsetTimes": list(self.offset_times) or None,
            "Count": self.count,
            "Interval": self.interval,
            "Width": self.width,
            "Height": self.height,
            "UserData": self.user_data.value if self.user_data else None,
            "SpriteSnapshotConfig": self.sprite.to_api() if self.sprite else None,
            "BlackLevel": self.skip_black[0] if self.skip_black else None,
            "PixelBlackThreshold": self.skip_black[1] if self.skip_black else None,
        }
        api.update({key: value for key, value in optional.items() if value is not None})
        return api


def whole_number(name: str, value: Any, minimum: int = 0, maximum: int | None = None) -> int:
    """An integer from a JSON number or a numeric string, range-checked; else InvalidParameter."""
    number: int | None = None
    if isinstance(value, bool):
        number = None
    elif isinstance(value, int):
        number = value
    elif isinstance(value, float) and value.is_integer():
        number = int(value)
    elif isinstance(value, str) and _WHOLE_NUMBER.match(value.strip()):
        number = int(float(value.strip()))
    if number is None:
        raise InvalidParameter(f"{name} must be a whole number, got {_shown(value)}.")
    if maximum is not None and not minimum <= number <= maximum:
        raise InvalidParameter(f"{name} must be between {minimum} and {maximum}, got {number}.")
    if number < minimum:
        raise InvalidParameter(f"{name} must be at least {minimum}, got {number}.")
    return number


def parse_offset_times(value: Any) -> tuple[int, ...]:
    """SpecifiedOffsetTimes from a list, a JSON-array string, a comma list, or several of those."""
    if value is None:
        return ()
    pieces = [value] if isinstance(value, (str, int, float)) else list(value)
    items: list[Any] = []
    for piece in pieces:
        if isinstance(piece, str) and piece.strip().startswith("["):
            try:
                parsed = json.loads(piece)
            except json.JSONDecodeError:
                raise InvalidParameter(
                    f"SpecifiedOffsetTimes is not a valid JSON array: {_shown(piece)}."
                ) from None
            if not isinstance(parsed, list):
                raise InvalidParameter("SpecifiedOffsetTimes must be a list of times in ms.")
            items.extend(parsed)
        elif isinstance(piece, str):
            items.extend(part for part in piece.split(",") if part.strip())
        else:
            items.append(piece)
    times = tuple(whole_number("SpecifiedOffsetTimes", item) for item in items)
    if len(times) > MAX_OFFSET_TIMES:
        raise InvalidParameter(
            f"SpecifiedOffsetTimes holds at most {MAX_OFFSET_TIMES} times, got {len(times)}."
        )
    return times


def parse_frame_type(value: Any) -> FrameType:
    text = str(value).strip().lower()
    if text not in ("normal", "intra"):
        raise InvalidParameter(f"FrameType must be normal or intra, got {_shown(value)}.")
    return "intra" if text == "intra" else "normal"


def parse_user_data(value: Any) -> UserData:
    """UserData: a JSON object (or its text) of at most 1024 bytes; Extend at most 512 bytes."""
    if isinstance(value, str):
        if len(value.encode()) > MAX_USER_DATA_BYTES:
            raise InvalidParameter(
                f"UserData must be at most {MAX_USER_DATA_BYTES} bytes, got {len(value.encode())}."
            )
        try:
            value = json.loads(value)
        except json.JSONDecodeError as error:
            raise InvalidParameter(f"UserData is not valid JSON: {error.msg}.") from None
    if not isinstance(value, dict):
        raise InvalidParameter("UserData must be a JSON object.")
    size = len(_compact(value).encode())
    if size > MAX_USER_DATA_BYTES:
        raise InvalidParameter(f"UserData must be at most {MAX_USER_DATA_BYTES} bytes, got {size}.")
    extend = value.get("Extend")
    extend_text = None
    if extend is not None:
        extend_text = extend if isinstance(extend, str) else _compact(extend)
        if len(extend_text.encode()) > MAX_EXTEND_BYTES:
            raise InvalidParameter(
                f"UserData.Extend must be at most {MAX_EXTEND_BYTES} bytes once serialised, "
                f"got {len(extend_text.encode())}."
            )
    callback = value.get("MessageCallback")
    callback_url = None
    if callback is not None:
        if not isinstance(callback, dict) or not isinstance(callback.get("CallbackURL"), str):
            raise InvalidParameter('UserData.MessageCallback must be {"CallbackURL": "http://…"}.')
        callback_url = callback["CallbackURL"]
        if not _is_http_url(callback_url):
            raise InvalidParameter(
                f"UserData.MessageCallback.CallbackURL must be an http or https URL, "
                f"got {_shown(callback_url)}."
            )
    return UserData(value=value, callback_url=callback_url, extend=extend_text)


def _is_http_url(url: str) -> bool:
    """An http(s) URL with a host, a valid port, and nothing an HTTP request line cannot carry
    (spaces, control characters)."""
    if any(ord(c) <= 0x20 or ord(c) == 0x7F for c in url):
        return False
    try:
        parsed = urlparse(url)
        parsed.port  # noqa: B018 (raises ValueError for a port out of range)
    except ValueError:
        return False
    return parsed.scheme in ("http", "https") and bool(parsed.hostname)


def build_request(
    *,
    offset: Any = None,
    at: Any = None,
    count: Any = None,
    interval: Any = None,
    width: Any = None,
    height: Any = None,
    frame_type: Any = None,
    user_data: Any = None,
    sprite: Any = None,
) -> SnapshotRequest:
    """Validate raw values (CLI strings, JSON values) into a SnapshotRequest.

    `sprite` is a SpriteSnapshotConfig: a mapping, its JSON text (single quotes allowed), or a
    SpriteConfig; present, even empty, means make sprites.
    """
    return SnapshotRequest(
        offset_time=0 if offset is None else whole_number("SpecifiedOffsetTime", offset),
        offset_times=parse_offset_times(at),
        count=None if count is None else whole_number("Count", count, 1, MAX_COUNT),
        interval=None if interval is None else whole_number("Interval", interval),
        width=None if width is None else whole_number("Width", width, MIN_SIDE, MAX_SIDE),
        height=None if height is None else whole_number("Height", height, MIN_SIDE, MAX_SIDE),
        frame_type="normal" if frame_type is None else parse_frame_type(frame_type),
        user_data=None if user_data is None else parse_user_data(user_data),
        sprite=None if sprite is None else parse_sprite_config(sprite),
    )


SPRITE_FIELDS = {
    "CellWidth": "cell_width",
    "CellHeight": "cell_height",
    "Columns": "columns",
    "Lines": "lines",
    "Padding": "padding",
    "Margin": "margin",
    "Color": "color",
    "KeepCellPic": "keep_cells",
}
MAX_GRID = 10_000


def parse_sprite_config(value: Any) -> SpriteConfig:
    """SpriteSnapshotConfig from a mapping or its text: strict JSON or the single-quoted form of
    the API's published example; numbers may be numeric strings."""
    if isinstance(value, SpriteConfig):
        return value
    if isinstance(value, str):
        value = _loose_json_object("SpriteSnapshotConfig", value)
    if not isinstance(value, Mapping):
        raise InvalidParameter("SpriteSnapshotConfig must be a JSON object.")
    unknown = sorted(set(value) - set(SPRITE_FIELDS))
    if unknown:
        raise InvalidParameter(
            f"SpriteSnapshotConfig has no field {unknown[0]!r} (it has {', '.join(SPRITE_FIELDS)})."
        )
    fields: dict[str, Any] = {}
    for api_name, name in SPRITE_FIELDS.items():
        raw = value.get(api_name)
        if raw is None:
            continue
        label = f"SpriteSnapshotConfig.{api_name}"
        if name in ("cell_width", "cell_height"):
            fields[name] = whole_number(label, raw, MIN_SIDE, MAX_SIDE)
        elif name in ("columns", "lines"):
            fields[name] = whole_number(label, raw, 1, MAX_GRID)
        elif name in ("padding", "margin"):
            fields[name] = whole_number(label, raw, 0, 65_500)
        elif name == "color":
            fields[name] = parse_color(raw)
        else:
            fields[name] = _keep_cells(raw)
    return SpriteConfig(**fields)


def sprite_fields(*layers: Any) -> dict[str, Any]:
    """One SpriteSnapshotConfig mapping from layers (mappings or their text), later ones winning
    field by field; fields given as None do not count."""
    result: dict[str, Any] = {}
    for layer in layers:
        if layer is None:
            continue
        if isinstance(layer, str):
            layer = _loose_json_object("SpriteSnapshotConfig", layer)
        if not isinstance(layer, Mapping):
            raise InvalidParameter("SpriteSnapshotConfig must be a JSON object.")
        result.update({key: value for key, value in layer.items() if value is not None})
    return result


def parse_color(value: Any) -> str:
    """A colour name (case-insensitive), #RRGGBB, or "random"; kept in a normal form."""
    text = str(value).strip().lower()
    if text == "random" or re.fullmatch(r"#[0-9a-f]{6}", text) or text in _color_names():
        return text
    raise InvalidParameter(
        f"SpriteSnapshotConfig.Color must be a colour name, #RRGGBB or random, got {_shown(value)}."
    )


def _color_names() -> set[str]:
    from PIL import ImageColor

    return set(ImageColor.colormap)


def _keep_cells(value: Any) -> bool:
    text = str(value).strip().lower()
    if text in ("keep", "true"):
        return True
    if text in ("delete", "false"):
        return False
    raise InvalidParameter(
        f"SpriteSnapshotConfig.KeepCellPic must be keep or delete, got {_shown(value)}."
    )


def _loose_json_object(name: str, text: str) -> Any:
    """JSON, or the Python-literal form with single quotes that the API's example uses."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        try:
            return ast.literal_eval(text)
        except (ValueError, SyntaxError):
            raise InvalidParameter(f"{name} is not valid JSON: {error.msg}.") from None


# API name -> build_request keyword.
API_NAMES = {
    "SpecifiedOffsetTime": "offset",
    "SpecifiedOffsetTimes": "at",
    "Count": "count",
    "Interval": "interval",
    "Width": "width",
    "Height": "height",
    "FrameType": "frame_type",
    "UserData": "user_data",
    "SpriteSnapshotConfig": "sprite",
}
REQUEST_KEYWORDS = tuple(API_NAMES.values())
# The RPC protocol's own parameters, which a whole query string carries along: not the request's.
PROTOCOL_KEYS = (
    "Action", "Version", "Format", "RegionId", "AccessKeyId", "SecurityToken", "Signature",
    "SignatureMethod", "SignatureVersion", "SignatureNonce", "SignatureType", "Timestamp",
)  # fmt: skip


@dataclass(frozen=True)
class ApiRequest:
    """A request read from the API's own spelling: the video, build_request keywords, the
    template and reference ids, and the keys that are no request parameter."""

    video_id: str | None
    values: dict[str, Any]
    unknown_keys: tuple[str, ...]
    template_id: str | None = None
    reference_id: str | None = None
    action: str | None = None


def read_api_request(mapping: Mapping[str, Any]) -> ApiRequest:
    """Map a VOD request in the API's spelling onto build_request keywords.

    SpecifiedOffsetTimes may also arrive as repeated keys ``SpecifiedOffsetTimes.1``, ``.2``, …
    (what the SDKs send in a query string); they are taken in the order of their numbers.
    """
    values: dict[str, Any] = {}
    numbered: list[tuple[int, Any]] = []
    unknown: list[str] = []
    for key, value in mapping.items():
        if key in API_NAMES:
            values[API_NAMES[key]] = value
        elif key.startswith("SpecifiedOffsetTimes.") and key.split(".", 1)[1].isdigit():
            numbered.append((int(key.split(".", 1)[1]), value))
        elif key not in ("VideoId", "SnapshotTemplateId", "ReferenceId", *PROTOCOL_KEYS):
            unknown.append(key)
    if numbered:
        values["at"] = [value for _, value in sorted(numbered, key=lambda pair: pair[0])]
    text = {key: _optional_text(mapping, key) for key in ("VideoId", "SnapshotTemplateId")}
    return ApiRequest(
        video_id=text["VideoId"],
        values=values,
        unknown_keys=tuple(unknown),
        template_id=text["SnapshotTemplateId"] or None,
        reference_id=_optional_text(mapping, "ReferenceId"),
        action=_optional_text(mapping, "Action"),
    )


def _optional_text(mapping: Mapping[str, Any], key: str) -> str | None:
    value = mapping.get(key)
    if value is not None and not isinstance(value, str):
        raise InvalidParameter(f"{key} must be a string.")
    return value


def parse_request_json(text: str, source: str) -> dict[str, Any]:
    """A request file's JSON object, or InvalidParameter naming where it came from."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError as error:
        raise InvalidParameter(
            f"the request in {source} is not valid JSON: {error.msg} "
            f"(line {error.lineno}, column {error.colno})."
        ) from None
    if not isinstance(value, dict):
        raise InvalidParameter(f"the request in {source} must be a JSON object.")
    return value


def merged(values: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """Later mappings win; None means 'not given' and never overrides."""
    result: dict[str, Any] = {}
    for mapping in values:
        result.update({key: value for key, value in mapping.items() if value is not None})
    return result


def _compact(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _shown(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value)
    return repr(text if len(text) <= 40 else text[:37] + "...")
