"""`snapcli batch`: whole folders, the same output as grab, resumable, a bad file failing alone."""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest
from support.videos import TestVideo


@pytest.fixture
def tree(tmp_path: Path, videos: dict[str, TestVideo], bad_files: dict[str, Path]) -> Path:
    """in/: good and bad videos in nested folders, and two videos sharing a stem."""
    root = tmp_path / "in"
    (root / "sub" / "deeper").mkdir(parents=True)
    (root / "raw").mkdir()
    shutil.copy(videos["h264"].path, root / "a.mp4")
    shutil.copy(videos["gop25"].path, root / "a.mov")
    shutil.copy(videos["vp9"].path, root / "sub" / "clip.webm")
    shutil.copy(videos["ntsc"].path, root / "sub" / "deeper" / "n t s c.mp4")
    shutil.copy(bad_files["text"], root / "sub" / "bad.mp4")
    shutil.copy(bad_files["empty"], root / "raw" / "empty.mov")
    shutil.copy(bad_files["audio"], root / "raw" / "sound.mp4")
    (root / "notes.txt").write_text("not a video, not even by name")
    return root


GOOD = {
    "a.mp4": "a.mp4",
    "a.mov": "a.mov",
    "sub/clip.webm": "sub/clip",
    "sub/deeper/n t s c.mp4": "sub/deeper/n t s c",
}
BAD = {"sub/bad.mp4": "InvalidParameter.ResourceContentBad", "raw/empty.mov": "InvalidParameter.ResourceContentBad",
       "raw/sound.mp4": "InvalidParameter.ResourceContentBad"}  # fmt: skip


def outputs(folder: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(folder)): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.suffix == ".jpg"
    }


def leftovers(folder: Path) -> list[str]:
    return [str(p) for p in folder.rglob("*") if ".snapcli-tmp" in p.name or ".old." in p.name]


def test_a_tree_of_good_and_bad_videos(run_cli, tree: Path, tmp_path: Path) -> None:
    result = run_cli(
        "batch", str(tree), "-r", "--interval", "0", "--count", "3", "-o", "out", "--jsonl"
    )
    assert result.code == 3
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    by_video = {str(Path(e["VideoId"]).relative_to(tree)): e for e in lines}
    assert set(by_video) == set(GOOD) | set(BAD)
    out = tmp_path / "out"
    for video, folder in GOOD.items():
        assert by_video[video]["Status"] == "success"
        event = json.loads((out / folder / "snapshots.json").read_text())
        assert event == by_video[video]
        # Exactly what grab makes of the same video.
        alone = run_cli(
            "grab", str(tree / video), "--interval", "0", "--count", "3", "-o", "alone", "--json"
        )
        assert json.loads(alone.stdout)["Snapshots"] == event["Snapshots"]
        assert outputs(Path(json.loads(alone.stdout)["OutputDir"])) == outputs(out / folder)
    for video, code in BAD.items():
        assert by_video[video]["Status"] == "fail" and by_video[video]["ErrorCode"] == code
        assert not (out / Path(video).parent / Path(video).stem).exists()
    assert "4 made" in result.stderr and "3 failed" in result.stderr
    assert leftovers(tmp_path) == []


def test_a_second_run_with_nothing_changed_does_no_decoding(
    run_cli, tree: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for bad in BAD:
        (tree / bad).unlink()
    assert run_cli("batch", str(tree), "-r", "--count", "2", "-o", "out").code == 0
    before = outputs(tmp_path / "out")
    monkeypatch.setenv("SNAPCLI_FFMPEG", "/nowhere/ffmpeg")  # any decoding would now fail
    started = time.monotonic()
    again = run_cli("batch", str(tree), "-r", "--count", "2", "-o", "out", "--jsonl")
    assert again.code == 0 and time.monotonic() - started < 5
    assert all(json.loads(line)["Skipped"] for line in again.stdout.splitlines())
    assert outputs(tmp_path / "out") == before
    # A different request, a changed input, or --force: done again.
    monkeypatch.delenv("SNAPCLI_FFMPEG")
    changed = run_cli("batch", str(tree), "-r", "--count", "3", "-o", "out", "--jsonl")
    assert not any(json.loads(line).get("Skipped") for line in changed.stdout.splitlines())
    (tree / "a.mp4").touch()
    touched = run_cli("batch", str(tree), "-r", "--count", "3", "-o", "out", "--jsonl")
    redone = [
        json.loads(line)["VideoId"]
        for line in touched.stdout.splitlines()
        if not json.loads(line).get("Skipped")
    ]
    assert redone == [str(tree / "a.mp4")]
    forced = run_cli("batch", str(tree), "-r", "--count", "3", "-o", "out", "--jsonl", "--force")
    assert not any(json.loads(line).get("Skipped") for line in forced.stdout.splitlines())


def test_selection_by_glob_extension_and_depth(run_cli, tree: Path) -> None:
    def listed(*args: str) -> list[str]:
        result = run_cli("batch", str(tree), "--count", "1", "-o", "out", "--dry-run", *args)
        assert result.code == 0
        return [line.split()[1] for line in result.stdout.splitlines()]

    assert listed() == [str(tree / "a.mov"), str(tree / "a.mp4")]  # not recursive
    assert listed("-r", "--include", "*.webm") == [str(tree / "sub" / "clip.webm")]
    assert len(listed("-r", "--exclude", "raw/*", "--exclude", "bad.mp4")) == 4
    assert listed("-r", "--ext", "webm,MOV") == [
        str(tree / "a.mov"),
        str(tree / "raw" / "empty.mov"),
        str(tree / "sub" / "clip.webm"),
    ]


def test_missing_path_is_an_invalid_request(run_cli) -> None:
    result = run_cli("batch", "no/such/folder", "--count", "1")
    assert result.code == 2 and result.stderr.startswith("snapcli: InvalidParameter: ")


@pytest.mark.parametrize("delay", [0.3, 0.9, 1.6])
def test_interrupted_then_rerun_ends_identical_to_an_uninterrupted_run(
    delay: float, tree: Path, tmp_path: Path
) -> None:
    for bad in BAD:
        (tree / bad).unlink()
    for copy in range(3):  # more work, so that the interrupt lands mid-batch
        shutil.copy(tree / "a.mp4", tree / "sub" / f"more{copy}.mp4")
    command = ["snapcli", "batch", str(tree), "-r", "--interval", "0", "--count", "40", "-q"]
    subprocess.run([*command, "-o", "whole"], cwd=tmp_path, check=True)
    job = subprocess.Popen([*command, "-o", "cut"], cwd=tmp_path, stderr=subprocess.PIPE, text=True)
    time.sleep(delay)
    job.send_signal(signal.SIGINT)
    _, errors = job.communicate(timeout=60)
    assert job.returncode in (0, 130), errors
    if delay < 0.5:
        assert job.returncode == 130  # the batch takes well over half a second
    if job.returncode == 130:
        assert errors.strip().endswith("snapcli: interrupted.")
    assert leftovers(tmp_path / "cut") == []
    finished = subprocess.run([*command, "-o", "cut"], cwd=tmp_path, check=False)
    assert finished.returncode == 0
    assert outputs(tmp_path / "cut") == outputs(tmp_path / "whole")
    assert leftovers(tmp_path) == []
