"""The promises of docs/safety.md, tried as a careless user and as an attacker would: snapcli
never destroys, overwrites or reaches what is not its own. Each test names the promise it holds.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from support.hostile import HostileServer, Listener, raw, redirect_to, silent, trickle
from support.videos import TestVideo


def tree_state(folder: Path) -> dict[str, str]:
    """Every entry below a folder, with a digest of each file and the target of each link."""
    state: dict[str, str] = {}
    for path in sorted(folder.rglob("*")):
        key = str(path.relative_to(folder))
        if key.split(os.sep)[0] == "snapcli-home":  # snapcli's own state: its to change
            continue
        if path.is_symlink():
            state[key] = "link:" + os.readlink(path)
        elif path.is_file():
            state[key] = hashlib.sha256(path.read_bytes()).hexdigest()
        else:
            state[key] = "folder"
    return state


def leftovers(folder: Path) -> list[str]:
    return [str(p) for p in folder.rglob("*") if "snapcli-" in p.name and p.name != "snapcli-home"]


def one_line_error(result: Any, code: str) -> None:
    """An error is one line on stderr with its code, never a traceback."""
    lines = result.stderr.strip().splitlines()
    errors = [line for line in lines if not line.startswith("snapcli: warning:")]
    assert len(errors) == 1 and errors[0].startswith(f"snapcli: {code}: "), result.stderr
    assert "Traceback" not in result.stderr


# ---- 1. A result replaces only a snapcli result -------------------------------------------------


def test_a_result_never_replaces_the_folder_that_holds_the_input(
    run_cli, videos: dict[str, TestVideo], tmp_path: Path
) -> None:
    talk = tmp_path / "talk"
    talk.mkdir()
    shutil.copy(videos["gop25"].path, talk / "talk.mp4")
    shutil.copy(videos["gop25"].path, talk / "other.mp4")
    before = tree_state(tmp_path)
    result = run_cli("grab", "talk/talk.mp4", "-o", ".")
    assert result.code == 2
    one_line_error(result, "InvalidParameter")
    assert "talk.mp4" in result.stderr
    assert tree_state(tmp_path) == before


@pytest.mark.parametrize("occupant", ["folder of the user's", "file", "link to a folder"])
def test_a_result_never_replaces_what_snapcli_did_not_make(
    run_cli, videos: dict[str, TestVideo], tmp_path: Path, occupant: str
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "notes.txt").write_text("mine")
    if occupant == "file":
        (out / "gop25").write_text("mine")
    elif occupant == "link to a folder":
        (out / "gop25").symlink_to(elsewhere)
    else:
        (out / "gop25").mkdir()
        (out / "gop25" / "notes.txt").write_text("mine")
        (out / "gop25" / "snapshot-00001.jpg").write_text("mine too, despite its name")
    before = tree_state(tmp_path)
    result = run_cli("grab", str(videos["gop25"].path), "-o", "out", "--count", "2")
    assert result.code == 1
    one_line_error(result, "PermissionDenied.ResourceAccess")
    assert "snapcli did not make" in result.stderr or "is a" in result.stderr
    assert tree_state(tmp_path) == before


def test_a_folder_that_gained_a_file_of_the_users_is_no_longer_replaced(
    run_cli, videos: dict[str, TestVideo], tmp_path: Path
) -> None:
    video = str(videos["gop25"].path)
    assert run_cli("grab", video, "--count", "2", "-q").code == 0
    folder = tmp_path / "snapshots" / "gop25"
    (folder / "keep-me.txt").write_text("mine")
    assert run_cli("grab", video, "--count", "3", "-q").code == 1
    assert (folder / "keep-me.txt").read_text() == "mine"
    (folder / "keep-me.txt").unlink()
    assert run_cli("grab", video, "--count", "3", "-q").code == 0  # ours again: replaced whole
    assert sorted(p.name for p in folder.iterdir()) == [
        "snapshot-00001.jpg", "snapshot-00002.jpg", "snapshot-00003.jpg", "snapshots.json"
    ]  # fmt: skip
    empty = tmp_path / "empty" / "gop25"
    empty.mkdir(parents=True)
    assert run_cli("grab", video, "-o", "empty", "-q").code == 0  # an empty folder is used
    assert leftovers(tmp_path) == []


def test_a_batch_into_its_own_tree_never_touches_a_folder_or_video_of_the_users(
    run_cli, videos: dict[str, TestVideo], tmp_path: Path
) -> None:
    tree = tmp_path / "library"
    (tree / "talk").mkdir(parents=True)
    shutil.copy(videos["gop25"].path, tree / "talk.mp4")
    (tree / "talk" / "notes.txt").write_text("mine")  # a sibling folder named like the stem
    shutil.copy(videos["gop25"].path, tree / "clip.mp4")  # same stem twice: results named
    shutil.copy(videos["gop25"].path, tree / "clip.mkv")  # clip.mp4/ and clip.mkv/, the inputs
    shutil.copy(videos["gop25"].path, tree / "fine.mp4")
    before = tree_state(tree)
    result = run_cli("batch", str(tree), "-r", "-o", str(tree), "--jsonl")
    assert result.code == 3
    by_video = {Path(json.loads(line)["VideoId"]).name: json.loads(line) for line in
                result.stdout.splitlines()}  # fmt: skip
    assert by_video["fine.mp4"]["Status"] == "success"
    for name in ("talk.mp4", "clip.mp4", "clip.mkv"):
        assert by_video[name]["Status"] == "fail"
    after = tree_state(tree)
    assert {key: after[key] for key in before} == before  # every input untouched
    assert set(after) - set(before) == {
        "fine", "fine/snapshot-00001.jpg", "fine/snapshots.json"
    }  # fmt: skip


def test_a_stem_of_250_bytes_makes_a_result(
    run_cli, videos: dict[str, TestVideo], tmp_path: Path
) -> None:
    stem = "é" * 120 + "ab"  # 242 bytes
    video = tmp_path / f"{stem}.mp4"
    shutil.copy(videos["gop25"].path, video)
    result = run_cli("grab", str(video), "-o", "out", "--count", "2", "-q")
    assert result.code == 0, result.stderr
    assert (tmp_path / "out" / stem / "snapshot-00002.jpg").is_file()
    assert leftovers(tmp_path) == []


# ---- 2. MTS paths stay inside their bucket ------------------------------------------------------


@pytest.fixture
def storage(tmp_path: Path, videos: dict[str, TestVideo]) -> Path:
    """A storage root with a bucket "media" holding talk.mp4 at its top and in in/, next to a
    folder outside the root that must never change."""
    root = tmp_path / "root"
    (root / "media" / "in").mkdir(parents=True)
    shutil.copy(videos["gop25"].path, root / "media" / "talk.mp4")
    shutil.copy(videos["gop25"].path, root / "media" / "in" / "talk.mp4")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.mp4").write_bytes(videos["gop25"].path.read_bytes())
    return root


def mts(run_cli, root: Path, obj: str, out: str, *, bucket: str = "media", num: int = 1,
        interval: int = 0, out_bucket: str = "media") -> Any:  # type: ignore[no-untyped-def]  # fmt: skip
    config: dict[str, Any] = {"OutputFile": {"Bucket": out_bucket, "Object": out}, "Time": 1000}
    if num > 1:
        config["Num"] = num
    if interval:
        config["Interval"] = interval
    return run_cli(
        "submit", "--storage-root", str(root), "--wait",
        "Input=" + json.dumps({"Bucket": bucket, "Object": obj}),
        "SnapshotConfig=" + json.dumps(config),
    )  # fmt: skip


@pytest.mark.parametrize(
    ("obj", "out", "code"),
    [
        ("./talk.mp4", ".{ObjectPrefix}.{ObjectPrefix}escaped.jpg", "InvalidParameter"),
        ("talk.mp4", "talk.mp4", "InvalidParameter"),  # the output is the input
        ("in/talk.mp4", "{ObjectPrefix}{FileName}.{ExtName}", "InvalidParameter"),
        ("in/./talk.mp4", "in//talk.mp4", "InvalidParameter"),
        ("talk.mp4", "out/x%00.jpg", "InvalidParameter"),
        ("talk.mp4%00", "out/x.jpg", "InvalidParameter"),
        ("talk.mp4", "..%2F..%2Foutside%2Fx.jpg", "InvalidParameter"),
        ("talk.mp4", "out/..{TileCount}/x.jpg", "InvalidParameter"),
        ("talk.mp4", "/abs.jpg", "InvalidParameter"),
    ],
)
def test_mts_objects_are_checked_once_filled_in(
    run_cli, storage: Path, tmp_path: Path, obj: str, out: str, code: str
) -> None:
    before = tree_state(tmp_path)
    result = mts(run_cli, storage, obj, out)
    assert result.code == 2, result.stdout + result.stderr
    one_line_error(result, code)
    answer = json.loads(result.stdout)
    assert answer["Code"] == code and answer["HttpStatusCode"] == 400
    assert tree_state(tmp_path) == before


@pytest.mark.parametrize("link", ["output folder", "input file", "bucket", "output file"])
def test_mts_links_never_lead_out_of_the_bucket(
    run_cli, storage: Path, tmp_path: Path, link: str
) -> None:
    outside = tmp_path / "outside"
    if link == "output folder":
        (storage / "media" / "out").symlink_to(outside)
        args = ("talk.mp4", "out/{FileName}.jpg")
    elif link == "input file":
        (storage / "media" / "secret.mp4").symlink_to(outside / "secret.mp4")
        args = ("secret.mp4", "out/{FileName}.jpg")
    elif link == "bucket":
        (storage / "elsewhere").symlink_to(outside)
        args = ("talk.mp4", "x.jpg")
    else:  # a link at the output's own name is replaced, never written through
        (storage / "media" / "x.jpg").symlink_to(outside / "secret.mp4")
        args = ("talk.mp4", "x.jpg")
    before = tree_state(outside)
    result = mts(run_cli, storage, *args, out_bucket="elsewhere" if link == "bucket" else "media")
    assert tree_state(outside) == before
    if link == "output file":
        assert result.code == 0, result.stderr
        assert not (storage / "media" / "x.jpg").is_symlink()
        assert Image.open(storage / "media" / "x.jpg").size == (256, 144)
    else:
        assert result.code == 2, result.stdout + result.stderr
        one_line_error(result, "InvalidParameter")
    assert leftovers(storage) == []


def test_a_failed_mts_job_leaves_nothing_in_the_bucket(run_cli, storage: Path) -> None:
    (storage / "media" / "out" / "00002.jpg").mkdir(parents=True)  # in the way of the second
    before = tree_state(storage)
    result = mts(run_cli, storage, "talk.mp4", "out/{Count}.jpg", num=3, interval=1)
    assert result.code == 1
    one_line_error(result, "PermissionDenied.ResourceAccess")
    assert tree_state(storage) == before  # the first snapshot was taken back, no staging left


PATH_TOKENS = ["{ObjectPrefix}", "{FileName}", "{ExtName}", "{Count}", "{TileCount}", ".", "..",
               "/", "a", "%2e", "%2F", "\\", "%00", "out", "link"]  # fmt: skip


def test_mts_paths_never_leave_the_bucket_property(tmp_path: Path) -> None:
    """Objects made of placeholders, dots, slashes and escapes, in buckets holding links out,
    loops and links within: a write lands inside the bucket's real folder or is refused, and
    nothing outside changes."""
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    from snapcli.core.mts import object_name, read_mts_request
    from snapcli.errors import InvalidParameter, ResourceNotFound
    from snapcli.service.storage import Storage

    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "canary.txt").write_text("untouched")
    root = tmp_path / "root"
    bucket = root / "media"
    (bucket / "in" / "deep").mkdir(parents=True)
    (bucket / "in" / "talk.mp4").write_bytes(b"video")
    (bucket / "link").symlink_to(outside)
    (bucket / "in" / "link").symlink_to(outside / "canary.txt")
    (bucket / "in" / "deep" / "loop").symlink_to("loop")
    (bucket / "inner").symlink_to("in/deep")
    guarded = tree_state(outside)
    source = tmp_path / "picture.jpg"

    @settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
    @given(
        st.lists(st.sampled_from(PATH_TOKENS), min_size=1, max_size=8).map("".join),
        st.sampled_from(["in/talk.mp4", "./in/talk.mp4", "in/./talk.mp4", "in/link"]),
    )
    def check(pattern: str, input_object: str) -> None:
        try:
            request = read_mts_request({
                "Input": {"Bucket": "media", "Object": input_object},
                "SnapshotConfig": {"OutputFile": {"Bucket": "media", "Object": pattern}},
            })  # fmt: skip
            storage = Storage.at(root)
            video = storage.readable("media", request.input.object, "Input")
            name = object_name(request.output.object, request.input, count=1, time_ms=0)
            target = storage.target("media", name, "OutputFile")
            if target.is_file(video):
                return  # refused by the job before any write (tested end to end above)
            source.write_bytes(b"jpeg")
            target.put(source)
        except (InvalidParameter, ResourceNotFound):
            return
        except OSError:
            pass  # e.g. a folder in the way: nothing written
        assert tree_state(outside) == guarded
        written = os.path.realpath(target.path)
        assert written.startswith(str(bucket.resolve()) + os.sep)
        assert (bucket / "in" / "talk.mp4").read_bytes() == b"video"

    check()
    assert tree_state(outside) == guarded


# ---- 3. Callbacks reach only what they name, and never hold a job --------------------------------


@pytest.fixture
def quick_callbacks(monkeypatch: pytest.MonkeyPatch) -> None:
    from snapcli.service import callback

    monkeypatch.setattr(callback, "ATTEMPT_SECONDS", 1.0)
    monkeypatch.setattr(callback, "CALLBACK_SECONDS", 2.5)
    monkeypatch.setattr(callback, "BACKOFF_SECONDS", 0.1)


def grab_with_callback(run_cli, video: Path, url: str) -> Any:  # type: ignore[no-untyped-def]
    user_data = json.dumps({"MessageCallback": {"CallbackURL": url}})
    return run_cli("grab", str(video), "--user-data", user_data, "-q")


def callback_record(run_cli) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    listing = json.loads(run_cli("jobs", "list", "--json").stdout)
    return dict(listing["Jobs"][0]["Callback"])


@pytest.mark.parametrize("scheme", ["ftp", "http"])
def test_a_redirect_is_never_followed(
    run_cli, videos: dict[str, TestVideo], quick_callbacks: None, scheme: str
) -> None:
    listener = Listener()
    server = HostileServer(redirect_to(f"{scheme}://127.0.0.1:{listener.port}/elsewhere"))
    try:
        result = grab_with_callback(run_cli, videos["gop25"].path, server.url)
        time.sleep(0.3)
        assert result.code == 0
        assert listener.connections == 0 and listener.received == []
        assert server.request_lines == [b"POST /hook HTTP/1.1"]  # asked once, not again
        record = callback_record(run_cli)
        assert record["Delivered"] is False and "redirect" in record["Error"]
        assert "redirect, not followed" in result.stderr
    finally:
        server.close()
        listener.close()


@pytest.mark.parametrize("behaviour", ["trickle", "silent"])
def test_a_slow_server_holds_a_finished_job_no_longer_than_the_deadline(
    run_cli, videos: dict[str, TestVideo], quick_callbacks: None, behaviour: str
) -> None:
    server = HostileServer(trickle(0.5) if behaviour == "trickle" else silent)
    try:
        started = time.monotonic()
        result = grab_with_callback(run_cli, videos["gop25"].path, server.url)
        took = time.monotonic() - started
        assert result.code == 0
        assert took < 2.5 + 2.0  # the callback's deadline, plus the job itself
        assert callback_record(run_cli)["Delivered"] is False
    finally:
        server.close()


@pytest.mark.parametrize(
    ("answer", "delivered"),
    [
        (b"HTTP/1.1 2OO OK\r\n\r\n", False),  # a malformed status line
        (b"\x1b[31mHELLO\r\nX: \x1b]0;owned\x07\r\n\r\n", False),  # not HTTP, with escapes
        (b"HTTP/1.1 200 OK\r\n" + b"X-Huge: " + b"a" * 200_000 + b"\r\n\r\n", True),
        (b"HTTP/1.1 500 \x1b[2J\r\n\r\n", False),
        (b"", False),  # closed unanswered
    ],
    ids=["bad status", "escapes", "huge headers", "500 with escapes", "closed"],
)
def test_a_malformed_answer_is_a_warning_and_nothing_of_it_reaches_the_terminal(
    run_cli, videos: dict[str, TestVideo], quick_callbacks: None, answer: bytes, delivered: bool
) -> None:
    server = HostileServer(raw(answer))
    try:
        result = grab_with_callback(run_cli, videos["gop25"].path, server.url)
        assert result.code == 0
        assert callback_record(run_cli)["Delivered"] is delivered
        assert "\x1b" not in result.stderr and "\r" not in result.stderr
        assert "owned" not in result.stderr and "HELLO" not in result.stderr
        if not delivered:
            assert result.stderr.startswith("snapcli: warning: the callback to")
    finally:
        server.close()


# ---- 4. Nothing is left behind ------------------------------------------------------------------


def test_a_job_whose_worker_is_killed_twice_fails_and_leaves_no_staging(
    run_cli, slow_video: Path, tmp_path: Path
) -> None:
    from snapcli.service.jobs import find_jobs

    answer = run_cli("submit", f"VideoId={slow_video}", "SpecifiedOffsetTimes=[19960,19000,18000]")
    job_id = json.loads(answer.stdout)["SnapshotJob"]["JobId"]
    out = tmp_path / "snapshots"
    killed: list[int] = []
    for _ in range(2):
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:  # kill the worker while it is writing
            (record,), _ = find_jobs([job_id])
            staged = leftovers(out) if out.exists() else []
            pid = record.get("WorkerPid")
            if record["State"] == "Snapshoting" and pid and pid not in killed and staged:
                break
            time.sleep(0.01)
        assert staged, record
        os.kill(pid, signal.SIGKILL)
        killed.append(pid)
        os.waitpid(pid, 0)  # the worker is this process's child: no zombie
        assert leftovers(out) == staged  # the dead worker's staging folder is still there
        if len(killed) == 1:
            run_cli("jobs", "list")  # notices the lost worker: the job is queued again
    done = run_cli("jobs", "wait", job_id, "--timeout", "60")
    (record,), _ = find_jobs([job_id])
    assert done.code == 1 and record["State"] == "Fail" and record["Attempts"] == 2
    assert leftovers(out) == []


def test_a_full_disk_fails_the_job_whole(
    run_cli, videos: dict[str, TestVideo], tmp_path: Path
) -> None:
    if os.geteuid() != 0:
        pytest.skip("mounting a tiny file system needs root")
    disk = tmp_path / "disk"
    disk.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(disk)],
                             capture_output=True, check=False)  # fmt: skip
    if mounted.returncode != 0:
        pytest.skip("this machine cannot mount a tmpfs")
    try:
        result = run_cli("grab", str(videos["h264"].path), "-o", str(disk), "--interval", "0",
                         "--count", "40")  # fmt: skip
        assert result.code == 1
        one_line_error(result, "PermissionDenied.ResourceAccess")
        assert "No space left" in result.stderr
        assert list(disk.iterdir()) == []
    finally:
        subprocess.run(["umount", str(disk)], check=False)


# ---- 5. The right code, in one line -------------------------------------------------------------


@pytest.mark.parametrize("cut", [50, 5000])
def test_a_damaged_state_database_is_set_aside_not_fatal(
    run_cli, videos: dict[str, TestVideo], tmp_path: Path, cut: int
) -> None:
    video = str(videos["gop25"].path)
    assert run_cli("grab", video, "-o", "first", "-q").code == 0
    database = tmp_path / "snapcli-home" / "snapcli.db"
    for journal in database.parent.glob("snapcli.db-*"):
        journal.unlink()
    whole = database.read_bytes()
    database.write_bytes(whole[:cut])
    from snapcli.service import state

    state._prepared.clear()  # as a new process would find it
    result = run_cli("grab", video, "-o", "second", "-q")
    assert result.code == 0
    assert result.stderr.startswith("snapcli: warning: snapcli's state database")
    (aside,) = database.parent.glob("snapcli.db.damaged-*")
    assert aside.read_bytes() == whole[:cut]  # kept, not deleted
    assert (tmp_path / "second" / "gop25" / "snapshots.json").is_file()
    answer = run_cli("submit", f"VideoId={video}", "Count=1")
    assert answer.code == 0 and json.loads(answer.stdout)["SnapshotJob"]["JobId"]


def test_a_link_loop_fails_alone_in_a_batch(
    run_cli, videos: dict[str, TestVideo], tmp_path: Path
) -> None:
    tree = tmp_path / "videos"
    tree.mkdir()
    shutil.copy(videos["gop25"].path, tree / "good.mp4")
    (tree / "loop.mp4").symlink_to("loop.mp4")
    result = run_cli("batch", str(tree), str(tree / "loop.mp4"), "-o", "out", "--jsonl")
    assert result.code == 3
    statuses = sorted(json.loads(line)["Status"] for line in result.stdout.splitlines())
    assert statuses == ["fail", "fail", "success"]
    assert "a link that leads to no file" in result.stdout


def test_a_sheet_beyond_the_memory_budget_is_refused_up_front(
    run_cli, videos: dict[str, TestVideo], tmp_path: Path
) -> None:
    result = run_cli("grab", str(videos["gop25"].path), "--count", "2", "--cell-width", "4096",
                     "--columns", "15", "--lines", "21")  # fmt: skip
    assert result.code == 2
    one_line_error(result, "InvalidParameter")
    assert "Columns (15)" in result.stderr and "Mpx" in result.stderr
    assert not (tmp_path / "snapshots").exists()


def test_names_with_control_characters_are_shown_escaped(
    run_cli, videos: dict[str, TestVideo], tmp_path: Path
) -> None:
    name = tmp_path / "evil\x1b[2J\nname.mp4"
    result = run_cli("grab", str(name))
    assert result.code == 1
    one_line_error(result, "InvalidVideo.NotFound")
    assert "\\x1b[2J\\nname.mp4" in result.stderr
    shutil.copy(videos["gop25"].path, tmp_path / "[bold]x[red].mp4")
    shown = run_cli("grab", str(tmp_path / "[bold]x[red].mp4"))
    assert shown.code == 0 and "[bold]x[red].mp4" in shown.stdout.replace("\n", "")


@pytest.mark.parametrize(
    "playlist",
    [
        "#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:6.0,\nfile://{secret}\n#EXT-X-ENDLIST\n",
        "ffconcat version 1.0\nfile '{secret}'\n",
    ],
    ids=["hls", "ffconcat"],
)
def test_a_playlist_in_a_bucket_never_makes_ffmpeg_read_outside(
    run_cli, storage: Path, tmp_path: Path, playlist: str
) -> None:
    secret = tmp_path / "outside" / "secret.mp4"
    (storage / "media" / "evil.mp4").write_text(playlist.format(secret=secret))
    before = tree_state(storage)
    result = mts(run_cli, storage, "evil.mp4", "out/{FileName}.jpg")
    assert result.code == 1
    one_line_error(result, "InvalidParameter.ResourceContentBad")
    assert "read as that one file" in result.stderr
    assert tree_state(storage) == before
    local = run_cli("grab", str(storage / "media" / "evil.mp4"), "-o", "out")
    assert local.code == 1 and "read as that one file" in local.stderr


def complete_result(folder: Path) -> bool:
    """A snapcli result with every file its event lists, each a whole picture."""
    from snapcli.engine.ownership import is_snapcli_result, listed_files, read_event

    event = read_event(folder)
    if event is None or not is_snapcli_result(folder):
        return False
    for name in listed_files(event) - {"snapshots.json"}:
        if not (folder / name).is_file():
            return False
        if name.endswith(".jpg"):
            Image.open(folder / name).load()
    return True


def test_grab_killed_at_random_moments_leaves_the_old_result_or_the_new_one(
    slow_video: Path, tmp_path: Path
) -> None:
    import random

    rng = random.Random(17)
    out = tmp_path / "out"
    command = [sys.executable, "-m", "snapcli", "grab", str(slow_video), "-o", str(out), "-q",
               "--at", "19960,12000,3000"]  # fmt: skip
    assert subprocess.run(command, check=False).returncode == 0
    first = (out / "slow" / "snapshots.json").read_bytes()
    for _ in range(5):
        job = subprocess.Popen(command)
        time.sleep(rng.uniform(0.05, 2.5))
        job.kill()
        job.wait()
        assert complete_result(out / "slow")  # never half-written, never missing
    assert subprocess.run(command, check=False).returncode == 0
    assert complete_result(out / "slow")
    assert (out / "slow" / "snapshots.json").read_bytes() != first  # replaced whole
    assert leftovers(out) == []  # what the killed runs left, the next run removed


@pytest.mark.parametrize("strategy", ["swapped in one step", "set aside (no renameat2)"])
def test_a_previous_result_is_replaced_whole(
    run_cli, videos: dict[str, TestVideo], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    strategy: str,
) -> None:  # fmt: skip
    from snapcli.engine import output

    if strategy.startswith("set aside"):
        monkeypatch.setattr(output, "_exchange", lambda first, second: False)
    video = str(videos["gop25"].path)
    assert run_cli("grab", video, "--count", "3", "--sprite", "--vtt", "-q").code == 0
    assert run_cli("grab", video, "--at", "500", "-q").code == 0
    folder = tmp_path / "snapshots" / "gop25"
    assert sorted(p.name for p in folder.iterdir()) == ["snapshot-00001.jpg", "snapshots.json"]
    assert complete_result(folder)
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize("signal_name", ["SIGTERM", "SIGHUP"])
def test_a_terminated_grab_cleans_up_as_ctrl_c_does(
    slow_video: Path, tmp_path: Path, signal_name: str
) -> None:
    out = tmp_path / "out"
    job = subprocess.Popen([sys.executable, "-m", "snapcli", "grab", str(slow_video), "-o",
                            str(out), "--at", "19960,12000"], stderr=subprocess.PIPE, text=True)  # fmt: skip
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not (out.exists() and leftovers(out)):
        time.sleep(0.01)
    assert leftovers(out), "the job never started writing"
    job.send_signal(getattr(signal, signal_name))
    _, stderr = job.communicate(timeout=30)
    assert job.returncode == 130 and stderr.strip() == "snapcli: interrupted."
    assert list(out.iterdir()) == []  # no staging folder, no half result


def test_a_video_whose_stem_is_dots_gets_a_folder_of_its_own(
    run_cli, videos: dict[str, TestVideo], tmp_path: Path
) -> None:
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "notes.txt").write_text("mine")
    for name in ("..mp4", "...mp4"):
        shutil.copy(videos["gop25"].path, tmp_path / name)
        assert run_cli("grab", name, "-o", "out", "-q").code == 0
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["...mp4", "..mp4", "notes.txt"]
