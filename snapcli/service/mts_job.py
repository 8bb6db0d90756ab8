"""Running an MTS job: the ordinary engine into a hidden staging folder inside the output bucket,
then every file moved to the object its pattern names. A file appears whole or not at all; a
job that fails leaves no file of its own behind.
"""

from __future__ import annotations

import os
import posixpath
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from snapcli.core.event import JobIdentity, SnapshotComplete
from snapcli.core.mts import (
    MtsRequest,
    Place,
    object_name,
    read_mts_request,
    request_record,
    snapshot_job,
    tile_pattern,
    vtt_companion,
)
from snapcli.core.names import vtt_name
from snapcli.core.request import PROTOCOL_KEYS
from snapcli.engine.job import OutputOptions, run_job
from snapcli.engine.output import remove_orphans
from snapcli.engine.ownership import is_snapcli_result, remove_result
from snapcli.errors import InvalidParameter, PermissionDenied, SnapcliError
from snapcli.service.dialects import JobSpec
from snapcli.service.jobs import find_jobs, record_finished, submit, wait_for
from snapcli.service.storage import Storage, Target
from snapcli.settings import Settings, current

STAGING_PREFIX = ".snapcli-mts-"


def checked_input(mts: MtsRequest, storage: Storage) -> Path:
    """The input object's real path, once every object the job may write has been checked:
    inside its bucket, not the input (InvalidParameter, or ResourceNotFound for a missing
    input)."""
    video = storage.readable(mts.input.bucket, mts.input.object, "Input")
    _targets(mts, storage, video, Counts.most(mts))
    return video


def staging_folder(storage: Storage, mts: MtsRequest, job_id: str) -> Path:
    """Where the engine writes a job's files before they go to their objects: a hidden folder
    at the top of the output bucket, named by the job."""
    return storage.bucket(mts.output.bucket, "SnapshotConfig.OutputFile.Bucket", create=True) / (
        f"{STAGING_PREFIX}{job_id}"
    )


def run_mts_job(
    mts: MtsRequest,
    storage_root: str | os.PathLike[str],
    identity: JobIdentity,
    *,
    settings: Settings | None = None,
    workers: int | None = None,
    decoder_threads: int | None = None,
) -> SnapshotComplete:
    """Take the snapshots of an MTS request and put each file where its Object says; the event
    lists them relative to the storage root. Raises like run_job."""
    storage = Storage.at(storage_root)
    video = checked_input(mts, storage)  # every name checked before any work
    staging = staging_folder(storage, mts, identity.job_id)
    try:
        event = run_job(
            video,
            mts.request,
            staging.parent,
            OutputOptions(vtt=mts.vtt),
            settings=settings,
            workers=workers,
            decoder_threads=decoder_threads,
            name=staging.name,
            identity=identity,
        )
        _publish(mts, storage, video, staging, event)
    finally:
        if staging.is_dir() and not staging.is_symlink():
            shutil.rmtree(staging, ignore_errors=True)
    event["VideoId"] = f"{mts.input.bucket}/{mts.input.object}"
    return event


class MtsDialect:
    def run(
        self, spec: JobSpec, identity: JobIdentity, workers: int, decoder_threads: int | None
    ) -> SnapshotComplete:
        return run_mts_job(
            read_mts_request(spec.extra["Mts"]),
            spec.extra["StorageRoot"],
            identity,
            settings=Settings.from_environment().with_ffmpeg(spec.ffmpeg),
            workers=workers,
            decoder_threads=decoder_threads,
        )

    def remove_staging(self, spec: JobSpec, job_id: str) -> None:
        """What a job's dead worker left in its output bucket: the engine's staging folder and
        the job's own, each only when provably snapcli's."""
        try:
            storage = Storage.at(spec.extra["StorageRoot"])
            folder = staging_folder(storage, read_mts_request(spec.extra["Mts"]), job_id)
        except SnapcliError:
            return
        remove_orphans(folder.parent, job_id)
        if is_snapcli_result(folder):
            remove_result(folder)


DIALECT = MtsDialect()


@dataclass(frozen=True)
class Counts:
    """Which numbers a job's files carry: snapshots 1…shots (with their frame times), sheets
    1…sheets."""

    shots: list[tuple[int, int | None]]
    sheets: list[int]

    @classmethod
    def most(cls, mts: MtsRequest) -> Counts:
        """The first and the last name of each kind a job can make, to check them up front."""
        return cls([(1, 0), (99_999, 0)], [1, 99_999] if mts.request.sprite else [])

    @classmethod
    def of(cls, event: SnapshotComplete) -> Counts:
        return cls(
            [(shot["Index"], shot["FrameTime"]) for shot in event["Snapshots"] if "Path" in shot],
            [sheet["Index"] for sheet in event.get("Sprites", [])],
        )


