"""One exception class per API error code, each carrying its HTTP status and exit status.

The CLI turns any of these into one line on stderr (``snapcli: <Code>: <message>``) and the exit
status; the library raises them as they are.
"""

from __future__ import annotations

from enum import IntEnum
from typing import Any


def printable(text: str) -> str:
    """Text for a terminal: control characters (newlines, escape sequences) shown escaped,
    never acted on. File names and servers' answers may hold anything."""
    return "".join(
        c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in text
    )


class ExitStatus(IntEnum):
    SUCCESS = 0
    JOB_FAILED = 1
    INVALID_REQUEST = 2
    BATCH_PARTIAL = 3
    FFMPEG_UNAVAILABLE = 4
    INTERRUPTED = 130
    CLOSED_PIPE = 141  # 128 + SIGPIPE: stdout's reader went away, as shells report it


class SnapcliError(Exception):
    """Base of every error snapcli reports to a user."""

    code = "InternalError"
    http_status = 500
    exit_status = ExitStatus.JOB_FAILED

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message
        # A job's fail event (a SnapshotComplete), attached by the job that failed.
        self.event: dict[str, Any] | None = None

    def __str__(self) -> str:
        return self.message


class VideoNotFound(SnapcliError):
    code = "InvalidVideo.NotFound"
    http_status = 404


class InvalidParameter(SnapcliError):
    code = "InvalidParameter"
    http_status = 400
    exit_status = ExitStatus.INVALID_REQUEST


class JsonFormatInvalid(InvalidParameter):
    """A parameter that must be a JSON object does not parse (the MTS dialect's code)."""

    code = "InvalidParameter.JsonObjectFormatInvalid"


class ResourceNotFound(SnapcliError):
    """The MTS dialect's input object is not there."""

    code = "InvalidParameter.ResourceNotFound"
    http_status = 404


class TemplateNotFound(SnapcliError):
    code = "InvalidParameter.TemplateNotFound"
    http_status = 404


class ResourceContentBad(SnapcliError):
    code = "InvalidParameter.ResourceContentBad"
    http_status = 400


class PermissionDenied(SnapcliError):
    code = "PermissionDenied.ResourceAccess"
    http_status = 403


class SnapshotTimeOut(SnapcliError):
    code = "SnapshotTimeOut"
    http_status = 504


class InternalError(SnapcliError):
    code = "InternalError"
    http_status = 500


class StateDamaged(SnapcliError):
    """snapcli's own state database is damaged where it cannot be set aside."""

    code = "InternalError"
    http_status = 500


class SnapcliWarning(UserWarning):
    """Something the user should know that does not stop the work: the CLI prints it as
    ``snapcli: warning: …``."""


class Interrupted(SnapcliError):
    """The job was stopped from outside (Ctrl-C in a batch)."""

    code = "Interrupted"
    http_status = 499
    exit_status = ExitStatus.INTERRUPTED


class FFmpegUnavailable(SnapcliError):
    """ffmpeg is missing or unusable: not an API code, a local one (exit 4)."""

    code = "FFmpegUnavailable"
    http_status = 500
    exit_status = ExitStatus.FFMPEG_UNAVAILABLE


class SignatureDoesNotMatch(SnapcliError):
    """The API gateway's errors, as `snapcli serve` answers them."""

    code = "SignatureDoesNotMatch"
    http_status = 400


class IncompleteSignature(SnapcliError):
    code = "IncompleteSignature"
    http_status = 400


class InvalidAccessKeyId(SnapcliError):
    code = "InvalidAccessKeyId.NotFound"
    http_status = 404


class InvalidTimeStamp(SnapcliError):
    code = "InvalidTimeStamp.Expired"
    http_status = 400


class SignatureNonceUsed(SnapcliError):
    code = "SignatureNonceUsed"
    http_status = 400


class ActionNotFound(SnapcliError):
    code = "InvalidAction.NotFound"
    http_status = 404


class VersionInvalid(SnapcliError):
    code = "InvalidVersion"
    http_status = 400


class ClusterUnavailable(SnapcliError):
    """A batch's cluster cannot run it: unreachable, no workers, another snapcli version, or a
    worker that does not see the output folder. Nothing was started."""

    code = "ClusterUnavailable"
    http_status = 503
