"""--skip-black (`skip_black=True`): a snapshot whose frame is black or one colour moves to the
nearest frame that is not, within 3 s (snapcli/core/blank.py), on a video with known stretches."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import pytest
from PIL import Image
from support.videos import H264, TestVideo, cfr_times, frame_number, make_video

import snapcli
from snapcli.core.blank import is_blank, nearest_acceptable

pytestmark = pytest.mark.usefixtures("ffmpeg_build")


@pytest.fixture(scope="module")
def stretches(tmp_path_factory: pytest.TempPathFactory) -> TestVideo:
    """8 s at 25 fps: frames 50-74 (2.00-2.96 s) black, 125-149 (5.00-5.96 s) one grey, the
    frame-number band covered too."""
    cover = (
        "drawbox=x=0:y=0:w=iw:h=ih:color=black:t=fill:enable='between(t,2,2.99)',"
        "drawbox=x=0:y=0:w=iw:h=ih:color=0x808080:t=fill:enable='between(t,5,5.99)'"
    )
    path = make_video(tmp_path_factory.mktemp("blank") / "stretches.mp4", seconds=8,
                      codec=H264, extra_filters=cover)  # fmt: skip
    return TestVideo(path, cfr_times(200, Fraction(25)), 100)


def test_a_black_and_a_one_colour_frame_move_to_the_nearest_frame_that_is_not(
    stretches: TestVideo, tmp_path: Path
) -> None:
    event = snapcli.grab(stretches.path, at=[2500, 1000, 5200], skip_black=True,
                         output_dir=tmp_path, record=False)  # fmt: skip
    frames = [frame_number(Image.open(shot.path)) for shot in event.snapshots if shot.path]
    # 2.5 s: frame 75 (3.00 s, 500 ms on) is nearer than frame 49 (1.96 s, 540 ms back);
    # 5.2 s: frame 124 (4.96 s, 240 ms back) is nearer than frame 150 (6.00 s).
    assert frames == [75, 25, 124]
    assert [(s.time, s.frame_time) for s in event.snapshots] == [
        (2500, 3000),
        (1000, 1000),
        (5200, 4960),
    ]
    assert event.to_api()["BlankSkipped"] == [
        {"Index": 1, "BlankFrameTime": 2480},
        {"Index": 3, "BlankFrameTime": 5200},
    ]


def test_without_the_flag_the_blank_frames_are_taken(stretches: TestVideo, tmp_path: Path) -> None:
    event = snapcli.grab(stretches.path, at=[2500], output_dir=tmp_path, record=False)
    (shot,) = event.snapshots
    assert shot.path is not None and is_blank(Image.open(shot.path).convert("L").histogram())
    assert "BlankSkipped" not in event.to_api()


def test_a_sheet_and_sprites_skip_them_too(stretches: TestVideo, tmp_path: Path) -> None:
    event = snapcli.grab(stretches.path, at=[2500, 5200], sprite={"CellWidth": 64},
                         skip_black=True, output_dir=tmp_path, record=False)  # fmt: skip
    assert [s.frame_time for s in event.snapshots] == [3000, 4960]
    sheet = Image.open(event.sprites[0].path).convert("RGB")
    cells = event.to_api()["Sprites"][0]["Cells"]
    for cell, expected in zip(cells, (75, 124)):
        box = (cell["X"], cell["Y"], cell["X"] + cell["W"], cell["Y"] + cell["H"])
        assert frame_number(sheet.crop(box)) == expected


def test_the_rule_reads_the_luma_histogram() -> None:
    black = [0] * 256
    black[10] = 1000
    specks = list(black)
    specks[200] = 10  # 1% bright specks: still black
    picture = [4] * 256  # spread over every level
    grey = [0] * 256
    grey[127], grey[128], grey[129] = 300, 400, 300
    assert is_blank(black) and is_blank(specks) and is_blank(grey) and not is_blank(picture)
    candidates = {1: (100.0, True), 2: (300.0, False), 3: (-100.0, False)}
    assert nearest_acceptable(100, candidates) == 2  # 200 on either side: the later
    assert nearest_acceptable(100, {1: (100.0, True)}) is None
