"""One preview job: probe, plan the clips, let one ffmpeg make the animation in a staging
folder, and put the result in place with its event, as any job's result."""

from __future__ import annotations

import os
from pathlib import Path

from snapcli.core.event import JobIdentity, SnapshotComplete, failure_event
from snapcli.core.names import EVENT_FILE
from snapcli.core.preview import PreviewStyle, clips_of, scaled_height
from snapcli.engine.job import output_name
from snapcli.engine.output import StagedOutput
from snapcli.errors import SnapcliError
from snapcli.media.preview import make_preview
from snapcli.media.probe import probe
from snapcli.settings import Settings


def run_preview(
    video: str | os.PathLike[str],
    style: PreviewStyle,
    output_dir: str | os.PathLike[str] = "snapshots",
    *,
    settings: Settings | None = None,
    identity: JobIdentity | None = None,
) -> SnapshotComplete:
    """Make ``output_dir/<video stem>/preview.webp`` (or .mp4) and its event; raises the
    SnapcliError with the fail event attached, as run_job does."""
    video_id = os.fspath(video)
    identity = identity or JobIdentity.new()
    try:
        result = Path(output_dir) / output_name(video_id)
        StagedOutput(result.parent, result.name, inputs=(video_id,)).check()
        info = probe(video_id, settings)
        clips = clips_of(info.duration_ms, style)
        size = (style.width, scaled_height(info.display_size, style.width))
        name = f"preview.{style.picture_format}"
        staged_output = StagedOutput(
            result.parent, result.name, job_id=identity.job_id, inputs=(video_id,)
        )
        with staged_output as staged:
            make_preview(info, clips, size, style, staged.staging / name, settings)
            event = SnapshotComplete(
                {
                    "EventType": "SnapshotComplete",
                    "SubType": "Preview",
                    "RequestId": identity.request_id,
                    "JobId": identity.job_id,
                    "VideoId": video_id,
                    "Status": "success",
                    "OutputDir": str(staged.final),
                    "Snapshots": [],
                    "Preview": {
                        "Path": name,
                        "Width": size[0],
                        "Height": size[1],
                        "Fps": style.fps,
                        "Clips": [{"Start": c.start_ms, "Duration": c.duration_ms} for c in clips],
                    },
                }
            )
            staged.write_json(EVENT_FILE, event)
            staged.commit()
        return event
    except SnapcliError as error:
        error.event = failure_event(identity, video_id, error)
        raise
