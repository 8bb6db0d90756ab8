"""The fixtures: videos generated once per session (tests/support/videos.py makes them), bad
files, MP4 shapes, isolated state, both ffmpegs, and snapcli's CLI run in-process."""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import pytest
from support.videos import H264, TestVideo, cfr_times, drop_mp4_box, make_video, x264

from snapcli.cli import main as snapcli_cli


@pytest.fixture(scope="session")
def videos(tmp_path_factory: pytest.TempPathFactory) -> dict[str, TestVideo]:
    if not shutil.which("ffmpeg"):
        pytest.fail("ffmpeg is needed for the tests (apt-get install ffmpeg)")
    root = tmp_path_factory.mktemp("videos")
    made: dict[str, TestVideo] = {}
    fps25 = Fraction(25)

    # H.264 with B-frames and a 4 s GOP.
    made["h264"] = TestVideo(
        make_video(root / "h264.mp4", seconds=8, codec=H264), cfr_times(200, fps25), 100
    )
    made["hevc"] = TestVideo(
        make_video(
            root / "hevc.mp4",
            seconds=6,
            codec=[
                "-c:v",
                "libx265",
                "-x265-params",
                "log-level=error:keyint=60:min-keyint=60:bframes=4:scenecut=0",
                "-tag:v",
                "hvc1",
            ],
        ),  # fmt: skip
        cfr_times(150, fps25),
        60,
    )
    made["vp9"] = TestVideo(
        make_video(
            root / "vp9.webm",
            seconds=6,
            codec=[
                "-c:v",
                "libvpx-vp9",
                "-g",
                "60",
                "-deadline",
                "realtime",
                "-cpu-used",
                "8",
                "-b:v",
                "400k",
            ],
        ),  # fmt: skip
        cfr_times(150, fps25),
    )
    # The same H.264 stream in containers whose seeks look the time up in an index of
    # keyframes (and whose timestamps are in milliseconds).
    for name, container in (("mkv", "mkv"), ("flv", "flv"), ("avi_h264", "avi")):
        copied = root / f"h264.{container}"
        subprocess.run(
            ["ffmpeg", "-v", "error", "-y", "-i", str(made["h264"].path), "-c", "copy",
             str(copied)],
            check=True,
        )  # fmt: skip
        made[name] = TestVideo(copied, made["h264"].frame_times_ms, 100)
    # Matroska without the track's DURATION tag (renamed in place): only the file's duration.
    untagged = root / "untagged.mkv"
    untagged.write_bytes(made["mkv"].path.read_bytes().replace(b"DURATION", b"DURATIOX"))
    made["mkv_untagged"] = TestVideo(untagged, made["h264"].frame_times_ms, 100)
    # A raw H.264 stream (Raspberry Pi cameras write these): no container, no timestamps.
    made["h264_raw"] = TestVideo(
        make_video(root / "raw.h264", seconds=6, codec=[*H264, "-f", "h264"]),
        cfr_times(150, fps25),
        100,
    )
    # A raw MPEG-2 stream: times for some packets only, which ffmpeg's versions fill in apart.
    made["m2v_raw"] = TestVideo(
        make_video(
            root / "raw.m2v",
            seconds=6,
            codec=["-c:v", "mpeg2video", "-q:v", "3", "-bf", "2", "-g", "30", "-f", "mpeg2video"],
        ),
        cfr_times(150, fps25),
        30,
    )
    # AV1 (what YouTube serves now), where this ffmpeg has an AV1 encoder.
    try:
        made["av1"] = TestVideo(
            make_video(
                root / "av1.mp4",
                seconds=6,
                codec=[
                    "-c:v",
                    "libsvtav1",
                    "-preset",
                    "12",
                    "-g",
                    "60",
                    "-svtav1-params",
                    "tune=0:log-level=0",
                ],
            ),  # fmt: skip
            cfr_times(150, fps25),
            60,
        )
    except subprocess.CalledProcessError:
        pass
    # MPEG-TS whose timestamps start at 10 s (plus the muxer's own delay).
    made["ts"] = TestVideo(
        make_video(root / "h264.ts", seconds=8, codec=H264, output=["-output_ts_offset", "10"]),
        cfr_times(200, fps25),
        100,
    )
    # A minute of it, with a keyframe every 2 s: long enough for seeks to land mid-GOP.
    made["ts_long"] = TestVideo(
        make_video(
            root / "long.ts", seconds=60, codec=x264(50, 2), output=["-output_ts_offset", "10"]
        ),
        cfr_times(1500, fps25),
        50,
    )
    made["mpeg2ts"] = TestVideo(
        make_video(
            root / "mpeg2.ts",
            seconds=6,
            codec=["-c:v", "mpeg2video", "-q:v", "3", "-bf", "2", "-g", "30"],
            output=["-output_ts_offset", "20"],
        ),
        cfr_times(150, fps25),
        30,
    )
    # Variable frame rate: frames last 40 ms and 80 ms in turn.
    vfr_times = tuple(Fraction(60 * n - 20 * (n % 2)) for n in range(100))
    made["vfr"] = TestVideo(
        make_video(
            root / "vfr.mp4",
            seconds=6.5,
            codec=H264,
            extra_filters="setpts='(0.06*N-0.02*mod(N,2))/TB'",
            output=["-fps_mode", "vfr", "-video_track_timescale", "1000", "-frames:v", "100"],
        ),
        vfr_times,
    )
    # NTSC rate: frames at 33.367 ms steps, so the half-millisecond rule matters.
    ntsc = Fraction(30000, 1001)
    made["ntsc"] = TestVideo(
        make_video(root / "ntsc.mp4", seconds=3, rate="30000/1001", codec=H264),
        cfr_times(90, ntsc),
    )
    # Short GOP for keyframe (intra) mode: a keyframe every second.
    made["gop25"] = TestVideo(
        make_video(root / "gop25.mp4", seconds=6, codec=x264(25, 2)),
        cfr_times(150, fps25),
        25,
    )
    # AVI carries no presentation timestamps: the timeline comes from decoding.
    made["avi"] = TestVideo(
        make_video(
            root / "mpeg4.avi",
            seconds=6,
            codec=["-c:v", "mpeg4", "-q:v", "4", "-bf", "2", "-g", "50"],
        ),
        cfr_times(150, fps25),
        50,
    )
    # Xvid with "packed" B-frames (libxvid packs them in AVI, as OpenCV's Megamind.avi sample
    # has them): a P-frame and the B-frame after it in one chunk, then a 6-byte empty frame.
    # ffmpeg's decoder never puts out the last frame of such a stream: 149 frames are shown.
    try:
        made["xvid_packed"] = TestVideo(
            make_video(
                root / "packed.avi",
                seconds=6,
                codec=["-c:v", "libxvid", "-bf", "1", "-g", "50", "-q:v", "4"],
            ),
            cfr_times(149, fps25),
            50,
        )
    except subprocess.CalledProcessError:
        pass
    # An MP4 whose writer dated the frames in decode order (pts = dts: no composition offsets,
    # as old OpenCV writers do) though the stream has B-frames: made from the h264 video without
    # an edit list, its ctts box renamed in place.
    in_decode_order = root / "decode_order.mp4"
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-i", str(made["h264"].path), "-c", "copy",
         "-use_editlist", "0", str(in_decode_order)],
        check=True,
    )  # fmt: skip
    drop_mp4_box(in_decode_order, b"ctts")
    made["decode_order"] = TestVideo(in_decode_order, made["h264"].frame_times_ms, 100)
    for turn in (90, 180, 270):
        rotated = root / f"rotate{turn}.mp4"
        subprocess.run(
            ["ffmpeg", "-v", "error", "-y", "-i", str(made["gop25"].path), "-c", "copy",
             "-metadata:s:v:0", f"rotate={turn}", str(rotated)],
            check=True,
        )  # fmt: skip
        made[f"rotate{turn}"] = TestVideo(rotated, made["gop25"].frame_times_ms, 25)
    # Anamorphic: 192x144 coded, SAR 4:3, shown 256x144.
    made["anamorphic"] = TestVideo(
        make_video(
            root / "anamorphic.mp4", seconds=2, codec=H264, extra_filters="scale=192:144,setsar=4/3"
        ),
        cfr_times(50, fps25),
    )
    # Odd coded size (4:4:4 allows it).
    made["odd"] = TestVideo(
        make_video(
            root / "odd.mp4",
            seconds=2,
            codec=["-c:v", "libx264", "-preset", "veryfast"],
            extra_filters="scale=255:143,setsar=1",
            pix_fmt="yuv444p",
        ),
        cfr_times(50, fps25),
    )
    return made


