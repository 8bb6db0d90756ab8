"""Running ffmpeg: finding it, argument lists only, a no-progress watchdog, cleanup.

The only module that starts processes. A process that writes nothing on stdout or stderr for
``stall_timeout`` seconds is killed (ffmpeg prints its stats line twice a second while it works,
so silence means it is stuck), and every live child is killed when the job is interrupted.
"""

from __future__ import annotations

import importlib.util
import io
import os
import re
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Sequence
from functools import cache
from pathlib import Path
from typing import Literal

from snapcli.errors import FFmpegUnavailable, InternalError, Interrupted, SnapshotTimeOut
from snapcli.settings import Settings, current

Tool = Literal["ffmpeg"]

# A showinfo line on ffmpeg's stderr: the frame's pts (in the filter's time base) and key flag.
SHOWN_FRAME = re.compile(r"\[Parsed_showinfo_\d+ @ [^\]]+\] n:\s*\d+ pts:\s*(-?\d+) .* iskey:(\d)")
# Signals a program dies of when it crashes (not when it is stopped).
_CRASH_SIGNALS = {
    getattr(signal, name)
    for name in ("SIGSEGV", "SIGBUS", "SIGILL", "SIGFPE", "SIGABRT")
    if hasattr(signal, name)
}
INSTALL_HINT = (
    "reinstall snapcli with pip (its imageio-ffmpeg package carries an ffmpeg), install FFmpeg "
    "(Debian/Ubuntu: sudo apt-get install ffmpeg; macOS: brew install ffmpeg; Windows: winget "
    "install ffmpeg), or name the program with --ffmpeg or SNAPCLI_FFMPEG"
)


def find_tool(tool: Tool = "ffmpeg", settings: Settings | None = None) -> str:
    """The ffmpeg to run: the one the settings name (the program, or its folder), else the one
    pip installed with snapcli (imageio-ffmpeg's static build), else the one on PATH."""
    settings = current(settings)
    override = settings.ffmpeg
    if override:
        location = Path(override)
        folder = location if location.is_dir() else location.parent
        candidate = location if not location.is_dir() else folder / tool
        found = shutil.which(str(candidate)) or shutil.which(tool + ".exe", path=str(folder))
        if found:
            return found
        raise FFmpegUnavailable(f"ffmpeg was not found at {override}; {INSTALL_HINT}.")
    found = bundled_ffmpeg() or shutil.which(tool)
    if not found:
        raise FFmpegUnavailable(f"{tool} was not found on PATH; {INSTALL_HINT}.")
    return found


def bundled_ffmpeg() -> str | None:
    """The static ffmpeg that the imageio-ffmpeg package carries. $IMAGEIO_FFMPEG_EXE names
    another, as imageio-ffmpeg's own users set it."""
    named = os.environ.get("IMAGEIO_FFMPEG_EXE")
    return shutil.which(named) if named else _packaged_ffmpeg()


@cache
def _packaged_ffmpeg() -> str | None:
    """imageio-ffmpeg's binary, found without importing the package (which runs the program
    once to check it: 10-20 ms a process)."""
    try:
        spec = importlib.util.find_spec("imageio_ffmpeg")
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = Path(next(iter(spec.submodule_search_locations))) / "binaries"
    for candidate in sorted(folder.glob("ffmpeg-*")):
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    return None


def stall_timeout() -> float:
    """How long an ffmpeg may print nothing before it is taken for stuck."""
    return Settings.from_environment().stall_timeout


_live: set[ToolProcess] = set()
_live_lock = threading.Lock()
_stopping = threading.Event()


def kill_all() -> None:
    """Kill every child still running (on Ctrl-C or any abort)."""
    with _live_lock:
        processes = list(_live)
    for process in processes:
        process.kill()


def stop_all() -> None:
    """Stop for good: kill every child and refuse to start new ones (an interrupted batch)."""
    _stopping.set()
    kill_all()


def stopping() -> bool:
    return _stopping.is_set()


