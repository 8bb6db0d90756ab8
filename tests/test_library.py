"""The library as Python users call it: one typed call per job, dataclasses back, the API's JSON
one call away, and type checkers that catch a wrong argument before it runs."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import pytest
from PIL import Image
from support.videos import TestVideo, frame_number

import snapcli


def test_grab_returns_typed_snapshots_and_probe_still_works_after_it(
    videos: dict[str, TestVideo], tmp_path: Path
) -> None:
    video = videos["h264"]
    event = snapcli.grab(video.path, at=[1000, 2530], width=128, output_dir=tmp_path / "out")
    info = snapcli.probe(video.path)  # once the cause of "'module' object is not callable"
    assert info.duration_ms == video.duration_ms and info.display_size == (256, 144)
    assert isinstance(event, snapcli.Event) and event.ok and len(event.job_id) == 32
    assert [(shot.index, shot.time, shot.frame_time) for shot in event.snapshots] == [
        (1, 1000, 1000), (2, 2530, 2520)
    ]  # fmt: skip
    for shot in event.snapshots:
        assert shot.path is not None and (shot.width, shot.height) == (128, 72)
        assert frame_number(Image.open(shot.path)) == video.frame_shown_at(shot.time)
    assert event.output_dir == (tmp_path / "out" / "h264").absolute()
    assert event.to_api() == json.loads((event.output_dir / "snapshots.json").read_text())


def test_a_request_in_the_apis_spelling_with_keywords_winning(
    videos: dict[str, TestVideo], tmp_path: Path
) -> None:
    request = {"VideoId": str(videos["gop25"].path), "Count": "3", "Width": 64,
               "SpriteSnapshotConfig": "{'Columns': 2, 'Lines': 1}"}  # fmt: skip
    event = snapcli.grab(request=request, count=2, sprite={"Lines": 2}, output_dir=tmp_path)
    assert [shot.time for shot in event.snapshots] == [0, 1000]
    (sheet,) = event.sprites
    assert sheet.snapshots == (1, 2) and (sheet.width, sheet.height) == (128, 72)
    assert sheet.path.is_file()


def test_a_template_decides_and_says_what_it_overrode(
    videos: dict[str, TestVideo], tmp_path: Path
) -> None:
    from snapcli.service.templates import add_template

    template = add_template("two", {"SnapshotType": "NormalSnapshot",
                                    "SnapshotConfig": {"Count": 2, "Width": 32}})  # fmt: skip
    with pytest.warns(snapcli.SnapcliWarning, match="Count ignored"):
        event = snapcli.grab(
            videos["gop25"].path, count=5, template_id=template["TemplateId"], output_dir=tmp_path
        )
    assert [(shot.time, shot.width) for shot in event.snapshots] == [(0, 32), (1000, 32)]


def test_a_failure_raises_with_its_code_and_fail_event(
    bad_files: dict[str, Path], tmp_path: Path
) -> None:
    with pytest.raises(snapcli.SnapcliError) as caught:
        snapcli.grab(bad_files["text"], output_dir=tmp_path)
    assert caught.value.code == "InvalidParameter.ResourceContentBad"
    assert caught.value.event is not None and caught.value.event["Status"] == "fail"
    with pytest.raises(snapcli.SnapcliError, match="Count must be"):
        snapcli.grab(bad_files["text"], count=0, output_dir=tmp_path)


def test_submit_and_wait_for_a_background_job(videos: dict[str, TestVideo], tmp_path: Path) -> None:
    job = snapcli.submit({"VideoId": str(videos["gop25"].path), "Count": 2},
                         output_dir=tmp_path / "queued")  # fmt: skip
    assert job.dialect == "vod" and job.record["State"] in ("Submitted", "Snapshoting", "Success")
    (record,) = snapcli.jobs.wait([job.job_id], timeout=60)
    assert record["State"] == "Success" and record["JobId"] == job.job_id
    assert [s["Time"] for s in record["Event"]["Snapshots"]] == [0, 1000]
    records, missing = snapcli.jobs.show([job.job_id[:8], "f" * 32])
    assert [r["JobId"] for r in records] == [job.job_id] and missing == ["f" * 32]
    assert snapcli.jobs.recent(["Success"])[0]["JobId"] == job.job_id


USER_SCRIPT = """
import snapcli

event = snapcli.grab("talk.mp4", count={count}, width=640, output_dir="out")
times: list[int] = [shot.frame_time for shot in event.snapshots]
duration = snapcli.probe("talk.mp4").duration_ms
"""


@pytest.mark.parametrize(("count", "accepted"), [("10", True), ('"ten"', False)])
def test_a_type_checker_catches_a_wrong_argument(
    tmp_path: Path, count: str, accepted: bool
) -> None:
    if (
        shutil.which("mypy") is None
        and subprocess.run(
            [sys.executable, "-m", "mypy", "--version"], capture_output=True, check=False
        ).returncode
    ):
        pytest.skip("mypy (a test dependency) is not installed")
    script = tmp_path / "user.py"
    script.write_text(USER_SCRIPT.format(count=count))
    # Where snapcli is installed (an editable install's import hook is beyond mypy's sight).
    env = {**os.environ, "MYPYPATH": str(Path(snapcli.__file__).parent.parent)}
    checked = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", str(script)],
        capture_output=True, text=True, check=False, cwd=tmp_path, env=env,
    )  # fmt: skip
    assert (checked.returncode == 0) is accepted, checked.stdout
    if not accepted:
        assert 'Argument "count" to "grab" has incompatible type "str"' in checked.stdout


def test_library_warnings_are_warnings_not_prints(
    videos: dict[str, TestVideo], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        snapcli.grab(request={"VideoId": str(videos["gop25"].path), "Colour": "red"},
                     output_dir=tmp_path)  # fmt: skip
    assert [str(w.message) for w in caught] == [
        "the request's Colour is not a SubmitSnapshotJob parameter; it is ignored."
    ]
    assert capsys.readouterr() == ("", "")


def test_a_job_leaves_no_open_pipes_behind(videos: dict[str, TestVideo], tmp_path: Path) -> None:
    """Every ffmpeg's pipes are closed when it ends: a long-running caller (a batch, a server)
    must not run out of file descriptors, nor get the garbage collector's "unclosed file"
    warnings among its own at some later moment. Before, each ffmpeg left two open."""
    descriptors = Path("/proc/self/fd")
    if not descriptors.is_dir():
        pytest.skip("counting open files needs /proc")
    before = len(list(descriptors.iterdir()))
    snapcli.grab(videos["mkv"].path, at=[0, 4000], output_dir=tmp_path, record=False)
    assert len(list(descriptors.iterdir())) == before
