"""Writing a job's files so that nothing half-written is ever seen, and nothing that snapcli did
not make is ever replaced or removed (docs/safety.md).

Everything goes into a hidden staging folder beside the result (``DIR/.snapcli-stage-…``, with
a marker file naming its process, host and job); only when the job is complete does it take
the place of ``DIR/<name>``. What stands there already is replaced only when it is provably a
snapcli result (see `ownership`) or an empty folder; anything else is refused before any work.
A failed or interrupted job removes its staging folder; one left by a process that was killed
outright is removed by the next job writing into the same folder, or by the job queue when it
finds the job's worker dead.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import shutil
import socket
import sys
import tempfile
from collections.abc import Callable, Collection
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

from snapcli.core.names import OWN_NAME
from snapcli.engine.ownership import (
    PREVIOUS,
    STAGING_MARKER,
    describe_occupant,
    is_own_staging,
    is_snapcli_result,
    remove_result,
)
from snapcli.errors import InvalidParameter, PermissionDenied

T = TypeVar("T")
STAGING_SUFFIX = ".snapcli-tmp"
STAGING_PREFIX = ".snapcli-stage-"
ASIDE_PREFIX = ".snapcli-old-"
MAX_NAME_BYTES = 255


def _read_umask() -> int:
    """The process's umask; read once, at import (reading it means setting it, which threads
    running jobs side by side must not see)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


_UMASK = _read_umask()


def result_name(file_name: str) -> str:
    """A result folder's name for a video file: its stem, or its whole name where the stem
    cannot name a folder of its own ('..mp4' has the stem '.')."""
    stem = Path(file_name).stem
    if stem not in ("", ".", ".."):
        return stem
    return file_name if file_name not in ("", ".", "..") else "video"


