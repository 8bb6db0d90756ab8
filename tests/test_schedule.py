"""docs/api.md §2, on plain values: which times a request captures."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from snapcli.core.request import build_request
from snapcli.core.schedule import schedule
from snapcli.errors import InvalidParameter


def times(duration: int | Fraction = 10_000, **request: object) -> list[int]:
    return [shot.time_ms for shot in schedule(build_request(**request), duration)]


def test_nothing_given_is_one_snapshot_at_the_offset() -> None:
    assert times() == [0]
    assert times(offset=2500) == [2500]


def test_only_count_means_one_a_second() -> None:
    assert times(count=4) == [0, 1000, 2000, 3000]
    assert times(count=3, offset=500) == [500, 1500, 2500]


def test_only_interval_goes_to_the_end() -> None:
    assert times(interval=3) == [0, 3000, 6000, 9000]
    assert times(9000, interval=3) == [0, 3000, 6000]  # 9000 is the end, not before it
    assert times(Fraction(18001, 2), interval=3) == [0, 3000, 6000, 9000]


def test_interval_and_count_the_fewer_wins() -> None:
    assert times(interval=2, count=3) == [0, 2000, 4000]
    assert times(interval=4, count=10) == [0, 4000, 8000]


def test_interval_zero_spreads_evenly() -> None:
    assert times(interval=0, count=4) == [0, 2500, 5000, 7500]
    assert times(interval=0, count=3, offset=1000) == [1000, 4000, 7000]
    assert times(interval=0) == [0]
    assert times(1000, interval=0, count=3) == [0, 333, 667]  # rounded to whole ms


def test_offset_times_win_in_their_order_with_duplicates() -> None:
    assert times(at=[5000, 1000, 5000], count=9, interval=1, offset=3) == [5000, 1000, 5000]


def test_times_at_or_past_the_end_are_dropped_and_numbering_follows() -> None:
    shots = schedule(build_request(at=[12000, 4000, 10000, 9999]), 10_000)
    assert [(s.index, s.time_ms) for s in shots] == [(1, 4000), (2, 9999)]


def test_no_time_left_names_the_time_and_the_duration() -> None:
    with pytest.raises(InvalidParameter, match="12000 ms.*10000 ms"):
        times(at=[12000])
    with pytest.raises(InvalidParameter, match="10000 ms"):
        times(offset=10_000, interval=0, count=5)


@given(
    duration=st.integers(1, 10**7),
    offset=st.integers(0, 10**7),
    count=st.none() | st.integers(1, 500),
    interval=st.none() | st.integers(0, 10**4),
)
def test_schedule_properties(
    duration: int, offset: int, count: int | None, interval: int | None
) -> None:
    request = build_request(offset=offset, count=count, interval=interval)
    try:
        shots = schedule(request, duration)
    except InvalidParameter:
        assert offset >= duration
        return
    got = [s.time_ms for s in shots]
    assert [s.index for s in shots] == list(range(1, len(shots) + 1))
    assert all(offset <= t < duration for t in got)
    assert got == sorted(got) and got[0] == offset
    if count is not None:
        assert len(got) <= count
    if interval:
        assert all(b - a == interval * 1000 for a, b in zip(got, got[1:]))
        if count is None:
            assert got[-1] + interval * 1000 >= duration  # went to the end


def test_early_times_are_known_only_when_the_duration_does_not_matter() -> None:
    from snapcli.core.schedule import early_times

    assert early_times(build_request(at=[5, 1])) == [5, 1]
    assert early_times(build_request(offset=200)) == [200]
    assert early_times(build_request(count=3, offset=10)) == [10, 1010, 2010]
    assert early_times(build_request(count=2, interval=5)) == [0, 5000]
    assert early_times(build_request(interval=5)) is None  # to the end
    assert early_times(build_request(interval=0, count=4)) is None  # spread over the duration
