"""Writing a job's files so that nothing half-written is ever seen.

Everything goes into a hidden staging folder beside the result (``DIR/.<stem>.…snapcli-tmp``);
only when the job is complete does it take the place of ``DIR/<stem>`` (the previous result is moved
aside and removed), so a folder holds either the old result or the new one, never a mixture. A
failed or interrupted job removes its staging folder.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path
from types import TracebackType
from typing import Any

from .errors import PermissionDenied

STAGING_SUFFIX = ".snapcli-tmp"


def snapshot_name(index: int) -> str:
    return f"snapshot-{index:05d}.jpg"


class StagedOutput:
    """A job's output folder under construction; commit() puts it in place."""

    def __init__(self, output_dir: str | os.PathLike[str], name: str) -> None:
        self.root = Path(output_dir)
        self.final = (self.root / name).absolute()
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            self.staging = Path(
                tempfile.mkdtemp(prefix=f".{name}.", suffix=STAGING_SUFFIX, dir=self.root)
            )
        except OSError as error:
            raise PermissionDenied(
                f"the output folder {self.root} cannot be written ({error.strerror or error})."
            ) from None
        self._committed = False

    def __enter__(self) -> StagedOutput:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if not self._committed:
            shutil.rmtree(self.staging, ignore_errors=True)

    def write_bytes(self, name: str, data: bytes) -> None:
        self._guarded(lambda: (self.staging / name).write_bytes(data))

    def write_json(self, name: str, value: Any) -> None:
        text = json.dumps(value, indent=2, ensure_ascii=False) + "\n"
        self._guarded(lambda: (self.staging / name).write_text(text, encoding="utf-8"))

    def commit(self) -> Path:
        """Put the finished folder in place of the previous result, as one step for readers."""
        aside = None
        if self.final.exists() or self.final.is_symlink():
            aside = Path(tempfile.mkdtemp(prefix=f".{self.final.name}.old.", dir=self.root))
            self._guarded(lambda: os.replace(self.final, aside / "previous"))
        try:
            self._guarded(lambda: os.replace(self.staging, self.final))
        except PermissionDenied:
            if aside is not None:  # put the previous result back
                os.replace(aside / "previous", self.final)
                aside.rmdir()
            raise
        self._committed = True
        if aside is not None:
            shutil.rmtree(aside, ignore_errors=True)
        return self.final

    def _guarded(self, action: Any) -> None:
        try:
            action()
        except OSError as error:
            raise PermissionDenied(
                f"the output folder {self.root} cannot be written ({error.strerror or error})."
            ) from None
