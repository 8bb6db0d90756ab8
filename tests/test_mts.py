"""The MTS dialect of SubmitSnapshotJob: buckets as folders, Object patterns, tiling, black frames,
sync and async answers, pipelines, and requests built with the official MTS SDK."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from support.servers import sdk_query_string
from support.videos import BAND_HEIGHT, band_source, frame_number, x264

from snapcli.core.mts import object_name, read_mts_request

HD_BAND = (0.0, BAND_HEIGHT / 720)


@pytest.fixture(scope="session")
def media(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A storage root with a bucket "media" holding in/talk.mp4: the worked example's 10 s
    1280×720 video (a keyframe every second, frame numbers in a band), and in/dark.mp4, black
    for 1.5 s before its picture starts."""
    root = tmp_path_factory.mktemp("storage")
    folder = root / "media" / "in"
    folder.mkdir(parents=True)
    subprocess.run(
        ["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "testsrc2=size=1280x688:rate=25",
         "-f", "lavfi", "-i", band_source("25", 1280), "-filter_complex",
         "[1][0]vstack,format=yuv420p", "-t", "10", *x264(25, 2), str(folder / "talk.mp4")],
        check=True,
    )  # fmt: skip
    subprocess.run(
        ["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "color=black:size=320x240:rate=25:d=1.5",
         "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25:d=3", "-filter_complex",
         "[0][1]concat=n=2:v=1", "-c:v", "libx264", "-g", "10", str(folder / "dark.mp4")],
        check=True,
    )  # fmt: skip
    return root


def mts_submit(run_cli, media: Path, config: dict[str, Any], *more: str, obj: str = "in/talk.mp4"):  # type: ignore[no-untyped-def]
    return run_cli(
        "submit", "--storage-root", str(media),
        "Input=" + json.dumps({"Bucket": "media", "Location": "oss-cn-shanghai", "Object": obj}),
        "SnapshotConfig=" + json.dumps(config), *more,
    )  # fmt: skip


def answer_of(result) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    assert result.code == 0, result.stdout + result.stderr
    return dict(json.loads(result.stdout)["SnapshotJob"])


def test_the_worked_example(run_cli, media: Path) -> None:
    config = {"OutputFile": {"Bucket": "media", "Object": "example/{Count}.jpg"},
              "Height": 360, "Time": 2000, "Interval": 1, "Num": 3}  # fmt: skip
    job = answer_of(mts_submit(run_cli, media, config, "--wait"))
    assert job["State"] == "Success" and job["Count"] == "3"
    names = sorted(p.name for p in (media / "media" / "example").iterdir())
    assert names == ["00001.jpg", "00002.jpg", "00003.jpg"]
    for number, name in enumerate(names):
        picture = Image.open(media / "media" / "example" / name)
        assert picture.size == (640, 360)
        assert frame_number(picture, HD_BAND) == 50 + 25 * number  # 2, 3 and 4 s


def test_a_single_snapshot_is_answered_done_and_others_are_queued(run_cli, media: Path) -> None:
    single = answer_of(mts_submit(run_cli, media, {
        "OutputFile": {"Bucket": "media", "Object": "single/{FileName}.{ExtName}.jpg"},
        "Time": 7000, "FrameType": "normal", "Width": 320,
    }))  # fmt: skip
    assert single["State"] == "Success" and single["Count"] == "1"
    picture = Image.open(media / "media" / "single" / "talk.mp4.jpg")
    assert picture.size == (320, 180) and frame_number(picture, HD_BAND) == 175
    queued = answer_of(mts_submit(run_cli, media, {
        "OutputFile": {"Bucket": "media", "Object": "queued/{Count}.jpg"}, "Num": 2,
    }))  # fmt: skip
    assert queued["State"] == "Submitted" and queued["Count"] == "0"
    assert set(queued) >= {"Id", "State", "Code", "Message", "Count", "TileCount", "Input",
                           "SnapshotConfig", "CreationTime"}  # fmt: skip
    assert queued["SnapshotConfig"]["Num"] == "2"  # scalars as strings, as the SDK has them
    assert run_cli("jobs", "wait", queued["Id"]).code == 0
    # Num = 2 without an Interval: 10 s apart, so only the first lies within the 10 s video.
    assert sorted(p.name for p in (media / "media" / "queued").iterdir()) == ["00001.jpg"]


