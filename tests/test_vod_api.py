"""The VOD API locally: submit (every wire form, the official SDK's requests), the background queue
and its workers, job records, callbacks, ListSnapshots, templates, and error responses."""

from __future__ import annotations

import json
import os
import signal
import socket
import time
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from support.servers import Receiver, sdk_query_string
from support.videos import TestVideo, frame_number

from snapcli.core.request import build_request, read_api_request
from snapcli.core.wire import read_wire_request


def submitted(run_cli, *request: str) -> str:
    """Submit a request; the JobId of the API's answer."""
    result = run_cli("submit", *request)
    assert result.code == 0, result.stderr
    answer = json.loads(result.stdout)
    assert set(answer) == {"RequestId", "SnapshotJob"}
    job_id = answer["SnapshotJob"]["JobId"]
    assert len(job_id) == 32 and int(job_id, 16) >= 0
    return str(job_id)


def waited(run_cli, *job_ids: str) -> list[dict[str, Any]]:
    result = run_cli("jobs", "wait", *job_ids, "--timeout", "120")
    assert result.code in (0, 1), result.stderr
    shown = run_cli("jobs", "show", *job_ids)
    return list(json.loads(shown.stdout)["Jobs"])


def frames_in(folder: Path) -> list[int]:
    return [frame_number(Image.open(p)) for p in sorted(folder.glob("snapshot-*.jpg"))]


def shots(event: dict[str, Any]) -> list[tuple[int, int, int, int]]:
    return [(s["Time"], s["FrameTime"], s["Width"], s["Height"]) for s in event["Snapshots"]]


# ---- the wire forms ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "arguments",
    [
        ['{"VideoId": "v.mp4", "SpecifiedOffsetTimes": [1000, 2500], "Width": 320}'],
        ["VideoId=v.mp4", "SpecifiedOffsetTimes=[1000,2500]", "Width=320"],
        ["VideoId=v.mp4", "SpecifiedOffsetTimes=[1000, 2500]", "Width=320"],  # json.dumps
        ["VideoId=v.mp4&SpecifiedOffsetTimes=%5B1000%2C2500%5D&Width=320"],  # the new SDK
        ["Action=SubmitSnapshotJob&VideoId=v.mp4&SpecifiedOffsetTimes.1=1000"
         "&SpecifiedOffsetTimes.2=2500&Width=320&Version=2017-03-21"],  # repeated keys
        ["https://vod.cn-shanghai.aliyuncs.com/?VideoId=v.mp4&SpecifiedOffsetTimes=1000"
         "&SpecifiedOffsetTimes=2500&Width=%22320%22"],
        ['{"VideoId": "v.mp4", "SpecifiedOffsetTimes": "[1000, 2500]", "Width": "320"}'],
    ],
)  # fmt: skip
def test_every_wire_form_makes_the_same_request(arguments: list[str]) -> None:
    mapping = read_wire_request(arguments, lambda: "")
    api = read_api_request(mapping)
    assert api.video_id == "v.mp4" and api.unknown_keys == ()
    width = api.values["width"]
    api.values["width"] = width.strip('"') if isinstance(width, str) else width
    assert build_request(**api.values) == build_request(at=[1000, 2500], width=320)


def test_query_strings_are_decoded_but_lone_pairs_are_taken_literally() -> None:
    assert read_wire_request(["VideoId=a%20b.mp4&Count=2"], lambda: "")["VideoId"] == "a b.mp4"
    assert read_wire_request(["VideoId=100%25.mp4"], lambda: "")["VideoId"] == "100%25.mp4"
    assert read_wire_request(["-"], lambda: "VideoId=x+y.mp4&Count=1")["VideoId"] == "x y.mp4"
    later = read_wire_request(['{"Count": 3, "VideoId": "v"}', "Count=5"], lambda: "")
    assert later == {"Count": "5", "VideoId": "v"}


# ---- submit, jobs, workers --------------------------------------------------------------------


