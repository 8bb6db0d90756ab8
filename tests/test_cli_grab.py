"""`snapcli grab` as users and scripts run it: files, the event, errors, names, replacement."""

from __future__ import annotations

import io
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from PIL import Image
from support.servers import Receiver
from support.videos import TestVideo, frame_number

KILLED_MID_JOB = """
import os, signal, sys
from snapcli.engine.output import StagedOutput
staged = StagedOutput(sys.argv[1], "h264", job_id="0" * 32).__enter__()
staged.write_bytes("snapshot-00001.jpg", b"half")
os.kill(os.getpid(), signal.SIGKILL)
"""


def test_a_staging_folder_left_by_a_killed_process_is_removed_by_the_next_job(
    run_cli, videos: dict[str, TestVideo], tmp_path: Path
) -> None:
    out = tmp_path / "snapshots"
    killed = subprocess.run([sys.executable, "-c", KILLED_MID_JOB, str(out)], check=False)
    assert killed.returncode == -signal.SIGKILL
    (orphan,) = [p for p in out.iterdir() if p.name.endswith(".snapcli-tmp")]
    assert (orphan / "snapshot-00001.jpg").read_bytes() == b"half"
    # A folder of the user's that merely looks like one is not snapcli's: it stays.
    lookalike = out / ".snapcli-stage-mine.snapcli-tmp"
    lookalike.mkdir()
    (lookalike / "notes.txt").write_text("mine")
    # Another machine is writing (a shared folder): whether it lives cannot be told here.
    remote = out / ".snapcli-stage-remote.snapcli-tmp"
    remote.mkdir()
    marker = {"Pid": 999_999_999, "Host": "another-machine", "JobId": ""}
    (remote / ".snapcli-staging.json").write_text(json.dumps(marker))
    assert run_cli("grab", str(videos["h264"].path), "-q").code == 0
    assert not orphan.exists()
    assert (lookalike / "notes.txt").read_text() == "mine"
    assert remote.exists()


def leftovers(folder: Path) -> list[str]:
    """Staging folders or temporary files a job may have left behind."""
    return [p.name for p in folder.rglob("*") if ".snapcli-tmp" in p.name or ".old." in p.name]


def test_grab_writes_snapshots_and_the_event(
    run_cli, videos: dict[str, TestVideo], tmp_path: Path
) -> None:
    result = run_cli("grab", str(videos["h264"].path), "--count", "3", "-o", "out", "--json")
    assert result.code == 0, result.stderr
    event = json.loads(result.stdout)
    folder = tmp_path / "out" / "h264"
    assert sorted(p.name for p in folder.iterdir()) == [
        "snapshot-00001.jpg", "snapshot-00002.jpg", "snapshot-00003.jpg", "snapshots.json"
    ]  # fmt: skip
    assert json.loads((folder / "snapshots.json").read_text()) == event
    assert event["EventType"] == "SnapshotComplete" and event["Status"] == "success"
    assert event["SubType"] == "SpecifiedTime"
    assert len(event["JobId"]) == 32 and int(event["JobId"], 16) >= 0
    assert event["VideoId"] == str(videos["h264"].path)
    info = event["SnapshotInfos"][0]
    assert info["SnapshotType"] == "NormalSnapshot" and info["SnapshotCount"] == 3
    assert info["SnapshotRegular"] == folder.as_uri() + "/snapshot-{SnapshotCount}.jpg"
    assert [s["Time"] for s in event["Snapshots"]] == [0, 1000, 2000]
    assert [s["FrameTime"] for s in event["Snapshots"]] == [0, 1000, 2000]
    assert all((s["Width"], s["Height"]) == (256, 144) for s in event["Snapshots"])
    assert leftovers(tmp_path) == []


def test_people_get_a_readable_summary(run_cli, videos: dict[str, TestVideo]) -> None:
    result = run_cli("grab", str(videos["h264"].path), "--at", "500,1500")
    assert result.code == 0
    assert "2 snapshots" in result.stdout and "snapshot-00002.jpg" in result.stdout
    assert "0:00:01.500" in result.stdout


