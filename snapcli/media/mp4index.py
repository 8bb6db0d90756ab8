"""What an MP4/MOV file's own index says of one track's frames, read without touching the media.

The `moov` box holds every sample's decode time (`stts`), composition offset (`ctts`) and the
sync samples (`stss`): the same presentation timeline a packet scan reads from every packet, for
the cost of reading a few hundred kilobytes. A fragmented file (as OBS and live recorders write
them) holds them in a `trun` box in each `moof`. `read_index` is the only I/O here (box headers,
and the `moov` and `moof` boxes); `track_samples` is pure. It returns None for anything it does
not read the way ffmpeg's demuxer does (an edit list that cuts, several edits, partial sync
samples, sample groups that mark keyframes, fragments whose decode times jump or with negative
composition offsets, sizes that do not add up), and the caller reads the packets instead.
probe.py checks the result against the packets ffmpeg reads at the file's start and end, or,
where mp4facts.py settles the stream, takes it as it is.
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

MAX_INDEX_BYTES = 256 << 20
MAX_SAMPLES = 10_000_000  # over four days at 25 fps; a count beyond is garbled, not a video
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

    def duration_of(self, sample: int) -> int:
        """The decode duration of sample number `sample` (0-based)."""
        counts, values = self.durations
        for count, value in zip(counts, values):
            if sample < count:
                return int(value)
            sample -= count
        raise IndexError("no such sample")

    @property
    def total_duration(self) -> int:
        return sum(count * value for count, value in zip(*self.durations))

    def presentation_times(self, shift: int) -> list[int]:
        """Every sample's presentation time (decode time plus composition offset), plus
        `shift` (an edit list's)."""
        decode_times = accumulate(_expanded(*self.durations), initial=shift)
        if self.offsets is None:
            return list(islice(decode_times, len(self.keyframes)))
        return list(map(add, decode_times, _expanded(*self.offsets)))


@dataclass(frozen=True)
class FileIndex:
    """The index boxes of a file: its `moov` body, and in a fragmented file the bodies of its
    `moof` boxes, in file order."""

    moov: bytes
    fragments: tuple[bytes, ...] = ()


def read_index(path: str | os.PathLike[str]) -> FileIndex | None:
    """The file's top-level `moov` (and `moof`) boxes, or None where no `moov` can be found or
    the boxes do not add up. Only box headers are read besides: never the media."""
    moov = None
    fragments: list[bytes] = []
    total = 0
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
                if box_size < header_size or offset + box_size > size:
                    return None
                if kind in (b"moov", b"moof"):
                    total += box_size
                    if total > MAX_INDEX_BYTES:
                        return None
                    file.seek(offset + header_size)
                    body = file.read(box_size - header_size)
                    if kind == b"moov":
                        moov = body
                    else:
                        fragments.append(body)
                offset += box_size
    except (OSError, struct.error):
        return None
    return None if moov is None else FileIndex(moov, tuple(fragments))


def track_samples(index: FileIndex, track_id: int) -> TrackSamples | None:
    """The samples of the track with this id; None where ffmpeg might read them otherwise than
    plainly (see the module's docstring)."""
    try:
        return _track_samples(index, track_id)
    except (struct.error, ValueError, IndexError, KeyError, OverflowError):  # short or garbled
        return None


IDENTITY = (0x10000, 0, 0, 0, 0x10000, 0, 0, 0, 0x40000000)


def display_matrix(index: FileIndex, track_id: int) -> tuple[int, ...] | None:
    """The track's display matrix as ffmpeg's demuxer makes it (the track header's, times the
    movie header's), nine numbers row by row; None where it is the identity or unreadable.
    Mirrors show here, which ffmpeg's log (a rotation angle) does not tell."""
    try:
        children = _boxes(index.moov)
        movie = _matrix(children[b"mvhd"][0], 36, 48)
        for trak in children.get(b"trak", []):
            tkhd = _boxes(trak)[b"tkhd"][0]
            if _track_id(tkhd) == track_id:
                track = _matrix(tkhd, 40, 52)
                product = tuple(
                    sum(track[row * 3 + k] * movie[k * 3 + column] for k in range(3)) >> 16
                    for row in range(3)
                    for column in range(3)
                )
                return None if product == IDENTITY else product
    except (struct.error, ValueError, IndexError, KeyError):
        pass
    return None


@dataclass(frozen=True)
class SamplePlaces:
    """Where a track's samples lie in the file: their sizes, the chunks' offsets and how many
    samples each chunk holds (`stsz`, `stco`/`co64`, `stsc`), as stored."""

    sizes: array[int]  # one a sample
    chunk_offsets: array[int]
    chunk_runs: tuple[tuple[int, int], ...]  # (first chunk, from 1; samples in each such chunk)

    def places(self, first: int, last: int) -> Iterator[tuple[int, int]]:
        """(offset, size) of the samples `first` to `last` (from 0, both included)."""
        chunk, start = self._chunk_of(first)
        offset = self.chunk_offsets[chunk] + sum(self.sizes[start:first])
        per_chunk = self._samples_per_chunk(chunk)
        for sample in range(first, min(last, len(self.sizes) - 1) + 1):
            if sample - start == per_chunk:  # the next chunk begins
                chunk, start = chunk + 1, sample
                offset = self.chunk_offsets[chunk]
                per_chunk = self._samples_per_chunk(chunk)
            size = self.sizes[sample]
            yield offset, size
            offset += size

    def _chunk_of(self, sample: int) -> tuple[int, int]:
        """The chunk (from 0) holding a sample, and that chunk's first sample."""
        first_sample = 0
        for number, (first_chunk, per_chunk) in enumerate(self.chunk_runs):
            following = self.chunk_runs[number + 1][0] if number + 1 < len(self.chunk_runs) else 0
            chunks = (following or len(self.chunk_offsets) + 1) - first_chunk
            if sample < first_sample + chunks * per_chunk:
                within = (sample - first_sample) // per_chunk
                return first_chunk - 1 + within, first_sample + within * per_chunk
            first_sample += chunks * per_chunk
        raise IndexError("no such sample")

    def _samples_per_chunk(self, chunk: int) -> int:
        per_chunk = 0
        for first_chunk, count in self.chunk_runs:
            if first_chunk - 1 > chunk:
                break
            per_chunk = count
        return per_chunk


def sample_places(index: FileIndex, track_id: int) -> SamplePlaces | None:
    """Where the samples of a track that is not fragmented lie, in this file itself; None where
    the tables are missing, do not add up, or point into another file."""
    try:
        children = _boxes(index.moov)
        if b"mvex" in children:
            return None
        for trak in children.get(b"trak", []):
            track = _boxes(trak)
            if _track_id(track[b"tkhd"][0]) == track_id:
                return _places_of(track)
    except (struct.error, ValueError, IndexError, KeyError):
        pass
    return None


def _places_of(track: dict[bytes, list[bytes]]) -> SamplePlaces | None:
    minf = _boxes(_boxes(track[b"mdia"][0])[b"minf"][0])
    dref = _boxes(minf[b"dinf"][0])[b"dref"][0]
    entries = _boxes(dref[8:])
    if [kind for kind in entries] != [b"url "] or not entries[b"url "][0][3] & 1:
        return None  # the media lies elsewhere (another file named by a reference)
    table = _boxes(minf[b"stbl"][0])
    stsz = table[b"stsz"][0]
    fixed, count = struct.unpack_from(">II", stsz, 4)
    sizes = array("I", [fixed]) * count if fixed else _big_endian("I", stsz[12:], count)
    if b"co64" in table:
        offsets = _big_endian(
            "Q", table[b"co64"][0][8:], *struct.unpack_from(">I", table[b"co64"][0], 4)
        )
    else:
        offsets = _big_endian(
            "I", table[b"stco"][0][8:], *struct.unpack_from(">I", table[b"stco"][0], 4)
        )
    stsc = table[b"stsc"][0]
    (runs,) = struct.unpack_from(">I", stsc, 4)
    chunk_runs = tuple(struct.unpack_from(">II", stsc, 8 + 12 * n) for n in range(runs))
    if not chunk_runs or chunk_runs[0][0] != 1 or any(per < 1 for _, per in chunk_runs):
        return None
    if not count:
        return None
    places = SamplePlaces(sizes, offsets, chunk_runs)
    try:
        places._chunk_of(count - 1)
    except IndexError:  # fewer samples in the chunks than the sizes count
        return None
    return places


def _big_endian(code: str, data: bytes, count: int) -> array[int]:
    """`count` unsigned big-endian numbers of an array type code."""
    values = array(code, data[: count * array(code).itemsize])
    if len(values) != count:
        raise ValueError("a table shorter than its count")
    if sys.byteorder == "little":
        values.byteswap()
    return values


@dataclass(frozen=True)
class VideoTrack:
    """The first video track of a file that is not fragmented: where ffmpeg numbers it among
    the streams, its id, its first sample entry, and how its edit list shifts its times."""

    stream_index: int
    track_id: int
    entry_kind: bytes  # the sample entry's type: avc1, hvc1, vp09, …
    entry: bytes  # its body
    has_composition_offsets: bool
    shift: int  # added to every decode time, in the track's timescale (the edit list's)
    shown_from: int  # presentation times before this are decoded but not shown


def first_video_track(index: FileIndex) -> VideoTrack | None:
    """The file's first video track as ffmpeg's demuxer sees it (every `trak` is a stream), or
    None for a fragmented file or a shape this does not read."""
    try:
        children = _boxes(index.moov)
        if b"mvex" in children:
            return None
        movie_timescale = _timescale_of_movie(children[b"mvhd"][0])
        for number, trak in enumerate(children.get(b"trak", [])):
            track = _boxes(trak)
            media = _boxes(track[b"mdia"][0])
            handler = media[b"hdlr"][0][8:12]
            if handler != b"vide":
                continue
            timescale, table = _media(track)
            entries = table[b"stsd"][0]
            size, kind = _HEADER.unpack_from(entries, 8)
            empty, media_time = _edit(track, movie_timescale, timescale)
            offsets = b"ctts" in table and any(_runs(table[b"ctts"][0])[1])
            return VideoTrack(
                stream_index=number,
                track_id=_track_id(track[b"tkhd"][0]),
                entry_kind=kind,
                entry=entries[16 : 8 + size],
                has_composition_offsets=offsets,
                shift=empty - media_time,
                shown_from=empty,
            )
    except (struct.error, ValueError, IndexError, KeyError, ZeroDivisionError):
        return None
    return None


def _edit(track: dict[bytes, list[bytes]], movie_timescale: int, timescale: int) -> tuple[int, int]:
    """A plain edit list's empty lead (in the track's timescale) and the media time it starts
    the media at; (0, 0) without one. Raises ValueError for any other edit list."""
    if b"edts" not in track:
        return 0, 0
    elst = _boxes(track[b"edts"][0]).get(b"elst", [])
    if not _plain_edits(elst):
        raise ValueError("an edit list that is not a plain shift")
    body = elst[0]
    entry = struct.Struct(">QqhH" if body[0] == 1 else ">IihH")
    (count,) = struct.unpack_from(">I", body, 4)
    edits = [entry.unpack_from(body, 8 + i * entry.size) for i in range(count)]
    empty = 0
    if edits and edits[0][1] == -1:
        empty = edits.pop(0)[0] * timescale // movie_timescale
    return empty, edits[0][1] if edits else 0


def _timescale_of_movie(mvhd: bytes) -> int:
    return int(struct.unpack_from(">I", mvhd, 20 if mvhd[0] == 1 else 12)[0])


def _matrix(header: bytes, offset_v0: int, offset_v1: int) -> tuple[int, ...]:
    """The nine 32-bit numbers of a movie or track header's matrix."""
    return struct.unpack_from(">9i", header, offset_v1 if header[0] == 1 else offset_v0)


def _track_samples(index: FileIndex, track_id: int) -> TrackSamples | None:
    children = _boxes(index.moov)
    for trak in children.get(b"trak", []):
        track = _boxes(trak)
        if _track_id(track[b"tkhd"][0]) == track_id:
            if b"mvex" not in children:
                return _samples_of(track)
            defaults = next(
                (trex for trex in _boxes(children[b"mvex"][0]).get(b"trex", [])
                 if struct.unpack_from(">I", trex, 4)[0] == track_id),
                None,
            )  # fmt: skip
            return None if defaults is None else _fragmented(track, defaults, index.fragments)
    return None


def _samples_of(track: dict[bytes, list[bytes]]) -> TrackSamples | None:
    if b"edts" in track and not _plain_edits(_boxes(track[b"edts"][0]).get(b"elst", [])):
        return None
    timescale, table = _media(track)
    if b"stps" in table or any(_marks_keyframes(box) for box in table.get(b"sbgp", [])):
        return None
    sizes = table.get(b"stsz") or table.get(b"stz2")
    if not sizes or b"stts" not in table:
        return None
    count = struct.unpack_from(">I", sizes[0], 8)[0]
    durations = _runs(table[b"stts"][0])
    offsets = _runs(table[b"ctts"][0]) if b"ctts" in table else None
    if not 0 < count <= MAX_SAMPLES:
        return None
    if any(sum(runs[0]) != count for runs in (durations, offsets) if runs):
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


# Sample flags that make a sample no keyframe, as ffmpeg reads them: "is non-sync sample" and
# "depends on others".
_NOT_KEYFRAME = 0x00010000 | 0x01000000


def _fragmented(
    track: dict[bytes, list[bytes]], trex: bytes, fragments: tuple[bytes, ...]
) -> TrackSamples | None:
    """The samples of a fragmented track, from its `trun` boxes. Declined where the fragments'
    decode times (`tfdt`) do not follow on from the samples before, where composition offsets
    are negative (ffmpeg's shift for them grows as it reads on), where the header also holds
    samples, or where an edit list applies."""
    if b"edts" in track:
        return None
    timescale, table = _media(track)
    sizes = table.get(b"stsz") or table.get(b"stz2")
    if sizes and struct.unpack_from(">I", sizes[0], 8)[0] != 0:
        return None
    track_id, _, trex_duration, _, trex_flags = struct.unpack_from(">IIIII", trex, 4)
    durations = array("I")
    offsets = array("i")
    keyframes: list[bool] = []
    decode_time: int | None = None
    for fragment in fragments:
        for traf in _boxes(fragment).get(b"traf", []):
            parts = _boxes(traf)
            tfhd = parts[b"tfhd"][0]
            flags = int.from_bytes(tfhd[1:4], "big")
            if struct.unpack_from(">I", tfhd, 4)[0] != track_id:
                continue
            if flags & 0x010000:  # duration-is-empty
                return None
            position = 8 + (8 if flags & 0x01 else 0) + (4 if flags & 0x02 else 0)
            duration = trex_duration
            if flags & 0x08:
                (duration,) = struct.unpack_from(">I", tfhd, position)
                position += 4
            position += 4 if flags & 0x10 else 0
            sample_flags = (
                struct.unpack_from(">I", tfhd, position)[0] if flags & 0x20 else trex_flags
            )
            if b"tfdt" in parts:
                tfdt = parts[b"tfdt"][0]
                base = struct.unpack_from(">Q" if tfdt[0] == 1 else ">I", tfdt, 4)[0]
                if decode_time is not None and base != decode_time:
                    return None
                decode_time = base
            decode_time = decode_time or 0
            for trun in parts.get(b"trun", []):
                decode_time += _read_run(
                    trun, duration, sample_flags, durations, offsets, keyframes
                )
    if not keyframes or min(offsets) < 0:
        return None
    ones = array("i", [1]) * len(keyframes)
    return TrackSamples(timescale, (ones, durations), (ones, offsets), keyframes)


def _read_run(
    trun: bytes,
    default_duration: int,
    default_flags: int,
    durations: array[int],
    offsets: array[int],
    keyframes: list[bool],
) -> int:
    """One `trun` box's samples, appended; returns their total duration. Its table is read as
    columns of 32-bit words: a film's fragments hold hundreds of thousands of samples."""
    flags = int.from_bytes(trun[1:4], "big")
    (count,) = struct.unpack_from(">I", trun, 4)
    if len(keyframes) + count > MAX_SAMPLES:
        raise ValueError("more samples than a video holds")
    position = 8 + (4 if flags & 0x001 else 0)
    first_flags = None
    if flags & 0x004:
        (first_flags,) = struct.unpack_from(">I", trun, position)
        position += 4
    present = [bit for bit in (0x100, 0x200, 0x400, 0x800) if flags & bit]
    words = array("I", trun[position : position + 4 * len(present) * count])
    if len(words) != len(present) * count:
        raise ValueError("a trun shorter than its count")
    if sys.byteorder == "little":
        words.byteswap()
    column = {bit: words[k :: len(present)] for k, bit in enumerate(present)}
    run_durations = column.get(0x100, array("I", [default_duration]) * count)
    sample_flags = column.get(0x400, array("I", [default_flags]) * count)
    if 0x400 not in column and first_flags is not None and count:
        sample_flags[0] = first_flags
    durations.extend(run_durations)
    offsets.extend(
        array("i", column[0x800].tobytes()) if 0x800 in column else array("i", [0]) * count
    )
    keyframes.extend(not value & _NOT_KEYFRAME for value in sample_flags)
    return sum(run_durations)


def _media(track: dict[bytes, list[bytes]]) -> tuple[int, dict[bytes, list[bytes]]]:
    """A track's timescale and the boxes of its sample table (`stbl`)."""
    media = _boxes(track[b"mdia"][0])
    return _timescale(media[b"mdhd"][0]), _boxes(_boxes(media[b"minf"][0])[b"stbl"][0])


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
    return _big_endian("I", stss[8:], count)


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
