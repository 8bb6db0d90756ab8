"""Where snapcli keeps its state: templates and job records in one SQLite file under the home
folder ($SNAPCLI_HOME, else the platform's user data folder), plus the lock files that tell a
living job worker from a dead one.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import sqlite3
import sys
from collections.abc import Iterator
from pathlib import Path

from .errors import PermissionDenied

DATABASE = "snapcli.db"
SCHEMA = """
CREATE TABLE IF NOT EXISTS templates (
    template_id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    snapshot_type TEXT NOT NULL,
    config TEXT NOT NULL,
    created TEXT NOT NULL,
    modified TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS jobs (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    job_id TEXT UNIQUE NOT NULL,
    request_id TEXT NOT NULL,
    dialect TEXT NOT NULL DEFAULT 'vod',
    pipeline TEXT,
    video_id TEXT NOT NULL,
    video_path TEXT NOT NULL,
    state TEXT NOT NULL,
    spec TEXT NOT NULL,
    created REAL NOT NULL,
    started REAL,
    finished REAL,
    attempts INTEGER NOT NULL DEFAULT 0,
    worker_pid INTEGER,
    code TEXT,
    message TEXT,
    event TEXT,
    callback TEXT
);
CREATE INDEX IF NOT EXISTS jobs_by_state ON jobs (state, seq);
CREATE INDEX IF NOT EXISTS jobs_by_video ON jobs (video_path, seq);
"""


def home() -> Path:
    """$SNAPCLI_HOME, else the platform's folder for a user's application data."""
    explicit = os.environ.get("SNAPCLI_HOME")
    if explicit:
        return Path(explicit).expanduser().absolute()
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Application Support" / "snapcli"
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "snapcli"


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


@contextlib.contextmanager
def connect(immediate: bool = False) -> Iterator[sqlite3.Connection]:
    """A connection to the state database, in one transaction that commits on leaving (an
    `immediate` one takes the write lock at once, for read-then-write steps)."""
    path = home() / DATABASE
    if path not in _prepared:
        _made(path.parent)
    try:
        connection = sqlite3.connect(path, timeout=30, isolation_level=None)
    except sqlite3.Error as error:
        raise PermissionDenied(
            f"snapcli's state database {path} cannot be opened ({error})."
        ) from None
    try:
        connection.row_factory = sqlite3.Row
        connection.execute("PRAGMA synchronous=NORMAL")
        if path not in _prepared:  # once a process: WAL mode stays with the file
            connection.execute("PRAGMA journal_mode=WAL")
            connection.executescript(SCHEMA)
            _prepared.add(path)
        connection.execute("BEGIN IMMEDIATE" if immediate else "BEGIN")
        try:
            yield connection
        except BaseException:
            connection.execute("ROLLBACK")
            raise
        connection.execute("COMMIT")
    finally:
        connection.close()


class FileLock:
    """An exclusive, non-blocking lock on a file under the home folder's locks/ (flock: the
    kernel releases it when its process dies, however it dies)."""

    def __init__(self, name: str) -> None:
        self.path = _made(home() / "locks") / name
        self._fd: int | None = None

    def acquire(self) -> bool:
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
