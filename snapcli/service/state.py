"""Where snapcli keeps its state: templates and job records in one SQLite file under the home
folder ($SNAPCLI_HOME, else the platform's user data folder), plus the lock files that tell a
living job worker from a dead one.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
import time
import warnings
from collections.abc import Iterator
from pathlib import Path

from snapcli.errors import (
    InternalError,
    PermissionDenied,
    SnapcliError,
    SnapcliWarning,
    StateDamaged,
)
from snapcli.service.migrations import migrate
from snapcli.settings import Settings

try:  # POSIX file locks: the kernel drops them when their process dies, however it dies
    import fcntl
except ImportError:  # Windows: not supported (docs/decisions.md)
    fcntl = None  # type: ignore[assignment]

DATABASE = "snapcli.db"


def home() -> Path:
    """$SNAPCLI_HOME, else the platform's folder for a user's application data."""
    return Settings.from_environment().state_home


def _made(folder: Path) -> Path:
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise PermissionDenied(
            f"snapcli's state folder {folder} cannot be made ({error.strerror or error}); "
            "point $SNAPCLI_HOME at a writable folder."
        ) from None
    return folder


_prepared: set[Path] = set()  # databases this process has made sure of (WAL, tables)
_preparing = threading.Lock()  # one thread of a process prepares; the others wait for it
WAL_SECONDS = 30.0  # how long to keep asking for WAL mode while others hold the file
_DAMAGED_CODES = (11, 26)  # SQLITE_CORRUPT, SQLITE_NOTADB


def _is_damage(error: sqlite3.DatabaseError) -> bool:
    code = getattr(error, "sqlite_errorcode", None)
    if code is not None:
        return code in _DAMAGED_CODES
    return "malformed" in str(error) or "not a database" in str(error)


def _set_aside(path: Path, error: sqlite3.DatabaseError) -> None:
    """Move a damaged state database (and its journal files) aside, never deleting it, and say
    so: templates and job records start anew, and the old file stays for whoever wants it."""
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    aside = path.with_name(f"{path.name}.damaged-{stamp}-{os.getpid()}")
    try:
        for suffix in ("-wal", "-shm", ""):
            journal = Path(f"{path}{suffix}")
            if journal.exists():
                os.replace(journal, f"{aside}{suffix}")
    except OSError as move_error:
        raise StateDamaged(
            f"snapcli's state database {path} is damaged ({error}) and could not be moved "
            f"aside ({move_error.strerror or move_error}); move or remove it."
        ) from None
    warnings.warn(
        f"snapcli's state database {path} was damaged ({error}); it was moved to {aside} "
        "and a new one started (earlier templates and job records are in the old file).",
        SnapcliWarning,
        stacklevel=3,
    )


def _prepare(path: Path) -> None:
    """Once a process: WAL mode (it stays with the file) and the tables. A damaged file is set
    aside and a new one made, before any work uses it."""
    with _preparing:
        if path not in _prepared:
            _prepare_now(path)


def _prepare_now(path: Path) -> None:
    for last_try in (False, True):
        try:
            connection = sqlite3.connect(path, timeout=30, isolation_level=None)
            try:
                migrate(connection)  # first: a file this snapcli cannot use stays untouched
                _into_wal(connection)
            finally:
                connection.close()
        except sqlite3.DatabaseError as error:
            if last_try or not _is_damage(error):
                raise
            _set_aside(path, error)
            continue
        _prepared.add(path)
        return


def _into_wal(connection: sqlite3.Connection) -> None:
    """WAL mode, which readers and one writer share. Switching a new file into it needs the file
    to itself, and SQLite answers "locked" at once (no busy wait) while another process has it
    open, as the first burst of a server's or a batch's jobs does: ask again for a while."""
    deadline = time.monotonic() + WAL_SECONDS
    while True:
        try:
            connection.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) or time.monotonic() > deadline:
                raise
            time.sleep(0.05)


@contextlib.contextmanager
def connect(immediate: bool = False) -> Iterator[sqlite3.Connection]:
    """A connection to the state database, in one transaction that commits on leaving (an
    `immediate` one takes the write lock at once, for read-then-write steps)."""
    path = home() / DATABASE
    try:
        if path not in _prepared:
            _made(path.parent)
            _prepare(path)
        connection = sqlite3.connect(path, timeout=30, isolation_level=None)
    except sqlite3.Error as error:
        raise _unusable(path, error) from None
    try:
        connection.row_factory = sqlite3.Row
        connection.execute("PRAGMA synchronous=NORMAL")
        connection.execute("BEGIN IMMEDIATE" if immediate else "BEGIN")
        try:
            yield connection
        except BaseException:
            with contextlib.suppress(sqlite3.Error):
                connection.execute("ROLLBACK")
            raise
        connection.execute("COMMIT")
    except sqlite3.Error as error:
        raise _unusable(path, error) from None
    finally:
        connection.close()


def _unusable(path: Path, error: sqlite3.Error) -> SnapcliError:
    if isinstance(error, sqlite3.DatabaseError) and _is_damage(error):
        return StateDamaged(
            f"snapcli's state database {path} is damaged ({error}); move it aside and run "
            "the command again."
        )
    return PermissionDenied(f"snapcli's state database {path} cannot be used ({error}).")


class FileLock:
    """An exclusive, non-blocking lock on a file under the home folder's locks/ (flock: the
    kernel releases it when its process dies, however it dies)."""

    def __init__(self, name: str) -> None:
        self.path = _made(home() / "locks") / name
        self._fd: int | None = None

    def acquire(self) -> bool:
        if fcntl is None:
            raise InternalError(
                "snapcli's job queue needs POSIX file locks, which this system lacks: Windows is "
                "not supported (grab, sprite and batch run; submit and jobs do not)."
            )
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        self._fd = fd
        return True

    def release(self, remove: bool = False) -> None:
        if self._fd is None:
            return
        if remove:
            with contextlib.suppress(OSError):
                self.path.unlink()
        os.close(self._fd)  # closing the descriptor drops the lock
        self._fd = None

    @property
    def held(self) -> bool:
        return self._fd is not None
