"""Everything snapcli takes from its surroundings, read in one place: which ffmpeg to run, where
its state lives, how long a silent ffmpeg is given, how many queued jobs run at once.

`Settings.from_environment()` reads the SNAPCLI_* variables; a library user may build one, and
the CLI applies its --ffmpeg flag to it. One object travels down to everything that needs it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path

DEFAULT_STALL_TIMEOUT = 60.0


@dataclass(frozen=True)
class Settings:
    ffmpeg: str | None = None  # the ffmpeg program, or its folder; None: imageio-ffmpeg's, PATH
    home: Path | None = None  # the state folder; None: the platform's user data folder
    stall_timeout: float = DEFAULT_STALL_TIMEOUT  # seconds an ffmpeg may print nothing
    job_slots: int | None = None  # queued jobs at once; None: one per core

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """$SNAPCLI_FFMPEG, $SNAPCLI_HOME, $SNAPCLI_STALL_TIMEOUT and
        $SNAPCLI_JOB_SLOTS; what is unset or malformed keeps its default."""
        env = os.environ if environ is None else environ
        home = env.get("SNAPCLI_HOME")
        slots = env.get("SNAPCLI_JOB_SLOTS", "")
        return cls(
            ffmpeg=env.get("SNAPCLI_FFMPEG") or None,
            home=Path(home).expanduser().absolute() if home else None,
            stall_timeout=_number(env.get("SNAPCLI_STALL_TIMEOUT"), DEFAULT_STALL_TIMEOUT),
            job_slots=max(1, int(slots)) if slots.isdigit() else None,
        )

    def with_ffmpeg(self, ffmpeg: str | None) -> Settings:
        """These settings with another ffmpeg, when one is named."""
        return replace(self, ffmpeg=ffmpeg) if ffmpeg else self

    @property
    def state_home(self) -> Path:
        """Where templates and job records live."""
        if self.home is not None:
            return self.home
        import platformdirs

        return platformdirs.user_data_path("snapcli", appauthor=False)


def _number(text: str | None, default: float) -> float:
    try:
        return float(text) if text else default
    except ValueError:
        return default


def current(settings: Settings | None) -> Settings:
    """The settings given, else the environment's."""
    return settings if settings is not None else Settings.from_environment()
