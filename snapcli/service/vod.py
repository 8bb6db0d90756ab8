"""The video-on-demand (VOD, 2017-03-21) dialect: a job is run_job into its output folder."""

from __future__ import annotations

from pathlib import Path

from snapcli.core.event import JobIdentity, SnapshotComplete
from snapcli.engine.job import OutputOptions, run_job
from snapcli.engine.output import remove_orphans
from snapcli.service.callback import run_announced
from snapcli.service.dialects import JobSpec


class VodDialect:
    def run(
        self, spec: JobSpec, identity: JobIdentity, workers: int, decoder_threads: int | None
    ) -> SnapshotComplete:
        request = spec.snapshot_request()
        return run_announced(
            request,
            lambda: run_job(
                spec.video_id,
                request,
                spec.output_dir,
                OutputOptions(**spec.options),
                ffmpeg=spec.ffmpeg,
                workers=workers,
                decoder_threads=decoder_threads,
                name=spec.name,
                identity=identity,
            ),
        )

    def remove_staging(self, spec: JobSpec, job_id: str) -> None:
        remove_orphans(Path(spec.cwd) / spec.output_dir, job_id)


DIALECT = VodDialect()
