"""The state database's schema, as numbered migrations applied in order.

Each migration is a list of SQL statements; the database's `user_version` records how many have
been applied, so a file made by any earlier snapcli is brought up to date on first use and keeps
its templates and job records. Add a migration at the end, never change one that has shipped. A
file made by a newer snapcli (a higher version) is refused, never changed.
"""

from __future__ import annotations

import sqlite3

from snapcli.errors import PermissionDenied

MIGRATIONS: tuple[tuple[str, list[str]], ...] = (
    # 1: the first schema. Files made before migrations were numbered hold exactly these tables
    # (at user_version 0): IF NOT EXISTS leaves them and their rows as they are.
    (
        "templates and job records",
        [
            """
        CREATE TABLE IF NOT EXISTS templates (
            template_id TEXT PRIMARY KEY,
            name TEXT NOT NULL,
            snapshot_type TEXT NOT NULL,
            config TEXT NOT NULL,
            created TEXT NOT NULL,
            modified TEXT NOT NULL
        )
        """,
            """
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
        )
        """,
            """
        CREATE INDEX IF NOT EXISTS jobs_by_state ON jobs (state, seq)
        """,
            """
        CREATE INDEX IF NOT EXISTS jobs_by_video ON jobs (video_path, seq)
        """,
        ],
    ),
)


def migrate(connection: sqlite3.Connection) -> None:
    """Bring a state database up to the newest schema, each migration in a transaction of its
    own (under the write lock, so two processes never apply one twice)."""
    for _ in range(len(MIGRATIONS) + 1):
        connection.execute("BEGIN IMMEDIATE")
        try:
            version = connection.execute("PRAGMA user_version").fetchone()[0]
            if version > len(MIGRATIONS):
                raise PermissionDenied(
                    f"snapcli's state database was made by a newer snapcli (schema {version}, "
                    f"this one knows {len(MIGRATIONS)}): upgrade snapcli, or point $SNAPCLI_HOME "
                    "elsewhere."
                )
            if version == len(MIGRATIONS):
                connection.execute("COMMIT")
                return
            for statement in MIGRATIONS[version][1]:
                connection.execute(statement)
            connection.execute(f"PRAGMA user_version = {version + 1}")
            connection.execute("COMMIT")
        except BaseException:
            connection.execute("ROLLBACK")
            raise