def test_submit_answers_at_once_and_the_job_gives_what_grab_gives(
    run_cli, videos: dict[str, TestVideo], tmp_path: Path
) -> None:
    video = videos["h264"]
    job_id = submitted(
        run_cli, f"VideoId={video.path}", "SpecifiedOffsetTimes=[1000, 2500, 3960]",
        "Width=128", "-o", "submitted",
    )  # fmt: skip
    (record,) = waited(run_cli, job_id)
    assert record["State"] == "Success" and record["Attempts"] == 1
    event = record["Event"]
    assert event["JobId"] == job_id and event["Status"] == "success"
    grab = run_cli("grab", str(video.path), "--at", "1000,2500,3960", "--width", "128",
                   "-o", "grabbed", "--json")  # fmt: skip
    assert shots(event) == shots(json.loads(grab.stdout))
    expected = [video.frame_shown_at(t) for t in (1000, 2500, 3960)]
    assert frames_in(tmp_path / "submitted" / "h264") == expected
    assert frames_in(tmp_path / "grabbed" / "h264") == expected
    assert json.loads((tmp_path / "submitted/h264/snapshots.json").read_text())["JobId"] == job_id


def test_submit_wait_prints_the_event_and_exits_as_the_job_ended(
    run_cli, videos: dict[str, TestVideo], bad_files: dict[str, Path]
) -> None:
    done = run_cli("submit", f"VideoId={videos['h264'].path}", "Count=2", "--wait")
    assert done.code == 0 and json.loads(done.stdout)["Status"] == "success"
    failed = run_cli("submit", f"VideoId={bad_files['text']}", "--wait")
    assert failed.code == 1
    event = json.loads(failed.stdout)
    assert event["Status"] == "fail"
    assert event["ErrorCode"] == "InvalidParameter.ResourceContentBad"
    assert "InvalidParameter.ResourceContentBad" in failed.stderr


def test_bad_submissions_get_the_api_error_response(run_cli, videos: dict[str, TestVideo]) -> None:
    other = run_cli("submit", "Action=DeleteVideo&VideoId=x.mp4")
    assert other.code == 2
    answer = json.loads(other.stdout)
    assert answer["Code"] == "InvalidParameter" and answer["HttpStatusCode"] == 400
    assert set(answer) == {"RequestId", "Code", "Message", "HttpStatusCode"}
    assert other.stderr.startswith("snapcli: InvalidParameter: Action must be SubmitSnapshotJob")
    missing = run_cli("submit", "VideoId=no-such.mp4", "Count=2")
    assert missing.code == 1
    assert json.loads(missing.stdout)["Code"] == "InvalidVideo.NotFound"
    assert json.loads(missing.stdout)["HttpStatusCode"] == 404
    bad_count = run_cli("submit", f"VideoId={videos['h264'].path}", "Count=0")
    assert bad_count.code == 2 and "Count must be" in json.loads(bad_count.stdout)["Message"]
    unknown = run_cli("submit", f"VideoId={videos['h264'].path}", "Colour=red", "--wait")
    assert unknown.code == 0
    assert "Colour is not a SubmitSnapshotJob parameter; it is ignored" in unknown.stderr
    grab_json = run_cli("grab", "no-such.mp4", "--json")
    assert json.loads(grab_json.stdout)["Status"] == "fail"  # a job's failure: its event


def test_twenty_submits_in_a_row_all_finish_with_bounded_concurrency(
    run_cli, videos: dict[str, TestVideo], monkeypatch: pytest.MonkeyPatch
) -> None:
    from snapcli.service.jobs import list_jobs

    monkeypatch.setenv("SNAPCLI_JOB_SLOTS", "2")
    job_ids = [
        submitted(run_cli, f"VideoId={videos['h264'].path}", f"SpecifiedOffsetTime={100 * n}",
                  "-o", f"out{n}")
        for n in range(20)
    ]  # fmt: skip
    most_at_once = 0
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        running = len(list_jobs(["Snapshoting"], limit=100))
        most_at_once = max(most_at_once, running)
        if not list_jobs(["Submitted", "Snapshoting"], limit=100):
            break
        time.sleep(0.05)
    records = waited(run_cli, *job_ids)
    assert [r["State"] for r in records] == ["Success"] * 20
    assert 1 <= most_at_once <= 2
    for n, record in enumerate(records):
        assert record["Event"]["Snapshots"][0]["Time"] == 100 * n