def test_names_must_tell_several_snapshots_apart_before_any_work(run_cli, media: Path) -> None:
    result = mts_submit(run_cli, media, {
        "OutputFile": {"Bucket": "media", "Object": "clash/same.jpg"}, "Interval": 2,
    })  # fmt: skip
    assert result.code == 2 and "{Count}" in json.loads(result.stdout)["Message"]
    tiles = mts_submit(run_cli, media, {
        "OutputFile": {"Bucket": "media", "Object": "t/{Count}.jpg"}, "Num": 9, "Interval": 1,
        "TileOut": {"Columns": 2, "Lines": 2}, "TileOutputFile": {"Bucket": "media",
                                                                 "Object": "t/sheet.jpg"},
    })  # fmt: skip
    assert tiles.code == 2 and "{TileCount}" in tiles.stderr
    assert not (media / "media" / "clash").exists() and not (media / "media" / "t").exists()


def test_tiling_takes_every_kth_snapshot_into_sheets(run_cli, media: Path) -> None:
    job = answer_of(mts_submit(run_cli, media, {
        "OutputFile": {"Bucket": "media", "Object": "tiled/cell-{Count}.jpg"},
        "Time": 0, "Interval": 1, "Num": 8, "Width": 128, "FrameType": "normal",
        "TileOut": {"Columns": 2, "Lines": 1, "CellSelStep": 2, "IsKeepCellPic": "false",
                    "Padding": 4, "Color": "White"},
        "TileOutputFile": {"Bucket": "media", "Object": "tiled/sheet-{TileCount}.jpg"},
    }, "--wait"))  # fmt: skip
    assert job["State"] == "Success" and job["TileCount"] == "2"
    folder = media / "media" / "tiled"
    assert sorted(p.name for p in folder.iterdir()) == ["sheet-00001.jpg", "sheet-00002.jpg"]
    cells = []
    for sheet in ("sheet-00001.jpg", "sheet-00002.jpg"):
        picture = Image.open(folder / sheet)
        assert picture.size == (2 * 128 + 4, 72)
        for x in (0, 132):
            cells.append(frame_number(picture.crop((x, 0, x + 128, 72)), HD_BAND))
    assert cells == [0, 50, 100, 150]  # snapshots 1, 3, 5, 7: 0, 2, 4, 6 s


def test_time_array_and_a_vtt_that_points_into_sheets(run_cli, media: Path) -> None:
    job = answer_of(mts_submit(run_cli, media, {
        "OutputFile": {"Bucket": "media", "Object": "track/{FileName}.vtt"},
        "TimeArray": {"TimePointList": [1000, 3000, 5000]}, "Width": 64, "Format": "vtt",
        "SubOut": {"IsSptFrag": "true"}, "TileOut": {"Columns": 3, "Lines": 1},
        "TileOutputFile": {"Bucket": "media", "Object": "track/sheets/{FileName}.jpg"},
    }, "--wait"))  # fmt: skip
    assert job["State"] == "Success" and job["Count"] == "3" and job["TileCount"] == "1"
    vtt = (media / "media" / "track" / "talk.vtt").read_text()
    assert "sheets/talk.jpg#xywh=64,0,64,36" in vtt and "00:00:03.000 --> 00:00:05.000" in vtt
    assert (media / "media" / "track" / "sheets" / "talk.jpg").is_file()


def test_the_first_snapshot_skips_black_frames(run_cli, media: Path) -> None:
    job = answer_of(mts_submit(run_cli, media, {
        "OutputFile": {"Bucket": "media", "Object": "bright/{Count}.jpg"}, "Time": 0,
        "Interval": 1, "Num": 2, "BlackLevel": 90, "PixelBlackThreshold": 32,
        "FrameType": "normal",
    }, "--wait", obj="in/dark.mp4"))  # fmt: skip
    assert job["State"] == "Success"
    first = Image.open(media / "media" / "bright" / "00001.jpg").convert("L")
    assert first.resize((1, 1), Image.Resampling.BOX).getpixel((0, 0)) > 50  # a picture, not black
    record = json.loads(run_cli("jobs", "show", job["Id"]).stdout)["Jobs"][0]
    assert [s["FrameTime"] for s in record["Event"]["Snapshots"]] == [1520, 1000]


def test_jobs_of_one_pipeline_run_in_order(run_cli, media: Path) -> None:
    config = {"OutputFile": {"Bucket": "media", "Object": "p{Count}/x.jpg"}, "Interval": 3}
    ids = [answer_of(mts_submit(run_cli, media, config, "PipelineId=line"))["Id"] for _ in range(3)]
    assert run_cli("jobs", "wait", *ids).code == 0
    records = json.loads(run_cli("jobs", "show", *ids).stdout)["Jobs"]
    for earlier, later in zip(records, records[1:]):
        assert later["StartTime"] >= earlier["CompleteTime"]


