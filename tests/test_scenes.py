"""--pick scenes: snapshots at the strongest scene changes, on a video with known cuts, each the
first frame of its new shot (read back by its frame number)."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import pytest
from PIL import Image
from support.videos import BAND_HEIGHT, H264, TestVideo, cfr_times, frame_number, make_video

import snapcli
from snapcli.core.scenes import scene_times


@pytest.fixture(scope="module")
def cuts(tmp_path_factory: pytest.TempPathFactory) -> TestVideo:
    """8 s at 25 fps with cuts at frames 50 (the picture turns red), 100 (back) and 150 (blue);
    the frame-number band stays readable above it."""
    below = f"x=0:y={BAND_HEIGHT}:w=iw:h=ih-{BAND_HEIGHT}"
    graph = (
        f"drawbox={below}:color=red:t=fill:enable='between(t,2,3.99)',"
        f"drawbox={below}:color=blue:t=fill:enable='gte(t,6)'"
    )
    path = make_video(tmp_path_factory.mktemp("cuts") / "cuts.mp4", seconds=8, codec=H264,
                      extra_filters=graph)  # fmt: skip
    return TestVideo(path, cfr_times(200, Fraction(25)), 100)


@pytest.mark.usefixtures("ffmpeg_build")
def test_the_picks_are_the_first_frames_of_the_new_shots(cuts: TestVideo, tmp_path: Path) -> None:
    event = snapcli.grab(cuts.path, pick="scenes", count=3, output_dir=tmp_path, record=False)
    frames = [frame_number(Image.open(shot.path)) for shot in event.snapshots if shot.path]
    assert frames == [50, 100, 150]
    assert [shot.time for shot in event.snapshots] == [2000, 4000, 6000]


def test_a_sheet_of_scenes_and_the_command(run_cli, cuts: TestVideo, tmp_path: Path) -> None:
    event = snapcli.sheet(cuts.path, count=2, columns=2, width=400, pick="scenes",
                          output_dir=tmp_path / "sheet", record=False)  # fmt: skip
    assert [shot.time for shot in event.snapshots] == [4000, 6000]  # the two strongest cuts
    result = run_cli("grab", str(cuts.path), "--pick", "scenes", "--count", "1", "-o",
                     str(tmp_path / "cli"), "--json")  # fmt: skip
    assert result.code == 0, result.stderr
    too_many = run_cli("grab", str(cuts.path), "--pick", "scenes", "--count", "31")
    assert too_many.code == 2 and "Count must be between 1 and 30" in too_many.stderr


def test_picks_keep_apart_and_skip_motion() -> None:
    scores = [(Fraction(0), 0.0), (Fraction(1000), 0.9), (Fraction(1040), 0.8),
              (Fraction(5000), 0.5), (Fraction(7000), 0.05), (Fraction(7000, 3), 0.3)]  # fmt: skip
    # 1040 is too near 1000 (a gap of 8000 / 12); 7000 is motion, not a cut; a time between
    # two ms is rounded up, into the frame.
    assert scene_times(scores, 3, Fraction(8000)) == [1000, 2334, 5000]
    assert scene_times(scores[:1], 3, Fraction(8000)) == []