class ToolProcess:
    """One ffmpeg child with stdout read by the caller and stderr read in a thread."""

    def __init__(
        self,
        args: Sequence[str],
        on_stderr_line: Callable[[str], None] | None = None,
        timeout: float | None = None,
    ) -> None:
        self.args = list(args)
        self.timed_out = False
        self._on_stderr_line = on_stderr_line
        self._timeout = stall_timeout() if timeout is None else timeout
        self._stderr_tail: list[str] = []
        self._last_activity = time.monotonic()
        if _stopping.is_set():
            raise Interrupted("interrupted.")
        try:
            self._process = subprocess.Popen(
                self.args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE
            )
        except OSError as error:
            raise FFmpegUnavailable(
                f"{self.args[0]} could not be started ({error.strerror}); {INSTALL_HINT}."
            ) from None
        with _live_lock:
            _live.add(self)
        self._stderr_thread = threading.Thread(target=self._read_stderr, daemon=True)
        self._stderr_thread.start()
        self._watchdog = threading.Thread(target=self._watch, daemon=True)
        self._watchdog.start()

    def __enter__(self) -> ToolProcess:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.kill()
        self._reap()

    def read(self, size: int) -> bytes:
        """Exactly size bytes of stdout, or fewer at its end."""
        assert self._process.stdout is not None
        chunks: list[bytes] = []
        remaining = size
        while remaining:
            chunk = self._process.stdout.read(remaining)
            if not chunk:
                break
            self._last_activity = time.monotonic()
            chunks.append(chunk)
            remaining -= len(chunk)
        return b"".join(chunks)

    def read_some(self, most: int) -> bytes:
        """What stdout has ready, up to `most` bytes (waiting only when it has nothing); b"" at
        its end."""
        stdout = self._process.stdout
        assert isinstance(stdout, io.BufferedReader)
        chunk = stdout.read1(most)
        if chunk:
            self._last_activity = time.monotonic()
        return chunk

    def read_all(self) -> bytes:
        chunks = []
        while chunk := self.read(1 << 16):
            chunks.append(chunk)
        return b"".join(chunks)

    def wait(self) -> int:
        """Wait for the exit; raise SnapshotTimeOut when the watchdog killed it."""
        code = self._reap()
        if self.timed_out:
            raise SnapshotTimeOut(
                f"{Path(self.args[0]).name} made no progress for {self._timeout:g} s and was "
                "stopped."
            )
        return code

    def _reap(self) -> int:
        code = self._process.wait()
        self._stderr_thread.join()
        for pipe in (self._process.stdout, self._process.stderr):
            if pipe is not None:  # closed here, not left to the garbage collector's warning
                pipe.close()
        with _live_lock:
            _live.discard(self)
        return code

    def kill(self) -> None:
        if self._process.poll() is None:
            self._process.kill()

    @property
    def stderr_text(self) -> str:
        return "\n".join(self._stderr_tail)

    def _read_stderr(self) -> None:
        assert self._process.stderr is not None
        pending = b""
        while chunk := self._process.stderr.read1(1 << 14):  # type: ignore[attr-defined]
            self._last_activity = time.monotonic()
            pending += chunk
            *lines, pending = pending.replace(b"\r", b"\n").split(b"\n")
            for line in lines:
                self._take_stderr_line(line)
        if pending:
            self._take_stderr_line(pending)

    def _take_stderr_line(self, raw: bytes) -> None:
        indented = raw.decode("utf-8", "replace").rstrip()  # ffmpeg's indents tell its sections
        line = indented.lstrip()
        if not line:
            return
        if self._on_stderr_line:
            self._on_stderr_line(indented)
        if not line.startswith(("frame=", "[Parsed_showinfo")):
            self._stderr_tail = (self._stderr_tail + [line])[-40:]

    def _watch(self) -> None:
        while self._process.poll() is None:
            if time.monotonic() - self._last_activity > self._timeout:
                self.timed_out = True
                self._process.kill()
                return
            time.sleep(min(0.25, self._timeout / 4))


def raise_if_crashed(code: int, tool: Tool, source: str) -> None:
    """A tool that crashed is at fault, not the video: say so, rather than call the video bad."""
    if code < 0 and -code in _CRASH_SIGNALS:
        name = signal.Signals(-code).name
        raise InternalError(
            f"{tool} crashed ({name}) while reading {source}; the video may be fine: "
            "try another FFmpeg build."
        )


def run_to_end(args: Sequence[str], timeout: float | None = None) -> tuple[int, bytes, str]:
    """Run a child to its end: (exit code, stdout, the tail of stderr)."""
    with ToolProcess(args, timeout=timeout) as process:
        output = process.read_all()
        code = process.wait()
        return code, output, process.stderr_text
