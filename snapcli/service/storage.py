"""Buckets as folders under a storage root (the MTS dialect), with every path confined to its
bucket (docs/safety.md).

Confinement is checked on the final path: after the Object's placeholders are filled in, and
after symbolic links. Reads resolve the whole path and compare it with the bucket's real path.
Writes walk the folders one at a time from the bucket's real path with ``O_NOFOLLOW`` (openat
style) and rename into the last one by its descriptor, so a link put in place after a check
cannot lead a write out of the bucket either.
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from snapcli.core.mts import check_bucket_name, object_parts
from snapcli.errors import InvalidParameter, ResourceNotFound, VideoNotFound

_DIRECTORY_FLAGS = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_NOFOLLOW", 0)


def _inside(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


@dataclass(frozen=True)
class Storage:
    """A storage root whose folders are buckets."""

    root: Path  # its real path

    @classmethod
    def at(cls, root: str | os.PathLike[str]) -> Storage:
        real = Path(os.path.realpath(root))
        if not real.is_dir():
            raise InvalidParameter(f"the storage root {root} is not a folder.")
        return cls(real)

    def bucket(self, name: str, what: str = "Bucket", create: bool = False) -> Path:
        """A bucket's real path; it must be a folder of the root (a link to elsewhere is
        refused). With `create`, a missing bucket is made."""
        check_bucket_name(name, what)
        path = self.root / name
        if create and not os.path.lexists(path):
            with contextlib.suppress(FileExistsError):
                os.mkdir(path)
        real = os.path.realpath(path)
        if not _inside(real, str(self.root)) or real == str(self.root):
            raise InvalidParameter(f"{what} {name!r} leads out of the storage root.")
        if not os.path.isdir(real):
            raise ResourceNotFound(
                f"the bucket {name} does not exist (buckets are folders under {self.root})."
            )
        return Path(real)

    def readable(self, bucket: str, name: str, what: str) -> Path:
        """The real path of an object to read: a regular file inside its bucket."""
        folder = self.bucket(bucket, f"{what}.Bucket")
        parts = object_parts(name, f"{what}.Object")
        real = os.path.realpath(folder.joinpath(*parts))
        if not _inside(real, str(folder)):
            raise InvalidParameter(f"{what}.Object {name!r} leads out of its bucket.")
        if not os.path.isfile(real):
            raise ResourceNotFound(
                f"the input object {bucket}/{name} does not exist "
                f"(buckets are folders under {self.root})."
            )
        return Path(real)

    def media_file(self, name: str, what: str = "VideoId") -> Path:
        """The real path of a file named relative to the root (a VOD VideoId under
        `snapcli serve --media-root`): a regular file inside the root, links resolved."""
        parts = [part for part in name.split("/") if part not in ("", ".")]
        if name.startswith("/") or ".." in parts or "\\" in name or ":" in name[1:2]:
            raise InvalidParameter(f"{what} must be a path under the media root, got {name!r}.")
        parts = object_parts(name, what)
        real = os.path.realpath(self.root.joinpath(*parts))
        if not _inside(real, str(self.root)):
            raise InvalidParameter(f"{what} {name!r} leads out of the media root.")
        if not os.path.isfile(real):
            raise VideoNotFound(f"the video {name} does not exist under the media root.")
        return Path(real)

    def target(self, bucket: str, name: str, what: str) -> Target:
        """Where an object will be written, checked now; `put` checks again as it writes."""
        folder = self.bucket(bucket, f"{what}.Bucket", create=True)
        return Target(folder, tuple(object_parts(name, f"{what}.Object")), f"{bucket}/{name}")


@dataclass(frozen=True)
class Target:
    """An object to write: its bucket's real path and the parts below it."""

    bucket: Path
    parts: tuple[str, ...]
    name: str  # bucket/object, for messages

    @property
    def path(self) -> Path:
        return self.bucket.joinpath(*self.parts)

    def is_file(self, real: Path) -> bool:
        """Whether this object is the file at `real` (a real path)."""
        if str(self.path) == str(real):
            return True
        return os.path.realpath(self.path) == str(real) and not os.path.islink(self.path)

    def put(self, source: Path) -> None:
        """Move a finished file to this object in one step for readers. Its folders are made as
        needed; none of them may be a link."""
        folder = self._open_folder()
        try:
            try:
                os.replace(source, self.parts[-1], dst_dir_fd=folder)
            except OSError as error:
                if error.errno != errno.EXDEV:  # another file system: copy; else a failure
                    raise
                self._copy_in(source, folder)
        finally:
            os.close(folder)

    def remove(self) -> None:
        """Remove this object, as `put` left it (used to undo a failed job's files)."""
        with contextlib.suppress(OSError):
            folder = self._open_folder(create=False)
            try:
                os.unlink(self.parts[-1], dir_fd=folder)
            finally:
                os.close(folder)

    def _open_folder(self, create: bool = True) -> int:
        fd = os.open(self.bucket, _DIRECTORY_FLAGS)
        try:
            for part in self.parts[:-1]:
                if create:
                    with contextlib.suppress(FileExistsError):
                        os.mkdir(part, dir_fd=fd)
                try:
                    inner = os.open(part, _DIRECTORY_FLAGS, dir_fd=fd)
                except OSError as error:
                    raise InvalidParameter(
                        f"the object {self.name} cannot be written: {part!r} on its way is "
                        f"not a folder inside the bucket ({error.strerror or error})."
                    ) from None
                os.close(fd)
                fd = inner
        except BaseException:
            os.close(fd)
            raise
        return fd

    def _copy_in(self, source: Path, folder: int) -> None:
        """Copy under a temporary name in the target's folder, then rename: for a target on
        another file system."""
        temporary = f".{self.parts[-1][:200]}.snapcli-tmp"
        try:
            descriptor = os.open(
                temporary,
                os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0),
                0o644,
                dir_fd=folder,
            )
            with open(source, "rb") as reading, open(descriptor, "wb") as writing:
                shutil.copyfileobj(reading, writing)
            os.replace(temporary, self.parts[-1], src_dir_fd=folder, dst_dir_fd=folder)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temporary, dir_fd=folder)
            raise
        source.unlink(missing_ok=True)
