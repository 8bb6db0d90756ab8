"""The API actions `snapcli serve` answers, each a call into the service layer, answered in the
cloud's JSON shapes. Blocking (job records, probes): the app runs them off its event loop.

VOD (Version 2017-03-21): SubmitSnapshotJob, ListSnapshots, GetVideoInfo, and the snapshot
templates (AddVodTemplate, GetVodTemplate, ListVodTemplate, UpdateVodTemplate,
DeleteVodTemplate). MTS (2014-06-18): SubmitSnapshotJob, QuerySnapshotJobList. A VideoId is a
path under the media root; MTS buckets are its folders.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from snapcli.core.event import JobIdentity
from snapcli.errors import ActionNotFound, InvalidParameter, VersionInvalid
from snapcli.settings import Settings

VOD_VERSION = "2017-03-21"
MTS_VERSION = "2014-06-18"
# Parameters of the protocol, not of an action: never passed on as request fields.
PROTOCOL_PARAMETERS = {
    "Action", "Version", "Format", "AccessKeyId", "SignatureMethod", "SignatureVersion",
    "SignatureNonce", "SignatureType", "Signature", "Timestamp", "SecurityToken", "RegionId",
}  # fmt: skip


@dataclass(frozen=True)
class Service:
    """Where a server's videos are, where its results go, the URL they are served at, and
    the key that signs callbacks."""

    media_root: Path  # real path
    results: Path  # real path
    results_url: str  # http://host:port/results
    callback_key: str | None = None
    settings: Settings | None = None


Parameters = dict[str, str]
Handler = Callable[[Service, Parameters], dict[str, Any]]


def answer(service: Service, parameters: Parameters) -> dict[str, Any]:
    """The answer to one API call; raises the API's error."""
    action, version = parameters.get("Action"), parameters.get("Version")
    if not action:
        raise InvalidParameter("the request names no Action.")
    versions = {key[0] for key in HANDLERS}
    if version not in versions:
        raise VersionInvalid(
            f"Version must be {VOD_VERSION} (VOD) or {MTS_VERSION} (MTS), got {version!r}."
        )
    handler = HANDLERS.get((version, action))
    if handler is None:
        raise ActionNotFound(
            f"the action {action} of version {version} is not served by snapcli (it serves "
            f"{', '.join(sorted(name for v, name in HANDLERS if v == version))})."
        )
    fields = {key: value for key, value in parameters.items() if key not in PROTOCOL_PARAMETERS}
    return handler(service, fields)


def _request_id() -> str:
    return JobIdentity.new().request_id


def _required(parameters: Parameters, name: str) -> str:
    value = parameters.get(name, "").strip()
    if not value:
        raise InvalidParameter(f"{name} is missing.")
    return value


# ---- VOD --------------------------------------------------------------------------------------


def submit_snapshot_job(service: Service, parameters: Parameters) -> dict[str, Any]:
    from snapcli.engine.job import OutputOptions
    from snapcli.service.vod import submit_vod

    identity = submit_vod(
        parameters,
        service.results,
        OutputOptions(served_at=service.results_url),
        service.settings,
        media_root=service.media_root,
        callback_key=service.callback_key,
    )
    return {"RequestId": identity.request_id, "SnapshotJob": {"JobId": identity.job_id}}


def list_snapshots(service: Service, parameters: Parameters) -> dict[str, Any]:
    from snapcli.service.jobs import recover, successful_events
    from snapcli.service.listing import list_snapshots as listing
    from snapcli.service.listing import parse_listing
    from snapcli.service.storage import Storage

    video = Storage(service.media_root).media_file(_required(parameters, "VideoId"))
    kind, number, size = parse_listing(
        parameters.get("SnapshotType"), parameters.get("PageNo"), parameters.get("PageSize")
    )
    recover()
    events = [
        event
        for event in successful_events(str(video))
        if str(event.get("OutputUrl", "")).startswith(service.results_url)
    ]
    return listing(events, kind, number, size, _request_id())


