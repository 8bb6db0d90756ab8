"""Frames no other frame refers to are left out of a decode (snapcli/media/references.py): found
in the bitstream as ffmpeg's own decoder finds them, dropped only where that keeps every
snapshot exact, and never by an ffmpeg that cannot."""

from __future__ import annotations

import re
import subprocess
import zlib
from fractions import Fraction
from pathlib import Path

import pytest
from PIL import Image
from support.videos import TestVideo, cfr_times, frame_number, make_video, x264

import snapcli
from snapcli.media import capabilities, extract, mp4index, probe, runner


def packets(path: Path) -> list[tuple[int, int]]:
    """(pts, adler32 of the data) of every video packet, in decode order, as ffmpeg reads them."""
    listing = subprocess.run(
        [runner.find_tool(), "-v", "error", "-i", str(path), "-map", "0:v:0", "-c", "copy",
         "-f", "framecrc", "-"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    rows = [line.split(",") for line in listing.splitlines() if not line.startswith("#")]
    return [(int(row[2]), int(row[5].strip(), 16)) for row in rows]


@pytest.mark.parametrize("variant", ["plain", "audio_first", "mov", "faststart", "cut"])
def test_every_sample_lies_where_the_index_places_it(
    videos: dict[str, TestVideo], mp4_variants: dict[str, Path], variant: str
) -> None:
    """The bytes at each sample's place are the packet ffmpeg reads (its checksum), with audio
    chunks between the video's, the index before the media, and in a MOV."""
    path = videos["h264"].path if variant == "plain" else mp4_variants[variant]
    index = mp4index.read_index(path)
    assert index is not None
    places = mp4index.sample_places(index, mp4index.first_video_track(index).track_id)
    assert places is not None
    expected = [checksum for _, checksum in packets(path)]
    with open(path, "rb") as file:
        found = []
        for offset, size in places.places(0, len(expected) - 1):
            file.seek(offset)
            found.append(zlib.adler32(file.read(size), 0))
    assert found == expected


def test_the_unreferenced_frames_are_those_ffmpeg_skips_as_non_reference(
    videos: dict[str, TestVideo], tmp_path: Path
) -> None:
    """The frames read as unreferenced are exactly those ffmpeg's decoder leaves out with
    -skip_frame noref, on x264's B-pyramid (some B-frames are references) and on B-frames
    without it; the targets asked for are kept."""
    pyramid = videos["h264"].path
    flat = tmp_path / "flat.mp4"
    subprocess.run(
        ["ffmpeg", "-v", "error", "-i", str(pyramid), "-c:v", "libx264", "-preset", "veryfast",
         "-bf", "2", "-x264-params", "b-pyramid=none", str(flat)],
        check=True,
    )  # fmt: skip
    for path in (pyramid, flat):
        info = probe.probe(path)
        assert info.references is not None
        pts = info.timeline.pts
        kept = subprocess.run(
            [runner.find_tool(), "-hide_banner", "-copyts", "-skip_frame", "noref", "-i",
             str(path), "-vf", "showinfo", "-f", "null", "-"],
            capture_output=True, text=True, check=True,
        ).stderr  # fmt: skip
        referenced = {int(found) for found in re.findall(r" pts:\s*(-?\d+)", kept)}
        unreferenced = set(pts) - referenced
        assert 0.25 < len(unreferenced) / len(pts) < 0.75  # there is something to leave out
        wanted = sorted(unreferenced)[5]
        found = info.references.unreferenced(info.timeline.keyframes[0], [pts[-1], wanted])
        assert set(found) == unreferenced - {pts[-1], wanted}


def test_no_references_where_the_header_does_not_settle_them(
    videos: dict[str, TestVideo],
) -> None:
    """Only H.264 read from an MP4/MOV header qualifies: not HEVC, not Matroska."""
    assert probe.probe(videos["h264"].path).references is not None
    assert probe.probe(videos["hevc"].path).references is None
    assert probe.probe(videos["mkv"].path).references is None


@pytest.mark.usefixtures("ffmpeg_build")
def test_a_decode_that_leaves_out_unreferenced_frames_takes_the_exact_ones(
    videos: dict[str, TestVideo], tmp_path: Path, ffmpeg_build: str
) -> None:
    """Mid-GOP targets, referenced and not, come out exact. The static ffmpeg drops the
    unreferenced frames before its decoder; Debian's 5.1 takes no input bitstream filter, so
    it is asked once, then every frame is decoded as before."""
    video = videos["h264"]
    times = [1010, 1050, 1090, 2130, 2170, 5330, 5370, 7410]
    capabilities._known.clear()  # as a new process: nothing known of the binary yet
    event = snapcli.grab(video.path, at=times, output_dir=tmp_path / "out")
    assert [frame_number(Image.open(s.path)) for s in event.snapshots] == [
        video.frame_shown_at(t) for t in times
    ]
    version = subprocess.run([ffmpeg_build, "-version"], capture_output=True, text=True).stdout
    old = re.match(r"ffmpeg version (\d+)\.", version)
    refused = bool(old and int(old.group(1)) < 7)
    assert capabilities.lacks(ffmpeg_build, extract.INPUT_FILTERS) == refused
    # Remembered for the next command, another process: a file under snapcli's home.
    capabilities._known.clear()
    assert capabilities.lacks(ffmpeg_build, extract.INPUT_FILTERS) == refused


def test_the_command_drops_only_unreferenced_frames_other_than_the_targets(
    videos: dict[str, TestVideo],
) -> None:
    """Each input's drop list names the unreferenced frames from its keyframe on, never a
    target; a run that missed its targets once decodes every frame."""
    from snapcli.core.geometry import FrameGeometry

    info = probe.probe(videos["h264"].path)
    pts = info.timeline.pts
    key = info.timeline.keyframes[1]
    targets = [pts[110], pts[111], pts[112]]
    unreferenced = set(info.references.unreferenced(key, targets))
    extractor = extract._RunExtractor(
        info, False, FrameGeometry.for_output((64, 36), 0, ()), lambda *_: None,
        "ffmpeg-with-filters", None,
    )  # fmt: skip
    run = extract._Input(key, {w.micros: w for w in map(extractor._window, targets)})
    command = extractor._command([run])
    drops = command[command.index("-bsf:v") + 1]
    named = {-int(term) for term in re.findall(r"not\(pts([-+]\d+)\)", drops)}
    assert named == unreferenced and named.isdisjoint(targets) and min(named) > key
    run.may_drop = False
    assert "-bsf:v" not in extractor._command([run])


@pytest.mark.usefixtures("ffmpeg_build")
def test_a_long_run_leaves_out_hundreds_of_frames_and_stays_exact(tmp_path: Path) -> None:
    """One GOP of 16 s: a target near its end leaves out some 200 frames in one input, more
    than one ffmpeg expression of a flat sum takes (it refuses 100 terms)."""
    video = TestVideo(
        make_video(tmp_path / "long_gop.mp4", seconds=16, codec=x264(400, 3)),
        cfr_times(400, Fraction(25)),
        400,
    )
    info = probe.probe(video.path)
    assert len(info.references.unreferenced(0, [info.timeline.pts[395]])) > 150
    times = [15810, 15850]
    event = snapcli.grab(video.path, at=times, output_dir=tmp_path / "out")
    assert [frame_number(Image.open(s.path)) for s in event.snapshots] == [
        video.frame_shown_at(t) for t in times
    ]
