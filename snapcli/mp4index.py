"""What an MP4/MOV file's own index says of one track's frames, read without touching the media.

The `moov` box holds every sample's decode time (`stts`), composition offset (`ctts`) and the
sync samples (`stss`): the same presentation timeline a packet scan reads from every packet, for
the cost of reading a few hundred kilobytes. `read_moov` is the only I/O here; `track_samples`
is pure. Either returns None for anything it does not read the way ffmpeg's demuxer does (a
fragmented file, an edit list that cuts, several edits, partial sync samples, sample groups that
mark keyframes, sizes that do not add up), and the caller reads the packets instead. probe.py also
checks the result against the packets ffprobe reads at the file's start and end.
"""

from __future__ import annotations

import os
import struct
import sys
from array import array
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import accumulate, chain, islice, repeat
from operator import add

MAX_MOOV_BYTES = 256 << 20
_HEADER = struct.Struct(">I4s")


@dataclass(frozen=True)
class TrackSamples:
    """One track's samples in decode order: their durations and composition offsets as runs of
    (count, value), as the file states them, and which are sync samples (keyframes)."""

    timescale: int
    durations: tuple[array[int], array[int]]  # counts, values (stts)
    offsets: tuple[array[int], array[int]] | None  # counts, values (ctts); None: all 0
    keyframes: list[bool]

    @property
    def first_time(self) -> int:
        """The first sample's presentation time, unshifted."""
        return self.offsets[1][0] if self.offsets else 0

    def presentation_times(self, shift: int) -> list[int]:
        """Every sample's presentation time (decode time plus composition offset), plus
        `shift` (an edit list's)."""
        decode_times = accumulate(_expanded(*self.durations), initial=shift)
        if self.offsets is None:
            return list(islice(decode_times, len(self.keyframes)))
        return list(map(add, decode_times, _expanded(*self.offsets)))


def read_moov(path: str | os.PathLike[str]) -> bytes | None:
    """The body of the file's top-level `moov` box, or None if it has none that can be found."""
    try:
        with open(path, "rb") as file:
            size = os.fstat(file.fileno()).st_size
            offset = 0
            while offset + 8 <= size:
                file.seek(offset)
                header = file.read(16)
                box_size, kind = _HEADER.unpack_from(header)
                header_size = 8
                if box_size == 1 and len(header) == 16:
                    (box_size,) = struct.unpack_from(">Q", header, 8)
                    header_size = 16
                elif box_size == 0:
                    box_size = size - offset
                if box_size < header_size:
                    return None
                if kind == b"moov":
                    if box_size > MAX_MOOV_BYTES or offset + box_size > size:
                        return None
                    file.seek(offset + header_size)
                    return file.read(box_size - header_size)
                offset += box_size
    except (OSError, struct.error):
        return None
    return None


def track_samples(moov: bytes, track_id: int) -> TrackSamples | None:
    """The samples of the track with this id, from a `moov` body; None where ffmpeg might read
    them otherwise than plainly (see the module's docstring)."""
    try:
        return _track_samples(moov, track_id)
    except (struct.error, ValueError, IndexError, KeyError):  # a box missing, short or garbled
        return None


def _track_samples(moov: bytes, track_id: int) -> TrackSamples | None:
    children = _boxes(moov)
    if b"mvex" in children:  # fragmented: the samples live in moof boxes after it
        return None
    for trak in children.get(b"trak", []):
        track = _boxes(trak)
        if _track_id(track[b"tkhd"][0]) == track_id:
            return _samples_of(track)
    return None