def test_a_job_whose_worker_is_killed_is_run_again_not_left_snapshoting(
    run_cli, slow_video: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from snapcli.service.jobs import find_jobs

    monkeypatch.setenv("SNAPCLI_STALL_TIMEOUT", "60")
    job_id = submitted(run_cli, f"VideoId={slow_video}", "SpecifiedOffsetTimes=[19960,19000]")
    deadline = time.monotonic() + 30
    record: dict[str, Any] = {}
    while time.monotonic() < deadline:
        (record,), _ = find_jobs([job_id])
        if record["State"] == "Snapshoting" and record.get("WorkerPid"):
            break
        time.sleep(0.02)
    assert record["State"] == "Snapshoting", record
    time.sleep(0.3)
    os.kill(record["WorkerPid"], signal.SIGKILL)
    (record,) = waited(run_cli, job_id)
    assert record["State"] == "Success" and record["Attempts"] == 2
    assert [s["FrameTime"] for s in record["Event"]["Snapshots"]] == [19960, 19000]
    result = tmp_path / "snapshots"
    assert sorted(p.name for p in result.iterdir()) == ["slow"]  # no staging folder left


# ---- callbacks --------------------------------------------------------------------------------


def test_each_submitted_job_posts_one_event_with_extend(
    run_cli, videos: dict[str, TestVideo], bad_files: dict[str, Path]
) -> None:
    receiver = Receiver()
    user_data = json.dumps({"MessageCallback": {"CallbackURL": receiver.url}, "Extend": {"k": 1}})
    good = submitted(run_cli, f"VideoId={videos['h264'].path}", "Count=2", f"UserData={user_data}")
    bad = submitted(run_cli, f"VideoId={bad_files['text']}", f"UserData={user_data}")
    records = waited(run_cli, good, bad)
    time.sleep(0.2)
    receiver.close()
    assert [r["State"] for r in records] == ["Success", "Fail"]
    by_job = {body["JobId"]: body for body in receiver.bodies}
    assert len(receiver.bodies) == 2 and set(by_job) == {good, bad}
    for record in records:
        body = by_job[record["JobId"]]
        assert body == record["Event"]
        assert body["EventType"] == "SnapshotComplete" and body["Extend"] == '{"k":1}'
        assert record["Callback"] == {"CallbackURL": receiver.url, "Delivered": True, "Error": None}
    assert by_job[bad]["Status"] == "fail" and "ErrorCode" in by_job[bad]


def test_a_dead_callback_url_is_recorded_and_does_not_fail_the_job(
    run_cli, videos: dict[str, TestVideo]
) -> None:
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    user_data = json.dumps({"MessageCallback": {"CallbackURL": f"http://127.0.0.1:{port}/"}})
    job_id = submitted(run_cli, f"VideoId={videos['h264'].path}", f"UserData={user_data}")
    (record,) = waited(run_cli, job_id)
    assert record["State"] == "Success"
    assert (
        record["Callback"]["Delivered"] is False and "not delivered" in record["Callback"]["Error"]
    )
    wait_again = run_cli("jobs", "wait", job_id)
    assert wait_again.code == 0 and "unaffected" in wait_again.stderr


def test_only_http_callback_urls_are_taken(run_cli, videos: dict[str, TestVideo]) -> None:
    user_data = json.dumps({"MessageCallback": {"CallbackURL": "file:///etc/passwd"}})
    result = run_cli("submit", f"VideoId={videos['h264'].path}", f"UserData={user_data}")
    assert result.code == 2 and "http or https" in json.loads(result.stdout)["Message"]


# ---- the official SDK -------------------------------------------------------------------------


def test_the_official_sdks_requests_give_what_grab_gives(
    run_cli, videos: dict[str, TestVideo], tmp_path: Path
) -> None:
    from alibabacloud_vod20170321 import models

    from snapcli.core.event import SnapshotComplete

    video = videos["gop25"]
    request = models.SubmitSnapshotJobRequest(
        video_id=str(video.path), count=4, interval=1, specified_offset_time=500, width="128",
        sprite_snapshot_config=json.dumps({"CellWidth": 64, "Columns": 2, "Lines": 2}),
        user_data=json.dumps({"Extend": {"order": 7}}),
    )  # fmt: skip
    (tmp_path / "request.json").write_text(json.dumps(request.to_map()))
    from_map = run_cli("submit", "request.json", "-o", "map", "--wait")
    from alibabacloud_vod20170321.client import Client

    query = sdk_query_string(Client, request, {"RequestId": "R", "SnapshotJob": {"JobId": "J"}})
    assert "SpriteSnapshotConfig=%7B" in query
    from_query = run_cli("submit", query, "-o", "query", "--wait")
    grab = run_cli(
        "grab", str(video.path), "--count", "4", "--interval", "1", "--offset", "500",
        "--width", "128", "--cell-width", "64", "--columns", "2", "--lines", "2",
        "--user-data", '{"Extend": {"order": 7}}', "-o", "grab", "--json",
    )  # fmt: skip
    for result in (from_map, from_query, grab):
        assert result.code == 0, result.stderr
    events = [SnapshotComplete(json.loads(r.stdout)) for r in (from_map, from_query, grab)]
    assert all(event.ok for event in events)
    assert shots(events[0]) == shots(events[1]) == shots(events[2])
    assert events[0]["Sprites"] == events[1]["Sprites"] == events[2]["Sprites"]
    assert events[0]["Extend"] == '{"order":7}'
    expected = [video.frame_shown_at(500 + 1000 * k) for k in range(4)]
    for folder in ("map", "query", "grab"):
        assert frames_in(tmp_path / folder / "gop25") == expected
    answer = models.SubmitSnapshotJobResponseBody().from_map(
        json.loads(run_cli("submit", query, "-o", "again").stdout)
    )
    assert len(answer.snapshot_job.job_id) == 32
    waited(run_cli, answer.snapshot_job.job_id)


# ---- job records ------------------------------------------------------------------------------


def test_jobs_list_and_show_cover_grab_and_submit(
    run_cli, videos: dict[str, TestVideo], bad_files: dict[str, Path]
) -> None:
    grabbed = json.loads(run_cli("grab", str(videos["h264"].path), "--json").stdout)["JobId"]
    failed = json.loads(run_cli("grab", str(bad_files["empty"]), "--json").stdout)["JobId"]
    queued = submitted(run_cli, f"VideoId={videos['vp9'].path}")
    waited(run_cli, queued)
    listed = json.loads(run_cli("jobs", "list", "--json").stdout)["Jobs"]
    assert [r["JobId"] for r in listed] == [queued, failed, grabbed]  # newest first
    fails = json.loads(run_cli("jobs", "list", "--state", "fail", "--json").stdout)["Jobs"]
    assert [r["JobId"] for r in fails] == [failed]
    assert fails[0]["Code"] == "InvalidParameter.ResourceContentBad"
    of_video = run_cli("jobs", "list", "--video", str(videos["h264"].path), "--json")
    assert [r["JobId"] for r in json.loads(of_video.stdout)["Jobs"]] == [grabbed]
    shown = run_cli("jobs", "show", grabbed[:8], "0123456789abcdef0123456789abcdef")
    assert shown.code == 2
    answer = json.loads(shown.stdout)
    assert answer["NonExistJobIds"] == ["0123456789abcdef0123456789abcdef"]
    (record,) = answer["Jobs"]
    assert record["JobId"] == grabbed and record["State"] == "Success"
    assert record["Request"]["SpecifiedOffsetTime"] == 0
    assert record["CreationTime"].endswith("Z") and record["CompleteTime"].endswith("Z")
    assert run_cli("jobs", "list").code == 0


# ---- ListSnapshots ----------------------------------------------------------------------------


def test_list_snapshots_answers_for_the_latest_job_of_each_type(
    run_cli, videos: dict[str, TestVideo], tmp_path: Path
) -> None:
    video = str(videos["h264"].path)
    run_cli("grab", video, "--count", "3", "-q")
    sprite_job = run_cli("grab", video, "--count", "5", "--cell-width", "64", "--columns", "2",
                         "--lines", "2", "--vtt", "--json")  # fmt: skip
    job_id = json.loads(sprite_job.stdout)["JobId"]
    folder = tmp_path / "snapshots" / "h264"

    def listed(*args: str) -> dict[str, Any]:
        result = run_cli("list-snapshots", video, *args)
        assert result.code == 0, result.stderr
        return dict(json.loads(result.stdout)["MediaSnapshot"])

    normal = listed()  # the first job's pictures were replaced by the second's
    assert normal["Total"] == 5 and normal["JobId"] == job_id
    origin = listed("--type", "SpriteOriginSnapshot", "--page-size", "2", "--page-no", "2")
    assert origin["Total"] == 5 and origin["JobId"] == job_id
    assert origin["Snapshots"]["Snapshot"] == [
        {"Index": 3, "Url": (folder / "snapshot-00003.jpg").as_uri()},
        {"Index": 4, "Url": (folder / "snapshot-00004.jpg").as_uri()},
    ]
    assert origin["Regular"] == folder.as_uri() + "/snapshot-{SnapshotCount}.jpg"
    sheets = listed("--type", "SpriteSnapshot")
    assert sheets["Total"] == 2
    assert [s["Url"] for s in sheets["Snapshots"]["Snapshot"]] == [
        (folder / "sprite-00001.jpg").as_uri(), (folder / "sprite-00002.jpg").as_uri()
    ]  # fmt: skip
    vtt = listed("--type", "WebVttSnapshot")
    assert vtt["Snapshots"]["Snapshot"] == [
        {"Index": 1, "Url": (folder / "thumbnails.vtt").as_uri()}
    ]
    run_cli("grab", video, "--count", "2", "-q")
    assert listed()["Total"] == 2
    assert listed("--type", "SpriteSnapshot")["Total"] == 0  # that folder holds no sheets now
    run_cli("grab", video, "--count", "1", "-o", "elsewhere", "-q")
    assert listed()["Total"] == 1
    with pytest.raises(AssertionError):
        listed("--type", "CoverSnapshot")
    missing = run_cli("list-snapshots", "nothing-here.mp4")
    assert missing.code == 1 and json.loads(missing.stdout)["HttpStatusCode"] == 404


# ---- templates --------------------------------------------------------------------------------

SPRITE_TEMPLATE = {
    "SnapshotType": "SpriteSnapshot",
    "SnapshotConfig": {
        "Count": "4", "Interval": "1", "SpecifiedOffsetTime": 0, "Width": 128, "FrameType": "normal",
        "SpriteSnapshotConfig": {"CellWidth": "64", "Columns": 2, "Lines": 2, "KeepCellPic": "keep"},
    },
}  # fmt: skip


def added(run_cli, config: dict[str, Any] | str, name: str = "t") -> str:
    text = config if isinstance(config, str) else json.dumps(config)
    result = run_cli("template", "add", "--name", name, "--config", text)
    assert result.code == 0, result.stdout + result.stderr
    return str(json.loads(result.stdout)["VodTemplateId"])


def test_templates_round_trip(run_cli, tmp_path: Path) -> None:
    (tmp_path / "vtt.json").write_text(json.dumps(
        {"SnapshotType": "WebVttSnapshot",
         "SnapshotConfig": {"Interval": 2, "Format": "vtt", "SubOut": {"IsSptFrag": "false"}}}
    ))  # fmt: skip
    first = added(run_cli, SPRITE_TEMPLATE, "sprites")
    second = added(run_cli, "@vtt.json", "track")
    assert len(first) == 32 and first != second
    shown = json.loads(run_cli("template", "show", first).stdout)["VodTemplateInfo"]
    assert shown["TemplateConfig"] == SPRITE_TEMPLATE and shown["Name"] == "sprites"
    listed = json.loads(run_cli("template", "list", "--json").stdout)["VodTemplateInfoList"]
    assert [t["TemplateId"] for t in listed] == [first, second]
    assert run_cli("template", "rm", first).code == 0
    gone = run_cli("template", "show", first)
    assert gone.code == 1 and json.loads(gone.stdout)["HttpStatusCode"] == 404


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"SnapshotType": "Gif"}, "SnapshotType must be one of"),
        ({"SnapshotType": "NormalSnapshot", "SnapshotConfig": {"Count": "many"}}, "Count"),
        ({"SnapshotType": "NormalSnapshot", "SnapshotConfig": {"Colour": 1}}, "no field 'Colour'"),
        ({"SnapshotType": "NormalSnapshot",
          "SnapshotConfig": {"SpriteSnapshotConfig": {}}}, "make it a SpriteSnapshot"),
        ({"SnapshotType": "WebVttSnapshot",
          "SnapshotConfig": {"SubOut": {"IsSptFrag": "maybe"}}}, "IsSptFrag"),
        ({"SnapshotType": "WebVttSnapshot", "SnapshotConfig": {"Format": "jpg"}}, "Format is vtt"),
    ],
)  # fmt: skip
def test_bad_template_configs_are_refused(run_cli, config: dict[str, Any], message: str) -> None:
    result = run_cli("template", "add", "--name", "x", "--config", json.dumps(config))
    assert result.code == 2 and message in result.stderr