def test_quiet_prints_nothing(run_cli, videos: dict[str, TestVideo]) -> None:
    result = run_cli("grab", str(videos["h264"].path), "-q")
    assert (result.code, result.stdout, result.stderr) == (0, "", "")


def test_user_data_extend_is_echoed(run_cli, videos: dict[str, TestVideo]) -> None:
    user_data = '{"Extend": {"order": 17}}'
    result = run_cli("grab", str(videos["h264"].path), "--user-data", user_data, "--json")
    assert json.loads(result.stdout)["Extend"] == '{"order":17}'


def test_times_past_the_end_are_dropped_and_the_real_count_reported(
    run_cli, videos: dict[str, TestVideo]
) -> None:
    result = run_cli("grab", str(videos["h264"].path), "--at", "1000,9000,7000", "--json")
    event = json.loads(result.stdout)
    assert [s["Time"] for s in event["Snapshots"]] == [1000, 7000]
    assert event["SnapshotInfos"][0]["SnapshotCount"] == 2


def test_a_rerun_replaces_the_previous_result_whole(
    run_cli, videos: dict[str, TestVideo], tmp_path: Path
) -> None:
    video = str(videos["h264"].path)
    assert run_cli("grab", video, "--count", "5").code == 0
    assert run_cli("grab", video, "--count", "2").code == 0
    folder = tmp_path / "snapshots" / "h264"
    assert sorted(p.name for p in folder.iterdir()) == [
        "snapshot-00001.jpg", "snapshot-00002.jpg", "snapshots.json"
    ]  # fmt: skip
    assert leftovers(tmp_path) == []


def test_a_failed_rerun_keeps_the_previous_result(
    run_cli, videos: dict[str, TestVideo], tmp_path: Path
) -> None:
    video = str(videos["h264"].path)
    assert run_cli("grab", video, "--count", "2").code == 0
    before = (tmp_path / "snapshots" / "h264" / "snapshots.json").read_text()
    assert run_cli("grab", video, "--offset", "60000").code == 2
    assert (tmp_path / "snapshots" / "h264" / "snapshots.json").read_text() == before
    assert leftovers(tmp_path) == []


def test_request_file_in_the_api_spelling(
    run_cli, videos: dict[str, TestVideo], tmp_path: Path
) -> None:
    request = {
        "VideoId": str(videos["h264"].path),
        "SpecifiedOffsetTimes": "[1000, 2040]",
        "Width": "128",
        "FrameType": "normal",
        "Action": "SubmitSnapshotJob",
    }
    (tmp_path / "request.json").write_text(json.dumps(request))
    result = run_cli("grab", "--request", "request.json", "--json")
    assert result.code == 0, result.stderr
    event = json.loads(result.stdout)
    assert [(s["Time"], s["Width"], s["Height"]) for s in event["Snapshots"]] == [
        (1000, 128, 72), (2040, 128, 72)
    ]  # fmt: skip
    folder = Path(event["OutputDir"])
    assert frame_number(Image.open(folder / "snapshot-00002.jpg")) == 51


def test_flags_override_the_request_file_and_unknown_keys_warn(
    run_cli, videos: dict[str, TestVideo], tmp_path: Path
) -> None:
    request = {"VideoId": str(videos["h264"].path), "Count": 5, "Colour": "blue",
               "SpecifiedOffsetTimes.1": "3000", "SpecifiedOffsetTimes.2": 1000}  # fmt: skip
    (tmp_path / "request.json").write_text(json.dumps(request))
    result = run_cli("grab", "--request", "request.json", "--width", "64", "--json")
    assert result.code == 0
    assert "Colour" in result.stderr and "ignored" in result.stderr
    event = json.loads(result.stdout)
    assert [(s["Time"], s["Width"]) for s in event["Snapshots"]] == [(3000, 64), (1000, 64)]


