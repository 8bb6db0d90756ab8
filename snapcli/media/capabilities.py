"""What an ffmpeg binary can do, learnt by trying and remembered: in this process, and in a small
file under snapcli's home, keyed by the binary's real path, size and modification time (a binary
replaced in place is asked again). A remembered refusal spares each later command a failed start
(~80 ms for Debian's 5.1, which refuses input bitstream filters). Nothing here may fail a job: a
home that cannot be read or written only means asking again."""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from pathlib import Path

from snapcli.settings import Settings, current

MEMO_FILE = "ffmpeg-capabilities.json"
_known: dict[str, set[str]] = {}  # binary key → what it lacks, in this process


def lacks(binary: str, capability: str, settings: Settings | None = None) -> bool:
    """Whether this binary was found to lack `capability`."""
    key = _key(binary)
    if key is None:
        return False
    if key not in _known:
        _known[key] = set(_memo(settings).get(key, []))
    return capability in _known[key]


def remember_lacking(binary: str, capability: str, settings: Settings | None = None) -> None:
    key = _key(binary)
    if key is None:
        return
    _known.setdefault(key, set()).add(capability)
    memo = _memo(settings)
    memo[key] = sorted(set(memo.get(key, [])) | {capability})
    with contextlib.suppress(OSError):
        home = current(settings).state_home
        home.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(prefix=".capabilities-", dir=home)
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            json.dump(memo, file)
        os.replace(temporary, home / MEMO_FILE)


def _key(binary: str) -> str | None:
    try:
        real = os.path.realpath(binary)
        status = os.stat(real)
    except OSError:
        return None
    return f"{real}|{status.st_size}|{status.st_mtime_ns}"


def _memo(settings: Settings | None) -> dict[str, list[str]]:
    try:
        path: Path = current(settings).state_home / MEMO_FILE
        memo = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return memo if isinstance(memo, dict) else {}
