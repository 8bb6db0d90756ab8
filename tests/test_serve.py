"""`snapcli serve`: the official VOD and MTS SDK clients, unmodified, against the server started as
a user starts it, over both signing protocols (docs/serve.md)."""

from __future__ import annotations

import hashlib
import http.client
import io
import json
import os
import re
import shutil
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from support.servers import Receiver
from support.videos import TestVideo, frame_number

pytest.importorskip("alibabacloud_vod20170321")
from alibabacloud_mts20140618 import models as mts_models  # noqa: E402
from alibabacloud_mts20140618.client import Client as MtsClient  # noqa: E402
from alibabacloud_tea_openapi import models as open_api  # noqa: E402
from alibabacloud_vod20170321 import models as vod_models  # noqa: E402
from alibabacloud_vod20170321.client import Client as VodClient  # noqa: E402

KEY_ID, SECRET = "dev", "s3cret"
CALLBACK_KEY = "hook-key-1"
SIGNINGS = ["ACS3-HMAC-SHA256", "v2"]


@dataclass
class Server:
    url: str
    port: int
    media: Path
    results: Path
    process: subprocess.Popen[str]

    def config(self, signing: str, key_id: str = KEY_ID, secret: str = SECRET) -> Any:
        config = open_api.Config(
            access_key_id=key_id, access_key_secret=secret, protocol="http",
            endpoint=f"127.0.0.1:{self.port}", region_id="cn-shanghai",
        )  # fmt: skip
        if signing == "v2":
            config.signature_algorithm = "v2"
        return config

    def vod(self, signing: str = "ACS3-HMAC-SHA256", **keys: str) -> Any:
        return VodClient(self.config(signing, **keys))

    def mts(self, signing: str = "ACS3-HMAC-SHA256") -> Any:
        return MtsClient(self.config(signing))


def start(tmp_path: Path, *arguments: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "snapcli", "serve", "--port", "0", *arguments],
        cwd=tmp_path, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True,
    )  # fmt: skip


@pytest.fixture
def server(tmp_path: Path, videos: dict[str, TestVideo]) -> Iterator[Server]:
    media = tmp_path / "media"
    (media / "talks").mkdir(parents=True)
    shutil.copy(videos["h264"].path, media / "talks" / "h264.mp4")
    (media / "in").mkdir()
    shutil.copy(videos["h264"].path, media / "in" / "clip.mp4")
    (tmp_path / "secret.txt").write_text("not a video of the server's\n")
    process = start(
        tmp_path, "--media-root", "media", "-o", "results", "--access-key", f"{KEY_ID}:{SECRET}",
        "--callback-key", CALLBACK_KEY,
    )  # fmt: skip
    assert process.stderr is not None
    line = process.stderr.readline()
    found = re.search(r"listening on (http://127\.0\.0\.1:(\d+))", line)
    assert found, line + process.stderr.read()
    try:
        yield Server(found.group(1), int(found.group(2)), media, tmp_path / "results", process)
    finally:
        process.terminate()
        process.wait(10)


def finished(job_ids: list[str]) -> list[dict[str, Any]]:
    import snapcli

    return snapcli.jobs.wait(job_ids, timeout=180)


def fetched_frame(url: str) -> int:
    with urllib.request.urlopen(url, timeout=10) as answer:
        assert answer.headers["Content-Type"] == "image/jpeg"
        return frame_number(Image.open(io.BytesIO(answer.read())))


def api_error(call: Any) -> Any:
    with pytest.raises(Exception) as caught:
        call()
    return caught.value