def test_a_template_overrides_the_request_and_says_what_it_ignored(
    run_cli, videos: dict[str, TestVideo], tmp_path: Path
) -> None:
    template_id = added(run_cli, SPRITE_TEMPLATE)
    user_data = '{"Extend": {"kept": true}}'
    result = run_cli("grab", str(videos["h264"].path), "--template-id", template_id,
                     "--count", "9", "--width", "300", "--user-data", user_data, "--json")  # fmt: skip
    assert result.code == 0
    assert "the template decides the request: Count, Width ignored" in result.stderr
    event = json.loads(result.stdout)
    assert [s["Time"] for s in event["Snapshots"]] == [0, 1000, 2000, 3000]
    assert {(s["Width"], s["Height"]) for s in event["Snapshots"]} == {(128, 72)}
    assert event["Sprites"][0]["Cells"][0]["W"] == 64 and event["Extend"] == '{"kept":true}'
    job_id = submitted(run_cli, json.dumps({"VideoId": str(videos["h264"].path),
                                            "SnapshotTemplateId": template_id, "Count": 2}),
                       "-o", "sub")  # fmt: skip
    (record,) = waited(run_cli, job_id)
    assert shots(record["Event"]) == shots(event)
    missing = run_cli("grab", str(videos["h264"].path), "--template-id", "f" * 32)
    assert missing.code == 1 and "no snapshot template" in missing.stderr


