"""Which frames no other frame is decoded from, read from the H.264 bitstream itself.

An exact frame costs decoding from the keyframe before it, but not every frame on the way: a
picture whose slices say `nal_ref_idc = 0` is never used to predict another, so a decode that
leaves it out gives every other picture bit for bit as before. With x264's defaults that is a
third to half of the frames, and the cheaper half to skip for the decoder but still a third of
its time. Each such frame is found by reading its first slice's NAL header (a few bytes at the
sample's place, which the MP4 index gives), so only files probed from their MP4/MOV header with
progressive H.264 qualify.
"""

from __future__ import annotations

import os
from array import array
from collections.abc import Iterable
from dataclasses import dataclass

from snapcli.media.mp4index import SamplePlaces

_SLICE, _IDR_SLICE = 1, 5
_HEADER_READ = 64  # bytes read at a time: an access unit delimiter, SEI and the slice header
_REORDER_SLACK = 16  # samples read past the last target: decoded before trim ends the input


@dataclass(frozen=True)
class FrameReferences:
    """An H.264 track's samples: their presentation times in decode order, where they lie, and
    the size of the length field before each NAL unit (avcC)."""

    path: str
    decode_order_pts: array[int]
    places: SamplePlaces
    nal_length_size: int

    def unreferenced(self, start: int, targets: Iterable[int]) -> list[int]:
        """The pts of the frames that a decode from keyframe `start` to the last of `targets`
        may leave out: those no frame refers to, other than the targets. Empty where anything
        is unreadable (the decode then takes every frame)."""
        wanted = set(targets)
        order = self.decode_order_pts
        try:
            first = order.index(start)
            last = max(order.index(pts) for pts in wanted) + _REORDER_SLACK
            descriptor = os.open(self.path, os.O_RDONLY | getattr(os, "O_BINARY", 0))
        except (ValueError, OSError):
            return []
        try:
            dropped = []
            for sample, (offset, size) in enumerate(self.places.places(first, last), first):
                pts = order[sample]
                if pts not in wanted and self._referenced(descriptor, offset, size) is False:
                    dropped.append(pts)
            return dropped
        except (OSError, IndexError):  # a sample past the chunks' or the file's end
            return []
        finally:
            os.close(descriptor)

    def _referenced(self, descriptor: int, offset: int, size: int) -> bool | None:
        """Whether the sample's picture is a reference (its first slice's nal_ref_idc is not 0);
        None where no slice is found in it."""
        length_size = self.nal_length_size
        position = 0
        while position + length_size < size:
            head = os.pread(descriptor, min(_HEADER_READ, size - position), offset + position)
            if len(head) <= length_size:
                return None
            nal_size = int.from_bytes(head[:length_size], "big")
            kind = head[length_size] & 0x1F
            if kind in (_SLICE, _IDR_SLICE):
                return bool(head[length_size] & 0x60)
            if nal_size == 0:
                return None
            position += length_size + nal_size
        return None