@pytest.mark.parametrize("signing", SIGNINGS)
def test_vod_snapshots_through_the_sdk_are_the_exact_frames(
    server: Server, videos: dict[str, TestVideo], signing: str
) -> None:
    """SubmitSnapshotJob, then ListSnapshots: the URLs are this server's, and every picture
    fetched from them is the frame a player shows at its time."""
    client = server.vod(signing)
    submitted = client.submit_snapshot_job(
        vod_models.SubmitSnapshotJobRequest(
            video_id="talks/h264.mp4", specified_offset_times=[1000, 2020, 4001], width=160
        )
    )
    job_id = submitted.body.snapshot_job.job_id
    assert len(submitted.body.request_id) == 36
    (record,) = finished([job_id])
    assert record["State"] == "Success", record
    listed = client.list_snapshots(vod_models.ListSnapshotsRequest(video_id="talks/h264.mp4"))
    media = listed.body.media_snapshot
    assert media.job_id == job_id and media.total == 3
    urls = [snapshot.url for snapshot in media.snapshots.snapshot]
    assert all(url.startswith(server.url + "/results/") for url in urls)
    video = videos["h264"]
    assert [fetched_frame(url) for url in urls] == [
        video.frame_shown_at(t) for t in (1000, 2020, 4001)
    ]
    assert media.regular.startswith(server.url + "/results/")
    info = client.get_video_info(vod_models.GetVideoInfoRequest(video_id="talks/h264.mp4"))
    assert info.body.video.duration == pytest.approx(8.0, abs=0.05)
    assert info.body.video.size == (server.media / "talks" / "h264.mp4").stat().st_size


@pytest.mark.parametrize("signing", SIGNINGS)
def test_snapshot_templates_through_the_sdk(server: Server, signing: str) -> None:
    """Add, get, list, update and delete a snapshot template; a job takes its request from it."""
    client = server.vod(signing)
    config = {"SnapshotType": "NormalSnapshot", "SnapshotConfig": {"Count": 2, "Interval": 1}}
    added = client.add_vod_template(
        vod_models.AddVodTemplateRequest(
            name="two", template_type="Snapshot", template_config=json.dumps(config)
        )
    )
    template_id = added.body.vod_template_id
    got = client.get_vod_template(vod_models.GetVodTemplateRequest(vod_template_id=template_id))
    assert got.body.vod_template_info.name == "two"
    assert json.loads(got.body.vod_template_info.template_config) == config
    client.update_vod_template(
        vod_models.UpdateVodTemplateRequest(vod_template_id=template_id, name="renamed")
    )
    listed = client.list_vod_template(vod_models.ListVodTemplateRequest(template_type="Snapshot"))
    assert [i.name for i in listed.body.vod_template_info_list] == ["renamed"]
    job = client.submit_snapshot_job(
        vod_models.SubmitSnapshotJobRequest(
            video_id="talks/h264.mp4", snapshot_template_id=template_id
        )
    )
    (record,) = finished([job.body.snapshot_job.job_id])
    assert [s["Time"] for s in record["Event"]["Snapshots"]] == [0, 1000]
    client.delete_vod_template(vod_models.DeleteVodTemplateRequest(vod_template_id=template_id))
    gone = api_error(
        lambda: client.get_vod_template(
            vod_models.GetVodTemplateRequest(vod_template_id=template_id)
        )
    )
    assert gone.code == "InvalidParameter.TemplateNotFound" and gone.status_code == 404


@pytest.mark.parametrize("signing", SIGNINGS)
def test_mts_snapshot_jobs_through_the_sdk(
    server: Server, videos: dict[str, TestVideo], signing: str
) -> None:
    """MTS SubmitSnapshotJob into a bucket folder, then QuerySnapshotJobList."""
    client = server.mts(signing)
    submitted = client.submit_snapshot_job(
        mts_models.SubmitSnapshotJobRequest(
            input=json.dumps({"Bucket": "in", "Location": "oss-cn-shanghai", "Object": "clip.mp4"}),
            snapshot_config=json.dumps(
                {
                    "OutputFile": {
                        "Bucket": "out",
                        "Location": "oss-cn-shanghai",
                        "Object": "shots/{Count}.jpg",
                    },
                    "Time": "1000",
                    "Num": "3",
                    "Interval": "1",
                    "FrameType": "normal",
                }  # fmt: skip
            ),
        )
    )
    job_id = submitted.body.snapshot_job.id
    finished([job_id])
    queried = client.query_snapshot_job_list(
        mts_models.QuerySnapshotJobListRequest(snapshot_job_ids=f"{job_id},0123456789abcdef")
    )
    (job,) = queried.body.snapshot_job_list.snapshot_job
    assert job.state == "Success" and job.count == "3"
    assert queried.body.non_exist_snapshot_job_ids.string == ["0123456789abcdef"]
    pictures = sorted((server.media / "out" / "shots").glob("*.jpg"))
    video = videos["h264"]
    assert [frame_number(Image.open(p)) for p in pictures] == [
        video.frame_shown_at(t) for t in (1000, 2000, 3000)
    ]


