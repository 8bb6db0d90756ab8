"""The API dialects a job can be in (VOD, MTS), registered in one place.

A job's record names its dialect; the queue runs the job, and cleans up after a worker that died,
through that dialect. A dialect module imports the queue to submit and record its jobs; the queue
finds the dialect by name here, so neither imports the other.
"""

from __future__ import annotations

import importlib
import os
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol

from snapcli.core.event import JobIdentity, SnapshotComplete
from snapcli.core.request import SnapshotRequest, build_request, read_api_request
from snapcli.engine.job import OutputOptions

# Every dialect: its name (as job records store it) and the module whose DIALECT implements it.
DIALECTS = {"vod": "snapcli.service.vod", "mts": "snapcli.service.mts_job"}


@dataclass(frozen=True)
class JobSpec:
    """What a worker needs to run a job exactly as `grab` would have run it from `cwd`."""

    video_id: str
    cwd: str
    output_dir: str
    request: dict[str, Any]  # the SnapshotRequest in the API's spelling
    options: dict[str, Any]  # OutputOptions' fields
    ffmpeg: str | None = None
    name: str | None = None  # the result folder's name (default: the video's stem)
    extra: dict[str, Any] = field(default_factory=dict)  # what a dialect adds

    @classmethod
    def of(
        cls,
        video_id: str,
        request: SnapshotRequest,
        output_dir: str | os.PathLike[str],
        options: OutputOptions,
        ffmpeg: str | None = None,
        **more: Any,
    ) -> JobSpec:
        return cls(
            video_id=video_id,
            cwd=os.getcwd(),
            output_dir=os.fspath(output_dir),
            request=request.to_api(),
            options=asdict(options),
            ffmpeg=ffmpeg,
            **more,
        )

    def snapshot_request(self) -> SnapshotRequest:
        return build_request(**read_api_request(self.request).values)

    @property
    def video_path(self) -> str:
        """The video as a key for "jobs of this video": its real absolute path (a URL as is)."""
        return video_key(self.video_id, self.cwd)


def video_key(video_id: str, cwd: str | None = None) -> str:
    if "://" in video_id:
        return video_id
    return os.path.realpath(os.path.join(cwd or os.getcwd(), video_id))


class Dialect(Protocol):
    """What the queue needs of a dialect."""

    def run(
        self, spec: JobSpec, identity: JobIdentity, workers: int, decoder_threads: int | None
    ) -> SnapshotComplete:
        """Run a queued job to its end; raises like run_job."""
        ...

    def remove_staging(self, spec: JobSpec, job_id: str) -> None:
        """Remove what a job's dead worker was writing (docs/safety.md)."""
        ...


def dialect(name: str) -> Dialect:
    """The dialect a job record names."""
    implementation: Dialect = importlib.import_module(DIALECTS[name]).DIALECT
    return implementation