class StagedOutput:
    """A job's output folder under construction; commit() puts it in place.

    `inputs` are files the job reads: a result folder that is, or holds, one of them is refused.
    `job_id` goes into the staging marker, so that the job queue can clean up after a worker that
    died mid-job.
    """

    def __init__(
        self,
        output_dir: str | os.PathLike[str],
        name: str,
        *,
        job_id: str = "",
        inputs: tuple[str, ...] = (),
    ) -> None:
        self.root = Path(output_dir)
        self.name = name
        self.final = (self.root / name).absolute()
        self.job_id = job_id
        self.inputs = inputs
        self.staging = self.root / f"{STAGING_PREFIX}unmade{STAGING_SUFFIX}"  # made on entry
        self._made = False
        self._committed = False

    def __enter__(self) -> StagedOutput:
        if len(os.fsencode(self.name)) > MAX_NAME_BYTES or self.name in ("", ".", ".."):
            raise InvalidParameter(
                f"the result folder's name {self.name[:60]!r}… cannot be a folder name "
                f"(longer than {MAX_NAME_BYTES} bytes, or empty)."
            )
        self.check()
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            remove_orphans(self.root)
            self.staging = Path(
                tempfile.mkdtemp(
                    prefix=_maker(STAGING_PREFIX), suffix=STAGING_SUFFIX, dir=self.root
                )
            )
            self._made = True
            os.chmod(self.staging, 0o777 & ~_UMASK)  # mkdtemp's 0700 would hide the result
            _write_marker(self.staging, self.job_id)
            return self
        except OSError as error:
            self._discard()
            raise PermissionDenied(
                f"the output folder {self.root} cannot be written ({error.strerror or error})."
            ) from None
        except BaseException:  # interrupted while setting up: leave nothing behind
            self._discard()
            raise

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if not self._committed:
            self._discard()

    def _discard(self) -> None:
        if self._made:
            shutil.rmtree(self.staging, ignore_errors=True)

    def write_bytes(self, name: str, data: bytes) -> None:
        """Write a finished file into the staging folder."""
        self._guarded(lambda: (self.staging / name).write_bytes(data))

    def write_json(self, name: str, value: Any) -> None:
        text = json.dumps(value, indent=2, ensure_ascii=False) + "\n"
        self._guarded(lambda: (self.staging / name).write_text(text, encoding="utf-8"))

    def commit(self) -> Path:
        """Put the finished folder in place of the previous result, as one step for readers.

        rename(2) puts a folder in place of an absent or empty one and fails on anything else, so
        a folder that gained files since the check is never replaced. A previous result is
        swapped with the new one in one step where the system can (Linux), else set aside
        first."""
        self._check_inputs()
        previous = self._check_place()
        if previous is None:
            self._guarded(lambda: (self.staging / STAGING_MARKER).unlink())
            self._guarded(lambda: os.rename(self.staging, self.final))
        elif self._guarded(lambda: _exchange(self.staging, self.final)):
            # The previous result now stands at the staging path: it takes the marker, so that
            # it is removable as a staging folder should this process die now.
            old = self.staging
            self._guarded(lambda: os.rename(self.final / STAGING_MARKER, old / STAGING_MARKER))
            if is_own_staging(old) is None:  # a file of the user's slipped in: swap back
                os.rename(old / STAGING_MARKER, self.final / STAGING_MARKER)
                _exchange(self.staging, self.final)
                raise PermissionDenied(self._occupied_message(self.final))
            _remove_staging(old)
        else:
            self._set_aside_and_replace()
        self._committed = True
        return self.final

    def _set_aside_and_replace(self) -> None:
        """Where folders cannot be swapped in one step: move the previous result aside, put the
        new one in place, remove the previous one."""
        self._guarded(lambda: (self.staging / STAGING_MARKER).unlink())
        aside = Path(
            tempfile.mkdtemp(prefix=_maker(ASIDE_PREFIX), suffix=STAGING_SUFFIX, dir=self.root)
        )
        _write_marker(aside, self.job_id, restore=self.name)
        moved = aside / PREVIOUS
        self._guarded(lambda: os.rename(self.final, moved))
        try:
            if not is_snapcli_result(moved):  # changed between the look and the move
                raise PermissionDenied(self._occupied_message(moved))
            self._guarded(lambda: os.rename(self.staging, self.final))
        except BaseException:
            os.rename(moved, self.final)  # put the previous result back
            _remove_staging(aside)
            raise
        remove_result(moved)
        _remove_staging(aside)

    def check(self) -> None:
        """Refuse, before any work, a place this job may not write its result to."""
        self._check_inputs()
        self._check_place()

    def _check_inputs(self) -> None:
        """Refuse a result folder that is, or holds, a file the job reads."""
        final = os.path.realpath(self.final)
        for video in self.inputs:
            if "://" in video:
                continue
            real = os.path.realpath(video)
            if real == final or real.startswith(final.rstrip(os.sep) + os.sep):
                raise InvalidParameter(
                    f"the result folder {self.final} would replace the input {video}: "
                    "choose another output folder."
                )

    def _check_place(self) -> Path | None:
        """What stands at the result's place: nothing or an empty folder (None), or a previous
        snapcli result (its path). Anything else is refused."""
        try:
            os.lstat(self.final)
        except FileNotFoundError:
            return None
        except OSError as error:
            raise PermissionDenied(
                f"the result folder {self.final} cannot be reached ({error.strerror or error})."
            ) from None
        if self.final.is_dir() and not self.final.is_symlink():
            if not any(os.scandir(self.final)):
                return None
            if is_snapcli_result(self.final):
                return self.final
        raise PermissionDenied(self._occupied_message(self.final))

    def _occupied_message(self, occupant: Path) -> str:
        return (
            f"{self.final} {describe_occupant(occupant)}: snapcli replaces only a folder that "
            "it made itself; move that away or choose another output folder."
        )

    def _guarded(self, action: Callable[[], T]) -> T:
        try:
            return action()
        except OSError as error:
            raise PermissionDenied(
                f"the output folder {self.root} cannot be written ({error.strerror or error})."
            ) from None