@pytest.fixture(scope="session")
def slow_video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """20 s of 1080p with a single keyframe: a frame near the end takes a while to decode (over
    a second, with either ffmpeg)."""
    path = tmp_path_factory.mktemp("slow") / "slow.mp4"
    subprocess.run(
        ["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "testsrc2=size=1920x1080:rate=25:duration=20",
         "-c:v", "libx264", "-preset", "ultrafast", "-g", "1000", "-pix_fmt", "yuv420p",
         str(path)],
        check=True,
    )  # fmt: skip
    return path


@pytest.fixture(scope="session")
def bad_files(
    tmp_path_factory: pytest.TempPathFactory, videos: dict[str, TestVideo]
) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("bad")
    files = {"empty": root / "empty.mp4", "text": root / "text.mp4", "truncated": root / "cut.mp4"}
    files["empty"].write_bytes(b"")
    files["text"].write_text("this is not a video\n" * 20)
    whole = videos["h264"].path.read_bytes()
    files["truncated"].write_bytes(whole[: len(whole) * 2 // 5])
    files["audio"] = root / "audio.m4a"
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "sine=frequency=440:duration=2",
         "-c:a", "aac", str(files["audio"])],
        check=True,
    )  # fmt: skip
    files["folder"] = root / "folder.mp4"
    files["folder"].mkdir()
    return files


