"""The right frame (docs/api.md §4), the right size and orientation (§3), on every format: JPGs decoded
and their frame numbers read from the picture itself."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
from PIL import Image, ImageChops, ImageStat
from support.videos import TestVideo, frame_number

import snapcli

# Every test here runs with each ffmpeg build (conftest.ffmpeg_build).
pytestmark = pytest.mark.usefixtures("ffmpeg_build")

# Times around frame starts (40 ms steps at 25 fps), GOP boundaries (4 s) and the end.
EDGE_TIMES = [0, 1, 39, 40, 41, 999, 1000, 1999, 2020, 3959, 3960, 3999, 4000, 4001, 5555]


def grab_frames(video: TestVideo, times: list[int], tmp_path: Path, **request: object) -> list[int]:
    return event_frames(snapcli.grab(video.path, at=times, output_dir=tmp_path / "out", **request))


def event_frames(event: Any) -> list[int]:
    """The frame number each snapshot of a finished job shows."""
    return [frame_number(Image.open(shot.path)) for shot in event.snapshots]


@pytest.mark.parametrize(
    "name",
    [
        "h264",
        "hevc",
        "vp9",
        "av1",
        "mkv",
        "flv",
        "ts",
        "mpeg2ts",
        "gop25",
        "avi",
        "xvid_packed",
        "decode_order",
        "h264_raw",
        "m2v_raw",
    ],
)
def test_each_snapshot_is_the_frame_a_player_shows(
    name: str, videos: dict[str, TestVideo], tmp_path: Path
) -> None:
    if name not in videos:
        pytest.skip(f"this ffmpeg cannot encode the {name} test video")
    video = videos[name]
    times = [t for t in EDGE_TIMES if t < video.duration_ms]
    last_frame_start = int(video.frame_times_ms[-1])
    times += [last_frame_start - 1, last_frame_start]  # within the last GOP, up to the last frame
    for batch in (times[:30], times[30:]):
        if batch:
            got = grab_frames(video, batch, tmp_path)
            assert got == [video.frame_shown_at(t) for t in batch], name


def test_variable_frame_rate_takes_the_frame_showing_at_each_time(
    videos: dict[str, TestVideo], tmp_path: Path
) -> None:
    video = videos["vfr"]
    times = [0, 39, 40, 41, 59, 60, 99, 100, 119, 120, 121, 1000, 1019, 1020, 2979, 2980, 5939]
    assert grab_frames(video, times, tmp_path) == [video.frame_shown_at(t) for t in times]


def test_a_frame_starting_within_half_a_millisecond_counts_as_at_that_time(
    videos: dict[str, TestVideo], tmp_path: Path
) -> None:
    # Frame 1 starts at 33.367 ms: at 33 ms it is shown (within 0.5 ms), at 32 ms not yet.
    video = videos["ntsc"]
    times = [32, 33, 66, 67, 100, 1001, 2969, 2970]
    got = grab_frames(video, times, tmp_path)
    assert got == [0, 1, 1, 2, 3, 30, 88, 89]  # frame 89 starts at 2969.63 ms
    assert got == [video.frame_shown_at(t) for t in times]


def test_count_and_interval_schedules_take_exact_frames(
    videos: dict[str, TestVideo], tmp_path: Path
) -> None:
    video = videos["h264"]
    event = snapcli.grab(video.path, count=7, interval=0, output_dir=tmp_path)
    times = [shot.time for shot in event.snapshots]
    assert times == [round(k * 8000 / 7) for k in range(7)]
    frames = event_frames(event)
    assert frames == [video.frame_shown_at(t) for t in times]
    assert [s.frame_time for s in event.snapshots] == [
        round(video.frame_times_ms[f]) for f in frames
    ]


def test_dense_schedule_over_many_runs_stays_exact(
    videos: dict[str, TestVideo], tmp_path: Path
) -> None:
    # 70 snapshots: more than one ffmpeg run's worth, spread over both workers.
    video = videos["h264"]
    event = snapcli.grab(video.path, interval=0, count=70, output_dir=tmp_path)
    frames = event_frames(event)
    assert frames == [video.frame_shown_at(s.time) for s in event.snapshots]


def test_intra_takes_the_nearest_keyframe_and_records_its_time(
    videos: dict[str, TestVideo], tmp_path: Path
) -> None:
    video = videos["gop25"]  # keyframes at 0, 1000, 2000, … ms
    times = [0, 400, 499, 500, 501, 1600, 5900]
    event = snapcli.grab(video.path, at=times, frame_type="intra", output_dir=tmp_path)
    frames = event_frames(event)
    # A tie (500 ms between 0 and 1000) goes to the earlier keyframe.
    assert frames == [0, 0, 0, 0, 25, 50, 150 - 25]
    assert [s.frame_time for s in event.snapshots] == [0, 0, 0, 0, 1000, 2000, 5000]


@pytest.mark.parametrize(
    ("turn", "upright"),
    [
        (90, Image.Transpose.ROTATE_270),
        (180, Image.Transpose.ROTATE_180),
        (270, Image.Transpose.ROTATE_90),
    ],
)
def test_rotated_video_comes_out_as_a_player_shows_it(
    turn: int, upright: Image.Transpose, videos: dict[str, TestVideo], tmp_path: Path
) -> None:
    """The `rotate` tag turns the picture clockwise for display (what players do)."""
    video = videos[f"rotate{turn}"]
    event = snapcli.grab(video.path, at=[1240], output_dir=tmp_path)
    image = Image.open(event.output_dir / "snapshot-00001.jpg")
    expected_size = (144, 256) if turn in (90, 270) else (256, 144)
    assert image.size == expected_size
    assert (event.snapshots[0].width, event.snapshots[0].height) == expected_size
    assert frame_number(image.transpose(upright)) == 31


@pytest.mark.parametrize(
    ("matrix", "upright"),
    [
        (["-display_hflip"], [Image.Transpose.FLIP_LEFT_RIGHT]),
        (["-display_vflip"], [Image.Transpose.FLIP_TOP_BOTTOM]),
        (["-display_rotation", "90", "-display_hflip"], [Image.Transpose.TRANSVERSE]),
        (["-display_rotation", "270", "-display_vflip"], [Image.Transpose.TRANSVERSE]),
    ],
    ids=["left-right mirror", "top-bottom mirror", "turned and mirrored", "turned, flipped"],
)
def test_a_mirrored_display_matrix_is_shown_as_a_player_shows_it(
    matrix: list[str], upright: list[Image.Transpose], videos: dict[str, TestVideo],
    tmp_path: Path, ffmpeg_build: str,
) -> None:  # fmt: skip
    """The whole display matrix applies, mirror included, as FFmpeg's own autorotate applies it
    (a left-right mirror reports a 180° turn, and came out upside down)."""
    try:
        import imageio_ffmpeg
    except ImportError:
        pytest.skip("imageio-ffmpeg (a test dependency) writes the mirrored matrices")
    writer = imageio_ffmpeg.get_ffmpeg_exe()  # ffmpeg 6+ writes -display_hflip/-display_vflip
    mirrored = tmp_path / "mirrored.mp4"
    subprocess.run([writer, "-v", "error", *matrix, "-i", str(videos["gop25"].path), "-c",
                    "copy", str(mirrored)], check=True)  # fmt: skip
    reference = tmp_path / "reference.png"  # what a player shows: ffmpeg's own autorotate
    subprocess.run([writer, "-v", "error", "-i", str(mirrored), "-vf", "select=eq(n\\,31)",
                    "-frames:v", "1", str(reference)], check=True)  # fmt: skip
    event = snapcli.grab(mirrored, at=[1240], picture_format="png", output_dir=tmp_path / "o")
    shot = event.snapshots[0]
    assert shot.path is not None
    picture = Image.open(shot.path).convert("RGB")
    shown = Image.open(reference).convert("RGB")
    assert picture.size == shown.size
    difference = sum(ImageStat.Stat(ImageChops.difference(picture, shown)).mean) / 3
    assert difference < 4, difference
    for step in upright:
        picture = picture.transpose(step)
    assert frame_number(picture) == 31


def test_rotated_video_scaled_by_width_keeps_the_shown_aspect(
    videos: dict[str, TestVideo], tmp_path: Path
) -> None:
    event = snapcli.grab(videos["rotate90"].path, at=[0], width=72, output_dir=tmp_path)
    image = Image.open(event.output_dir / "snapshot-00001.jpg")
    assert image.size == (72, 128)


def test_anamorphic_video_is_shown_with_its_pixel_aspect(
    videos: dict[str, TestVideo], tmp_path: Path
) -> None:
    event = snapcli.grab(videos["anamorphic"].path, at=[440], output_dir=tmp_path)
    image = Image.open(event.output_dir / "snapshot-00001.jpg")
    assert image.size == (256, 144)  # 192 × 4/3
    assert frame_number(image) == 11


@pytest.mark.parametrize(
    ("width", "height", "expected"),
    [
        (None, None, (256, 144)),
        (333, None, (333, 187)),
        (None, 45, (80, 45)),
        (100, 100, (100, 100)),
    ],
)
def test_width_and_height_rules(
    width: int | None,
    height: int | None,
    expected: tuple[int, int],
    videos: dict[str, TestVideo],
    tmp_path: Path,
) -> None:
    request = {k: v for k, v in {"width": width, "height": height}.items() if v}
    event = snapcli.grab(videos["h264"].path, at=[2000], output_dir=tmp_path, **request)
    image = Image.open(event.output_dir / "snapshot-00001.jpg")
    assert image.size == expected
    assert frame_number(image) == 50


def test_odd_sized_video(videos: dict[str, TestVideo], tmp_path: Path) -> None:
    event = snapcli.grab(videos["odd"].path, at=[1000], output_dir=tmp_path)
    image = Image.open(event.output_dir / "snapshot-00001.jpg")
    assert image.size == (255, 143)
    assert frame_number(image) == 25


def test_open_gop_leading_frames_before_a_keyframe(
    videos: dict[str, TestVideo], tmp_path: Path
) -> None:
    """x265's CRA keyframes (every 2.4 s here) have leading frames shown before them but decoded
    after them: a player shows those, and so must the snapshot."""
    video = videos["hevc"]
    times = [2280, 2320, 2359, 2360, 2361, 2399, 2400, 2440, 4760, 4799, 4800]
    assert grab_frames(video, times, tmp_path) == [video.frame_shown_at(t) for t in times]


@pytest.mark.usefixtures("index_unread")
@pytest.mark.parametrize(
    "name",
    [
        "h264",
        "hevc",
        "vfr",
        "ntsc",
        "gop25",
        "mkv",
        "mkv_untagged",
        "vp9",
        "ts",
        "mpeg2ts",
        "ts_long",
    ],
)
def test_reading_the_timeline_in_windows_agrees_with_reading_it_all(
    name: str, videos: dict[str, TestVideo], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from snapcli.media import probe as probing
    from snapcli.media.probe import probe

    monkeypatch.setattr(probing, "NEAR_SEEK_MIN_BYTES", 0)  # MPEG-TS files this small too

    times = [0, 1, 39, 1999, 2400, 3999, 4001, 5555, 5939]
    video = videos[name]
    windowed = probe(video.path, near_ms=times)
    whole = probe(video.path)
    assert windowed.timeline.known is not None  # the windows settled every time
    assert (
        windowed.duration_ms == whole.duration_ms
        and windowed.timeline.origin == whole.timeline.origin
    )
    for t in (t for t in times if t < whole.duration_ms):
        frame = windowed.timeline.frame_at(t)
        assert frame == whole.timeline.frame_at(t)
        assert windowed.timeline.keyframe_before(frame) == whole.timeline.keyframe_before(frame)
    few = [t for t in times if t < video.duration_ms][:8]
    assert grab_frames(video, few, tmp_path) == [video.frame_shown_at(t) for t in few]


@pytest.mark.parametrize("name", ["mkv", "ts_long"])
def test_windows_that_cannot_settle_a_time_fall_back_to_the_whole_timeline(
    name: str,
    videos: dict[str, TestVideo],
    monkeypatch: pytest.MonkeyPatch,
    probe_reads: list[list[int] | None],
) -> None:
    """A stated duration that the end the windows read contradicts (a truncated file, say): the
    whole timeline is read instead."""
    from snapcli.media import probe

    monkeypatch.setattr(probe, "NEAR_SEEK_MIN_BYTES", 0)
    stated = probe._stated_duration_ms
    monkeypatch.setattr(probe, "_stated_duration_ms", lambda *args: stated(*args) + 1000)
    info = probe.probe(videos[name].path, near_ms=[1000, 30_000])
    assert info.timeline.known is None
    assert probe_reads[-1] is None


def test_an_avi_whose_last_frames_carry_no_time_gives_them_as_ffmpeg_dates_them(
    videos: dict[str, TestVideo], tmp_path: Path
) -> None:
    """H.264 with B-frames in AVI: the decoder flushes the last two frames without a time, and
    ffmpeg's versions date them differently (5.1: a tick and three ticks after the one before; 9:
    a tick and two). The timeline takes the times from the ffmpeg that extracts, so the last
    frames come out (they failed with "could not be decoded" while ffprobe's guess was used);
    the frames before them are where a player shows them."""
    video = videos["avi_h264"]
    times = [0, 40, 3999, 4000, 7879]
    assert grab_frames(video, times, tmp_path) == [video.frame_shown_at(t) for t in times]
    last = grab_frames(video, [7900, 7930], tmp_path / "last")
    assert last == sorted(last) and set(last) <= {197, 198, 199}


def test_a_raw_stream_is_numbered_by_its_frame_rate_and_decoded_from_its_start(
    videos: dict[str, TestVideo], tmp_path: Path
) -> None:
    """A raw H.264 stream has no timestamps: its frames are numbered by the frame rate, as
    ffmpeg numbers them, and since a seek by time cannot find them, every run decodes from the
    start (in intra mode too, every frame: ffmpeg numbers only the frames it decodes)."""
    from snapcli.media.probe import probe

    video = videos["h264_raw"]
    info = probe(video.path)
    assert not info.seekable
    assert info.timeline.frame_count == 150 and info.timeline.keyframes == (0, 100 * 48000)
    times = [1999, 4001, 5959]
    assert grab_frames(video, times, tmp_path) == [49, 100, 148]
    intra = grab_frames(video, [0, 2100, 5900], tmp_path / "intra", frame_type="intra")
    assert intra == [0, 100, 100]


@pytest.mark.parametrize("name", ["h264", "ts"])
def test_a_seek_that_lands_after_its_targets_is_retried_earlier(
    name: str, videos: dict[str, TestVideo]
) -> None:
    """Hand a run a seek past its target (as an inexact demuxer may land): the frame still comes
    out exact, from MPEG-TS and MP4 alike."""
    from snapcli.core.geometry import FrameGeometry
    from snapcli.core.plan import Run
    from snapcli.media.extract import _RunExtractor
    from snapcli.media.probe import probe

    info = probe(videos[name].path)
    timeline = info.timeline
    target = timeline.frame_at(2040)
    late_seek = timeline.next_keyframe(target)  # the keyframe at 4 s, after the target
    assert late_seek is not None and late_seek > target
    got: list[tuple[int, bytes]] = []
    extractor = _RunExtractor(
        info, False, FrameGeometry.for_output(info.display_size, 0),
        lambda pts, rgb: got.append((pts, rgb)), "ffmpeg", None,
    )  # fmt: skip
    extractor.extract((Run(seek_pts=late_seek, targets=(target,), decoded_frames=1),))
    assert [pts for pts, _ in got] == [target]
    picture = Image.frombytes("RGB", info.display_size, got[0][1])
    assert frame_number(picture) == videos[name].frame_shown_at(2040) == 51


@pytest.mark.parametrize(
    "name",
    ["h264", "hevc", "vp9", "av1", "mkv", "flv", "ts", "mpeg2ts", "avi", "avi_h264", "gop25",
     "decode_order", "h264_raw", "m2v_raw"],
)  # fmt: skip
def test_targets_alone_on_their_keyframes_are_decoded_as_keyframes_only_and_exact(
    name: str, videos: dict[str, TestVideo], tmp_path: Path
) -> None:
    """Snapshots that fall on keyframes, one a GOP (an interval that is a multiple of a fixed
    GOP): their runs decode keyframes only, passing over the other frames, and every snapshot is
    still the frame a player shows. Not where ffmpeg dates the frames as it decodes them (a raw
    stream, an AVI with B-frames), nor in an MP4 dated in decode order: a decode of keyframes
    alone dates them otherwise there."""
    from math import ceil

    from snapcli.core.plan import plan_extraction
    from snapcli.media.probe import probe

    if name not in videos:
        pytest.skip(f"this ffmpeg cannot encode the {name} test video")
    video = videos[name]
    info = probe(video.path)
    timeline = info.timeline
    times = [ceil(timeline.ms(key)) for key in timeline.keyframes]
    targets = [timeline.frame_at(t) for t in times]
    assert targets == list(timeline.keyframes)
    plan = plan_extraction(timeline, targets, keyframes_only=False, pixels_per_frame=1,
                           workers=2, seekable=info.seekable,
                           keyframes_decode_alone=info.keyframes_decode_alone)  # fmt: skip
    assert all(run.keyframes_only for run in plan.runs) == info.keyframes_decode_alone
    assert grab_frames(video, times, tmp_path) == [video.frame_shown_at(t) for t in times]


def keyframes_shown(path: Path) -> set[int]:
    """The frame numbers of the keyframes, in display order, as ffprobe decodes every frame."""
    flags = subprocess.run(
        ["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries", "frame=key_frame",
         "-of", "csv=p=0", str(path)],
        capture_output=True, text=True, check=True,
    ).stdout.split()  # fmt: skip
    return {n for n, flag in enumerate(flags) if flag.startswith("1")}


@pytest.mark.parametrize("name", ["avi", "avi_h264", "xvid_packed", "decode_order"])
def test_intra_mode_takes_keyframes_where_a_keyframes_only_decode_would_misdate_them(
    name: str, videos: dict[str, TestVideo], tmp_path: Path
) -> None:
    """docs/api.md §4, intra mode, in an AVI with B-frames (times that ffmpeg guesses as it
    decodes) and an MP4 dated in decode order: a decode of keyframes alone dates each keyframe
    with a later one's time, and failed ("could not be decoded"). Every snapshot is a keyframe,
    the one nearest its time, and its FrameTime is that frame's."""
    if name not in videos:
        pytest.skip(f"this ffmpeg cannot encode the {name} test video")
    video = videos[name]
    keyframes = sorted(keyframes_shown(video.path))
    times = [0, 1000, 2500, 3999, 4000, 5555, 5900]
    event = snapcli.grab(video.path, at=times, frame_type="intra", output_dir=tmp_path / "o")
    frames = event_frames(event)
    nearest = [min(keyframes, key=lambda k: (abs(video.frame_times_ms[k] - t), k)) for t in times]
    assert frames == nearest, name
    assert [shot.frame_time for shot in event.snapshots] == [
        round(video.frame_times_ms[f]) for f in frames
    ]


def test_a_time_gives_one_frame_whatever_else_is_asked(
    videos: dict[str, TestVideo], tmp_path: Path
) -> None:
    """In an MP4 dated in decode order (pts = dts, B-frames), ffmpeg's guessed dates changed with
    where decoding began: a keyframe's time alone gave the keyframe, among nearby times another
    frame, with the same FrameTime. Frames are taken by their place in display order now."""
    video = videos["decode_order"]
    nearby = [3880, 3920, 3960, 4000, 4040, 4080, 4120, 4160, 4200, 4240]
    together = grab_frames(video, nearby, tmp_path / "together")
    for time in (4000, 4040, 4120):
        alone = grab_frames(video, [time], tmp_path / f"alone{time}")
        assert alone == [together[nearby.index(time)]] == [video.frame_shown_at(time)]
    assert together == [video.frame_shown_at(t) for t in nearby]


def test_a_keyframes_only_run_that_misses_its_target_decodes_every_frame(
    videos: dict[str, TestVideo],
) -> None:
    """Where the decoder does not take a target for a keyframe (here a frame that is none), the
    run is decoded again, every frame, and the target still comes out exact."""
    from snapcli.core.geometry import FrameGeometry
    from snapcli.core.plan import Run
    from snapcli.media.extract import _RunExtractor
    from snapcli.media.probe import probe

    info = probe(videos["h264"].path)
    target = info.timeline.frame_at(2040)  # frame 51, mid-GOP
    got: list[tuple[int, bytes]] = []
    extractor = _RunExtractor(
        info, False, FrameGeometry.for_output(info.display_size, 0),
        lambda pts, rgb: got.append((pts, rgb)), "ffmpeg", None,
    )  # fmt: skip
    extractor.extract((Run(None, (target,), decoded_frames=1, keyframes_only=True),))
    assert [pts for pts, _ in got] == [target]
    picture = Image.frombytes("RGB", info.display_size, got[0][1])
    assert frame_number(picture) == videos["h264"].frame_shown_at(2040) == 51


@pytest.mark.parametrize(
    "name", ["h264", "hevc", "vp9", "mkv", "flv", "avi", "avi_h264", "gop25", "delayed", "mov"]
)
def test_a_seek_starts_decoding_at_its_keyframe_not_a_gop_before(
    name: str, videos: dict[str, TestVideo], mp4_variants: dict[str, Path], ffmpeg_build: str
) -> None:
    """A run's seek to a keyframe starts decoding at that keyframe, in every container that seeks
    by an index: the first frame decoded is the keyframe itself, not one a GOP (or more) before
    it, which would be decoded for nothing (ffmpeg's lead for B-frames did that in Matroska, FLV
    and AVI), nor one after it. An MP4 input skips ffmpeg's stream-info pass, and its -ss then
    counts from 0, not from the container's start (1.5 s in `delayed`)."""
    import re
    import subprocess

    from snapcli.media.extract import input_options
    from snapcli.media.probe import probe

    info = probe(videos[name].path if name in videos else mp4_variants[name])
    timeline = info.timeline
    for keyframe in timeline.keyframes[1:]:
        options = [
            part
            for option, value in input_options(info, keyframe).items()
            for part in ["-" + option, *([] if value is None else [str(value)])]
        ]
        shown = subprocess.run(
            [ffmpeg_build, "-hide_banner", "-nostdin", *options,
             "-i", info.input_url, "-map", f"0:{info.stream_index}", "-vf", "showinfo",
             "-frames:v", "1", "-f", "null", "-"],
            capture_output=True, text=True, check=True,
        ).stderr  # fmt: skip
        first = re.search(r"pts_time:\s*(-?[\d.]+)", shown)
        assert first is not None, shown
        landed = float(first.group(1))
        assert abs(landed - float(timeline.seconds(keyframe))) < 0.001, (name, options)


@pytest.mark.parametrize("name", ["h264", "hevc", "vp9", "mkv", "ts", "mpeg2ts", "vfr", "avi"])
@pytest.mark.parametrize("jpeg", [False, True])
def test_one_ffmpeg_with_an_input_per_run_delivers_every_frame_exactly(
    name: str, jpeg: bool, videos: dict[str, TestVideo]
) -> None:
    """A process of several runs: one input each (two sharing a seek share a decoder, and one
    reads from the start), merged in time order. Every target comes out once, the right frame."""
    import io

    from snapcli.core.geometry import FrameGeometry
    from snapcli.core.plan import Plan, Run
    from snapcli.media.extract import encodes_jpeg, extract
    from snapcli.media.probe import probe

    info = probe(videos[name].path)
    if jpeg and not encodes_jpeg(info, info.display_size):
        pytest.skip("ffmpeg makes no JPEGs of this source")
    timeline = info.timeline
    times = [30, 1500, 2020, 2500, 4100, 5900]
    frames = [timeline.frame_at(t) for t in times]
    keyframe_of = [timeline.keyframe_before(pts) for pts in frames]
    runs = tuple(
        Run(
            seek_pts=None if key == timeline.keyframes[0] else key, targets=(pts,), decoded_frames=1
        )
        for pts, key in zip(frames, keyframe_of)
    )
    assert len({run.seek_pts for run in runs}) < len(runs)  # some runs share a seek
    got: dict[int, bytes] = {}

    def take(pts: int, picture: bytes) -> None:
        assert pts not in got
        got[pts] = picture

    geometry = FrameGeometry.for_output(info.display_size, 0)
    plan = Plan(processes=(runs,), keyframes_only=False, floor_frames=0)
    extract(info, plan, geometry, take, jpeg_quality=90 if jpeg else None)
    assert sorted(got) == sorted(set(frames))
    for time_ms, pts in zip(times, frames):
        if jpeg:
            picture = Image.open(io.BytesIO(got[pts]))
        else:
            picture = Image.frombytes("RGB", info.display_size, got[pts])
        assert frame_number(picture) == videos[name].frame_shown_at(time_ms), time_ms


@pytest.mark.usefixtures("index_unread")
@pytest.mark.parametrize("name", ["h264", "vfr", "ntsc", "vp9", "mkv", "ts"])
def test_an_even_spread_on_a_large_file_probes_its_ends_first_and_stays_exact(
    name: str,
    videos: dict[str, TestVideo],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    probe_reads: list[list[int] | None],
) -> None:
    """On a large file whose index is no help, Interval 0 finds D from the file's ends, then
    reads the timeline only around the times it spreads: the same frames as reading it all."""
    from snapcli.engine import job

    monkeypatch.setattr(job, "LARGE_FILE_BYTES", 0)  # every file is large
    video = videos[name]
    event = snapcli.grab(video.path, interval=0, count=7, output_dir=tmp_path / "out")
    taken = event_frames(event)
    times = [shot.time for shot in event.snapshots]
    assert times == [round(k * video.duration_ms / 7) for k in range(7)]
    if video.path.suffix != ".ts":  # MP4, Matroska, WebM
        assert probe_reads == [[], times]  # D from the ends alone, then the windows
    else:
        assert probe_reads == [None]  # MPEG-TS this small: read whole (windows take two runs)
    assert taken == [video.frame_shown_at(t) for t in times]


@pytest.mark.parametrize("intra", [False, True])
def test_a_large_mpeg_ts_file_is_read_in_windows_placed_from_its_first_timestamp(
    intra: bool,
    videos: dict[str, TestVideo],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    probe_reads: list[list[int] | None],
) -> None:
    """MPEG-TS timestamps begin anywhere (here at 11.4 s), and its seeks land near a time, not
    on the keyframe before it: windows are placed from the first timestamp and begin a keyframe
    gap early. One read of the windows (after a look at the start), never the whole file, and
    the frames a player shows (the nearest keyframes in intra mode)."""
    from snapcli.media import probe

    monkeypatch.setattr(probe, "NEAR_SEEK_MIN_BYTES", 0)  # every file is large
    video = videos["ts_long"]
    times = [1000, 17_330, 29_999, 30_000, 45_678, 59_950]
    event = snapcli.grab(
        video.path, at=times, frame_type="intra" if intra else "normal", output_dir=tmp_path / "o"
    )
    assert probe_reads == [times]
    taken = event_frames(event)
    if intra:  # keyframes every 50 frames (2 s); 1 s is as near 0 as 2 s, and the earlier wins
        assert taken == [0, 450, 750, 750, 1150, 1450]
    else:
        assert taken == [video.frame_shown_at(t) for t in times]


@pytest.mark.parametrize("name", ["mkv", "vp9"])
def test_times_named_up_front_in_matroska_are_read_in_windows_alone(
    name: str, videos: dict[str, TestVideo], tmp_path: Path, probe_reads: list[list[int] | None]
) -> None:
    """Matroska and WebM have no index of every frame to read, and times named up front need
    no D: one ffprobe run reads the windows around them (with the file's start and end)."""
    video = videos[name]
    times = [1999, 4001, 5555]
    assert grab_frames(video, times, tmp_path) == [video.frame_shown_at(t) for t in times]
    assert probe_reads == [times]


@pytest.fixture
def probe_reads(monkeypatch: pytest.MonkeyPatch) -> list[list[int] | None]:
    """The times around which each read of the timeline was made: [] for the look at the
    file's ends alone, None for a read of every packet."""
    from snapcli.media import probe

    reads: list[list[int] | None] = []
    read_timeline = probe._probe

    def spied(*args: Any, **options: Any) -> Any:
        reads.append(args[3])
        return read_timeline(*args, **options)

    monkeypatch.setattr(probe, "_probe", spied)
    return reads


@pytest.fixture
def index_unread(monkeypatch: pytest.MonkeyPatch) -> None:
    """MP4 files read as if their index could not be used (a garbled one, say), so that the
    probe's windows are what gets tested."""
    from snapcli.media import mp4index

    monkeypatch.setattr(mp4index, "read_index", lambda path: None)


@pytest.mark.usefixtures("index_unread")
def test_an_intra_spread_on_a_large_file_reads_windows_to_the_next_keyframes(
    videos: dict[str, TestVideo],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    probe_reads: list[list[int] | None],
) -> None:
    """Intra mode with a few times spread over a large file finds D from the file's ends, then
    reads the timeline only in windows that reach the next keyframe (not every packet of a
    two-hour film): the same nearest keyframes as reading it all."""
    from snapcli.engine import job
    from snapcli.media import probe

    monkeypatch.setattr(job, "INTRA_LARGE_FILE_BYTES", 0)  # every file is large
    monkeypatch.setattr(job, "WINDOWS_SHARE", 10.0)  # and long enough for windows to pay
    monkeypatch.setattr(probe, "KEYFRAME_WINDOW_AFTER_S", 2.0)  # windows of 2 s on this 8 s file
    video = videos["h264"]  # 8 s, keyframes at 0 and 4000 ms
    event = snapcli.grab(
        video.path, interval=0, count=3, frame_type="intra", output_dir=tmp_path / "out"
    )
    assert probe_reads == [[], [0, 2667, 5333]]  # the ends, then the windows: never the whole file
    taken = event_frames(event)
    assert taken == [0, 100, 100]  # 2667 is nearer 4000 than 0; 5333 has no keyframe after it
    assert [shot.frame_time for shot in event.snapshots] == [0, 4000, 4000]


@pytest.mark.usefixtures("index_unread")
def test_a_spread_of_many_on_a_long_file_is_read_in_windows_and_stays_exact(
    videos: dict[str, TestVideo],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    probe_reads: list[list[int] | None],
) -> None:
    """More than 16 times spread over a long file (here: any share counted as little, to stand
    for a film) are read in windows too, not every packet, and give the same frames."""
    from snapcli.engine import job

    monkeypatch.setattr(job, "LARGE_FILE_BYTES", 0)
    monkeypatch.setattr(job, "WINDOWS_SHARE", 10.0)  # every file long enough for windows to pay
    video = videos["h264"]
    event = snapcli.grab(video.path, interval=0, count=24, output_dir=tmp_path / "out")
    times = [shot.time for shot in event.snapshots]
    assert times == [round(k * video.duration_ms / 24) for k in range(24)]
    assert probe_reads == [[], times]  # the ends, then the windows: never the whole file
    taken = event_frames(event)
    assert taken == [video.frame_shown_at(t) for t in times]


@pytest.mark.usefixtures("index_unread")
def test_many_times_named_up_front_are_read_in_windows_where_these_cover_little(
    videos: dict[str, TestVideo],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    probe_reads: list[list[int] | None],
) -> None:
    """More than 16 times named up front are read in windows too when these cover little of the
    video (here: any share counted as little)."""
    from snapcli.engine import job

    monkeypatch.setattr(job, "LARGE_FILE_BYTES", 0)
    monkeypatch.setattr(job, "WINDOWS_SHARE", 10.0)  # every file long enough for windows to pay
    video = videos["h264"]
    times = [k * 400 + 7 for k in range(20)]
    taken = grab_frames(video, times, tmp_path)
    assert probe_reads == [[], times]  # D (for the share the windows cover), then the windows
    assert taken == [video.frame_shown_at(t) for t in times]


def test_windows_close_together_are_read_as_one_and_their_cover_is_counted_once() -> None:
    from snapcli.engine import job
    from snapcli.media import probe

    assert probe.read_windows([0, 1000, 2000]) == [(0, 3000)]  # one seek, not three
    assert probe.read_windows([0, 60_000]) == [(0, 1000), (60_000, 61_000)]
    # 5 s back to a keyframe and 1 s on, each: overlapping windows count once
    assert job._windows_cover_ms([0, 1000, 2000], intra=False) == 8000
    assert job._windows_cover_ms([0, 100_000], intra=False) == 12_000
    assert job._windows_cover_ms([0, 100_000], intra=True) == 50_000  # 20 s on, to a keyframe


# Shapes whose header says everything (no ffmpeg run at all), whose index is read with the
# packets at the file's ends (HEVC without a colour box, an edit that starts mid-frame,
# fragments), and whose index is declined (every packet is read).
HEADER_ALONE = ["h264", "vfr", "ntsc", "gop25", "rotate90", "anamorphic", "odd", "audio_first",
                "delayed", "negative_cts", "no_edit_list", "faststart", "mov", "decode_order"]  # fmt: skip
INDEXED = ["hevc", "cut", "cut_short", "fragmented", "fragmented_moof_base", "fragmented_short"]
DECLINED = ["fragmented_first_in_header", "cmaf"]


@pytest.mark.parametrize("name", [*HEADER_ALONE, *INDEXED, *DECLINED])
def test_an_mp4_timeline_comes_from_its_index_where_that_agrees_with_its_packets(
    name: str,
    videos: dict[str, TestVideo],
    mp4_variants: dict[str, Path],
    probe_reads: list[list[int] | None],
) -> None:
    """An MP4 or MOV file is probed from its header alone where that settles everything, else
    read at its start and end and the rest of its timeline taken from its own index (fragments
    too): the very timeline, and the same stream facts, a read of every packet gives. Where the
    index is declined, every packet is read after all."""
    from snapcli.media import probe

    path = videos[name].path if name in videos else mp4_variants[name]
    info = probe.probe(path)
    reads = {**dict.fromkeys(HEADER_ALONE, []), **dict.fromkeys(INDEXED, [[]])}
    assert probe_reads == reads.get(name, [[], None])
    whole = probe._probe(str(path), probe.input_url(path), "ffmpeg", None, False)
    assert whole is not None and info.timeline == whole.timeline
    same = ("stream_index", "codec", "width", "height", "sar", "rotation", "display_matrix",
            "color_matrix", "color_range", "transfer", "primaries", "field_order", "has_alpha",
            "reorders_frames", "times_by_display_order", "seekable", "dated_by_decoding")  # fmt: skip
    assert {key: getattr(info, key) for key in same} == {key: getattr(whole, key) for key in same}
    assert info.pix_fmt.replace("yuvj", "yuv") == whole.pix_fmt.replace("yuvj", "yuv")
    assert abs(float(info.frame_rate or 0) - float(whole.frame_rate or 0)) < 0.01


@pytest.mark.parametrize("index", [True, False], ids=["index", "packets"])
@pytest.mark.parametrize("name, first", [("cut", 33), ("cut_short", 8)])
def test_an_mp4_cut_by_its_edit_list_shows_the_frames_a_player_shows(
    name: str,
    first: int,
    index: bool,
    mp4_variants: dict[str, Path],
    tmp_path: Path,
    request: pytest.FixtureRequest,
) -> None:
    """A file cut by stream copy keeps its GOP from the keyframe, and an edit list that starts
    later: the frames before the cut are decoded but never shown, so time 0 is the first frame
    after the cut, and intra mode takes no hidden keyframe. The same whether the timeline comes
    from the file's index or from its packets."""
    if not index:
        request.getfixturevalue("index_unread")
    times = [0, 1, 39, 40, 2700, 6000]
    event = snapcli.grab(mp4_variants[name], at=times, output_dir=tmp_path / "exact")
    taken = event_frames(event)
    assert taken == [first + (t * 2 + 1) // 80 for t in times]  # a frame every 40 ms
    event = snapcli.grab(
        mp4_variants[name], at=[0, 5000], frame_type="intra", output_dir=tmp_path / "intra"
    )
    taken = event_frames(event)
    assert taken == [100, 100]  # the keyframe at 4 s; the one at 0 is hidden
    assert [shot.frame_time for shot in event.snapshots] == [(100 - first) * 40] * 2


def test_a_garbled_mp4_index_is_declined_never_raised(
    videos: dict[str, TestVideo], mp4_variants: dict[str, Path], tmp_path: Path
) -> None:
    """An index cut short or with bytes changed, in its header or in its fragments, gives None
    (the probe then reads the packets) or samples; never an exception."""
    import random
    import struct

    from snapcli.media import mp4index

    plain = mp4index.read_index(videos["h264"].path)
    fragmented = mp4index.read_index(mp4_variants["fragmented"])
    assert plain is not None and fragmented is not None and len(fragmented.fragments) == 2
    for index in (plain, fragmented):
        intact = mp4index.track_samples(index, 1)
        assert intact is not None and sum(intact.keyframes) == 2  # keyframes at 0 and 4 s
    chance = random.Random(7)
    for attempt in range(2000):
        index = plain if attempt % 4 < 2 else fragmented
        body = index.moov if attempt % 4 != 3 else index.fragments[1]
        garbled = bytearray(body[: chance.randrange(len(body))] if attempt % 2 else body)
        for _ in range(chance.randrange(0, 6)):
            garbled[chance.randrange(len(garbled))] = chance.randrange(256)
        if body is index.moov:
            changed = mp4index.FileIndex(bytes(garbled), index.fragments)
        else:
            changed = mp4index.FileIndex(index.moov, (index.fragments[0], bytes(garbled)))
        mp4index.track_samples(changed, 1)  # must not raise
    # Counts of billions, in a plain header and in a fragment: declined, not billions allocated.
    huge = bytearray(plain.moov)
    stts, ctts, stsz = huge.index(b"stts"), huge.index(b"ctts"), huge.index(b"stsz")
    huge[stts + 8 : stts + 20] = struct.pack(">III", 1, 2**31 - 1, 512)  # one run of 2**31-1
    huge[ctts + 8 : ctts + 20] = struct.pack(">III", 1, 2**31 - 1, 1024)
    huge[stsz + 12 : stsz + 16] = struct.pack(">I", 2**31 - 1)
    assert mp4index.track_samples(mp4index.FileIndex(bytes(huge)), 1) is None
    fragment = bytearray(fragmented.fragments[1])
    trun = fragment.index(b"trun")
    fragment[trun + 4 : trun + 12] = struct.pack(">II", 0, 2**32 - 1)  # no fields, 2**32-1 samples
    changed = mp4index.FileIndex(fragmented.moov, (fragmented.fragments[0], bytes(fragment)))
    assert mp4index.track_samples(changed, 1) is None
    truncated = tmp_path / "truncated.mp4"
    truncated.write_bytes(videos["h264"].path.read_bytes()[:20])
    assert mp4index.read_index(truncated) is None


@pytest.mark.parametrize(
    "name",
    ["fragmented", "fragmented_moof_base", "fragmented_short", "delayed", "audio_first", "mov"],
)
def test_an_mp4_copy_gives_the_exact_frames(
    name: str,
    videos: dict[str, TestVideo],
    mp4_variants: dict[str, Path],
    tmp_path: Path,
    ffmpeg_build: str,
) -> None:
    """Fragments (as OBS and live recorders write them): the timeline from their `trun` boxes
    and the frames ffmpeg seeks to there are the unfragmented file's. So are those of copies
    that start late (an empty edit: the container starts at 1.5 s), hold an audio track first,
    or are MOV, with both ffmpegs (whose inputs skip the stream-info pass there)."""
    source = videos["h264"]
    fragmented = TestVideo(mp4_variants[name], source.frame_times_ms, source.keyframe_every)
    times = [t for t in EDGE_TIMES if t < source.duration_ms]
    assert grab_frames(fragmented, times, tmp_path) == [source.frame_shown_at(t) for t in times]
    event = snapcli.grab(fragmented.path, at=[1000, 3000], frame_type="intra", output_dir="i")
    assert [shot.frame_time for shot in event.snapshots] == [0, 4000]


def test_an_mp4_over_http_is_not_read_twice(
    videos: dict[str, TestVideo], probe_reads: list[list[int] | None]
) -> None:
    """A video named by URL has no index to read here: its timeline is read once, or times
    named up front go straight to windows, with no look at its ends first."""
    import functools
    import http.server
    import threading

    from snapcli.media.probe import probe

    class Ranged(http.server.SimpleHTTPRequestHandler):
        """Serves byte ranges, as ffmpeg's seeks over HTTP ask."""

        def do_GET(self) -> None:  # noqa: N802
            wanted = self.headers.get("Range", "bytes=0-")[len("bytes=") :]
            data = Path(self.translate_path(self.path)).read_bytes()
            start, _, end = wanted.partition("-")
            first, last = int(start or 0), int(end) if end else len(data) - 1
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {first}-{last}/{len(data)}")
            self.send_header("Content-Length", str(last - first + 1))
            self.send_header("Accept-Ranges", "bytes")
            self.end_headers()
            self.wfile.write(data[first : last + 1])

        def log_message(self, *args: object) -> None:
            pass

    folder = str(videos["h264"].path.parent)
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(Ranged, directory=folder)
    )
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/h264.mp4"
        whole = probe(url)
        assert probe_reads == [None]
        windowed = probe(url, near_ms=[1000, 5000])
        assert probe_reads == [None, [1000, 5000]]
        assert windowed.timeline.frame_at(5000) == whole.timeline.frame_at(5000)
    finally:
        server.shutdown()
