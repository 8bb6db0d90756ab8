"""Snapshot templates: a VOD TemplateConfig stored under a 32-hex id, applied to a request by
`SnapshotTemplateId`.

    {"SnapshotType": "NormalSnapshot" | "SpriteSnapshot" | "WebVttSnapshot",
     "SnapshotConfig": {"Count": 10, "Interval": 1, "SpecifiedOffsetTime": 0, "Width": 320,
                        "FrameType": "normal", "SpriteSnapshotConfig": {...},
                        "Format": "vtt", "SubOut": {"IsSptFrag": "true"}}}

A WebVttSnapshot template writes thumbnails.vtt; with `SubOut.IsSptFrag` true its cues point into
sprite sheets, with false at single pictures. Reading a config is pure; the store is the
`templates` table of the state database.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from snapcli.core.request import API_NAMES, build_request, parse_request_json
from snapcli.errors import InvalidParameter, TemplateNotFound
from snapcli.service.state import connect

SNAPSHOT_TYPES = ("NormalSnapshot", "SpriteSnapshot", "WebVttSnapshot")
_CONFIG_FIELDS = (*API_NAMES, "Format", "SubOut")


@dataclass(frozen=True)
class TemplateRequest:
    """What a template asks for: build_request keywords and whether a VTT is written."""

    values: dict[str, Any]
    vtt: bool


def read_template_config(config: Any) -> TemplateRequest:
    """Check a TemplateConfig (a mapping or its JSON text) and say what it asks for."""
    if isinstance(config, str):
        config = parse_request_json(config, "the TemplateConfig")
    if not isinstance(config, Mapping):
        raise InvalidParameter("TemplateConfig must be a JSON object.")
    kind = config.get("SnapshotType")
    if kind not in SNAPSHOT_TYPES:
        raise InvalidParameter(
            f"TemplateConfig.SnapshotType must be one of {', '.join(SNAPSHOT_TYPES)}, got {kind!r}."
        )
    extra = sorted(set(config) - {"SnapshotType", "SnapshotConfig"})
    if extra:
        raise InvalidParameter(f"TemplateConfig has no field {extra[0]!r}.")
    snapshot = config.get("SnapshotConfig") or {}
    if isinstance(snapshot, str):
        snapshot = parse_request_json(snapshot, "TemplateConfig.SnapshotConfig")
    if not isinstance(snapshot, Mapping):
        raise InvalidParameter("TemplateConfig.SnapshotConfig must be a JSON object.")
    unknown = sorted(set(snapshot) - set(_CONFIG_FIELDS) - {"UserData"})
    if unknown or "UserData" in snapshot:
        name = unknown[0] if unknown else "UserData"
        raise InvalidParameter(f"TemplateConfig.SnapshotConfig has no field {name!r}.")
    values = {API_NAMES[key]: value for key, value in snapshot.items() if key in API_NAMES}
    vtt = kind == "WebVttSnapshot"
    if vtt:
        format_ = str(snapshot.get("Format", "vtt")).lower()
        if format_ != "vtt":
            raise InvalidParameter(f"a WebVttSnapshot template's Format is vtt, got {format_!r}.")
        if _is_sprite_fragments(snapshot.get("SubOut")):
            values.setdefault("sprite", {})
        else:
            values.pop("sprite", None)
    elif "Format" in snapshot or "SubOut" in snapshot:
        raise InvalidParameter("Format and SubOut belong to a WebVttSnapshot template.")
    if kind == "SpriteSnapshot":
        values.setdefault("sprite", {})
    elif kind == "NormalSnapshot" and "sprite" in values:
        raise InvalidParameter(
            "a NormalSnapshot template takes no SpriteSnapshotConfig: make it a SpriteSnapshot."
        )
    build_request(**values)  # every value checked now, not when a job uses the template
    return TemplateRequest(values=values, vtt=vtt)


def _is_sprite_fragments(sub_out: Any) -> bool:
    """SubOut.IsSptFrag: true (cues point into sprite sheets) or false (single pictures)."""
    if sub_out is None:
        return False
    if isinstance(sub_out, str):
        sub_out = parse_request_json(sub_out, "TemplateConfig.SnapshotConfig.SubOut")
    if not isinstance(sub_out, Mapping):
        raise InvalidParameter('SubOut must be a JSON object like {"IsSptFrag": "true"}.')
    flag = sub_out.get("IsSptFrag", False)
    text = str(flag).strip().lower()
    if text not in ("true", "false"):
        raise InvalidParameter(f"SubOut.IsSptFrag must be true or false, got {flag!r}.")
    return text == "true"


def applied(
    template: TemplateRequest, given: Mapping[str, Any]
) -> tuple[dict[str, Any], list[str]]:
    """The request a template makes, from build_request keywords `given` alongside it: the
    template's values, plus the given UserData (a message, not a snapshot setting); and the API
    names of the given values that the template overrides."""
    names = {keyword: api for api, keyword in API_NAMES.items()}
    ignored = [
        names[key] for key, value in given.items() if key != "user_data" and value not in (None, ())
    ]
    values = dict(template.values)
    if given.get("user_data") is not None:
        values["user_data"] = given["user_data"]
    return values, ignored


# The store.


def _now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _record(row: Any) -> dict[str, Any]:
    return {
        "TemplateId": row["template_id"],
        "Name": row["name"],
        "Type": "Snapshot",
        "SnapshotType": row["snapshot_type"],
        "TemplateConfig": json.loads(row["config"]),
        "CreationTime": row["created"],
        "ModifyTime": row["modified"],
    }


def add_template(name: str, config: Any) -> dict[str, Any]:
    """Check and store a TemplateConfig; its record, with the new VodTemplateId."""
    if not name.strip():
        raise InvalidParameter("a template needs a name.")
    if isinstance(config, str):
        config = parse_request_json(config, "the TemplateConfig")
    read_template_config(config)
    template_id = uuid.uuid4().hex
    now = _now()
    with connect() as db:
        db.execute(
            "INSERT INTO templates VALUES (?, ?, ?, ?, ?, ?)",
            (template_id, name, config["SnapshotType"], json.dumps(config), now, now),
        )
    return get_template(template_id)


def get_template(template_id: str) -> dict[str, Any]:
    with connect() as db:
        row = db.execute(
            "SELECT * FROM templates WHERE template_id = ?", (template_id.strip().lower(),)
        ).fetchone()
    if row is None:
        raise TemplateNotFound(f"there is no snapshot template {template_id!r}.")
    return _record(row)


def list_templates() -> list[dict[str, Any]]:
    with connect() as db:
        rows = db.execute("SELECT * FROM templates ORDER BY created, name").fetchall()
    return [_record(row) for row in rows]


def update_template(template_id: str, name: str | None, config: Any | None) -> dict[str, Any]:
    """Change a template's name, its TemplateConfig (checked), or both; its record."""
    current = get_template(template_id)
    if name is not None and not name.strip():
        raise InvalidParameter("a template needs a name.")
    if isinstance(config, str):
        config = parse_request_json(config, "the TemplateConfig")
    if config is not None:
        read_template_config(config)
    config = current["TemplateConfig"] if config is None else config
    with connect() as db:
        db.execute(
            "UPDATE templates SET name = ?, snapshot_type = ?, config = ?, modified = ? "
            "WHERE template_id = ?",
            (name or current["Name"], config["SnapshotType"], json.dumps(config), _now(),
             current["TemplateId"]),
        )  # fmt: skip
    return get_template(template_id)


def remove_template(template_id: str) -> None:
    with connect() as db:
        gone = db.execute(
            "DELETE FROM templates WHERE template_id = ?", (template_id.strip().lower(),)
        ).rowcount
    if not gone:
        raise TemplateNotFound(f"there is no snapshot template {template_id!r}.")


def template_request(template_id: Any) -> TemplateRequest:
    """The request a stored template makes."""
    if not isinstance(template_id, str) or not template_id.strip():
        raise InvalidParameter("SnapshotTemplateId must be a template id.")
    return read_template_config(get_template(template_id)["TemplateConfig"])


def with_template(
    values: dict[str, Any], template_id: str | None
) -> tuple[dict[str, Any], list[str], bool]:
    """Apply the stored template `template_id` (if any) to build_request keywords: the values to
    build the request from, the API names of given values it overrides, and whether it asks for
    a VTT."""
    if not template_id:
        return values, [], False
    template = template_request(template_id)
    made, ignored = applied(template, values)
    return made, ignored, template.vtt