def get_video_info(service: Service, parameters: Parameters) -> dict[str, Any]:
    from snapcli.media.probe import probe
    from snapcli.service.storage import Storage

    video_id = _required(parameters, "VideoId")
    path = Storage(service.media_root).media_file(video_id)
    info = probe(str(path), service.settings)
    stat = path.stat()
    width, height = info.display_size
    made = datetime.fromtimestamp(stat.st_mtime, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    video = {
        "VideoId": video_id,
        "Title": path.stem,
        "Duration": round(float(info.duration_ms) / 1000, 3),
        "Size": stat.st_size,
        "Status": "Normal",
        "CreationTime": made,
        "ModificationTime": made,
        "Width": width,
        "Height": height,
        "Codec": info.codec,
        "FrameRate": round(float(info.frame_rate), 3) if info.frame_rate else None,
        "StorageLocation": os.fspath(service.media_root),
    }
    return {"RequestId": _request_id(), "Video": video}


def _template_info(record: dict[str, Any]) -> dict[str, Any]:
    """A stored template as the VOD API shows one: its config as JSON text."""
    import json

    return {
        "VodTemplateId": record["TemplateId"],
        "Name": record["Name"],
        "TemplateType": "Snapshot",
        "SubTemplateType": record["SnapshotType"],
        "TemplateConfig": json.dumps(record["TemplateConfig"], ensure_ascii=False),
        "IsDefault": "NotDefault",
        "Source": "Custom",
        "CreationTime": record["CreationTime"],
        "ModifyTime": record["ModifyTime"],
    }


def _snapshot_type(parameters: Parameters) -> None:
    kind = parameters.get("TemplateType", "Snapshot")
    if kind != "Snapshot":
        raise InvalidParameter(f"snapcli keeps Snapshot templates only, got TemplateType {kind!r}.")


def add_vod_template(service: Service, parameters: Parameters) -> dict[str, Any]:
    from snapcli.service.templates import add_template

    _snapshot_type(parameters)
    record = add_template(_required(parameters, "Name"), _required(parameters, "TemplateConfig"))
    return {"RequestId": _request_id(), "VodTemplateId": record["TemplateId"]}


def get_vod_template(service: Service, parameters: Parameters) -> dict[str, Any]:
    from snapcli.service.templates import get_template

    record = get_template(_required(parameters, "VodTemplateId"))
    return {"RequestId": _request_id(), "VodTemplateInfo": _template_info(record)}


def list_vod_template(service: Service, parameters: Parameters) -> dict[str, Any]:
    from snapcli.service.templates import list_templates

    _snapshot_type(parameters)
    infos = [_template_info(record) for record in list_templates()]
    return {"RequestId": _request_id(), "VodTemplateInfoList": infos}


def update_vod_template(service: Service, parameters: Parameters) -> dict[str, Any]:
    from snapcli.service.templates import update_template

    template_id = _required(parameters, "VodTemplateId")
    record = update_template(
        template_id, parameters.get("Name"), parameters.get("TemplateConfig") or None
    )
    return {"RequestId": _request_id(), "VodTemplateId": record["TemplateId"]}


def delete_vod_template(service: Service, parameters: Parameters) -> dict[str, Any]:
    from snapcli.service.templates import remove_template

    template_id = _required(parameters, "VodTemplateId")
    remove_template(template_id)
    return {"RequestId": _request_id(), "VodTemplateId": template_id.strip().lower()}


# ---- MTS --------------------------------------------------------------------------------------


def submit_mts_snapshot_job(service: Service, parameters: Parameters) -> dict[str, Any]:
    from snapcli.core.mts import snapshot_job
    from snapcli.service.mts_job import submit_mts

    identity, record, _ = submit_mts(dict(parameters), service.media_root, service.settings)
    return {"RequestId": identity.request_id, "SnapshotJob": snapshot_job(record)}


def query_snapshot_job_list(service: Service, parameters: Parameters) -> dict[str, Any]:
    from snapcli.service.mts_job import query_snapshot_jobs

    ids = [part.strip() for part in _required(parameters, "SnapshotJobIds").split(",")]
    if len(ids) > 10:
        raise InvalidParameter("SnapshotJobIds names at most 10 jobs.")
    return query_snapshot_jobs([job_id for job_id in ids if job_id])


HANDLERS: dict[tuple[str, str], Handler] = {
    (VOD_VERSION, "SubmitSnapshotJob"): submit_snapshot_job,
    (VOD_VERSION, "ListSnapshots"): list_snapshots,
    (VOD_VERSION, "GetVideoInfo"): get_video_info,
    (VOD_VERSION, "AddVodTemplate"): add_vod_template,
    (VOD_VERSION, "GetVodTemplate"): get_vod_template,
    (VOD_VERSION, "ListVodTemplate"): list_vod_template,
    (VOD_VERSION, "UpdateVodTemplate"): update_vod_template,
    (VOD_VERSION, "DeleteVodTemplate"): delete_vod_template,
    (MTS_VERSION, "SubmitSnapshotJob"): submit_mts_snapshot_job,
    (MTS_VERSION, "QuerySnapshotJobList"): query_snapshot_job_list,
}
