"""The state database keeps working across versions: a file an earlier snapcli made is migrated
with its records, and one a newer snapcli made is refused, untouched."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from snapcli.service.migrations import MIGRATIONS

EARLIER = """
CREATE TABLE templates (template_id TEXT PRIMARY KEY, name TEXT NOT NULL,
    snapshot_type TEXT NOT NULL, config TEXT NOT NULL, created TEXT NOT NULL,
    modified TEXT NOT NULL);
CREATE TABLE jobs (seq INTEGER PRIMARY KEY AUTOINCREMENT, job_id TEXT UNIQUE NOT NULL,
    request_id TEXT NOT NULL, dialect TEXT NOT NULL DEFAULT 'vod', pipeline TEXT,
    video_id TEXT NOT NULL, video_path TEXT NOT NULL, state TEXT NOT NULL, spec TEXT NOT NULL,
    created REAL NOT NULL, started REAL, finished REAL, attempts INTEGER NOT NULL DEFAULT 0,
    worker_pid INTEGER, code TEXT, message TEXT, event TEXT, callback TEXT);
INSERT INTO templates VALUES ('0123456789abcdef0123456789abcdef', 'covers', 'NormalSnapshot',
    '{"SnapshotType": "NormalSnapshot", "SnapshotConfig": {"Count": 8}}',
    '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z');
INSERT INTO jobs (job_id, request_id, video_id, video_path, state, spec, created, attempts)
    VALUES ('fedcba9876543210fedcba9876543210', 'R', 'old.mp4', '/videos/old.mp4', 'Fail',
    '{"video_id": "old.mp4", "cwd": "/videos", "output_dir": "snapshots", "request": {},
      "options": {}, "ffmpeg": null, "name": null, "extra": {}}', 1767225600, 1);
"""


def database(tmp_path: Path) -> Path:
    path = tmp_path / "snapcli-home" / "snapcli.db"
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def version(path: Path) -> int:
    with sqlite3.connect(path) as connection:
        return int(connection.execute("PRAGMA user_version").fetchone()[0])


def test_a_file_an_earlier_snapcli_made_is_migrated_with_its_records(
    run_cli, tmp_path: Path
) -> None:
    path = database(tmp_path)
    with sqlite3.connect(path) as connection:
        connection.executescript(EARLIER)
    assert version(path) == 0
    listed = run_cli("jobs", "list", "--json")
    assert listed.code == 0, listed.stderr
    (job,) = json.loads(listed.stdout)["Jobs"]
    assert job["JobId"] == "fedcba9876543210fedcba9876543210" and job["State"] == "Fail"
    templates = json.loads(run_cli("template", "list", "--json").stdout)["VodTemplateInfoList"]
    assert [t["Name"] for t in templates] == ["covers"]
    assert version(path) == len(MIGRATIONS)


def test_a_file_a_newer_snapcli_made_is_refused_untouched(run_cli, tmp_path: Path) -> None:
    path = database(tmp_path)
    with sqlite3.connect(path) as connection:
        connection.executescript(EARLIER + f"PRAGMA user_version = {len(MIGRATIONS) + 5};")
    before = path.read_bytes()
    result = run_cli("jobs", "list")
    assert result.code == 1
    assert result.stderr.startswith("snapcli: PermissionDenied.ResourceAccess: ")
    assert "made by a newer snapcli" in result.stderr and len(result.stderr.splitlines()) == 1
    assert path.read_bytes() == before


def test_a_new_file_starts_at_the_newest_schema(run_cli, tmp_path: Path) -> None:
    assert run_cli("template", "list").code == 0
    assert version(database(tmp_path)) == len(MIGRATIONS)


def test_without_posix_locks_the_queue_says_windows_is_not_supported(
    run_cli, monkeypatch, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    from snapcli.service import state

    monkeypatch.setattr(state, "fcntl", None)  # as on Windows, which has no fcntl module
    sample = Path(__file__).parent.parent / "samples" / "sample.mp4"
    result = run_cli("submit", f"VideoId={sample}", "Count=1")
    assert result.code == 1
    assert result.stderr == (
        "snapcli: InternalError: snapcli's job queue needs POSIX file locks, which this system "
        "lacks: Windows is not supported (grab, sprite and batch run; submit and jobs do not).\n"
    )


def test_settings_come_from_one_place(tmp_path: Path) -> None:
    from snapcli.settings import Settings

    settings = Settings.from_environment(
        {"SNAPCLI_HOME": str(tmp_path), "SNAPCLI_FFMPEG": "/opt/ff/ffmpeg",
         "SNAPCLI_STALL_TIMEOUT": "oops", "SNAPCLI_JOB_SLOTS": "3"}
    )  # fmt: skip
    assert settings.state_home == tmp_path and settings.ffmpeg == "/opt/ff/ffmpeg"
    assert settings.stall_timeout == 60.0 and settings.job_slots == 3
    assert settings.with_ffmpeg(None) == settings
    assert Settings.from_environment({}).state_home.name == "snapcli"


def test_a_new_state_file_opened_by_many_at_once_is_never_locked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first burst of a server's requests: twenty threads and four other processes open a
    state file that does not exist yet, all at once, and write. Switching a new file into WAL
    mode answered "locked" to whoever came second (a failed SubmitSnapshotJob under load)."""
    import os
    import subprocess
    import sys
    import threading

    from snapcli.service import state

    other = (
        "from snapcli.service.state import connect\nwith connect() as db: db.execute('SELECT 1')"
    )
    for attempt in range(5):
        monkeypatch.setenv("SNAPCLI_HOME", str(tmp_path / f"home{attempt}"))
        state._prepared.clear()
        errors: list[Exception] = []

        def write(errors: list[Exception] = errors) -> None:
            try:
                with state.connect() as db:
                    db.execute("INSERT INTO templates VALUES (?, ?, ?, ?, ?, ?)",
                               (os.urandom(16).hex(), "n", "NormalSnapshot", "{}", "t", "t"))  # fmt: skip
            except Exception as error:
                errors.append(error)

        processes = [subprocess.Popen([sys.executable, "-c", other], stderr=subprocess.PIPE)
                     for _ in range(4)]  # fmt: skip
        threads = [threading.Thread(target=write) for _ in range(20)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        failed = [p.stderr.read() for p in processes if p.wait() != 0 and p.stderr]
        assert errors == [] and failed == []