def test_mts_errors_use_the_mts_codes(run_cli, media: Path) -> None:
    missing = mts_submit(run_cli, media, {"OutputFile": {"Bucket": "media", "Object": "x.jpg"}},
                         obj="in/nothing.mp4")  # fmt: skip
    answer = json.loads(missing.stdout)
    assert missing.code == 1 and answer["Code"] == "InvalidParameter.ResourceNotFound"
    assert answer["HttpStatusCode"] == 404
    bad_json = run_cli("submit", "--storage-root", str(media),
                       'Input={"Bucket": "media", "Object": "in/talk.mp4"}',
                       "SnapshotConfig={not json")  # fmt: skip
    assert json.loads(bad_json.stdout)["Code"] == "InvalidParameter.JsonObjectFormatInvalid"
    escape = mts_submit(run_cli, media, {"OutputFile": {"Bucket": "media", "Object": "../x.jpg"}})
    assert escape.code == 2 and "inside its bucket" in escape.stderr
    bad = media / "media" / "in" / "bad.mp4"
    bad.write_text("not a video")
    failed = mts_submit(run_cli, media, {"OutputFile": {"Bucket": "media", "Object": "b.jpg"}},
                        obj="in/bad.mp4")  # fmt: skip
    assert json.loads(failed.stdout)["Code"] == "InvalidParameter.ResourceContentBad"
    assert not (media / "media" / "b.jpg").exists()
    assert not [p for p in (media / "media").iterdir() if p.name.startswith(".")]


def test_object_placeholders() -> None:
    mts = read_mts_request({
        "Input": {"Bucket": "b", "Object": "a/b%20c/talk.take2.mp4"},
        "SnapshotConfig": {"OutputFile": {"Bucket": "b", "Object": "x"}},
    })  # fmt: skip
    assert mts.input.object == "a/b c/talk.take2.mp4"
    name = object_name("{ObjectPrefix}{FileName}_{Count}.{ExtName}@{SnapshotTime}", mts.input,
                       count=7, time_ms=1500)  # fmt: skip
    assert name == "a/b c/talk.take2_00007.mp4@1500"


# ---- the official MTS SDK ---------------------------------------------------------------------


def test_the_official_mts_sdks_requests_and_answers(run_cli, media: Path, tmp_path: Path) -> None:
    from alibabacloud_mts20140618 import models
    from alibabacloud_mts20140618.client import Client

    config = {"OutputFile": {"Bucket": "media", "Object": "sdk-{Source}/{Count}.jpg"},
              "Time": "2000", "Interval": "1", "Num": "3", "Height": "360"}  # fmt: skip
    request = models.SubmitSnapshotJobRequest(
        input=json.dumps({"Bucket": "media", "Location": "oss-cn-shanghai",
                          "Object": "in%2Ftalk.mp4"}),
        user_data="order 7", pipeline_id="sdk",
    )  # fmt: skip
    answers = []
    for source in ("map", "query"):
        config["OutputFile"]["Object"] = f"sdk-{source}/{{Count}}.jpg"  # type: ignore[index]
        request.snapshot_config = json.dumps(config)
        if source == "map":
            (tmp_path / "mts.json").write_text(json.dumps(request.to_map()))
            given = "mts.json"
        else:
            given = sdk_query_string(Client, request, {"RequestId": "R", "SnapshotJob": {}})
            assert "SnapshotConfig=%7B" in given and "PipelineId=sdk" in given
        result = run_cli("submit", "--storage-root", str(media), given, "--wait")
        assert result.code == 0, result.stderr
        body = models.SubmitSnapshotJobResponseBody().from_map(json.loads(result.stdout))
        answers.append(body.snapshot_job)
        pictures = sorted((media / "media" / f"sdk-{source}").iterdir())
        assert [frame_number(Image.open(p), HD_BAND) for p in pictures] == [50, 75, 100]
    for job in answers:
        assert job.state == "Success" and job.count == "3" and job.user_data == "order 7"
        assert job.input.bucket == "media" and job.snapshot_config.num == "3"
        assert job.pipeline_id == "sdk" and job.snapshot_config.output_file.bucket == "media"
    shown = run_cli("jobs", "show", "--dialect", "mts", answers[0].id, "f" * 32)
    listing = models.QuerySnapshotJobListResponseBody().from_map(json.loads(shown.stdout))
    assert [job.id for job in listing.snapshot_job_list.snapshot_job] == [answers[0].id]
    assert listing.non_exist_snapshot_job_ids.string == ["f" * 32]
