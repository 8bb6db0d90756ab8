"""Running an MTS job: the ordinary engine into a hidden staging folder inside the output bucket,
then every file moved to the object its pattern names. A file appears whole or not at all; a
job that fails leaves no file of its own behind.
"""

from __future__ import annotations

import os
import posixpath
import shutil
from pathlib import Path
from typing import Any

from .errors import InvalidParameter, PermissionDenied, ResourceNotFound, SnapcliError
from .event import JobIdentity, SnapshotComplete
from .job import OutputOptions, run_job
from .jobs import JobSpec, find_jobs, record_finished, submit, wait_for
from .mts import (
    MtsRequest,
    Place,
    object_name,
    read_mts_request,
    request_record,
    tile_pattern,
    vtt_companion,
)
from .request import PROTOCOL_KEYS
from .vtt import VTT_NAME

STAGING_PREFIX = ".snapcli-mts-"


def bucket_path(root: Path, place: Place, name: str | None = None) -> Path:
    return root / place.bucket / (place.object if name is None else name)


def input_file(mts: MtsRequest, root: Path) -> Path:
    """The input object's file, or InvalidParameter.ResourceNotFound."""
    video = bucket_path(root, mts.input)
    if not video.is_file():
        raise ResourceNotFound(
            f"the input object {mts.input.bucket}/{mts.input.object} does not exist "
            f"(buckets are folders under {root})."
        )
    return video


def run_mts_job(
    mts: MtsRequest,
    storage_root: str | os.PathLike[str],
    identity: JobIdentity,
    *,
    ffmpeg: str | None = None,
    workers: int | None = None,
    decoder_threads: int | None = None,
) -> SnapshotComplete:
    """Take the snapshots of an MTS request and put each file where its Object says; the event
    lists them relative to the storage root. Raises like run_job."""
    root = Path(storage_root).absolute()
    video = input_file(mts, root)
    staging = bucket_path(root, mts.output, f"{STAGING_PREFIX}{identity.job_id}")
    try:
        event = run_job(
            video,
            mts.request,
            staging.parent,
            OutputOptions(vtt=mts.vtt),
            ffmpeg=ffmpeg,
            workers=workers,
            decoder_threads=decoder_threads,
            name=staging.name,
            identity=identity,
        )
        _publish(mts, root, staging, event)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    event["VideoId"] = f"{mts.input.bucket}/{mts.input.object}"
    return event


def _publish(mts: MtsRequest, root: Path, staging: Path, event: SnapshotComplete) -> None:
    """Move the engine's files to their objects and rewrite the event's paths to match."""
    single = mts.output.object if not mts.vtt else vtt_companion(mts.output.object, "{Count}.jpg")
    tile_place = mts.tile_output or mts.output
    moves: dict[str, Path] = {}  # the engine's file name → its object
    for shot in event["Snapshots"]:
        if "Path" in shot:
            name = object_name(single, mts.input, count=shot["Index"], time_ms=shot["FrameTime"])
            moves[shot["Path"]] = bucket_path(root, mts.output, name)
    for sheet in event.get("Sprites", []):
        name = object_name(tile_pattern(mts), mts.input, tile=sheet["Index"])
        moves[sheet["Path"]] = bucket_path(root, tile_place, name)
    targets = list(moves.values())
    if len(set(targets)) < len(targets):
        raise InvalidParameter(
            f"two files would be written to the same object ({mts.output.object!r}): "
            "add {Count} to its pattern."
        )
    texts: dict[Path, str] = {}
    if mts.vtt:
        track = bucket_path(root, mts.output, object_name(mts.output.object, mts.input))
        texts[track] = _relinked((staging / VTT_NAME).read_text(encoding="utf-8"), moves, track)
    placed: list[Path] = []
    try:
        for name, target in moves.items():
            _place(staging / name, target)
            placed.append(target)
        for target, text in texts.items():
            (staging / VTT_NAME).write_text(text, encoding="utf-8")
            _place(staging / VTT_NAME, target)
            placed.append(target)
    except OSError as error:
        for target in placed:
            target.unlink(missing_ok=True)
        raise PermissionDenied(
            f"the output cannot be written ({error.strerror or error})."
        ) from None
    _rewrite_paths(event, root, moves, list(texts))


