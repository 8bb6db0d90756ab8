"""Real web players show the right preview: Plyr, video.js with its VTT-thumbnails plugin, and
Vidstack (from npm), in headless Chromium, fed the sprite sheets and thumbnails.vtt that `snapcli
sprite` makes, from a folder of their own beside the page, hovered at points along the seek bar.
Nothing is fetched from past this machine (Vidstack's CDN imports are mapped to local files).

Needs Debian's chromium and `npm ci` in tests/e2e (`bash scripts/setup.sh --test` does both). Where
they are missing the test is skipped, except in CI, where that is a failure.
"""

from __future__ import annotations

import functools
import http.server
import json
import os
import re
import shutil
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image
from support.videos import frame_number

E2E = Path(__file__).parent / "e2e"
SAMPLE = Path(__file__).parent.parent / "samples" / "sample.mp4"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
SAMPLE_BAND = (0.0, 30 / 270)  # the sample's frame-number band: the top 30 of 270 lines
SAMPLE_FPS = 25
SAMPLE_SECONDS = 12
PLAYERS = (
    "plyr",
    "video.js",
    "videojs-vtt-thumbnails",
    "vidstack",
    "media-captions",
    "playwright-core",
)


def _missing() -> str | None:
    if not Path(CHROMIUM).exists():
        return f"no Chromium at {CHROMIUM}"
    if not shutil.which("node"):
        return "no node"
    if not all((E2E / "node_modules" / name).exists() for name in PLAYERS):
        return "npm packages not installed in tests/e2e"
    return None


@pytest.fixture
def site(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A folder served on localhost: the player page, Plyr, the sample and snapcli's output."""
    missing = _missing()
    if missing:
        if os.environ.get("CI"):
            pytest.fail(f"the browser test cannot run: {missing}")
        pytest.skip(f"{missing} (bash scripts/setup.sh --test installs it)")
    root = tmp_path / "site"
    root.mkdir()
    done = subprocess.run(
        ["snapcli", "sprite", str(SAMPLE), "-o", str(tmp_path / "out"), "-q"], check=False
    )
    assert done.returncode == 0
    # The track and its sheets in a folder of their own, as sites keep them: a player must
    # resolve the cues' picture URLs against the VTT, not the page.
    shutil.copytree(tmp_path / "out" / "sample", root / "thumbs")
    # The same track naming its pictures from the site's root, for a player that resolves cue
    # URLs against the page (Vidstack).
    done = subprocess.run(
        ["snapcli", "sprite", str(SAMPLE), "-o", str(tmp_path / "absolute"), "-q",
         "--vtt-base-url", "/thumbs-absolute/"], check=False,
    )  # fmt: skip
    assert done.returncode == 0
    shutil.copytree(tmp_path / "absolute" / "sample", root / "thumbs-absolute")
    for asset in (SAMPLE, E2E / "player.html", E2E / "videojs.html", E2E / "vidstack.html",
                  E2E / "no-icons.js",
                  E2E / "node_modules/plyr/dist/plyr.css",
                  E2E / "node_modules/plyr/dist/plyr.min.js"):  # fmt: skip
        shutil.copy(asset, root)
    for package, folder in (("video.js", "dist"), ("videojs-vtt-thumbnails", "dist"),
                            ("vidstack", "cdn"), ("vidstack", "player/styles"),
                            ("media-captions", "dist")):  # fmt: skip
        shutil.copytree(E2E / "node_modules" / package / folder,
                        root / "node_modules" / package / folder)  # fmt: skip
    handler = functools.partial(QuietHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/", tmp_path
    finally:
        server.shutdown()


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    """Serves files as web servers do, byte ranges included: a player that works out a video's
    duration from what it can seek to (Vidstack) needs them."""

    def send_head(self):  # type: ignore[no-untyped-def]
        wanted = re.fullmatch(r"bytes=(\d+)-(\d*)", self.headers.get("Range", "").strip())
        path = self.translate_path(self.path)
        if wanted is None or not os.path.isfile(path):
            return super().send_head()
        size = os.path.getsize(path)
        start, end = int(wanted.group(1)), int(wanted.group(2) or size - 1)
        end = min(end, size - 1)
        file = open(path, "rb")  # noqa: SIM115 (closed by the caller, as the base class does)
        file.seek(start)
        self.send_response(206)
        self.send_header("Content-Type", self.guess_type(path))
        self.send_header("Content-Range", f"bytes {start}-{end}/{size}")
        self.send_header("Content-Length", str(end - start + 1))
        self.send_header("Accept-Ranges", "bytes")
        self.end_headers()
        self.range_left = end - start + 1
        return file

    def copyfile(self, source, outputfile) -> None:  # type: ignore[no-untyped-def]
        left = getattr(self, "range_left", None)
        if left is None:
            super().copyfile(source, outputfile)
        else:
            outputfile.write(source.read(left))

    def log_message(self, *args: object) -> None:
        pass


def test_plyr_shows_the_right_cell_while_hovering_the_seek_bar(site: tuple[str, Path]) -> None:
    url, folder = site
    shots = folder / "shots"
    shots.mkdir()
    fractions = ["0.03", "0.12", "0.21", "0.36", "0.49", "0.6", "0.79", "0.97"]
    done = subprocess.run(
        ["node", "hover.mjs", url + "player.html", str(shots), *fractions],
        cwd=E2E, capture_output=True, text=True, timeout=180, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    hovers = json.loads(done.stdout.strip().splitlines()[-1])
    assert len(hovers) == len(fractions)
    seen = []
    for hover in hovers:
        # `snapcli sprite` takes a thumbnail every 2 s: the cue at time t shows the snapshot of
        # 2·floor(t/2) s, which is frame 25 · that.
        expected = SAMPLE_FPS * 2 * int(hover["time"] // 2)
        preview = Image.open(hover["file"])
        assert frame_number(preview, rows=SAMPLE_BAND) == expected, hover
        seen.append(expected)
    assert len(set(seen)) == 6  # every cue of the 12 s sample was shown


@pytest.mark.parametrize(("page", "script"), [("videojs.html", "hover_videojs.mjs"),
                                              ("vidstack.html", "hover_vidstack.mjs")])  # fmt: skip
def test_other_players_show_the_right_cell_while_hovering_the_seek_bar(
    site: tuple[str, Path], page: str, script: str
) -> None:
    url, folder = site
    shots = folder / "shots"
    shots.mkdir()
    # Away from the cue edges (every 2 s): each player maps the pointer to a time itself.
    fractions = ["0.04", "0.21", "0.29", "0.46", "0.54", "0.71", "0.79", "0.96"]
    done = subprocess.run(
        ["node", script, url + page, str(shots), *fractions],
        cwd=E2E, capture_output=True, text=True, timeout=180, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    hovers = json.loads(done.stdout.strip().splitlines()[-1])
    seen = []
    for hover in hovers:
        time = hover["fraction"] * SAMPLE_SECONDS
        expected = SAMPLE_FPS * 2 * int(time // 2)
        preview = Image.open(hover["file"])
        assert frame_number(preview, rows=SAMPLE_BAND) == expected, hover
        seen.append(expected)
    assert len(set(seen)) == 6