@pytest.mark.parametrize("fragments", [True, False])
def test_webvtt_templates_point_into_sheets_or_at_pictures(
    run_cli, videos: dict[str, TestVideo], tmp_path: Path, fragments: bool
) -> None:
    template_id = added(run_cli, {
        "SnapshotType": "WebVttSnapshot",
        "SnapshotConfig": {"Count": 3, "Width": 64, "Format": "vtt",
                           "SubOut": {"IsSptFrag": "true" if fragments else "false"}},
    })  # fmt: skip
    result = run_cli("grab", str(videos["h264"].path), "--template-id", template_id, "-q")
    assert result.code == 0
    vtt = (tmp_path / "snapshots" / "h264" / "thumbnails.vtt").read_text()
    if fragments:
        assert "sprite-00001.jpg#xywh=64,0,64,36" in vtt
    else:
        assert "snapshot-00002.jpg" in vtt and "#xywh" not in vtt


def test_batch_takes_a_template_too(run_cli, videos: dict[str, TestVideo], tmp_path: Path) -> None:
    template_id = added(run_cli, {"SnapshotType": "NormalSnapshot",
                                  "SnapshotConfig": {"Count": 2, "FrameType": "intra"}})  # fmt: skip
    result = run_cli("batch", str(videos["h264"].path), str(videos["vp9"].path),
                     "--template-id", template_id, "-o", "b", "--jsonl")  # fmt: skip
    assert result.code == 0
    events = [json.loads(line) for line in result.stdout.splitlines()]
    assert all(len(e["Snapshots"]) == 2 for e in events) and len(events) == 2


def test_a_request_for_another_action_is_refused_not_queued(run_cli, tmp_path: Path) -> None:
    listing = "VideoId=talk.mp4&SnapshotType=CoverSnapshot&PageNo=1&PageSize=20"
    result = run_cli("submit", listing)
    assert result.code == 2
    assert json.loads(result.stdout)["Code"] == "InvalidParameter"
    assert "a ListSnapshots request (SnapshotType, PageNo, PageSize)" in result.stderr
    assert json.loads(run_cli("jobs", "list", "--json").stdout)["Jobs"] == []