def _targets(
    mts: MtsRequest, storage: Storage, video: Path, counts: Counts
) -> tuple[list[Target], list[Target], Target | None]:
    """The objects of a job's snapshots, sheets and VTT track, each confined to its bucket and
    none of them the input."""
    single = mts.output.object if not mts.vtt else vtt_companion(mts.output.object, "{Count}.jpg")
    tile_place = mts.tile_output or mts.output
    output_what, tile_what = "SnapshotConfig.OutputFile", "SnapshotConfig.TileOutputFile"
    if mts.tile_output is None:
        tile_what = output_what

    def target(place: Place, what: str, name: str) -> Target:
        made = storage.target(place.bucket, name, what)
        if made.is_file(video):
            raise InvalidParameter(
                f"{what}.Object names the input object {mts.input.bucket}/{mts.input.object}: "
                "a job never writes over its input."
            )
        return made

    shots = [
        target(mts.output, output_what, object_name(single, mts.input, count=index, time_ms=time))
        for index, time in counts.shots
    ]
    sheets = [
        target(tile_place, tile_what, object_name(tile_pattern(mts), mts.input, tile=index))
        for index in counts.sheets
    ]
    track = None
    if mts.vtt:
        track = target(mts.output, output_what, object_name(mts.output.object, mts.input))
    return shots, sheets, track


def _publish(
    mts: MtsRequest, storage: Storage, video: Path, staging: Path, event: SnapshotComplete
) -> None:
    """Move the engine's files to their objects and rewrite the event's paths to match."""
    shots, sheets, track = _targets(mts, storage, video, Counts.of(event))
    moves: dict[str, Target] = {}  # the engine's file name → its object
    pictures = [shot for shot in event["Snapshots"] if "Path" in shot]
    for shot, place in zip(pictures, shots):
        moves[shot["Path"]] = place
    for sheet, place in zip(event.get("Sprites", []), sheets):
        moves[sheet["Path"]] = place
    paths = [place.path for place in moves.values()] + ([track.path] if track else [])
    if len(set(paths)) < len(paths):
        raise InvalidParameter(
            f"two files would be written to the same object ({mts.output.object!r}): "
            "add {Count} to its pattern."
        )
    paths_of = {name: place.path for name, place in moves.items()}
    if track is not None:
        text = _relinked((staging / vtt_name()).read_text(encoding="utf-8"), paths_of, track.path)
        (staging / vtt_name()).write_text(text, encoding="utf-8")
    placed: list[Target] = []
    try:
        for name, place in [*moves.items(), *([(vtt_name(), track)] if track else [])]:
            place.put(staging / name)
            placed.append(place)
    except (OSError, SnapcliError) as error:
        for place in placed:
            place.remove()
        if isinstance(error, SnapcliError):
            raise
        raise PermissionDenied(
            f"the output cannot be written ({error.strerror or error})."
        ) from None
    _rewrite_paths(event, storage.root, paths_of, [track.path] if track else [])


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
    settings: Settings | None = None,
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
    storage = Storage.at(storage_root)
    root = storage.root
    video = checked_input(mts, storage)
    spec = JobSpec(
        video_id=str(video),
        cwd=str(root),
        output_dir=str(root),
        request=request_record(mts),
        options={},
        ffmpeg=current(settings).ffmpeg,
        extra={
            "Mts": {key: value for key, value in mapping.items() if key in MTS_PARAMETERS},
            "StorageRoot": str(root),
        },
    )
    if mts.synchronous:
        identity = JobIdentity.new()
        try:
            event = run_mts_job(mts, root, identity, settings=settings)
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


def query_snapshot_jobs(job_ids: Sequence[str]) -> dict[str, Any]:
    """The QuerySnapshotJobList answer for these ids: the MTS jobs found, and the ids that name
    no MTS job under NonExistSnapshotJobIds."""
    from snapcli.service.jobs import recover

    recover()
    records, missing = find_jobs(job_ids)
    missing += [record["JobId"] for record in records if record["Dialect"] != "mts"]
    found = [snapshot_job(record) for record in records if record["Dialect"] == "mts"]
    return {
        "RequestId": JobIdentity.new().request_id,
        "SnapshotJobList": {"SnapshotJob": found},
        "NonExistSnapshotJobIds": {"String": missing},
    }
