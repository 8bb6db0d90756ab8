"""Contact sheets (`snapcli sheet`, `snapcli.sheet`): the header, a grid of exact frames and the
time of each, read back from the picture itself."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from PIL import Image, ImageChops, ImageStat
from support.videos import TestVideo, frame_number

import snapcli
from snapcli.core.contact import SheetStyle, clock, container_name, header_lines


def cells(event: snapcli.Event) -> list[dict[str, int]]:
    return list(event.to_api()["ContactSheet"]["Cells"])


def sheet_path(event: snapcli.Event) -> Path:
    assert event.output_dir is not None
    return event.output_dir / event.to_api()["ContactSheet"]["Path"]


def test_a_sheet_holds_n_exact_frames_each_with_its_time(
    videos: dict[str, TestVideo], tmp_path: Path
) -> None:
    video = videos["h264"]
    event = snapcli.sheet(video.path, count=8, columns=4, width=800, output_dir=tmp_path)
    sheet = Image.open(sheet_path(event)).convert("RGB")
    boxes = cells(event)
    assert [box["Snapshot"] for box in boxes] == list(range(1, 9))
    assert sheet.width == 800 and len({box["Y"] for box in boxes}) == 2  # two rows of four
    shots = {shot.index: shot for shot in event.snapshots}
    for box in boxes:
        frame = sheet.crop((box["X"], box["Y"], box["X"] + box["W"], box["Y"] + box["H"]))
        shot = shots[box["Snapshot"]]
        assert frame_number(frame) == video.frame_shown_at(shot.time)
        assert box["Time"] == shot.frame_time
        assert shot.path is None  # the frames live on the sheet only
    times = [shot.time for shot in event.snapshots]
    assert times == sorted(times) and 0 < times[0] < 1000  # evenly spread, the ends left out
    assert not list(Path(event.output_dir or ".").glob("snapshot-*"))


def test_a_sheet_made_again_replaces_the_one_before(
    videos: dict[str, TestVideo], tmp_path: Path
) -> None:
    """A sheet's folder is snapcli's own: made again with other settings, it is replaced whole,
    and a file of the user's in it still stops that."""
    video = videos["h264"]
    first = snapcli.sheet(video.path, count=4, columns=2, width=400, output_dir=tmp_path)
    again = snapcli.sheet(
        video.path, count=6, columns=3, width=600, picture_format="png", output_dir=tmp_path
    )
    assert again.output_dir == first.output_dir and len(cells(again)) == 6
    assert sorted(p.name for p in (again.output_dir or tmp_path).iterdir()) == [
        "sheet.png",
        "snapshots.json",
    ]
    (tmp_path / "h264" / "notes.txt").write_text("mine")
    with pytest.raises(snapcli.SnapcliError) as caught:
        snapcli.sheet(video.path, count=2, columns=2, width=400, output_dir=tmp_path)
    assert caught.value.code == "PermissionDenied.ResourceAccess"


