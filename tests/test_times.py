"""Times as people write them on the command line (docs/usage.md): pure parsing, then a grab."""

from __future__ import annotations

import json

import pytest
from support.videos import TestVideo

from snapcli.core.times import time_ms, whole_seconds
from snapcli.errors import InvalidParameter


@pytest.mark.parametrize(
    ("text", "ms"),
    [("1500", 1500), ("90s", 90_000), ("2.5s", 2500), ("500ms", 500), ("1m", 60_000),
     ("1.5h", 5_400_000), ("1:30", 90_000), ("0:01.25", 1250), ("1:02:03.5", 3_723_500),
     (" 2S ", 2000), ("0.0005s", 1)],
)  # fmt: skip
def test_times_people_write_become_milliseconds(text: str, ms: int) -> None:
    assert time_ms(text, "SpecifiedOffsetTime") == ms


@pytest.mark.parametrize("text", ["x", "-5", "1:75", "1:60:00", "2.5", "1 30", "1:2:3:4", ""])
def test_anything_else_names_the_parameter_and_the_forms(text: str) -> None:
    with pytest.raises(InvalidParameter, match=r"^SpecifiedOffsetTime must be a time: ms"):
        time_ms(text, "SpecifiedOffsetTime")


@pytest.mark.parametrize(("text", "seconds"), [("30", 30), ("30s", 30), ("1m", 60), ("1:30", 90)])
def test_an_interval_is_whole_seconds(text: str, seconds: int) -> None:
    assert whole_seconds(text, "Interval") == seconds


@pytest.mark.parametrize("text", ["1.5", "2.5s", "1500ms", "0:01.5"])
def test_an_interval_of_a_fraction_of_a_second_is_refused(text: str) -> None:
    with pytest.raises(InvalidParameter, match="Interval must be whole seconds"):
        whole_seconds(text, "Interval")


def test_grab_takes_clock_and_unit_times(run_cli, videos: dict[str, TestVideo]) -> None:
    video = str(videos["h264"].path)
    result = run_cli("grab", video, "--at", "0:01.5,2s", "--at", "3000", "--json", "-q")
    assert result.code == 0, result.stderr
    assert [s["Time"] for s in json.loads(result.stdout)["Snapshots"]] == [1500, 2000, 3000]
    spaced = run_cli("grab", video, "--offset", "1.2s", "--interval", "2s", "--count", "3",
                     "--json", "-q")  # fmt: skip
    assert [s["Time"] for s in json.loads(spaced.stdout)["Snapshots"]] == [1200, 3200, 5200]
