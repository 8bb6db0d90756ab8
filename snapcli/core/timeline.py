"""Which frame a player shows at a time: the presentation timeline of one video stream.

Pure: built from timestamps that probe.py reads, answering in exact arithmetic. Times given to and
returned by this module in milliseconds are relative to the first frame (0 = first frame); pts are
the stream's own integer timestamps.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from fractions import Fraction
from itertools import compress, count
from math import floor
from operator import lt, sub

# A frame that starts within half a millisecond after t counts as at t (t is whole ms).
HALF_MS = Fraction(1, 2)


@dataclass(frozen=True)
class FrameTimeline:
    """Presentation timestamps of the frames a player can show, and which of them are keyframes."""

    time_base: Fraction
    pts: tuple[int, ...]  # sorted, unique
    # Sorted, a subset of pts: where decoding can start, and the first frame, which a decode
    # from the very start reaches first.
    keyframes: tuple[int, ...]
    end_pts: int  # where the last frame ends
    # A timeline read in windows knows these (first, last) pts stretches only, each starting at a
    # keyframe; None means every frame of the stream is known.
    known: tuple[tuple[int, int], ...] | None = None
    # The first frame shown is no keyframe: an MP4 cut mid-GOP by its edit list, where the
    # frames from the keyframe before it are decoded but not shown. Intra mode cannot take it.
    unkeyed_first: bool = False

    @classmethod
    def from_frames(
        cls,
        frames: Iterable[tuple[int, bool, int | None]],
        time_base: Fraction,
        fallback_frame_duration: int | None = None,
        discarded: Collection[int] = frozenset(),
    ) -> FrameTimeline:
        """From (pts, is_keyframe, duration) of every frame, in decode order, and the pts of the
        frames that are decoded but never shown (an edit list's lead-in, flagged by the demuxer).

        Frames before the first keyframe (a stream cut mid-GOP) cannot be decoded, nor shown by a
        player, and are left out. Without any keyframe flag the first frame is taken as one.
        """
        frames = list(frames)
        durations = {pts: duration for pts, _, duration in frames if duration}
        return cls.from_columns(
            [pts for pts, _, _ in frames],
            [key for _, key, _ in frames],
            time_base,
            durations,
            fallback_frame_duration,
            discarded,
        )

    @classmethod
    def from_columns(
        cls,
        pts: list[int],
        keyframe_flags: list[bool],
        time_base: Fraction,
        durations: dict[int, int],
        fallback_frame_duration: int | None = None,
        discarded: Collection[int] = frozenset(),
    ) -> FrameTimeline:
        """As from_frames, from the pts and keyframe flags of every frame in decode order and
        the durations stated for some (the last frame's is the one that counts). Written with
        map, filter and sorted over runs rather than loops: a two-hour film has 216,000 frames."""
        first_key = next(compress(count(), keyframe_flags), 0)
        decodable, flags = pts[first_key:], keyframe_flags[first_key:]
        first_pts = decodable[0] if decodable else 0
        shown = sorted(filter(first_pts.__le__, decodable))  # nearly in order already: fast
        if discarded:
            shown = [p for p in shown if p not in discarded]
        if not all(map(lt, shown, shown[1:])):  # the same pts twice
            shown = sorted(set(shown))
        if not shown:
            raise ValueError("a timeline needs at least one frame shown")
        shown_keys = {
            p for p in compress(decodable, flags) if p >= first_pts and p not in discarded
        }
        keys = sorted(shown_keys | {shown[0]})
        last = shown[-1]
        typical = _typical_gap(shown) if len(shown) > 1 else fallback_frame_duration or 1
        # A stated duration of half a typical frame or less is a placeholder (AVI says 1 tick).
        stated = durations.get(last) or 0
        last_duration = stated if stated * 2 > typical else typical
        return cls(
            time_base,
            tuple(shown),
            tuple(keys),
            last + max(last_duration, 1),
            unkeyed_first=bool(shown_keys) and shown[0] not in shown_keys,
        )

    @classmethod
    def from_windows(
        cls,
        windows: list[list[tuple[int, bool, int | None]]],
        time_base: Fraction,
        reorder_margin: int,
        fallback_frame_duration: int | None = None,
        discarded: Collection[int] = frozenset(),
    ) -> FrameTimeline:
        """From stretches of frames read in windows (each in decode order, from a keyframe on):
        the first from the start of the file, the last to its end. The last `reorder_margin` of
        a window's pts is not trusted, as frames shown there may be decoded after it ends."""
        parts = [
            cls.from_frames(window, time_base, fallback_frame_duration, discarded)
            for window in windows
        ]
        pts = sorted({p for part in parts for p in part.pts})
        keys = sorted({k for part in parts for k in part.keyframes})
        known = [(part.origin, part.pts[-1] - reorder_margin) for part in parts[:-1]]
        known.append((parts[-1].origin, parts[-1].end_pts))
        return cls(
            time_base,
            tuple(pts),
            tuple(keys),
            parts[-1].end_pts,
            tuple(known),
            parts[0].unkeyed_first,
        )

    def knows_time(self, time_ms: int) -> bool:
        """Whether the frame shown at time_ms is certain: a known stretch holds that moment with
        a frame after it (or reaches the end of the stream)."""
        if self.known is None:
            return True
        limit = self.origin + floor((time_ms + HALF_MS) / 1000 / self.time_base)
        return any(first <= limit < last for first, last in self.known)

    def knows_keyframe_near(self, time_ms: int) -> bool:
        """Whether the nearest keyframe is certain: a known stretch holds the moment and a
        keyframe after it (or reaches the end of the stream)."""
        if self.known is None:
            return True
        target = self.origin + Fraction(time_ms, 1000) / self.time_base
        following = self.next_keyframe(floor(target))
        last_known = self.known[-1]
        for first, last in self.known:
            if first <= target:
                if following is not None and following <= last:
                    return True
                if (first, last) == last_known and target < last:
                    return True
        return False

    def contiguous(self, start: int, end: int) -> bool:
        """Whether every frame between two known pts is known (decoding through is priced right)."""
        if self.known is None:
            return True
        return any(first <= start and end <= last for first, last in self.known)

    @property
    def origin(self) -> int:
        return self.pts[0]

    @property
    def frame_count(self) -> int:
        return len(self.pts)

    @property
    def duration_ms(self) -> Fraction:
        """D: the end of the last frame, in ms from the first."""
        return self.ms(self.end_pts)

    def ms(self, pts: int) -> Fraction:
        """Exact time of a pts in ms, relative to the first frame."""
        return (pts - self.origin) * self.time_base * 1000

    def seconds(self, pts: int) -> Fraction:
        """Absolute time of a pts in seconds, as ffmpeg's filters see it with -copyts."""
        return pts * self.time_base

    def frame_at(self, time_ms: int) -> int:
        """The pts of the frame a player shows paused at time_ms: the last to start by then."""
        limit = self.origin + floor((time_ms + HALF_MS) / 1000 / self.time_base)
        return self.pts[max(bisect_right(self.pts, limit) - 1, 0)]

    def keyframe_near(self, time_ms: int) -> int:
        """The keyframe nearest to time_ms; a tie goes to the earlier one."""
        target = self.origin + Fraction(time_ms, 1000) / self.time_base
        keys = (
            self.keyframes[1:] if self.unkeyed_first and len(self.keyframes) > 1 else self.keyframes
        )
        after = bisect_left(keys, target)
        candidates = keys[max(after - 1, 0) : after + 1]
        return min(candidates, key=lambda pts: (abs(pts - target), pts))

    def keyframe_before(self, pts: int) -> int:
        """The last keyframe at or before pts: where decoding must start to reach that frame."""
        return self.keyframes[max(bisect_right(self.keyframes, pts) - 1, 0)]

    def next_keyframe(self, pts: int) -> int | None:
        index = bisect_right(self.keyframes, pts)
        return self.keyframes[index] if index < len(self.keyframes) else None

    def previous_keyframe(self, pts: int) -> int | None:
        index = bisect_left(self.keyframes, pts)
        return self.keyframes[index - 1] if index > 0 else None

    def min_frame_gap(self) -> int:
        gaps = [b - a for a, b in zip(self.pts, self.pts[1:])]
        return min(gaps) if gaps else self.end_pts - self.origin

    def keyframe_interval_ms(self) -> tuple[Fraction, Fraction] | None:
        """Mean and longest distance between keyframes, or None with a single keyframe."""
        gaps = [b - a for a, b in zip(self.keyframes, self.keyframes[1:])]
        if not gaps:
            return None
        scale = self.time_base * 1000
        return Fraction(sum(gaps), len(gaps)) * scale, max(gaps) * scale


def _typical_gap(pts: list[int]) -> int:
    gaps = sorted(map(sub, pts[1:], pts))
    return gaps[len(gaps) // 2] if gaps else 1
