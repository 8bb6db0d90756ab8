"""Animated previews (`snapcli preview`, `snapcli.preview`): the clips are where they should be,
frame by frame, read back from the animation itself."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import pytest
from PIL import Image, ImageSequence
from support.videos import TestVideo, frame_number

import snapcli
from snapcli.core.preview import Clip, PreviewStyle, clips_of, scaled_height


def test_clips_are_centred_in_equal_parts_and_kept_inside() -> None:
    style = PreviewStyle(clips=4, clip_ms=1000)
    assert clips_of(Fraction(8000), style) == [Clip(500, 1000), Clip(2500, 1000),
                                               Clip(4500, 1000), Clip(6500, 1000)]  # fmt: skip
    assert clips_of(Fraction(3000), style) == [Clip(0, 3000)]  # shorter than the clips
    assert scaled_height((1920, 1080), 320) == 180 and scaled_height((1080, 1920), 101) == 180


@pytest.mark.usefixtures("ffmpeg_build")
def test_an_animated_webp_shows_each_clip_from_its_start(
    videos: dict[str, TestVideo], tmp_path: Path
) -> None:
    video = videos["h264"]  # 8 s at 25 fps
    event = snapcli.preview(video.path, clips=3, fps=5, width=256, output_dir=tmp_path)
    record = event.to_api()["Preview"]
    assert event.output_dir is not None
    animation = Image.open(event.output_dir / record["Path"])
    frames = [frame_number(frame.convert("RGB")) for frame in ImageSequence.Iterator(animation)]
    assert len(frames) == 15 and animation.info.get("loop") == 0
    for k, clip in enumerate(record["Clips"]):
        first = video.frame_shown_at(clip["Start"])
        assert frames[5 * k : 5 * k + 5] == [first + 5 * n for n in range(5)], (k, frames)
    assert animation.size == (record["Width"], record["Height"]) == (256, 144)


def test_an_mp4_preview_and_the_command(
    run_cli, videos: dict[str, TestVideo], tmp_path: Path
) -> None:
    result = run_cli("preview", str(videos["h264"].path), "--clips", "2", "--clip-length", "1.5s",
                     "--format", "mp4", "-o", str(tmp_path), "-q")  # fmt: skip
    assert result.code == 0, result.stderr
    made = tmp_path / "h264" / "preview.mp4"
    info = snapcli.probe(made)
    assert info.timeline.frame_count == 2 * 18  # 1.5 s at 12 fps, twice
    assert info.display_size == (320, 180)
    again = run_cli("preview", str(videos["h264"].path), "-o", str(tmp_path), "-q")
    assert again.code == 0, again.stderr  # the previous preview is replaced
    assert sorted(p.name for p in made.parent.iterdir()) == ["preview.webp", "snapshots.json"]


@pytest.mark.parametrize("style", [{"clips": 0}, {"clip_ms": 50}, {"width": 8}, {"fps": 0},
                                   {"picture_format": "gif"}])  # fmt: skip
def test_a_preview_out_of_range_is_one_clear_error(style: dict[str, object]) -> None:
    with pytest.raises(snapcli.SnapcliError) as caught:
        PreviewStyle(**style)  # type: ignore[arg-type]
    assert caught.value.code == "InvalidParameter"
