"""Request values in every form docs/api.md §1 accepts, and their validation (pure)."""

from __future__ import annotations

import json

import pytest

from snapcli.core.request import build_request, merged, read_api_request
from snapcli.errors import InvalidParameter


@pytest.mark.parametrize(
    "value",
    [
        [1000, 2000],
        ["1000", "2000"],
        "[1000,2000]",
        "[1000, 2000]",
        "1000,2000",
        ["1000, 2000"],
        (1000.0, 2000),
    ],
)
def test_offset_times_forms(value: object) -> None:
    assert build_request(at=value).offset_times == (1000, 2000)


def test_repeated_numbered_keys_in_number_order() -> None:
    api = read_api_request({"SpecifiedOffsetTimes.2": "2000", "SpecifiedOffsetTimes.1": 1000,
                            "SpecifiedOffsetTimes.10": "3000"})  # fmt: skip
    assert build_request(**api.values).offset_times == (1000, 2000, 3000)


def test_numbers_as_strings_like_the_api_types_them() -> None:
    api = read_api_request({"VideoId": "v.mp4", "Width": "640", "Height": " 360 ", "Count": "10",
                            "Interval": 0, "SpecifiedOffsetTime": "1500", "FrameType": "Intra"})  # fmt: skip
    request = build_request(**api.values)
    assert (request.width, request.height, request.count, request.interval) == (640, 360, 10, 0)
    assert (request.offset_time, request.frame_type, api.video_id) == (1500, "intra", "v.mp4")


def test_unknown_keys_are_reported_not_fatal() -> None:
    api = read_api_request({"VideoId": "v", "Colour": 1, "Action": "SubmitSnapshotJob"})
    assert api.unknown_keys == ("Colour",)


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"count": True}, "Count must be a whole number"),
        ({"count": "1e3"}, "Count must be a whole number"),
        ({"width": 7}, "Width must be between 8 and 4096"),
        ({"height": "5000"}, "Height must be between 8 and 4096"),
        ({"at": "[1, 2"}, "not a valid JSON array"),
        ({"at": '{"a": 1}'}, "whole number"),
        ({"at": list(range(31))}, "at most 30"),
        ({"user_data": "[1]"}, "JSON object"),
        ({"user_data": {"MessageCallback": {"CallbackURL": "javascript:x"}}}, "http or https"),
        ({"user_data": {"MessageCallback": {"CallbackURL": "ftp://h/x"}}}, "http or https"),
        ({"user_data": {"MessageCallback": {"CallbackURL": "http://[::1"}}}, "http or https"),
        ({"user_data": {"MessageCallback": {"CallbackURL": "http://h:99999/"}}}, "http or https"),
        ({"user_data": {"MessageCallback": {"CallbackURL": "http://h/a b"}}}, "http or https"),
        ({"user_data": {"MessageCallback": {"CallbackURL": "http://h/\r\nX: 1"}}}, "http or https"),
        ({"user_data": {"MessageCallback": "http://x"}}, "MessageCallback"),
    ],
)
def test_invalid_values_name_the_parameter(values: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidParameter, match=message):
        build_request(**values)


def test_user_data_limits_count_bytes_not_characters() -> None:
    build_request(user_data=json.dumps({"Extend": "é" * 200}, ensure_ascii=False))
    with pytest.raises(InvalidParameter, match="Extend must be at most 512 bytes"):
        build_request(user_data={"Extend": "é" * 300})  # 600 bytes in UTF-8


def test_extend_is_kept_as_the_event_carries_it() -> None:
    assert build_request(user_data={"Extend": {"a": [1, 2]}}).user_data.extend == '{"a":[1,2]}'  # type: ignore[union-attr]
    assert build_request(user_data={"Extend": "plain"}).user_data.extend == "plain"  # type: ignore[union-attr]


def test_later_values_win_and_none_never_overrides() -> None:
    assert merged([{"count": 3, "width": 10}, {"count": None, "width": 20}]) == {
        "count": 3,
        "width": 20,
    }


def test_request_round_trips_through_the_api_spelling() -> None:
    request = build_request(at="[5,6]", width="64", frame_type="intra", user_data='{"Extend":"x"}')
    assert build_request(**read_api_request(request.to_api()).values) == request
