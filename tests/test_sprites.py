"""Sprites (docs/api.md §5) and the WebVTT thumbnail track (§6): sheets cut apart pixel by pixel, and the
VTT read back with an independent parser (webvtt-py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import webvtt
from PIL import Image, ImageChops, ImageStat
from support.videos import TestVideo, frame_number

import snapcli
from snapcli.core.layout import SpriteLayout
from snapcli.core.vtt import timestamp
from snapcli.media.sprite import SheetWriter


def mean_difference(a: Image.Image, b: Image.Image) -> float:
    return sum(ImageStat.Stat(ImageChops.difference(a.convert("RGB"), b.convert("RGB"))).mean) / 3


def sprite_event(
    video: TestVideo, tmp_path: Path, sprite: dict, **request: object
) -> tuple[dict, Path]:
    event = snapcli.grab(video.path, output_dir=tmp_path / "out", sprite=sprite, **request)
    return event.to_api(), Path(event.output_dir or "")


def test_every_cell_is_its_snapshot_scaled_and_the_grid_is_exact(
    videos: dict[str, TestVideo], tmp_path: Path
) -> None:
    sprite = {
        "CellWidth": 64,
        "Columns": 3,
        "Lines": 2,
        "Padding": 5,
        "Margin": 7,
        "Color": "#FF00FF",
    }
    event, folder = sprite_event(videos["h264"], tmp_path, sprite, interval=0, count=8)
    sheets = event["Sprites"]
    assert [s["Path"] for s in sheets] == ["sprite-00001.jpg", "sprite-00002.jpg"]  # ceil(8 / 6)
    for sheet in sheets:
        image = Image.open(folder / sheet["Path"]).convert("RGB")
        # 2·7 + 3·64 + 2·5 by 2·7 + 2·36 + 1·5, the last sheet too.
        assert image.size == (sheet["Width"], sheet["Height"]) == (216, 91)
        for cell in sheet["Cells"]:
            box = (cell["X"], cell["Y"], cell["X"] + cell["W"], cell["Y"] + cell["H"])
            snapshot = Image.open(folder / f"snapshot-{cell['Snapshot']:05d}.jpg").resize(
                (64, 36), Image.Resampling.LANCZOS
            )
            assert mean_difference(image.crop(box), snapshot) < 6
            time = event["Snapshots"][cell["Snapshot"] - 1]["Time"]
            assert frame_number(image.crop(box)) == videos["h264"].frame_shown_at(time)
    cells = [c for s in sheets for c in s["Cells"]]
    assert [c["Snapshot"] for c in cells] == list(range(1, 9))
    assert [(c["X"], c["Y"]) for c in cells[:6]] == [
        (7, 7),
        (76, 7),
        (145, 7),
        (7, 48),
        (76, 48),
        (145, 48),
    ]
    last = Image.open(folder / "sprite-00002.jpg").convert("RGB")
    magenta = (255, 0, 255)
    for point in [(3, 3), (73, 20), (40, 45), (212, 88), (100, 70), (180, 70)]:
        # margin, padding, padding between lines, far corner, empty cells 5 and 6 of the last sheet
        assert all(abs(a - b) < 40 for a, b in zip(last.getpixel(point), magenta)), point  # type: ignore[arg-type]


def test_one_cell_side_keeps_the_display_aspect(
    videos: dict[str, TestVideo], tmp_path: Path
) -> None:
    event, folder = sprite_event(videos["rotate90"], tmp_path, {"CellWidth": "45"}, at=[0, 1000])
    cell = event["Sprites"][0]["Cells"][1]
    assert (cell["W"], cell["H"]) == (45, 80)  # the video shows 144 × 256
    event, _ = sprite_event(videos["anamorphic"], tmp_path, {"CellHeight": 36}, at=[0])
    assert (event["Sprites"][0]["Cells"][0]["W"], event["Sprites"][0]["Cells"][0]["H"]) == (64, 36)


def test_cells_default_to_the_snapshot_size(videos: dict[str, TestVideo], tmp_path: Path) -> None:
    event, _ = sprite_event(videos["h264"], tmp_path, {}, at=[0, 40], width=32)
    assert event["Sprites"][0]["Cells"][1]["W"] == 32 and event["Sprites"][0]["Height"] == 10 * 18


def test_delete_keeps_only_the_sheets(videos: dict[str, TestVideo], tmp_path: Path) -> None:
    event, folder = sprite_event(
        videos["h264"], tmp_path, {"KeepCellPic": "delete", "CellWidth": 80}, count=3
    )
    assert sorted(p.name for p in folder.iterdir()) == ["snapshots.json", "sprite-00001.jpg"]
    assert [i["SnapshotType"] for i in event["SnapshotInfos"]] == ["SpriteSnapshot"]
    assert all("Path" not in s for s in event["Snapshots"])
    sheet = Image.open(folder / "sprite-00001.jpg")
    assert frame_number(sheet.crop((80, 0, 160, 45))) == 25


def test_random_colour_is_one_colour_per_job(videos: dict[str, TestVideo], tmp_path: Path) -> None:
    event, folder = sprite_event(videos["h264"], tmp_path, {"Color": "random", "Columns": 2, "Lines": 2,
                                                            "Margin": 4, "CellWidth": 32}, at=[0])  # fmt: skip
    sheet = Image.open(folder / "sprite-00001.jpg").convert("RGB")
    corners = [sheet.getpixel(p) for p in [(1, 1), (70, 1), (1, 40), (50, 30)]]
    assert all(sum(abs(a - b) for a, b in zip(c, corners[0])) < 30 for c in corners)  # type: ignore[arg-type]


def test_sprite_config_forms_on_the_command_line(
    run_cli, videos: dict[str, TestVideo], tmp_path: Path
) -> None:
    single_quoted = (
        "{'CellWidth': '48', 'Columns': '2', 'Lines': 2, 'KeepCellPic': 'delete', 'Color': 'Navy'}"
    )
    result = run_cli("grab", str(videos["h264"].path), "--count", "5", "--sprite-config", single_quoted,
                     "--lines", "1", "--json")  # fmt: skip
    assert result.code == 0, result.stderr
    sheets = json.loads(result.stdout)["Sprites"]
    assert len(sheets) == 3 and (sheets[0]["Width"], sheets[0]["Height"]) == (96, 27)
    request = {
        "VideoId": str(videos["h264"].path),
        "Count": "2",
        "SpriteSnapshotConfig": {"Columns": "1"},
    }
    (tmp_path / "r.json").write_text(json.dumps(request))
    result = run_cli("grab", "--request", "r.json", "--cell-width", "20", "--json")
    sheets = json.loads(result.stdout)["Sprites"]
    assert (sheets[0]["Width"], sheets[0]["Height"]) == (20, 10 * 11)
    result = run_cli("grab", str(videos["h264"].path), "--sprite", "--json")
    assert json.loads(result.stdout)["Sprites"][0]["Width"] == 2560


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["--columns", "0"], "Columns"),
        (["--color", "no-such-colour"], "Color"),
        (["--sprite-config", "{'Cols': 3}"], "Cols"),
        (["--sprite-config", "{oops"], "SpriteSnapshotConfig"),
        (["--cell-width", "160", "--columns", "1000"], "160000 px wide"),
        (["--cell-height", "90", "--lines", "800"], "Lines (800)"),
        (["--retina", "--count", "2"], "--retina"),
    ],
)
def test_bad_sprite_requests_fail_before_any_work(
    args: list[str], named: str, run_cli, videos: dict[str, TestVideo], tmp_path: Path
) -> None:
    result = run_cli("grab", str(videos["h264"].path), *args)
    assert result.code == 2 and result.stderr.startswith("snapcli: InvalidParameter: ")
    assert named in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "snapshots").exists()


def test_vtt_cues_tile_the_video_and_point_at_the_right_cells(
    videos: dict[str, TestVideo], tmp_path: Path
) -> None:
    video = videos["h264"]
    sprite = {"CellWidth": 64, "Columns": 2, "Lines": 2}
    event = snapcli.grab(
        video.path, output_dir=tmp_path, interval=1, sprite=sprite, vtt=True
    ).to_api()
    folder = Path(event["OutputDir"])
    captions = webvtt.read(str(folder / "thumbnails.vtt")).captions
    times = [s["Time"] for s in event["Snapshots"]]
    assert len(captions) == len(times) == 8
    assert [round(c.start_in_seconds * 1000) for c in captions] == times
    assert [round(c.end_in_seconds * 1000) for c in captions] == times[1:] + [8000]
    assert {c.text.split("#")[0] for c in captions} == {"sprite-00001.jpg", "sprite-00002.jpg"}
    for caption, time in zip(captions, times):
        name, fragment = caption.text.split("#xywh=")
        x, y, w, h = map(int, fragment.split(","))
        sheet = Image.open(folder / name)
        assert x + w <= sheet.width and y + h <= sheet.height
        assert frame_number(sheet.crop((x, y, x + w, y + h))) == video.frame_shown_at(time)


def test_vtt_without_sprites_points_at_the_pictures_and_base_url(
    videos: dict[str, TestVideo], tmp_path: Path
) -> None:
    event = snapcli.grab(videos["h264"].path, output_dir=tmp_path, at=[3000, 1000], vtt=True,
                         vtt_base_url="https://cdn.example/v/").to_api()  # fmt: skip
    captions = webvtt.read(str(Path(event["OutputDir"]) / "thumbnails.vtt")).captions
    # In time order: the first cue starts at 0, so the whole video has a picture.
    assert [(c.start, c.end, c.text) for c in captions] == [
        ("00:00:00.000", "00:00:03.000", "https://cdn.example/v/snapshot-00002.jpg"),
        ("00:00:03.000", "00:00:08.000", "https://cdn.example/v/snapshot-00001.jpg"),
    ]
    assert [i["SnapshotType"] for i in event["SnapshotInfos"]] == [
        "NormalSnapshot",
        "WebVttSnapshot",
    ]


def test_intra_vtt_uses_the_real_keyframe_times(
    videos: dict[str, TestVideo], tmp_path: Path
) -> None:
    event = snapcli.grab(videos["gop25"].path, output_dir=tmp_path, at=[0, 1400, 2600, 4450],
                         frame_type="intra", vtt=True, sprite={"CellWidth": 32}).to_api()  # fmt: skip
    captions = webvtt.read(str(Path(event["OutputDir"]) / "thumbnails.vtt")).captions
    assert [c.start for c in captions] == [
        "00:00:00.000",
        "00:00:01.000",
        "00:00:03.000",
        "00:00:04.000",
    ]


def test_retina_sheets_are_twice_the_size_with_their_own_vtt(
    videos: dict[str, TestVideo], tmp_path: Path
) -> None:
    event, folder = sprite_event(videos["h264"], tmp_path, {"CellWidth": 48, "Padding": 2, "Margin": 1,
                                                            "KeepCellPic": "delete"}, count=3, retina=True, vtt=True)  # fmt: skip
    normal, retina = event["Sprites"][0], event["RetinaSprites"][0]
    assert (retina["Width"], retina["Height"]) == (normal["Width"] * 2, normal["Height"] * 2)
    assert retina["Path"] == "sprite-00001@2x.jpg"
    big = Image.open(folder / "sprite-00001@2x.jpg")
    small = Image.open(folder / "sprite-00001.jpg")
    for cell_small, cell_big in zip(normal["Cells"], retina["Cells"]):
        crop_big = big.crop((cell_big["X"], cell_big["Y"], cell_big["X"] + 96, cell_big["Y"] + 54))
        crop_small = small.crop(
            (cell_small["X"], cell_small["Y"], cell_small["X"] + 48, cell_small["Y"] + 27)
        )
        assert frame_number(crop_big) == frame_number(crop_small)
        assert mean_difference(crop_big.resize((48, 27), Image.Resampling.LANCZOS), crop_small) < 8
    captions = webvtt.read(str(folder / "thumbnails@2x.vtt")).captions
    assert (
        captions[1].text
        == f"sprite-00001@2x.jpg#xywh={retina['Cells'][1]['X']},{retina['Cells'][1]['Y']},96,54"
    )


@pytest.mark.media
def test_sprite_command_makes_a_player_ready_track(run_cli, tmp_path: Path) -> None:
    sample = Path(__file__).parent.parent / "samples" / "sample.mp4"
    result = run_cli("sprite", str(sample), "--json")
    assert result.code == 0, result.stderr
    event = json.loads(result.stdout)
    folder = Path(event["OutputDir"])
    assert sorted(p.name for p in folder.iterdir()) == [
        "snapshots.json",
        "sprite-00001.jpg",
        "thumbnails.vtt",
    ]
    assert [s["Time"] for s in event["Snapshots"]] == list(range(0, 12000, 2000))
    assert (
        event["Sprites"][0]["Cells"][0]["W"] == 160 and event["Sprites"][0]["Cells"][0]["H"] == 90
    )


def test_timestamps_always_carry_hours() -> None:
    assert timestamp(0) == "00:00:00.000"
    assert timestamp(61_001) == "00:01:01.001"
    assert timestamp(10 * 3_600_000 + 59 * 60_000 + 59_999) == "10:59:59.999"


def test_sheets_are_written_and_let_go_as_they_fill() -> None:
    """Memory stays bounded: a full sheet leaves memory at once, whatever the arrival order."""
    written: list[str] = []
    layout = SpriteLayout(columns=2, lines=2, cell_width=8, cell_height=8)
    writer = SheetWriter(
        layout,
        snapshots=10,
        background=(0, 0, 0),
        write=lambda n, b: written.append(n),
        quality=80,
    )
    cell = Image.new("RGB", (8, 8))
    for index in [1, 5, 2, 3, 6, 4]:
        writer.add(index, cell)
    assert written == ["sprite-00001.jpg"] and len(writer._open) == 1
    for index in [7, 8, 9, 10]:
        writer.add(index, cell)
    assert written == ["sprite-00001.jpg", "sprite-00002.jpg", "sprite-00003.jpg"]
    assert writer._open == {}


def test_trim_last_sheet_cuts_it_to_the_rows_it_fills(
    videos: dict[str, TestVideo], tmp_path: Path
) -> None:
    sprite = {"CellWidth": 64, "Columns": 3, "Lines": 3, "Padding": 2, "Margin": 4}
    full = snapcli.grab(videos["h264"].path, interval=1, sprite=sprite, output_dir=tmp_path / "f")
    cut = snapcli.grab(videos["h264"].path, interval=1, sprite=sprite, output_dir=tmp_path / "t",
                       trim_last_sheet=True)  # fmt: skip
    # 8 thumbnails, 9 cells a sheet: one sheet of 3 rows, the last of which holds 2 cells.
    assert [(s.width, s.height) for s in full.sprites] == [(204, 8 + 3 * 36 + 4)]
    assert [(s.width, s.height) for s in cut.sprites] == [(204, 8 + 3 * 36 + 4)]
    eleven = snapcli.grab(videos["h264"].path, interval=0, count=11, sprite=sprite,
                           output_dir=tmp_path / "s", trim_last_sheet=True)  # fmt: skip
    first, last = eleven.sprites
    assert (first.width, first.height) == (204, 120)  # full: 3 rows
    assert (last.width, last.height) == (204, 8 + 36) and last.snapshots == (10, 11)  # 1 row
    assert Image.open(last.path).size == (204, 44)
    for shot, cell in zip(eleven.snapshots[9:], eleven.to_api()["Sprites"][1]["Cells"]):
        picture = Image.open(last.path).crop(
            (cell["X"], cell["Y"], cell["X"] + cell["W"], cell["Y"] + cell["H"])
        )
        assert frame_number(picture) == videos["h264"].frame_shown_at(shot.time)


@pytest.mark.parametrize("picture_format", ["png", "webp"])
def test_snapshots_and_sheets_in_another_picture_format(
    videos: dict[str, TestVideo], tmp_path: Path, picture_format: str
) -> None:
    video = videos["h264"]
    kwargs: dict = {"at": [1000, 2530], "sprite": {"CellWidth": 64}, "vtt": True,
                    "picture_format": picture_format, "output_dir": tmp_path}  # fmt: skip
    event = snapcli.grab(video.path, **kwargs)
    for shot in event.snapshots:
        assert shot.path is not None and shot.path.suffix == f".{picture_format}"
        picture = Image.open(shot.path)
        assert picture.format == picture_format.upper()
        assert frame_number(picture) == video.frame_shown_at(shot.time)
    (sheet,) = event.sprites
    assert sheet.path.name == f"sprite-00001.{picture_format}"
    assert Image.open(sheet.path).format == picture_format.upper()
    track = (event.output_dir / "thumbnails.vtt").read_text()
    assert f"sprite-00001.{picture_format}#xywh=0,0,64,36" in track
    info = event.to_api()["SnapshotInfos"][0]
    assert info["SnapshotFormat"] == f"snapshot-{{SnapshotCount}}.{picture_format}"
    again = snapcli.grab(video.path, **{**kwargs, "at": [500]})  # replaces its own result whole
    assert sorted(p.suffix for p in again.output_dir.iterdir()) == sorted(
        [f".{picture_format}", f".{picture_format}", ".json", ".vtt"]
    )


def test_a_webp_sheet_past_its_side_limit_is_refused_up_front(
    videos: dict[str, TestVideo], tmp_path: Path
) -> None:
    with pytest.raises(snapcli.SnapcliError, match="more than the 16383 px a WebP picture"):
        snapcli.grab(videos["h264"].path, count=2, sprite={"CellWidth": 2000, "Columns": 9},
                     picture_format="webp", output_dir=tmp_path)  # fmt: skip
