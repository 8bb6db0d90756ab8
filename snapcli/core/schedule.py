"""Which times are captured: docs/api.md §2, as a pure function of the request and the duration."""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from math import ceil, floor

from snapcli.core.request import SnapshotRequest
from snapcli.errors import InvalidParameter

DEFAULT_COUNT_INTERVAL_S = 1  # the API's Interval when only Count is given


@dataclass(frozen=True)
class Shot:
    """One scheduled snapshot: its 1-based number and its time in ms from the first frame."""

    index: int
    time_ms: int


def schedule(request: SnapshotRequest, duration_ms: Fraction | int) -> list[Shot]:
    """The snapshot times of a request on a video lasting duration_ms, in schedule order.

    Times at or past the end are dropped; when none is left, InvalidParameter names the first
    requested time and the duration.
    """
    duration = Fraction(duration_ms)
    times = _requested_times(request, duration)
    kept = [time for time in times if time < duration]
    if not kept:
        first = times[0] if times else request.offset_time
        raise InvalidParameter(
            f"no snapshot time is before the end of the video: the first requested time is "
            f"{first} ms and the video lasts {_ms_text(duration)} ms."
        )
    return [Shot(index, time) for index, time in enumerate(kept, start=1)]


def early_times(request: SnapshotRequest) -> list[int] | None:
    """The times a request asks for when they do not depend on the video's duration (explicit
    times, or Count with a non-zero Interval); None when they do (even spread, to the end)."""
    if request.offset_times:
        return list(request.offset_times)
    if request.interval == 0:
        return [request.offset_time] if request.count_or_default == 1 else None
    if request.interval is not None and request.count is None:
        return None
    step_ms = (request.interval or DEFAULT_COUNT_INTERVAL_S) * 1000
    return [request.offset_time + k * step_ms for k in range(request.count_or_default)]


def _requested_times(request: SnapshotRequest, duration: Fraction) -> list[int]:
    if request.offset_times:
        return list(request.offset_times)
    start = request.offset_time
    count, interval = request.count, request.interval
    if interval == 0:
        n = request.count_or_default
        step = (duration - start) / n
        if step <= 0:
            return [start]
        return [_round_ms(start + k * step) for k in range(n)]
    if interval is None and count is None:
        return [start]
    if interval is None:
        interval = DEFAULT_COUNT_INTERVAL_S
    step_ms = interval * 1000
    end = ceil(duration) if count is None else min(ceil(duration), start + count * step_ms)
    return list(range(start, end, step_ms)) or [start]


def _round_ms(value: Fraction) -> int:
    return floor(value + Fraction(1, 2))


def _ms_text(value: Fraction) -> str:
    return f"{float(value):.0f}" if value.denominator == 1 else f"{float(value):.1f}"