@pytest.mark.parametrize("signing", SIGNINGS)
def test_wrong_secret_and_unknown_key_are_refused(server: Server, signing: str) -> None:
    request = vod_models.GetVideoInfoRequest(video_id="talks/h264.mp4")
    wrong = api_error(lambda: server.vod(signing, secret="guess").get_video_info(request))
    assert (wrong.code, wrong.status_code) == ("SignatureDoesNotMatch", 400)
    assert wrong.data["RequestId"] and wrong.data["HostId"] and wrong.data["Recommend"]
    unknown = api_error(lambda: server.vod(signing, key_id="nobody").get_video_info(request))
    assert (unknown.code, unknown.status_code) == ("InvalidAccessKeyId.NotFound", 404)


def test_a_stale_time_and_a_reused_nonce_are_refused(
    server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A request signed an hour ago is refused; a request sent twice is refused the second time
    (caught as the SDK sent it, then replayed byte for byte)."""
    from alibabacloud_tea_openapi.utils import Utils

    request = vod_models.GetVideoInfoRequest(video_id="talks/h264.mp4")
    with monkeypatch.context() as patch:
        an_hour_ago = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 3600))
        patch.setattr(Utils, "get_timestamp", staticmethod(lambda: an_hour_ago))
        stale = api_error(lambda: server.vod().get_video_info(request))
    assert (stale.code, stale.status_code) == ("InvalidTimeStamp.Expired", 400)
    for signing in SIGNINGS:
        catcher = Receiver({"RequestId": "x"})
        config = server.config(signing)
        config.endpoint = f"127.0.0.1:{catcher.port}"
        try:
            VodClient(config).get_video_info(request)
        finally:
            catcher.close()
        headers = catcher.headers[0]  # Host too: the ACS3 signature covers it
        answers = []
        for _ in range(2):
            connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
            connection.request("POST", catcher.paths[0], catcher.raw_bodies[0], headers)
            reply = connection.getresponse()
            answers.append((reply.status, json.loads(reply.read())))
        assert answers[0][0] == 200 and "Video" in answers[0][1], answers
        assert answers[1][0] == 400 and answers[1][1]["Code"] == "SignatureNonceUsed"


def test_an_action_snapcli_does_not_serve_gets_the_apis_error(server: Server) -> None:
    error = api_error(
        lambda: server.vod().get_play_info(vod_models.GetPlayInfoRequest(video_id="x"))
    )
    assert (error.code, error.status_code) == ("InvalidAction.NotFound", 404)


def test_video_ids_and_result_paths_stay_inside_their_folders(
    server: Server, tmp_path: Path
) -> None:
    """A VideoId that leads out of the media root (.., absolute, a link to outside) is refused
    before any job; the results route serves nothing outside the results, nor hidden files."""
    (server.media / "out.mp4").symlink_to(tmp_path / "secret.txt")
    client = server.vod()
    for video_id in ("../secret.txt", "/etc/passwd", "out.mp4", "talks/../../secret.txt"):
        request = vod_models.SubmitSnapshotJobRequest(video_id=video_id, count=1)
        error = api_error(lambda: client.submit_snapshot_job(request))  # noqa: B023
        assert error.code in ("InvalidParameter", "InvalidVideo.NotFound"), (video_id, error)
    import snapcli

    assert snapcli.jobs.recent() == []  # nothing was queued
    job = client.submit_snapshot_job(
        vod_models.SubmitSnapshotJobRequest(video_id="talks/h264.mp4", count=1)
    )
    finished([job.body.snapshot_job.job_id])
    (server.results / "link.txt").symlink_to(tmp_path / "secret.txt")
    (server.results / ".hidden.jpg").write_bytes(b"x")
    for path in ("/results/../secret.txt", "/results/%2e%2e/secret.txt", "/results/link.txt",
                 "/results/.hidden.jpg", "/results/h264", "/results/"):  # fmt: skip
        connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
        connection.request("GET", path)
        reply = connection.getresponse()
        assert reply.status == 404 and b"not a video" not in reply.read(), path
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    connection.request("GET", "/results/h264/snapshot-00001.jpg", headers={"Range": "bytes=0-9"})
    reply = connection.getresponse()
    whole = (server.results / "h264" / "snapshot-00001.jpg").read_bytes()
    assert (reply.status, reply.read()) == (206, whole[:10])
    assert reply.headers["Content-Range"] == f"bytes 0-9/{len(whole)}"


def test_callbacks_are_signed_as_the_cloud_signs_them(server: Server) -> None:
    receiver = Receiver()
    try:
        job = server.vod().submit_snapshot_job(
            vod_models.SubmitSnapshotJobRequest(
                video_id="talks/h264.mp4",
                count=1,
                user_data=json.dumps({"MessageCallback": {"CallbackURL": receiver.url}}),
            )  # fmt: skip
        )
        (record,) = finished([job.body.snapshot_job.job_id])
    finally:
        receiver.close()
    assert record["Callback"]["Delivered"], record
    headers = {key.lower(): value for key, value in receiver.headers[0].items()}
    timestamp = headers["x-vod-timestamp"]
    assert abs(int(timestamp) - time.time()) < 120
    expected = hashlib.md5(f"{receiver.url}|{timestamp}|{CALLBACK_KEY}".encode()).hexdigest()
    assert headers["x-vod-signature"] == expected
    assert receiver.bodies[0]["Snapshots"][0]["Path"] == "snapshot-00001.jpg"
    assert receiver.bodies[0]["OutputUrl"].startswith(server.url + "/results/")


def test_unsigned_calls_only_on_loopback_and_keys_are_required(tmp_path: Path) -> None:
    for arguments, says in (
        (["--no-auth", "--host", "0.0.0.0"], "loopback"),
        ([], "no access key"),
        (["--access-key", "nosecret"], "ID:SECRET"),
    ):
        process = start(tmp_path, *arguments)
        _, errors = process.communicate(timeout=30)
        assert process.returncode == 2 and says in errors and "Traceback" not in errors, errors


def test_two_hundred_submits_from_twenty_threads_all_finish(
    server: Server, videos: dict[str, TestVideo]
) -> None:
    """A bounded load: 200 SubmitSnapshotJob calls from 20 threads, each its own client and
    signature; every job ends in success and every URL it lists is fetched."""
    names = [f"talks/copy{n:03d}.mp4" for n in range(200)]
    for name in names:
        os.link(server.media / "talks" / "h264.mp4", server.media / name)

    def submit(name: str) -> str:
        signing = SIGNINGS[hash(name) % 2]
        answer = server.vod(signing).submit_snapshot_job(
            vod_models.SubmitSnapshotJobRequest(video_id=name, count=1, width=64)
        )
        return str(answer.body.snapshot_job.job_id)

    with ThreadPoolExecutor(max_workers=20) as pool:
        job_ids = list(pool.map(submit, names))
    assert len(set(job_ids)) == 200
    records = finished(job_ids)
    assert [record["State"] for record in records] == ["Success"] * 200
    client = server.vod()
    urls = [
        client.list_snapshots(vod_models.ListSnapshotsRequest(video_id=name))
        .body.media_snapshot.snapshots.snapshot[0]
        .url
        for name in names
    ]
    with ThreadPoolExecutor(max_workers=20) as pool:
        frames = list(pool.map(fetched_frame, urls))
    assert frames == [0] * 200