def _place(source: Path, target: Path) -> None:
    """Move a finished file to its object in one step for readers (a copy under a temporary
    name first when the two are on different file systems)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.replace(source, target)
    except OSError:
        temporary = target.with_name(f".{target.name}.snapcli-tmp")
        shutil.copyfile(source, temporary)
        os.replace(temporary, target)


def _relinked(vtt: str, moves: dict[str, Path], track: Path) -> str:
    """A VTT's cue texts pointed at the pictures' objects, relative to the VTT's own folder."""
    lines = []
    for line in vtt.splitlines():
        name, hash_, fragment = line.partition("#")
        if name in moves:
            relative = posixpath.relpath(moves[name].as_posix(), track.parent.as_posix())
            line = f"{relative}{hash_}{fragment}"
        lines.append(line)
    return "\n".join(lines) + "\n"


def _rewrite_paths(
    event: SnapshotComplete, root: Path, moves: dict[str, Path], tracks: list[Path]
) -> None:
    def relative(path: Path) -> str:
        return path.relative_to(root).as_posix()

    for item in [*event["Snapshots"], *event.get("Sprites", [])]:
        if "Path" in item:
            item["Path"] = relative(moves[item["Path"]])
    infos: list[dict[str, Any]] = event.get("SnapshotInfos", [])
    for info in infos:
        if info["SnapshotType"] == "WebVttSnapshot" and tracks:
            info["SnapshotFormat"] = relative(tracks[0])
        elif info["SnapshotType"] == "NormalSnapshot":
            info["SnapshotFormat"] = event["Snapshots"][0].get("Path", "")
        elif info["SnapshotType"] == "SpriteSnapshot":
            info["SnapshotFormat"] = event["Sprites"][0]["Path"]
        info["SnapshotRegular"] = (root / info["SnapshotFormat"]).as_uri()
    event["OutputDir"] = str(root)


# An MTS request's own keys; the protocol's and the account's are passed over quietly.
MTS_PARAMETERS = ("Input", "SnapshotConfig", "PipelineId", "UserData")
ACCOUNT_KEYS = ("OwnerId", "OwnerAccount", "ResourceOwnerId", "ResourceOwnerAccount")


def submit_mts(
    mapping: dict[str, Any],
    storage_root: str | os.PathLike[str],
    ffmpeg: str | None = None,
    *,
    wait: bool = False,
) -> tuple[JobIdentity, dict[str, Any], list[str]]:
    """Submit an MTS request as the service does: a single snapshot without Interval or Num is
    taken now, anything else is queued (and waited for with `wait`). Returns the job's ids, its
    record, and the keys of the request that are no parameter of it. A synchronous job that
    fails raises, as the service answers with an error."""
    unknown = [
        key for key in mapping if key not in (*MTS_PARAMETERS, *ACCOUNT_KEYS, *PROTOCOL_KEYS)
    ]
    mts = read_mts_request(mapping)
    root = Path(storage_root).absolute()
    video = input_file(mts, root)
    spec = JobSpec(
        video_id=str(video),
        cwd=str(root),
        output_dir=str(root),
        request=request_record(mts),
        options={},
        ffmpeg=ffmpeg,
        extra={
            "Mts": {key: value for key, value in mapping.items() if key in MTS_PARAMETERS},
            "StorageRoot": str(root),
        },
    )
    if mts.synchronous:
        identity = JobIdentity.new()
        try:
            event = run_mts_job(mts, root, identity, ffmpeg=ffmpeg)
        except SnapcliError as error:
            if error.event is not None:
                record_finished(spec, error.event, "mts", mts.pipeline)
            error.event = None  # the answer is the API's error response, not an event
            raise
        record_finished(spec, event, "mts", mts.pipeline)
    else:
        identity = submit(spec, dialect="mts", pipeline=mts.pipeline)
    if wait and not mts.synchronous:
        (record,) = wait_for([identity.job_id])
    else:
        (record,), _ = find_jobs([identity.job_id])
    return identity, record, unknown