def remove_orphans(
    root: Path, job_id: str | Collection[str] | None = None, *, any_host: bool = False
) -> int:
    """Remove staging folders in `root` whose process no longer runs (killed outright), of one
    job, of these jobs, or of any. Only folders that carry snapcli's marker and hold nothing but
    files snapcli writes are touched. With `any_host`, a folder of these jobs is removed whatever
    machine or process made it: for a caller that knows those jobs have ended everywhere (a
    cluster batch, once each of its tasks has). Returns how many were removed."""
    jobs = {job_id} if isinstance(job_id, str) else None if job_id is None else set(job_id)
    removed = 0
    try:
        entries = list(os.scandir(root))
    except OSError:
        return 0
    for entry in entries:
        if not entry.name.startswith((STAGING_PREFIX, ASIDE_PREFIX)):
            continue
        marker = is_own_staging(Path(entry.path))
        if marker is None:
            if is_snapcli_result(Path(entry.path)):  # a previous result swapped out, then killed
                remove_result(Path(entry.path))
            elif _unmarked_and_dead(Path(entry.path)):  # killed before its marker was written
                with contextlib.suppress(OSError):
                    (Path(entry.path) / STAGING_MARKER).unlink(missing_ok=True)
                    os.rmdir(entry.path)
                    removed += 1
            continue
        if jobs is not None and marker.get("JobId") not in jobs:
            continue
        ended = any_host and jobs is not None
        elsewhere = marker.get("Host") != socket.gethostname()
        if not ended and (elsewhere or _running(marker.get("Pid"))):
            continue  # alive, or another machine's: whether it lives cannot be told from here
        folder = Path(entry.path)
        restore = marker.get("Restore")
        if isinstance(restore, str) and (folder / PREVIOUS).is_dir():
            # Killed between setting the previous result aside and putting the new one in
            # place: the previous result goes back where it was.
            with contextlib.suppress(OSError):
                os.rename(folder / PREVIOUS, root / restore)
        shutil.rmtree(folder, ignore_errors=True)
        removed += 1
    return removed


def _maker(prefix: str) -> str:
    """A staging folder's name prefix that says who makes it (a digest of the host name, and
    the process), so that one left empty by a kill before its marker was written is known."""
    return f"{prefix}{_host_digest()}-{os.getpid()}-"


def _host_digest() -> str:
    return hashlib.sha1(socket.gethostname().encode()).hexdigest()[:8]


def _unmarked_and_dead(folder: Path) -> bool:
    """A staging folder with no marker (or a half-written one) and nothing else in it, made on
    this host by a process that no longer runs."""
    for prefix in (STAGING_PREFIX, ASIDE_PREFIX):
        head = f"{prefix}{_host_digest()}-"
        pid_text = folder.name[len(head) :].split("-", 1)[0]
        if folder.name.startswith(head) and pid_text.isdigit() and not _running(int(pid_text)):
            try:
                return {entry.name for entry in os.scandir(folder)} <= {STAGING_MARKER}
            except OSError:
                return False
    return False


def _write_marker(folder: Path, job_id: str, restore: str | None = None) -> None:
    """Mark a staging folder as snapcli's: whose process made it, on which host, for which job
    (and, for a previous result set aside, where it goes back if the process dies)."""
    marker: dict[str, Any] = {"Pid": os.getpid(), "Host": socket.gethostname(), "JobId": job_id}
    if restore is not None:
        marker["Restore"] = restore
    (folder / STAGING_MARKER).write_text(json.dumps(marker), encoding="utf-8")


def _remove_staging(folder: Path) -> None:
    """Remove a staging folder of this process: the files snapcli writes, its marker, then the
    folder, if that empties it (anything else stays)."""
    with contextlib.suppress(OSError):
        for entry in os.scandir(folder):
            if OWN_NAME.fullmatch(entry.name) and entry.is_file(follow_symlinks=False):
                os.unlink(entry.path)
        (folder / STAGING_MARKER).unlink()
        folder.rmdir()


def _exchange(first: Path, second: Path) -> bool:
    """Swap two paths in one step (Linux's renameat2 with RENAME_EXCHANGE); False where the
    system or the file system cannot."""
    if not sys.platform.startswith("linux"):
        return False
    import ctypes

    try:
        renameat2 = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError):
        return False
    renameat2.argtypes = [
        ctypes.c_int,
        ctypes.c_char_p,
        ctypes.c_int,
        ctypes.c_char_p,
        ctypes.c_uint,
    ]
    at_cwd, exchange = -100, 2
    if renameat2(at_cwd, os.fsencode(first), at_cwd, os.fsencode(second), exchange) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP):
        return False
    raise OSError(code, os.strerror(code), str(second))


def _running(pid: object) -> bool:
    if not isinstance(pid, int) or pid <= 0:
        return False
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
