"""One video of a batch: where its result goes, how it ended, and the call that runs it, shared
by the local pool (batch.py) and a cluster's workers (cluster.py)."""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from snapcli.core.event import JobIdentity, SnapshotComplete
from snapcli.core.request import SnapshotRequest
from snapcli.engine.job import (
    OutputOptions,
    Progress,
    input_fingerprint,
    request_record,
    run_job,
)
from snapcli.engine.ownership import read_event
from snapcli.errors import Interrupted, SnapcliError
from snapcli.media import runner
from snapcli.service.callback import run_announced
from snapcli.settings import Settings

Status = Literal["success", "skipped", "fail", "interrupted"]


@dataclass(frozen=True)
class BatchItem:
    """One video of a batch and where its result goes: ``output_dir / name``."""

    video: Path
    output_dir: Path
    name: str

    @property
    def result(self) -> Path:
        return self.output_dir / self.name


@dataclass
class BatchOutcome:
    item: BatchItem
    status: Status
    event: dict[str, Any] | None = None
    seconds: float = 0.0

    @property
    def error(self) -> tuple[str, str] | None:
        if self.status != "fail" or not self.event:
            return None
        return self.event.get("ErrorCode", "InternalError"), self.event.get("ErrorMessage", "")


@dataclass
class BatchSummary:
    succeeded: int = 0
    skipped: int = 0
    failed: list[BatchOutcome] = field(default_factory=list)
    interrupted: bool = False
    seconds: float = 0.0

    @property
    def total(self) -> int:
        return self.succeeded + self.skipped + len(self.failed)


def finished_result(
    item: BatchItem, request: SnapshotRequest, options: OutputOptions
) -> dict[str, Any] | None:
    """The event of a finished result made for this request from this input, if there is one."""
    event = read_event(item.result)
    fingerprint = input_fingerprint(str(item.video))
    if (
        isinstance(event, dict)
        and event.get("Status") == "success"
        and event.get("Request") == request_record(request, options)
        and event.get("Input") == fingerprint
    ):
        return event
    return None


def run_item(
    item: BatchItem,
    request: SnapshotRequest,
    options: OutputOptions,
    *,
    settings: Settings | None = None,
    workers: int = 1,
    decoder_threads: int | None = None,
    identity: JobIdentity | None = None,
    progress: Progress | None = None,
    event_fields: Mapping[str, Any] | None = None,
) -> BatchOutcome:
    """One video of a batch, as an ordinary job announced to its callback: its outcome. A
    failed job is an outcome, not an exception; an interrupted one says so."""
    began = time.monotonic()
    try:
        event = run_announced(
            request,
            lambda: run_job(
                item.video,
                request,
                item.output_dir,
                options,
                settings=settings,
                workers=workers,
                name=item.name,
                decoder_threads=decoder_threads,
                identity=identity,
                progress=progress,
                event_fields=event_fields,
            ),
        )
        return BatchOutcome(item, "success", event, time.monotonic() - began)
    except SnapcliError as error:
        if runner.stopping() or isinstance(error, Interrupted):
            return BatchOutcome(item, "interrupted")
        return BatchOutcome(item, "fail", error.event, time.monotonic() - began)


def already_done(
    item: BatchItem, request: SnapshotRequest, options: OutputOptions, force: bool
) -> BatchOutcome | None:
    """The "skipped" outcome of a video whose finished result stands (unless `force`)."""
    event = None if force else finished_result(item, request, options)
    return None if event is None else BatchOutcome(item, "skipped", SnapshotComplete(event))
