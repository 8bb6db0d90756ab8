"""`snapcli batch --cluster`: a real Dask scheduler and two real workers started here with the dask
command line, the batch run as a user runs it (docs/cluster.md)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from PIL import Image
from support.videos import TestVideo, frame_number

pytest.importorskip("distributed")


@dataclass
class Cluster:
    address: str
    workers: dict[str, subprocess.Popen[bytes]]  # by address


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[Cluster]:
    """A scheduler and two single-thread workers, without nannies (a killed worker stays dead)."""
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    dask = [sys.executable, "-m", "dask"]
    address_file = tmp_path / "scheduler.json"
    scheduler = subprocess.Popen(
        [*dask, "scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
         "--scheduler-file", str(address_file)], **quiet,
    )  # fmt: skip
    processes: list[subprocess.Popen[bytes]] = [scheduler]
    try:
        deadline = time.monotonic() + 60
        while not address_file.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        address = json.loads(address_file.read_text())["address"]
        for name in ("one", "two"):
            processes.append(
                subprocess.Popen(
                    [
                        *dask,
                        "worker",
                        address,
                        "--nthreads",
                        "1",
                        "--no-nanny",
                        "--no-dashboard",
                        "--name",
                        name,
                    ],
                    **quiet,
                )  # fmt: skip
            )
        from distributed import Client

        with Client(address, timeout=30) as client:
            client.wait_for_workers(2, timeout=60)
            addresses = {info["name"]: a for a, info in client.scheduler_info()["workers"].items()}
        workers = {addresses["one"]: processes[1], addresses["two"]: processes[2]}
        yield Cluster(address, workers)
    finally:
        for process in reversed(processes):
            process.kill()
            process.wait(10)


def batch(*arguments: str, cwd: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "snapcli", "batch", *arguments, "--jsonl"],
        cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def events(output: str) -> dict[str, dict]:
    return {Path(e["VideoId"]).name: e for e in map(json.loads, output.splitlines())}


def leftovers(folder: Path) -> list[str]:
    return [str(p) for p in folder.rglob(".snapcli*")]


def test_a_tree_on_two_workers_fails_its_bad_file_alone_and_resumes(
    cluster: Cluster, videos: dict[str, TestVideo], bad_files: dict[str, Path], tmp_path: Path
) -> None:
    video = videos["h264"]
    (tmp_path / "in" / "sub").mkdir(parents=True)
    for n in range(6):
        shutil.copy(video.path, tmp_path / "in" / ("sub" if n % 2 else ".") / f"v{n}.mp4")
    shutil.copy(bad_files["text"], tmp_path / "in" / "bad.mp4")
    run = batch("in", "-r", "--at", "1000,4001", "-o", "out", "--cluster", cluster.address,
                cwd=tmp_path)  # fmt: skip
    out, err = run.communicate(timeout=300)
    assert run.returncode == 3, err
    made = events(out)
    assert made["bad.mp4"]["ErrorCode"] == "InvalidParameter.ResourceContentBad"
    good = {name: event for name, event in made.items() if name != "bad.mp4"}
    assert len(good) == 6 and all(e["Status"] == "success" for e in good.values())
    assert {e["Worker"] for e in good.values()} == set(cluster.workers)  # both worked
    for name, event in good.items():
        folder = Path(event["OutputDir"])
        assert folder.is_relative_to(tmp_path / "out")
        assert json.loads((folder / "snapshots.json").read_text())["Worker"] == event["Worker"]
        frames = [frame_number(Image.open(folder / s["Path"])) for s in event["Snapshots"]]
        assert frames == [video.frame_shown_at(1000), video.frame_shown_at(4001)], name
    assert leftovers(tmp_path / "out") == []

    again = batch("in", "-r", "--at", "1000,4001", "-o", "out", "--cluster", cluster.address,
                  cwd=tmp_path)  # fmt: skip
    out, err = again.communicate(timeout=300)
    assert again.returncode == 3, err
    second = events(out)
    assert all(second[name].get("Skipped") for name in good)  # nothing decoded again
    assert second["bad.mp4"]["Status"] == "fail"


def test_a_worker_killed_mid_batch_has_its_video_run_elsewhere(
    cluster: Cluster, slow_video: Path, tmp_path: Path
) -> None:
    """Six slow decodes; a worker killed (SIGKILL, by PID) while it runs one: the scheduler runs
    that video again on the other worker, every video ends in success, and the staging folder
    the dead worker was writing is gone."""
    (tmp_path / "in").mkdir()
    for n in range(6):
        os.link(slow_video, tmp_path / "in" / f"slow{n}.mp4")
    run = batch("in", "--at", "19000", "-o", "out", "--cluster", cluster.address, cwd=tmp_path)
    deadline = time.monotonic() + 60
    while not leftovers(tmp_path / "out") and time.monotonic() < deadline:
        time.sleep(0.05)  # until a job is writing
    victim_address, victim = next(iter(cluster.workers.items()))
    victim.send_signal(signal.SIGKILL)
    out, err = run.communicate(timeout=300)
    assert run.returncode == 0, err
    made = events(out)
    assert len(made) == 6 and all(e["Status"] == "success" for e in made.values())
    assert {e["Worker"] for e in made.values()} - {victim_address}  # the survivor took over
    assert all(e["Snapshots"][0]["FrameTime"] == 19000 for e in made.values())
    assert leftovers(tmp_path / "out") == []


def test_ctrl_c_cancels_the_batch_and_leaves_nothing_half_written(
    cluster: Cluster, slow_video: Path, tmp_path: Path
) -> None:
    (tmp_path / "in").mkdir()
    for n in range(8):
        os.link(slow_video, tmp_path / "in" / f"slow{n}.mp4")
    run = batch("in", "--at", "19000", "-o", "out", "--cluster", cluster.address, cwd=tmp_path)
    assert run.stdout is not None
    first = run.stdout.readline()  # one video done: the batch is under way
    assert json.loads(first)["Status"] == "success"
    run.send_signal(signal.SIGINT)
    rest, err = run.communicate(timeout=120)
    assert run.returncode == 130, err
    assert "Traceback" not in err
    done = 1 + len(rest.splitlines())
    assert done < 8  # the rest were cancelled
    results = [p for p in (tmp_path / "out").iterdir() if not p.name.startswith(".")]
    assert len(results) == done  # every result whole, reported, and nothing else
    assert all((p / "snapshots.json").is_file() for p in results)
    assert leftovers(tmp_path / "out") == []


def test_an_unreachable_cluster_is_one_line_and_nothing_starts(
    videos: dict[str, TestVideo], tmp_path: Path
) -> None:
    shutil.copy(videos["h264"].path, tmp_path / "a.mp4")
    run = batch("a.mp4", "-o", "out", "--cluster", "tcp://127.0.0.1:9", cwd=tmp_path)
    out, err = run.communicate(timeout=60)
    assert run.returncode == 1 and out == ""
    assert err.startswith("snapcli: ClusterUnavailable: the cluster at tcp://127.0.0.1:9 cannot")
    assert len(err.strip().splitlines()) == 1
    assert not (tmp_path / "out" / "a").exists()


def test_a_local_cluster_of_worker_processes(videos: dict[str, TestVideo], tmp_path: Path) -> None:
    shutil.copy(videos["h264"].path, tmp_path / "a.mp4")
    shutil.copy(videos["h264"].path, tmp_path / "b.mp4")
    run = batch("a.mp4", "b.mp4", "--at", "2020", "-o", "out", "--cluster", "local:2",
                cwd=tmp_path)  # fmt: skip
    out, err = run.communicate(timeout=300)
    assert run.returncode == 0, err
    made = events(out)
    assert all(e["Worker"].startswith("tcp://127.0.0.1:") for e in made.values())
    folder = tmp_path / "out" / "a"
    assert frame_number(Image.open(folder / "snapshot-00001.jpg")) == videos["h264"].frame_shown_at(
        2020
    )


def test_workers_of_another_version_or_without_the_output_are_named() -> None:
    from snapcli.service.cluster import worker_problems

    facts = {"tcp://a:1": ("0.1.0", True, 1), "tcp://b:2": ("0.0.9", True, 1)}
    (problem,) = worker_problems(facts, "0.1.0", "/mnt/out")
    assert "tcp://b:2 runs snapcli 0.0.9, this is 0.1.0" in problem
    (problem,) = worker_problems({"tcp://a:1": ("0.1.0", False, 2)}, "0.1.0", "/mnt/out")
    assert "does not see /mnt/out" in problem
    assert worker_problems({}, "0.1.0", "/mnt/out")[0].startswith("the cluster has no workers")