@pytest.fixture(scope="session")
def mp4_variants(
    tmp_path_factory: pytest.TempPathFactory, videos: dict[str, TestVideo]
) -> dict[str, Path]:
    """The h264 video (frame n at n*40 ms, keyframes at 0 and 4 s) stream-copied into the MP4
    shapes other tools write: edit lists, fragments (as OBS and live recorders write them),
    another track first, MOV."""
    root = tmp_path_factory.mktemp("mp4")
    source = str(videos["h264"].path)
    tone = ["-f", "lavfi", "-i", "sine=duration=8"]
    made = {
        # -ss with stream copy keeps the GOP from its keyframe and an edit list that starts
        # later: frames 0-32 are decoded but not shown, and 33 is shown first (cut_short: 0-7
        # hidden, 8 first).
        "cut": ["-ss", "1.3", "-i", source, "-c", "copy"],
        "cut_short": ["-ss", "0.3", "-i", source, "-c", "copy"],
        "fragmented": ["-i", source, "-c", "copy", "-movflags", "frag_keyframe+empty_moov"],
        "fragmented_moof_base": [
            "-i",
            source,
            "-c",
            "copy",
            "-movflags",
            "frag_keyframe+empty_moov+default_base_moof",
        ],
        # fragments of 0.5 s, most of them starting on no keyframe
        "fragmented_short": [
            "-i",
            source,
            "-c",
            "copy",
            "-movflags",
            "empty_moov",
            "-frag_duration",
            "500000",
        ],
        # the first fragment's samples in the header (the index is declined)
        "fragmented_first_in_header": ["-i", source, "-c", "copy", "-movflags", "frag_keyframe"],
        # negative composition offsets in the fragments (the index is declined)
        "cmaf": ["-i", source, "-c", "copy", "-movflags", "cmaf"],
        "audio_first": ["-i", source, *tone, "-map", "1", "-map", "0", "-c:v", "copy"],
        "delayed": ["-itsoffset", "1.5", "-i", source, "-c", "copy"],  # an empty edit first
        "negative_cts": ["-i", source, "-c", "copy", "-movflags", "negative_cts_offsets"],
        "no_edit_list": ["-i", source, "-c", "copy", "-use_editlist", "0"],
        "faststart": ["-i", source, "-c", "copy", "-movflags", "+faststart"],
    }
    paths = {}
    for name, arguments in made.items():
        paths[name] = root / f"{name}.mp4"
        subprocess.run(["ffmpeg", "-v", "error", "-y", *arguments, str(paths[name])], check=True)
    paths["mov"] = root / "copy.mov"
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-i", source, "-c", "copy", str(paths["mov"])], check=True
    )
    return paths


@pytest.fixture(autouse=True)
def isolated_state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests never touch the user's state, nor share a working folder."""
    monkeypatch.setenv("SNAPCLI_HOME", str(tmp_path / "snapcli-home"))
    monkeypatch.delenv("SNAPCLI_FFMPEG", raising=False)  # snapcli's default, unless a test says
    monkeypatch.chdir(tmp_path)


@pytest.fixture(params=["ffmpeg on PATH", "static ffmpeg of imageio-ffmpeg"])
def ffmpeg_build(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Each ffmpeg that the frame tests hold exact: the system's (Debian's 5.1, named as a user
    names one), and snapcli's default, the newer static build the imageio-ffmpeg package ships,
    since ffmpeg's versions differ in timestamps, seeking and which options they honour."""
    if request.param == "ffmpeg on PATH":
        system = shutil.which("ffmpeg")
        if system is None:
            pytest.fail("a system ffmpeg is needed for the tests (apt-get install ffmpeg)")
        monkeypatch.setenv("SNAPCLI_FFMPEG", system)
        return system
    try:
        import imageio_ffmpeg
    except ImportError:
        pytest.skip("imageio-ffmpeg (a test dependency) is not installed")
    binary = imageio_ffmpeg.get_ffmpeg_exe()
    monkeypatch.setenv("SNAPCLI_FFMPEG", binary)
    return binary


@dataclass
class CliResult:
    code: int
    stdout: str
    stderr: str


@pytest.fixture
def run_cli(capsys: pytest.CaptureFixture[str]):  # type: ignore[no-untyped-def]
    """Run snapcli's main() in-process, as the console script does, and capture its output."""

    def run(*args: str) -> CliResult:
        capsys.readouterr()
        code = snapcli_cli.main(list(args))
        captured = capsys.readouterr()
        return CliResult(code, captured.out, captured.err)

    return run


MEDIA_FIXTURES = {"videos", "bad_files", "mp4_variants", "slow_video", "ffmpeg_build", "media",
                  "storage", "tree", "sample", "served"}  # fmt: skip
MEDIA_MODULES = {"test_colour", "test_player_e2e", "test_docs"}


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "media: needs ffmpeg and generated videos (slow tier)")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        fixtures = set(getattr(item, "fixturenames", ()))
        if fixtures & MEDIA_FIXTURES or item.module.__name__ in MEDIA_MODULES:  # type: ignore[attr-defined]
            item.add_marker(pytest.mark.media)
