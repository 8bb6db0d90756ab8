"""The video-on-demand (VOD, 2017-03-21) dialect: a request in the API's spelling, keyword
overrides and a stored template make one SnapshotRequest; a job is run_job into its output
folder, announced to its callback and recorded, in the foreground or by a queue worker."""

from __future__ import annotations

import os
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from snapcli.core.event import JobIdentity, SnapshotComplete
from snapcli.core.request import (
    SnapshotRequest,
    build_request,
    merged,
    read_api_request,
    sprite_fields,
)
from snapcli.engine.job import OutputOptions, Progress, run_job
from snapcli.engine.output import remove_orphans
from snapcli.errors import Interrupted, InvalidParameter, SnapcliError, SnapcliWarning
from snapcli.service.callback import run_announced
from snapcli.service.dialects import JobSpec
from snapcli.settings import Settings, current


@dataclass(frozen=True)
class Assembled:
    """A request made whole: what to take, what to write besides, and of which video (None
    when neither the caller nor the request names one)."""

    request: SnapshotRequest
    options: OutputOptions
    video_id: str | None
    reference_id: str | None = None


def assemble(
    api: Mapping[str, Any] | None = None,
    overrides: Mapping[str, Any] | None = None,
    *,
    sprite: Sequence[Any] | None = None,
    template_id: str | None = None,
    options: OutputOptions | None = None,
) -> Assembled:
    """The request from `api` (the API's spelling) with `overrides` (build_request keywords)
    winning over it. `sprite` lists SpriteSnapshotConfig layers merged field by field over the
    request's own (an empty list: sprites with the defaults; None: as the request says). A
    template (`template_id`, or the request's SnapshotTemplateId) replaces all but UserData, with
    a warning naming what it overrides; a WebVTT template turns the VTT on."""
    from snapcli.service.templates import with_template

    options = options or OutputOptions()
    from_api: dict[str, Any] = {}
    video_id = reference_id = None
    if api is not None:
        parsed = read_api_request(api)
        for key in parsed.unknown_keys:
            _warn(f"the request's {key} is not a SubmitSnapshotJob parameter; it is ignored.")
        from_api, video_id, reference_id = parsed.values, parsed.video_id, parsed.reference_id
        template_id = template_id or parsed.template_id
    given = {key: value for key, value in (overrides or {}).items() if value not in (None, ())}
    values = merged([from_api, given])
    if sprite is not None:
        values["sprite"] = sprite_fields(from_api.get("sprite"), *sprite)
    values, ignored, template_vtt = with_template(values, template_id)
    if ignored:
        _warn(f"the template decides the request: {', '.join(ignored)} ignored.")
    request = build_request(**values)
    if template_vtt:
        options = replace(options, vtt=True)
    if options.retina and request.sprite is None:
        raise InvalidParameter("--retina makes a second set of sprite sheets: ask for sprites too.")
    return Assembled(request, options, video_id, reference_id)


def grab_now(
    video_id: str,
    request: SnapshotRequest,
    options: OutputOptions,
    output_dir: str | os.PathLike[str],
    *,
    progress: Progress | None = None,
    settings: Settings | None = None,
    record: bool = True,
) -> SnapshotComplete:
    """Run one VOD job in the foreground: take the snapshots, announce the event to the
    callback, and record the job (a state folder that cannot be written costs a warning, never
    the job). Raises the job's SnapcliError, its fail event attached, as run_job does."""
    spec = JobSpec.of(video_id, request, output_dir, options, current(settings).ffmpeg)
    try:
        event = run_announced(
            request,
            lambda: run_job(
                video_id, request, output_dir, options, progress=progress, settings=settings
            ),
        )
    except SnapcliError as error:
        if record and isinstance(error.event, SnapshotComplete):
            record_quietly(spec, error.event)
        raise
    if record:
        record_quietly(spec, event)
    return event


def submit_vod(
    mapping: Mapping[str, Any],
    output_dir: str | os.PathLike[str] = "snapshots",
    options: OutputOptions | None = None,
    settings: Settings | None = None,
    *,
    media_root: str | os.PathLike[str] | None = None,
    callback_key: str | None = None,
) -> JobIdentity:
    """Queue a request in the API's words (VOD dialect) for a background worker; its ids.
    With `media_root`, VideoId is a path under that folder and must stay inside it (checked
    now, and again when the job starts); `callback_key` signs the job's callback."""
    from snapcli.service.jobs import submit

    _refuse_other_actions(mapping)
    made = assemble(mapping, options=replace(options or OutputOptions(), retina=False))
    if not made.video_id:
        raise InvalidParameter("VideoId is missing: name the video file.")
    extra: dict[str, Any] = {"ReferenceId": made.reference_id} if made.reference_id else {}
    if callback_key:
        extra["CallbackKey"] = callback_key
    root = None
    if media_root is not None:
        from snapcli.service.storage import Storage  # snapcli serve's jobs only

        root = Storage.at(media_root)
        root.media_file(made.video_id)
        extra["MediaRoot"] = str(root.root)
    ffmpeg = current(settings).ffmpeg
    spec = JobSpec.of(made.video_id, made.request, output_dir, made.options, ffmpeg, extra=extra)
    if root is not None:  # the worker runs the job from the media root
        spec = replace(spec, cwd=str(root.root), output_dir=os.path.abspath(output_dir))
    return submit(spec)


# Parameters of the VOD API's other actions on snapshots: a request carrying them was meant for
# another action (a ListSnapshots query signed without Action=, as SDKs' newer signing sends it),
# and must not become a snapshot job.
OTHER_ACTIONS = {
    "ListSnapshots": ("SnapshotType", "PageNo", "PageSize", "AuthTimeout"),
    "DeleteSnapshots": ("SnapshotIds",),
}


def _refuse_other_actions(mapping: Mapping[str, Any]) -> None:
    for action, keys in OTHER_ACTIONS.items():
        found = [key for key in keys if key in mapping]
        if found:
            raise InvalidParameter(
                f"this is a {action} request ({', '.join(found)}), not a SubmitSnapshotJob: "
                "nothing was queued."
            )


def record_quietly(spec: JobSpec, event: SnapshotComplete) -> None:
    """Record a job that ran in the foreground; a failure to record is a warning. An
    interrupted job is not over, so it is not recorded."""
    from snapcli.service.jobs import record_finished

    if event.get("ErrorCode") == Interrupted.code:
        return
    try:
        record_finished(spec, event)
    except SnapcliError as error:
        _warn(f"the job was not recorded: {error.message}")


def _warn(message: str) -> None:
    warnings.warn(message, SnapcliWarning, stacklevel=3)


class VodDialect:
    def run(
        self, spec: JobSpec, identity: JobIdentity, workers: int, decoder_threads: int | None
    ) -> SnapshotComplete:
        request = spec.snapshot_request()
        media_root = spec.extra.get("MediaRoot")
        if media_root:  # checked at submission; a link may have changed since
            from snapcli.service.storage import Storage

            Storage(Path(media_root)).media_file(spec.video_id)
        return run_announced(
            request,
            lambda: run_job(
                spec.video_id,
                request,
                spec.output_dir,
                OutputOptions(**spec.options),
                settings=Settings.from_environment().with_ffmpeg(spec.ffmpeg),
                workers=workers,
                decoder_threads=decoder_threads,
                name=spec.name,
                identity=identity,
            ),
            spec.extra.get("CallbackKey"),
        )

    def remove_staging(self, spec: JobSpec, job_id: str) -> None:
        remove_orphans(Path(spec.cwd) / spec.output_dir, job_id)


DIALECT = VodDialect()