def test_request_from_stdin(videos: dict[str, TestVideo], tmp_path: Path) -> None:
    request = json.dumps({"VideoId": str(videos["h264"].path), "Count": "2"})
    done = subprocess.run(
        [sys.executable, "-m", "snapcli", "grab", "--request", "-", "--json"],
        input=request, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["SnapshotInfos"][0]["SnapshotCount"] == 2


@pytest.mark.parametrize(
    "name",
    [
        "with space.mp4",
        'quote\'s "double".mp4',
        "semi;colon $(x).mp4",
        "ünïcødé 视频.mp4",
        "-leading-dash.mp4",
    ],
)
def test_awkward_file_names_work_as_input_and_output(
    name: str, videos: dict[str, TestVideo], tmp_path: Path
) -> None:
    folder = tmp_path / "in ;'\"ü -dir"
    folder.mkdir()
    shutil.copy(videos["h264"].path, folder / name)
    output = tmp_path / "out ;'ü"
    done = subprocess.run(
        ["snapcli", "grab", "--at", "1200", "-o", str(output), "--json", "--", name],
        cwd=folder, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    result = output / Path(name).stem
    assert frame_number(Image.open(result / "snapshot-00001.jpg")) == 30
    assert json.loads((result / "snapshots.json").read_text())["VideoId"] == name


# ---- errors: one line, the API code, the exit status, nothing left behind ----------------------


def assert_one_line_error(result, code: str, status: int) -> None:  # type: ignore[no-untyped-def]
    assert result.code == status, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"snapcli: {code}: "), lines[0]
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("kind", "code"),
    [
        ("empty", "InvalidParameter.ResourceContentBad"),
        ("text", "InvalidParameter.ResourceContentBad"),
        ("truncated", "InvalidParameter.ResourceContentBad"),
        ("audio", "InvalidParameter.ResourceContentBad"),
        ("folder", "InvalidVideo.NotFound"),
    ],
)
def test_bad_videos(
    kind: str, code: str, run_cli, bad_files: dict[str, Path], tmp_path: Path
) -> None:
    result = run_cli("grab", str(bad_files[kind]), "--count", "2")
    assert_one_line_error(result, code, 1)
    assert not (tmp_path / "snapshots").exists() or leftovers(tmp_path) == []


def test_missing_video(run_cli) -> None:
    result = run_cli("grab", "nowhere.mp4")
    assert_one_line_error(result, "InvalidVideo.NotFound", 1)
    assert "nowhere.mp4" in result.stderr


def test_json_failure_prints_the_fail_event(run_cli, bad_files: dict[str, Path]) -> None:
    result = run_cli("grab", str(bad_files["text"]), "--json")
    event = json.loads(result.stdout)
    assert event["Status"] == "fail" and event["ErrorCode"] == "InvalidParameter.ResourceContentBad"
    assert "SnapshotInfos" not in event
    assert result.code == 1


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["--count", "-1"], "Count"),
        (["--count", "0"], "Count"),
        (["--count", "ten"], "Count"),
        (["--interval", "1.5"], "Interval"),
        (["--offset", "-5"], "SpecifiedOffsetTime"),
        (["--width", "4097"], "Width"),
        (["--height", "7"], "Height"),
        (["--at", ",".join(str(t) for t in range(31))], "SpecifiedOffsetTimes"),
        (["--at", "100,x"], "SpecifiedOffsetTimes"),
        (["--at", "[1000,"], "SpecifiedOffsetTimes"),
        (["--frame-type", "fast"], "FrameType"),
        (["--user-data", "{not json"], "UserData"),
        (["--user-data", json.dumps({"Extend": "x" * 1100})], "UserData"),
        (["--user-data", json.dumps({"Extend": "x" * 600})], "Extend"),
        (["--user-data", '{"MessageCallback": {"CallbackURL": "ftp://x"}}'], "CallbackURL"),
        (["--quality", "0"], "quality"),
        (["--offset", "9000"], "8000"),  # no time left: names the duration
        (["--no-such-flag"], "no-such-flag"),
    ],
)
def test_bad_parameters(
    args: list[str], named: str, run_cli, videos: dict[str, TestVideo], tmp_path: Path
) -> None:
    result = run_cli("grab", str(videos["h264"].path), *args)
    assert_one_line_error(result, "InvalidParameter", 2)
    assert named in result.stderr
    assert not (tmp_path / "snapshots").exists()


