"""Colours (docs/api.md §3): a JPG shows a source's colours as a player does, by the source's YUV matrix
(BT.709 tagged, or guessed from the size when untagged, as players guess)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from PIL import Image

import snapcli

# Every test here runs with each ffmpeg build (conftest.ffmpeg_build).
pytestmark = pytest.mark.usefixtures("ffmpeg_build")

COLOURS = [(32, 192, 64), (200, 40, 160), (40, 80, 220)]
TOLERANCE = 6


def stripes_video(path: Path, size: tuple[int, int], matrix: str, tagged: bool) -> Path:
    width, height = size
    stripe = width // len(COLOURS)
    sources = [
        f"color=c=0x{r:02X}{g:02X}{b:02X}:size={stripe}x{height}:rate=25:duration=1,format=rgb24[c{i}]"
        for i, (r, g, b) in enumerate(COLOURS)
    ]
    graph = ";".join(sources) + (
        f";{''.join(f'[c{i}]' for i in range(len(COLOURS)))}hstack=inputs={len(COLOURS)},"
        f"scale=out_color_matrix={matrix}:out_range=tv,format=yuv420p"
    )
    tags = (
        ["-colorspace", matrix, "-color_primaries", matrix, "-color_trc", matrix] if tagged else []
    )
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-filter_complex", graph, "-c:v", "libx264", "-qp", "0",
         *tags, str(path)],
        check=True,
    )  # fmt: skip
    return path


def stripe_colours(image: Image.Image) -> list[tuple[int, int, int]]:
    width, height = image.size
    stripe = width // len(COLOURS)
    return [image.getpixel((stripe * i + stripe // 2, height // 2)) for i in range(len(COLOURS))]  # type: ignore[misc]


def close(a: tuple[int, ...], b: tuple[int, ...]) -> bool:
    return all(abs(x - y) <= TOLERANCE for x, y in zip(a, b, strict=True))


@pytest.mark.parametrize(
    ("size", "matrix", "tagged"),
    [((320, 180), "bt709", True), ((1280, 720), "bt709", False), ((480, 270), "smpte170m", False)],
    ids=["bt709-tagged", "hd-untagged", "sd-untagged"],
)
def test_colours_match_the_source(
    size: tuple[int, int], matrix: str, tagged: bool, tmp_path: Path
) -> None:
    video = stripes_video(tmp_path / "stripes.mp4", size, matrix, tagged)
    event = snapcli.grab(video, at=[200], output_dir=tmp_path / "out", quality=100)
    image = Image.open(event.output_dir / "snapshot-00001.jpg").convert("RGB")
    got = stripe_colours(image)
    assert all(close(g, c) for g, c in zip(got, COLOURS, strict=True)), (got, COLOURS)


def test_the_colour_check_can_tell_the_matrices_apart(tmp_path: Path) -> None:
    """Decoding BT.709 video as BT.601 (the classic mistake) is outside the tolerance."""
    video = stripes_video(tmp_path / "stripes.mp4", (320, 180), "bt709", True)
    wrong = tmp_path / "wrong.png"
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-i", str(video), "-frames:v", "1", "-vf",
         "scale=in_color_matrix=bt601:in_range=tv:out_range=pc,format=rgb24", str(wrong)],
        check=True,
    )  # fmt: skip
    got = stripe_colours(Image.open(wrong).convert("RGB"))
    assert not all(close(g, c) for g, c in zip(got, COLOURS, strict=True))
