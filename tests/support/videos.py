"""Test videos made with ffmpeg's lavfi sources, and reading back which frame a picture shows.

Every video shows its own frame number: a band of 12 blocks over testsrc2, block i light when bit
i of the frame number is set. Reading the blocks out of a JPG tells which frame it is, whatever
snapcli believes, robust to scaling and JPEG noise.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

from PIL import Image

BITS = 12
WIDTH, HEIGHT, BAND_HEIGHT = 256, 144, 32


@dataclass(frozen=True)
class TestVideo:
    __test__ = False  # not a test class

    """A generated video and what the test knows about it independently of snapcli."""

    path: Path
    frame_times_ms: tuple[Fraction, ...]  # presentation time of frame n, from the first frame
    keyframe_every: int | None = None  # frames between keyframes, when fixed

    def frame_shown_at(self, time_ms: int) -> int:
        """docs/api.md §4 from the test's own knowledge: the last frame starting by t + 0.5 ms."""
        shown = [
            n for n, start in enumerate(self.frame_times_ms) if start <= time_ms + Fraction(1, 2)
        ]
        return shown[-1] if shown else 0

    @property
    def duration_ms(self) -> Fraction:
        times = self.frame_times_ms
        return times[-1] + (times[-1] - times[-2])


def band_source(rate: str, width: int = WIDTH) -> str:
    """One pixel a bit, scaled up to the band: the expression runs on 12 pixels a frame."""
    bit = f"mod(floor(N/pow(2,floor(X*{BITS}/W))),2)"
    return (
        f"color=c=black:size={BITS}x1:rate={rate},format=yuv444p,"
        f"geq=lum='if({bit},235,16)':cb=128:cr=128,scale={width}:{BAND_HEIGHT}:flags=neighbor,setsar=1"
    )


def make_video(
    path: Path,
    *,
    seconds: float,
    rate: str = "25",
    codec: list[str],
    extra_filters: str = "",
    output: list[str] = (),  # type: ignore[assignment]
    width: int = WIDTH,
    pix_fmt: str = "yuv420p",
) -> Path:
    picture = f"testsrc2=size={width}x{HEIGHT - BAND_HEIGHT}:rate={rate}"
    graph = f"[1][0]vstack,format={pix_fmt}{',' + extra_filters if extra_filters else ''}"
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", picture, "-f", "lavfi",
         "-i", band_source(rate, width), "-filter_complex", graph, "-t", str(seconds),
         *codec, *output, str(path)],
        check=True,
    )  # fmt: skip
    return path


def cfr_times(count: int, rate: Fraction) -> tuple[Fraction, ...]:
    return tuple(Fraction(1000 * n) / rate for n in range(count))


def frame_number(
    image: Image.Image, rows: tuple[float, float] = (0.0, BAND_HEIGHT / HEIGHT)
) -> int:
    """The frame number a picture shows in its band (upright picture expected)."""
    gray = image.convert("L")
    width, height = gray.size
    y = int(height * (rows[0] + rows[1]) / 2)
    number = 0
    for bit in range(BITS):
        x = int((bit + 0.5) * width / BITS)
        if gray.getpixel((x, y)) > 128:  # type: ignore[operator]
            number |= 1 << bit
    return number


def x264(gop: int, b_frames: int) -> list[str]:
    """H.264 with a fixed GOP (no scene-cut keyframes) and B-frames."""
    return ["-c:v", "libx264", "-preset", "veryfast", "-bf", str(b_frames), "-g", str(gop),
            "-keyint_min", str(gop), "-sc_threshold", "0"]  # fmt: skip


H264 = x264(100, 3)


def drop_mp4_box(path: Path, name: bytes) -> None:
    """Hide every `name` box of an MP4's header (moov) from readers, renamed to 'free' in place:
    the header is walked box by box, so that bytes of the media data are never taken for one."""
    data = bytearray(path.read_bytes())
    containers = {b"moov", b"trak", b"mdia", b"minf", b"stbl"}

    def walk(start: int, end: int) -> None:
        while start + 8 <= end:
            size = int.from_bytes(data[start : start + 4], "big")
            kind = bytes(data[start + 4 : start + 8])
            if size < 8:
                return
            if kind == name:
                data[start + 4 : start + 8] = b"free"
            elif kind in containers:
                walk(start + 8, start + size)
            start += size

    walk(0, len(data))
    path.write_bytes(bytes(data))