def _samples_of(track: dict[bytes, list[bytes]]) -> TrackSamples | None:
    if b"edts" in track and not _plain_edits(_boxes(track[b"edts"][0]).get(b"elst", [])):
        return None
    media = _boxes(track[b"mdia"][0])
    timescale = _timescale(media[b"mdhd"][0])
    table = _boxes(_boxes(media[b"minf"][0])[b"stbl"][0])
    if b"stps" in table or any(_marks_keyframes(box) for box in table.get(b"sbgp", [])):
        return None
    sizes = table.get(b"stsz") or table.get(b"stz2")
    if not sizes or b"stts" not in table:
        return None
    count = struct.unpack_from(">I", sizes[0], 8)[0]
    durations = _runs(table[b"stts"][0])
    offsets = _runs(table[b"ctts"][0]) if b"ctts" in table else None
    if count == 0 or any(sum(runs[0]) != count for runs in (durations, offsets) if runs):
        return None
    if min(durations[1]) < 0:  # ffmpeg mends these its own way
        return None
    keyframes = [True] * count
    if b"stss" in table:
        sync = _sync_samples(table[b"stss"][0])
        if not sync or min(sync) < 1 or max(sync) > count:
            return None
        keyframes = [False] * count
        for number in sync:
            keyframes[number - 1] = True
    return TrackSamples(timescale, durations, offsets, keyframes)


def _boxes(body: bytes) -> dict[bytes, list[bytes]]:
    """The child boxes of a container box's body, by type, in order."""
    children: dict[bytes, list[bytes]] = {}
    offset = 0
    while offset + 8 <= len(body):
        size, kind = _HEADER.unpack_from(body, offset)
        header = 8
        if size == 1:
            (size,) = struct.unpack_from(">Q", body, offset + 8)
            header = 16
        elif size == 0:
            size = len(body) - offset
        if size < header or offset + size > len(body):
            raise ValueError("a box runs past its parent")
        children.setdefault(kind, []).append(body[offset + header : offset + size])
        offset += size
    return children


def _track_id(tkhd: bytes) -> int:
    return int(struct.unpack_from(">I", tkhd, 20 if tkhd[0] == 1 else 12)[0])


def _timescale(mdhd: bytes) -> int:
    return int(struct.unpack_from(">I", mdhd, 20 if mdhd[0] == 1 else 12)[0])


def _plain_edits(elst: list[bytes]) -> bool:
    """At most one edit that plays the media on at normal rate, after an optional empty one:
    a constant shift of every timestamp, which the caller measures against the packets."""
    if len(elst) != 1:
        return False
    body = elst[0]
    version = body[0]
    (count,) = struct.unpack_from(">I", body, 4)
    entry = struct.Struct(">QqhH" if version == 1 else ">IihH")
    edits = [entry.unpack_from(body, 8 + i * entry.size) for i in range(count)]
    if edits and edits[0][1] == -1 and len(edits) > 1:  # an empty edit: a delay before the media
        edits = edits[1:]
    return len(edits) <= 1 and all(
        media_time >= 0 and rate == 1 for _, media_time, rate, _ in edits
    )


def _marks_keyframes(sbgp: bytes) -> bool:
    """A sample group that newer ffmpegs read as extra keyframes (open-GOP random access)."""
    return sbgp[4:8] in (b"rap ", b"sync")


def _sync_samples(stss: bytes) -> array[int]:
    """The numbers (from 1) of the sync samples: the keyframes."""
    (count,) = struct.unpack_from(">I", stss, 4)
    values = array("I", stss[8 : 8 + 4 * count])
    if len(values) != count:
        raise ValueError("a table shorter than its count")
    if sys.byteorder == "little":
        values.byteswap()
    return values


def _runs(body: bytes) -> tuple[array[int], array[int]]:
    """The (count, value) pairs of an stts or ctts box, as counts and values. Values are read
    signed, as ffmpeg reads them (negative composition offsets are common in version 0 too)."""
    (entries,) = struct.unpack_from(">I", body, 4)
    pairs = array("i", body[8 : 8 + 8 * entries])
    if len(pairs) != 2 * entries:
        raise ValueError("a table shorter than its count")
    if sys.byteorder == "little":
        pairs.byteswap()
    counts, values = pairs[0::2], pairs[1::2]
    if min(counts, default=0) < 0:  # a count past 2**31: not a real file
        raise ValueError("a sample count out of range")
    return counts, values


def _expanded(counts: array[int], values: array[int]) -> Iterator[int]:
    """One value a sample."""
    if counts.count(1) == len(counts):  # the usual ctts of B-frames: a run a sample
        return iter(values)
    return chain.from_iterable(map(repeat, values, counts))