def test_each_time_is_drawn_in_its_corner_and_nowhere_else(
    videos: dict[str, TestVideo], tmp_path: Path
) -> None:
    """The sheet with times and the one without differ only inside each frame's chosen corner
    (where a dark box holds light text), and the header only where there is one."""
    video = videos["h264"]
    common = {"count": 4, "columns": 2, "width": 640}
    stamped = snapcli.sheet(video.path, output_dir=tmp_path / "a", **common)
    plain = snapcli.sheet(video.path, output_dir=tmp_path / "b", timestamps="off", **common)
    one = Image.open(sheet_path(stamped)).convert("RGB")
    other = Image.open(sheet_path(plain)).convert("RGB")
    difference = ImageChops.difference(one, other).convert("L").point(lambda v: 255 * (v > 40))
    for box in cells(stamped):
        x, y, w, h = box["X"], box["Y"], box["W"], box["H"]
        corner = (x + w // 2, y + h * 3 // 4, x + w, y + h)
        assert ImageStat.Stat(difference.crop(corner)).mean[0] > 5  # the time is there
        text = one.crop(corner).convert("L")
        darkest, lightest = text.getextrema()
        assert darkest < 30 and lightest > 220  # a dark box, light text
        difference.paste(0, corner)
    assert difference.getbbox() is None  # nothing drawn anywhere else
    header = one.crop((0, 0, one.width, cells(stamped)[0]["Y"] - 12)).convert("L")
    assert header.getextrema()[1] > 200  # words on the black header
    bare = snapcli.sheet(video.path, output_dir=tmp_path / "c", header=False, **common)
    assert cells(bare)[0]["Y"] == SheetStyle().margin


def test_the_header_names_the_file_and_its_facts() -> None:
    from fractions import Fraction

    from snapcli.core.contact import FileFacts

    lines = header_lines(
        FileFacts(
            "talk.mp4",
            Fraction(3_723_040),
            (1920, 1080),
            "mov,mp4",
            "h264",
            Fraction(30000, 1001),
            500_000_000,
        )  # fmt: skip
    )
    assert lines[0] == "talk.mp4"
    for part in ("1:02:03.040", "1920x1080", "h264", "29.97 fps", "1,074 kb/s", "476.8 MiB"):
        assert part in lines[1]
    assert clock(65_040) == "01:05.040"
    assert container_name("mov,mp4,m4a,3gp,3g2,mj2", "talk.mp4") == "MP4"
    assert container_name("matroska,webm", "clip.mkv") == "MATROSKA"


def test_a_file_name_in_another_script_is_drawn(
    videos: dict[str, TestVideo], tmp_path: Path
) -> None:
    named = tmp_path / "会议 記録.mp4"
    shutil.copy(videos["h264"].path, named)
    event = snapcli.sheet(named, count=2, columns=2, width=480, output_dir=tmp_path / "out")
    sheet = Image.open(sheet_path(event)).convert("L")
    header = sheet.crop((0, 0, sheet.width, cells(event)[0]["Y"]))
    assert header.getextrema()[1] > 200


def test_the_sheet_command_writes_one_picture_and_its_event(
    run_cli, videos: dict[str, TestVideo], tmp_path: Path
) -> None:
    result = run_cli(
        "sheet", str(videos["h264"].path), "-n", "6", "--columns", "3", "--width", "600",
        "--format", "png", "-o", str(tmp_path / "out"), "--json",
    )  # fmt: skip
    assert result.code == 0, result.stderr
    event = json.loads(result.stdout)
    folder = tmp_path / "out" / "h264"
    assert sorted(p.name for p in folder.iterdir()) == ["sheet.png", "snapshots.json"]
    assert Image.open(folder / "sheet.png").size == (600, event["ContactSheet"]["Height"])
    bad = run_cli("sheet", str(videos["h264"].path), "--columns", "0")
    assert bad.code == 2 and "columns must be 1 to 64" in bad.stderr


def test_a_batch_makes_a_sheet_of_each_video(
    run_cli, videos: dict[str, TestVideo], tmp_path: Path
) -> None:
    (tmp_path / "in").mkdir()
    for name in ("a", "b"):
        shutil.copy(videos["h264"].path, tmp_path / "in" / f"{name}.mp4")
    result = run_cli("batch", str(tmp_path / "in"), "--sheet", "-o", str(tmp_path / "out"), "-q")
    assert result.code == 0, result.stderr
    for name in ("a", "b"):
        assert (tmp_path / "out" / name / "sheet.jpg").is_file()


@pytest.mark.parametrize("style", [{"columns": 0}, {"width": 100}, {"background": "black"},
                                   {"timestamps": "middle"}, {"columns": 40, "width": 400}])  # fmt: skip
def test_a_style_out_of_range_is_one_clear_error(style: dict[str, object]) -> None:
    with pytest.raises(snapcli.SnapcliError) as caught:
        SheetStyle(**style)  # type: ignore[arg-type]
    assert caught.value.code == "InvalidParameter"
