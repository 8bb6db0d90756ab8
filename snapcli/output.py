"""Writing a job's files so that nothing half-written is ever seen.

Everything goes into a hidden staging folder beside the result
(``DIR/.<stem>.<pid>.…snapcli-tmp``); only when the job is complete does it take the place of
``DIR/<stem>`` (the previous result is moved aside and removed), so a folder holds either the old
result or the new one, never a mixture. A failed or interrupted job removes its staging folder;
one left by a process that was killed outright is removed by the next job of the same name.
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
        self.name = name
        self.final = (self.root / name).absolute()
        self.staging = self.root / f".{name}.{os.getpid()}{STAGING_SUFFIX}"  # made on entry
        self._committed = False

    def __enter__(self) -> StagedOutput:
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            _remove_orphans(self.root, self.name)
            self.staging = Path(
                tempfile.mkdtemp(
                    prefix=f".{self.name}.{os.getpid()}.", suffix=STAGING_SUFFIX, dir=self.root
                )
            )
            return self
        except OSError as error:
            raise PermissionDenied(
                f"the output folder {self.root} cannot be written ({error.strerror or error})."
            ) from None
        except BaseException:  # interrupted while setting up: leave nothing behind
            shutil.rmtree(self.staging, ignore_errors=True)
            raise

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if not self._committed:
            shutil.rmtree(self.staging, ignore_errors=True)

    def write_bytes(self, name: str, data: bytes) -> None:
        """Write a finished file into the staging folder."""
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


def _remove_orphans(root: Path, name: str) -> None:
    """Remove staging folders of this name whose process no longer runs (killed outright)."""
    for folder in root.glob(f".{glob_escape(name)}.*{STAGING_SUFFIX}"):
        pid_text = folder.name[len(name) + 2 :].split(".", 1)[0]
        if pid_text.isdigit() and not _running(int(pid_text)):
            shutil.rmtree(folder, ignore_errors=True)


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    return True


def glob_escape(text: str) -> str:
    """A name as a glob that matches only itself."""
    return "".join(f"[{c}]" if c in "*?[]" else c for c in text)