def test_malformed_request_file(run_cli, tmp_path: Path) -> None:
    (tmp_path / "r.json").write_text('{"VideoId": "a.mp4", "Count": }')
    assert_one_line_error(run_cli("grab", "--request", "r.json"), "InvalidParameter", 2)


def test_output_folder_that_cannot_be_written(
    run_cli, videos: dict[str, TestVideo], tmp_path: Path
) -> None:
    (tmp_path / "taken").write_text("a file where the folder should be")
    result = run_cli("grab", str(videos["h264"].path), "-o", "taken/out")
    assert_one_line_error(result, "PermissionDenied.ResourceAccess", 1)


def test_ffmpeg_missing(
    run_cli, videos: dict[str, TestVideo], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Neither the ffmpeg pip installed (here: imageio-ffmpeg's, pointed elsewhere, as its own
    variable does) nor one on PATH: one line that says how to get one."""
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setenv("IMAGEIO_FFMPEG_EXE", str(tmp_path / "gone" / "ffmpeg"))
    result = run_cli("grab", str(videos["h264"].path))
    assert_one_line_error(result, "FFmpegUnavailable", 4)
    assert (
        "reinstall snapcli with pip" in result.stderr and "apt-get install ffmpeg" in result.stderr
    )


def test_a_crashing_ffmpeg_is_reported_as_a_crash_not_as_a_bad_video(
    run_cli, videos: dict[str, TestVideo], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A stand-in for an ffmpeg build that crashes (a static ffprobe 6.0 did, on MPEG-TS): the
    # behaviour under test is the message, which no real ffmpeg here can be made to provoke.
    crashing = tmp_path / "ffmpeg"
    crashing.write_text("#!/bin/sh\nkill -SEGV $$\n")
    crashing.chmod(0o755)
    monkeypatch.setenv("SNAPCLI_FFMPEG", str(crashing))
    result = run_cli("grab", str(videos["h264"].path))
    assert_one_line_error(result, "InternalError", 1)
    assert "ffmpeg crashed (SIGSEGV)" in result.stderr and "not a readable" not in result.stderr


def test_ffmpeg_override_that_does_not_exist(run_cli, videos: dict[str, TestVideo]) -> None:
    result = run_cli("--ffmpeg", "/opt/none/ffmpeg", "grab", str(videos["h264"].path))
    assert_one_line_error(result, "FFmpegUnavailable", 4)


@pytest.mark.media
def test_a_stalled_read_times_out(run_cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A source that accepts and never sends: the watchdog kills ffprobe, the job says so."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    port = server.getsockname()[1]
    accepted: list[socket.socket] = []
    threading.Thread(target=lambda: accepted.append(server.accept()[0]), daemon=True).start()
    monkeypatch.setenv("SNAPCLI_STALL_TIMEOUT", "1.5")
    started = time.monotonic()
    result = run_cli("grab", f"tcp://127.0.0.1:{port}")
    assert_one_line_error(result, "SnapshotTimeOut", 1)
    assert time.monotonic() - started < 10
    server.close()


def test_interrupt_leaves_nothing_half_written(
    videos: dict[str, TestVideo], tmp_path: Path
) -> None:
    video = str(videos["h264"].path)
    subprocess.run(["snapcli", "grab", video, "--count", "2", "-q"], cwd=tmp_path, check=True)
    before = (tmp_path / "snapshots" / "h264" / "snapshots.json").read_text()
    job = subprocess.Popen(
        ["snapcli", "grab", video, "--interval", "0", "--count", "150", "-q"],
        cwd=tmp_path, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    deadline = time.monotonic() + 20
    while job.poll() is None and time.monotonic() < deadline:  # interrupt mid-extraction
        if any(any(stage.glob("*.jpg")) for stage in (tmp_path / "snapshots").glob(".h264.*")):
            break
        time.sleep(0.005)
    job.send_signal(signal.SIGINT)
    _, errors = job.communicate(timeout=30)
    if job.returncode == 0:
        pytest.skip("the job finished before the interrupt")
    assert job.returncode == 130, errors
    assert errors.strip() == "snapcli: interrupted."
    assert (tmp_path / "snapshots" / "h264" / "snapshots.json").read_text() == before
    assert leftovers(tmp_path) == []
    assert not any("ffmpeg" in line for line in _processes_of(job.pid))


def _processes_of(parent: int) -> list[str]:
    found = []
    for entry in Path("/proc").iterdir():
        try:
            stat = (entry / "stat").read_text()
        except (OSError, ValueError):
            continue
        if stat.split(")")[-1].split()[1] == str(parent):
            found.append(stat)
    return found


def test_console_script_and_module_both_run(videos: dict[str, TestVideo]) -> None:
    for command in (["snapcli"], [sys.executable, "-m", "snapcli"]):
        done = subprocess.run([*command, "--help"], capture_output=True, text=True, check=False)
        assert done.returncode == 0 and "grab" in done.stdout


# ---- callbacks ---------------------------------------------------------------------------------


def test_callback_receives_the_event_once(run_cli, videos: dict[str, TestVideo]) -> None:
    receiver = Receiver()
    received = receiver.bodies
    user_data = json.dumps({"MessageCallback": {"CallbackURL": receiver.url}, "Extend": {"k": "v"}})
    result = run_cli(
        "grab", str(videos["h264"].path), "--count", "2", "--user-data", user_data, "--json"
    )
    receiver.close()
    assert result.code == 0 and result.stderr == ""
    assert len(received) == 1
    assert received[0] == json.loads(result.stdout)
    assert received[0]["EventType"] == "SnapshotComplete" and received[0]["Extend"] == '{"k":"v"}'


def test_a_dead_callback_does_not_fail_the_job(run_cli, videos: dict[str, TestVideo]) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    user_data = json.dumps({"MessageCallback": {"CallbackURL": f"http://127.0.0.1:{port}/x"}})
    result = run_cli("grab", str(videos["h264"].path), "--user-data", user_data, "-q")
    assert result.code == 0
    assert "was not delivered" in result.stderr and "unaffected" in result.stderr


def test_a_file_named_like_an_option_gets_a_hint(
    run_cli, videos: dict[str, TestVideo], tmp_path: Path
) -> None:
    shutil.copy(videos["h264"].path, tmp_path / "-x.mp4")
    result = run_cli("grab", "-x.mp4")
    assert_one_line_error(result, "InvalidParameter", 2)
    assert "put -- before it" in result.stderr
    assert run_cli("grab", "-q", "--", "-x.mp4").code == 0


def test_library_refuses_unknown_request_keywords(videos: dict[str, TestVideo]) -> None:
    import snapcli

    with pytest.raises(TypeError, match="unexpected keyword argument 'cont'"):
        snapcli.grab(videos["h264"].path, cont=3)  # type: ignore[call-arg]


def test_quality_sets_the_jpeg_quantisation(
    run_cli, videos: dict[str, TestVideo], tmp_path: Path
) -> None:
    from snapcli.media.extract import jpeg_qscale

    assert [jpeg_qscale(q) for q in (100, 95, 90, 75, 50, 10, 1)] == [1, 1, 2, 7, 14, 31, 31]
    sizes = {}
    for quality in ("20", "95"):
        result = run_cli("grab", str(videos["h264"].path), "--at", "2000", "--quality", quality,
                         "-o", quality, "-q")  # fmt: skip
        assert result.code == 0
        picture = tmp_path / quality / "h264" / "snapshot-00001.jpg"
        assert frame_number(Image.open(picture)) == videos["h264"].frame_shown_at(2000)
        sizes[quality] = picture.stat().st_size
    assert sizes["20"] < sizes["95"] * 0.6


@pytest.mark.media
def test_a_reader_that_goes_away_ends_the_command_quietly(tmp_path: Path) -> None:
    read_end, write_end = os.pipe()
    os.close(read_end)  # as `snapcli … | head -1` leaves it once head has its line
    sample = Path(__file__).parent.parent / "samples" / "sample.mp4"
    try:
        ran = subprocess.run(
            [sys.executable, "-m", "snapcli", "grab", str(sample), "--count", "3", "--json"],
            stdout=write_end, stderr=subprocess.PIPE, text=True, cwd=tmp_path, check=False,
        )  # fmt: skip
    finally:
        os.close(write_end)
    assert ran.returncode == 141 and ran.stderr == ""
    assert len(list((tmp_path / "snapshots" / "sample").glob("*.jpg"))) == 3  # the job was done


@pytest.mark.media
def test_a_sprite_summary_names_its_sheets_and_track(run_cli, tmp_path: Path) -> None:
    sample = Path(__file__).parent.parent / "samples" / "sample.mp4"
    result = run_cli("sprite", str(sample), "--interval", "1", "--columns", "2", "--lines", "3")
    assert result.code == 0, result.stderr
    folder = tmp_path / "snapshots" / "sample"
    assert f"sheets: 2 (320×270, 12 cells): {folder}/sprite-00001.jpg … sprite-00002.jpg" in (
        result.stdout.replace("\n", "")
    )
    assert f"track: {folder}/thumbnails.vtt" in result.stdout.replace("\n", "")


def test_progress_shows_how_many_and_how_long(slow_video: Path, tmp_path: Path) -> None:
    import pty

    leader, follower = pty.openpty()  # a terminal for stderr, as a person's shell gives it
    job = subprocess.Popen(
        [sys.executable, "-m", "snapcli", "grab", str(slow_video), "--at", "19960,19000,18000"],
        stdout=subprocess.DEVNULL, stderr=follower, cwd=tmp_path,
    )  # fmt: skip
    os.close(follower)
    seen = b""
    while True:
        try:
            chunk = os.read(leader, 4096)
        except OSError:  # the terminal closed with the job
            break
        if not chunk:
            break
        seen += chunk
    os.close(leader)
    assert job.wait(timeout=60) == 0
    screen = seen.decode(errors="replace")
    assert "snapshots" in screen and "/3" in screen  # n/N
    assert "0:00:0" in screen  # the time elapsed


def test_dash_output_writes_one_snapshot_on_stdout(
    videos: dict[str, TestVideo], tmp_path: Path
) -> None:
    video = videos["h264"]

    def grab(*args: str) -> subprocess.CompletedProcess[bytes]:
        command = [sys.executable, "-m", "snapcli", "grab", str(video.path), "-o", "-", *args]
        return subprocess.run(command, capture_output=True, cwd=tmp_path, check=False)

    one = grab("--at", "1.5s", "--width", "128")
    assert one.returncode == 0 and one.stderr == b""
    picture = Image.open(io.BytesIO(one.stdout))
    assert picture.size == (128, 72) and frame_number(picture) == video.frame_shown_at(1500)
    assert list(tmp_path.iterdir()) == []  # nothing kept
    several = grab("--count", "3")
    assert several.returncode == 2 and several.stdout == b""
    assert b"writes one snapshot, and this request takes 3" in several.stderr
    assert grab("--at", "0", "--sprite").returncode == 2


def test_a_staging_folder_killed_before_its_marker_is_removed_too(
    run_cli, videos: dict[str, TestVideo], tmp_path: Path
) -> None:
    import hashlib
    import socket

    out = tmp_path / "snapshots"
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)  # fmt: skip
    host = hashlib.sha1(socket.gethostname().encode()).hexdigest()[:8]
    empty = out / f".snapcli-stage-{host}-{dead.stdout.strip()}-abc.snapcli-tmp"
    empty.mkdir(parents=True)
    (empty / ".snapcli-staging.json").write_text('{"Pid": 1')  # cut short by the kill
    alive = out / f".snapcli-stage-{host}-{os.getpid()}-abc.snapcli-tmp"  # this very process
    alive.mkdir()
    assert run_cli("grab", str(videos["h264"].path), "-q").code == 0
    assert not empty.exists() and alive.exists()
