"""snapcli's benchmark: exact frames at the cost of decoding, against the naive loop and peers.

    python bench/run.py                 # the full matrix (long: the 10-minute file dominates)
    python bench/run.py --quick         # the smallest case only (a smoke run, ~1 min)
    python bench/run.py --videos long720 --counts 1 10 100

It makes its own videos (bench/videos/, kept between runs), each showing its frame number as a
16-bit band, so that every tool's output can be checked for the exact frame. For every case it
times snapcli and, interleaved in the same run, the naive loop (one `ffmpeg -ss t -i f -frames:v 1`
per frame, sequential) and the peer tools that are installed (vcsi --fast, thumbnails,
ffmpegthumbnailer). It reports medians, ratios to the naive loop (same run, same machine state),
the decode floor (the frames that must be decoded for exact frames, converted to seconds by the
file's single-thread decode speed, measured next to every run of snapcli, plus one process start
per ffmpeg run, over the cores),
peak memory of the whole process tree, and whether the frames were exact. Results go to
bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image

HERE = Path(__file__).parent
VIDEOS = HERE / "videos"
PEERS_BIN = os.environ.get("SNAPCLI_BENCH_PEERS", "/opt/peers/bin")
BITS = 16
BAND = 1 / 12  # the band is the top twelfth of the picture
# The ffmpeg snapcli runs (its default: the static build pip installs), which the naive loop, the
# bare grab and the decode floor use too; and what starting it costs, measured at the start.
sys.path.insert(0, str(HERE.parent))
from snapcli.media.runner import find_tool  # noqa: E402

FFMPEG = find_tool()
PROCESS_START = 0.12  # s, replaced by a measurement in main()
# Schedules start 10 ms in: between two frame starts, where "the frame shown at t" and "the first
# frame at or after t" (what a plain `ffmpeg -ss t` gives) differ.
OFFSET_MS = 10


@dataclass(frozen=True)
class BenchVideo:
    name: str
    width: int
    height: int
    seconds: int
    fps: int
    gop: int
    copies_of: str | None = None  # made by joining copies of that video (its frame numbers repeat)
    remux_of: str | None = None  # that video's stream copied into another container
    container: str = "mp4"

    @property
    def path(self) -> Path:
        return VIDEOS / f"{self.name}.{self.container}"

    @property
    def decodes_like(self) -> str:
        """The name of the generated video whose decoding speed this one shares."""
        source = self.remux_of or self.copies_of
        return ALL_VIDEOS[source].decodes_like if source else self.name

    @property
    def frames(self) -> int:
        return self.seconds * self.fps

    @property
    def period(self) -> int:
        """Frame numbers as the band shows them repeat after this many frames."""
        if self.remux_of:
            return ALL_VIDEOS[self.remux_of].period
        return ALL_VIDEOS[self.copies_of].frames if self.copies_of else 1 << BITS


ALL_VIDEOS = {
    "long720": BenchVideo("long720", 1280, 720, 600, 30, 300),  # 10 min, 10 s GOP
    "hd1080": BenchVideo("hd1080", 1920, 1080, 120, 30, 60),  # 2 min, 2 s GOP
    "uhd": BenchVideo("uhd", 3840, 2160, 20, 30, 30),  # 20 s 4K
    "quick": BenchVideo("quick", 640, 360, 30, 30, 150),  # the smoke case
    "clip720": BenchVideo("clip720", 1280, 720, 20, 30, 60),  # a short clip: posters of a folder
    # A two-hour film, made in seconds from 12 copies of long720 (not in the default matrix: the
    # case for reading a long file in windows rather than every packet).
    "film": BenchVideo("film", 1280, 720, 7200, 30, 300, copies_of="long720"),
    # The same streams as Matroska (OBS records MKV by default): no index of every frame to
    # read, and seeks that look keyframes up by presentation time.
    "long720mkv": BenchVideo(
        "long720mkv", 1280, 720, 600, 30, 300, remux_of="long720", container="mkv"
    ),  # fmt: skip
    "filmmkv": BenchVideo("filmmkv", 1280, 720, 7200, 30, 300, remux_of="film", container="mkv"),
    # And as MPEG-TS (broadcast and DVR recordings): seeks that land near a time, timestamps that
    # begin anywhere.
    "filmts": BenchVideo("filmts", 1280, 720, 7200, 30, 300, remux_of="film", container="ts"),
}


def generate(video: BenchVideo) -> None:
    if video.path.exists():
        return
    VIDEOS.mkdir(exist_ok=True)
    if video.copies_of:
        generate_copies(video, ALL_VIDEOS[video.copies_of])
        return
    if video.remux_of:
        generate_remux(video, ALL_VIDEOS[video.remux_of])
        return
    band_height = video.height // 12
    bit = f"mod(floor(N/pow(2,floor(X*{BITS}/W))),2)"
    band = (  # one pixel a bit, then scaled up: the expression runs on 16 pixels, not thousands
        f"color=c=black:size={BITS}x1:rate={video.fps},format=yuv444p,"
        f"geq=lum='if({bit},235,16)':cb=128:cr=128,"
        f"scale={video.width}:{band_height}:flags=neighbor,setsar=1"
    )
    picture = f"testsrc2=size={video.width}x{video.height - band_height}:rate={video.fps}"
    print(f"generating {video.path} …", file=sys.stderr)
    partial = video.path.with_suffix(".partial.mp4")
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", picture, "-f", "lavfi", "-i", band,
         "-filter_complex", "[1][0]vstack,format=yuv420p", "-t", str(video.seconds),
         "-c:v", "libx264", "-preset", "veryfast", "-crf", "30", "-bf", "2",
         "-g", str(video.gop), "-keyint_min", str(video.gop), "-sc_threshold", "0", str(partial)],
        check=True,
    )  # fmt: skip
    partial.rename(video.path)


def generate_copies(video: BenchVideo, source: BenchVideo) -> None:
    """The source video joined to itself end to end (stream copy, no encoding)."""
    generate(source)
    print(f"generating {video.path} …", file=sys.stderr)
    partial = video.path.with_suffix(".partial.mp4")
    listing = video.path.with_suffix(".txt")
    copies = video.seconds // source.seconds
    listing.write_text(f"file '{source.path.resolve()}'\n" * copies)
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-f", "concat", "-safe", "0", "-i", str(listing),
         "-c", "copy", str(partial)],
        check=True,
    )  # fmt: skip
    listing.unlink()
    partial.rename(video.path)


def generate_remux(video: BenchVideo, source: BenchVideo) -> None:
    """The source video's stream copied into the video's container."""
    generate(source)
    print(f"generating {video.path} …", file=sys.stderr)
    partial = video.path.with_suffix(f".partial.{video.container}")
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", str(source.path), "-c", "copy",
                    str(partial)], check=True)  # fmt: skip
    partial.rename(video.path)


def frame_number(image: Image.Image) -> int:
    gray = image.convert("L")
    y = int(gray.height * BAND / 2)
    number = 0
    for i in range(BITS):
        if gray.getpixel((int((i + 0.5) * gray.width / BITS), y)) > 128:  # type: ignore[operator]
            number |= 1 << i
    return number


def shown_frame(video: BenchVideo, time_ms: int) -> int:
    """docs/api.md §4 for a CFR video: the last frame starting by t + 0.5 ms."""
    return min(int((time_ms + 0.5) * video.fps // 1000), video.frames - 1) % video.period


# ---- measuring ---------------------------------------------------------------------------------


def _tree_rss(root: int) -> int:
    """Resident memory of a process and all its descendants, in bytes."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    page = os.sysconf("SC_PAGE_SIZE")
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
            rss[int(entry)] = int(stat[21]) * page
            children.setdefault(int(stat[1]), []).append(int(entry))
        except (OSError, IndexError, ValueError):
            continue
    total, stack = 0, [root]
    while stack:
        pid = stack.pop()
        total += rss.get(pid, 0)
        stack.extend(children.get(pid, []))
    return total


@dataclass
class Timing:
    seconds: list[float] = field(default_factory=list)
    peak_rss: int = 0
    failed: str | None = None

    @property
    def median(self) -> float:
        return statistics.median(self.seconds) if self.seconds else float("nan")


def timed(command: list[str], timing: Timing, cwd: Path | None = None) -> None:
    started = time.monotonic()
    process = subprocess.Popen(command, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    peak = 0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.wait(0.05):
            peak = max(peak, _tree_rss(process.pid))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    _, errors = process.communicate()
    done.set()
    sampler.join()
    if process.returncode != 0:
        timing.failed = errors.decode(errors="replace").strip().splitlines()[-1:][0][:120]
        return
    timing.seconds.append(time.monotonic() - started)
    timing.peak_rss = max(timing.peak_rss, peak)


def timed_loop(commands: list[list[str]], timing: Timing) -> None:
    """A sequence of commands timed as one (the naive loop)."""
    part = Timing()
    started = time.monotonic()
    for command in commands:
        timed(command, part)
        if part.failed:
            timing.failed = part.failed
            return
    timing.seconds.append(time.monotonic() - started)
    timing.peak_rss = max(timing.peak_rss, part.peak_rss)


# ---- the cases ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    video: BenchVideo
    count: int
    interval: int  # 0 = spread evenly
    intra: bool
    sprites: bool

    @property
    def label(self) -> str:
        spacing = "even" if self.interval == 0 else f"every {self.interval}s"
        extras = [m for m, on in (("intra", self.intra), ("sprites", self.sprites)) if on]
        return f"{self.video.name} N={self.count} {spacing} {' '.join(extras) or 'exact'}"

    def times(self) -> list[int]:
        """The schedule snapcli will take (docs/api.md §2), for the other tools to take as well."""
        duration = self.video.seconds * 1000
        if self.interval == 0:
            step = (duration - OFFSET_MS) / self.count
            return [int(OFFSET_MS + k * step + 0.5) for k in range(self.count)]
        times = (OFFSET_MS + k * self.interval * 1000 for k in range(self.count))
        return [t for t in times if t < duration]

    def snapcli_command(self, out: Path) -> list[str]:
        command = [sys.executable, "-m", "snapcli", "grab", str(self.video.path), "-q", "-o", str(out),
                   "--interval", str(self.interval), "--count", str(self.count),
                   "--offset", str(OFFSET_MS)]  # fmt: skip
        if self.intra:
            command += ["--frame-type", "intra"]
        if self.sprites:
            command += ["--cell-width", "160", "--vtt"]
        return command


def snapcli_exact(case: Case, out: Path) -> str:
    """Check every snapshot of snapcli's last run: 'yes' or what went wrong."""
    event = json.loads((out / case.video.name / "snapshots.json").read_text())
    wrong = 0
    for shot in event["Snapshots"]:
        got = frame_number(Image.open(out / case.video.name / shot["Path"]))
        if case.intra:
            wrong += got != round(shot["FrameTime"] * case.video.fps / 1000) % case.video.period
        else:
            wrong += got != shown_frame(case.video, shot["Time"])
    return "yes" if wrong == 0 else f"no ({wrong} of {len(event['Snapshots'])} wrong)"


def naive_commands(case: Case, out: Path) -> list[list[str]]:
    return [
        [FFMPEG, "-v", "error", "-y", "-ss", f"{t / 1000:.3f}", "-i", str(case.video.path),
         "-frames:v", "1", "-q:v", "3", str(out / f"naive-{k:05d}.jpg")]
        for k, t in enumerate(case.times())
    ]  # fmt: skip


def pictures_exact(case: Case, out: Path, prefix: str) -> str:
    """Check `<prefix>-00000.jpg …`, one picture per scheduled time, against docs/api.md §4."""
    times = case.times()
    wrong = sum(
        frame_number(Image.open(out / f"{prefix}-{k:05d}.jpg")) != shown_frame(case.video, t)
        for k, t in enumerate(times)
    )
    return "yes" if wrong == 0 else f"no ({wrong} of {len(times)} wrong)"


def peer_commands(case: Case, out: Path) -> dict[str, tuple[list[list[str]], str]]:
    """Peers that do the same job: (commands, how exactness is known)."""
    peers: dict[str, tuple[list[list[str]], str]] = {}
    vcsi = Path(PEERS_BIN) / "vcsi"
    if vcsi.exists() and case.interval == 0 and case.count <= 400:
        columns = min(case.count, 20)
        rows = -(-case.count // columns)
        peers["vcsi --fast"] = (
            [[str(vcsi), str(case.video.path), "-g", f"{columns}x{rows}", "--fast", "-o",
              str(out / "vcsi.jpg")]],
            "n/a (own times)",
        )  # fmt: skip
    thumbnails = Path(PEERS_BIN) / "thumbnails"
    covers_video = case.interval * case.count * 1000 >= case.video.seconds * 1000
    if thumbnails.exists() and case.interval > 0 and case.sprites and covers_video:
        # thumbnails cannot stop at a count: only comparable when the schedule spans the video
        peers["thumbnails"] = (
            [
                [
                    str(thumbnails),
                    "-I",
                    str(case.interval),
                    "-O",
                    str(out / "thumbs"),
                    str(case.video.path),
                ]
            ],
            "n/a (own times)",
        )
    if shutil.which("ffmpegthumbnailer") and case.count <= 100:
        peers["ffmpegthumbnailer"] = (
            [["ffmpegthumbnailer", "-i", str(case.video.path), "-o", str(out / f"ftn-{k:05d}.jpg"),
              "-s", "0", "-t", _clock(t)] for k, t in enumerate(case.times())],
            "ftn",
        )  # fmt: skip
    return peers


def _clock(ms: int) -> str:
    seconds, millis = divmod(ms, 1000)
    return f"{seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}.{millis:03d}"


@dataclass(frozen=True)
class FrameCosts:
    """What one thread spends on a keyframe and on another frame, as shares of the average
    frame of the file's start (a floor of GOP starts holds more keyframes than the average)."""

    keyframe: float = 1.0
    other: float = 1.0


def decode_floor_seconds(
    case: Case,
    seconds_per_frame: float,
    cores: int,
    jpeg_seconds: float = 0.0,
    costs: FrameCosts = FrameCosts(),
) -> tuple[float, int]:
    """The floor of docs/design.md in seconds, and snapcli's planned ffmpeg runs (processes):
    the frames that must be decoded (each GOP's keyframe at a keyframe's cost), one start per
    process, and one JPEG encoded per snapshot (`jpeg_seconds` each), over the cores the
    processes can use."""
    sys.path.insert(0, str(HERE.parent))
    from snapcli.core.plan import plan_extraction
    from snapcli.core.request import build_request
    from snapcli.core.schedule import schedule
    from snapcli.media.probe import probe

    info = probe(case.video.path)
    shots = schedule(build_request(count=case.count, interval=case.interval), info.duration_ms)
    timeline = info.timeline
    targets = [
        timeline.keyframe_near(s.time_ms) if case.intra else timeline.frame_at(s.time_ms)
        for s in shots
    ]
    plan = plan_extraction(timeline, targets, keyframes_only=case.intra,
                           pixels_per_frame=info.width * info.height, workers=cores)  # fmt: skip
    processes = len(plan.processes)
    keyframes = (
        plan.floor_frames
        if case.intra
        else len({timeline.keyframe_before(target) for target in targets})
    )
    decoding = keyframes * costs.keyframe + (plan.floor_frames - keyframes) * costs.other
    work = decoding * seconds_per_frame + len(targets) * jpeg_seconds
    floor = (work + processes * PROCESS_START) / min(cores, processes)
    return floor, processes


DECODE_SAMPLE_SECONDS = 2.0  # about this long a decode, to measure the decode speed


def measure_decode_speed(video: BenchVideo, frames: int | None = None) -> float:
    """Seconds per frame for one thread decoding the file's first `frames` (all by default).
    Measured anew next to every run of snapcli: the floor then moves with the machine's load."""
    count = min(frames or video.frames, video.frames)
    started = time.monotonic()
    subprocess.run([FFMPEG, "-v", "error", "-threads", "1", "-i", str(video.path),
                    "-frames:v", str(count), "-f", "null", "-"], check=True)  # fmt: skip
    return (time.monotonic() - started - PROCESS_START) / count


def measure_frame_costs(video: BenchVideo, gops: int = 10) -> FrameCosts:
    """A keyframe's and another frame's decoding cost, as shares of the average frame, over
    the file's first `gops` GOPs: decoding every frame, and the keyframes alone."""
    frames = min(video.frames, gops * video.gop)

    def run(*options: str) -> float:
        started = time.monotonic()
        subprocess.run([FFMPEG, "-v", "error", "-threads", "1", *options, "-i", str(video.path),
                        "-frames:v", str(frames), "-f", "null", "-"], check=True)  # fmt: skip
        return max(time.monotonic() - started - PROCESS_START, 1e-6)

    every = min(run() for _ in range(2))
    keyframes = -(-frames // video.gop)
    keyframes_alone = min(run("-skip_frame", "nokey") for _ in range(2))
    average = every / frames
    keyframe = keyframes_alone / keyframes
    other = max(every - keyframes_alone, 0.0) / max(frames - keyframes, 1)
    return FrameCosts(keyframe / average, other / average)


def measure_jpeg_speed(video: BenchVideo, frames: int = 60) -> float:
    """Seconds to encode one JPEG of the video's size, as snapcli's ffmpeg does (MJPEG, quality
    90): decoding and encoding `frames` with one thread, less decoding them alone."""

    def run(*output: str) -> float:
        started = time.monotonic()
        subprocess.run([FFMPEG, "-v", "error", "-threads", "1", "-i", str(video.path),
                        "-frames:v", str(frames), *output, "-f", "null", "-"], check=True)  # fmt: skip
        return time.monotonic() - started

    encoded = min(run("-c:v", "mjpeg", "-q:v", "2", "-threads", "1") for _ in range(2))
    decoded = min(run() for _ in range(2))
    return max(encoded - decoded, 0.0) / frames


def sample_frames(seconds_per_frame: float) -> int:
    """How many frames to decode for a speed sample of about DECODE_SAMPLE_SECONDS."""
    return max(100, round(DECODE_SAMPLE_SECONDS / seconds_per_frame))


def one_frame_ms(video: BenchVideo) -> int:
    """A time mid-way through a GOP in the middle of the video (not on a keyframe, where a bare
    grab decodes next to nothing)."""
    gop_ms = video.gop * 1000 // video.fps
    return (video.seconds * 500 // gop_ms) * gop_ms + gop_ms // 2 + OFFSET_MS


def bare_one_frame(video: BenchVideo, out: Path, timing: Timing) -> None:
    timed([FFMPEG, "-v", "error", "-y", "-ss", f"{one_frame_ms(video) / 1000:.3f}", "-i",
           str(video.path), "-frames:v", "1", str(out / "bare.jpg")], timing)  # fmt: skip


# ---- the run -----------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="the smallest case only")
    parser.add_argument("--videos", nargs="*", default=["long720", "hd1080", "uhd"])
    parser.add_argument("--counts", nargs="*", type=int, default=[1, 10, 100, 1000])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-peers", action="store_true")
    parser.add_argument("--output", type=Path, default=HERE / "RESULTS.md")
    parser.add_argument(
        "--batch", action="store_true", help="also measure batch throughput, -j 1 vs 2"
    )
    parser.add_argument(
        "--posters",
        action="store_true",
        help="also measure one exact frame each of 40 videos: batch against peers in parallel",
    )
    args = parser.parse_args()
    global PROCESS_START
    PROCESS_START = measure_process_start()
    print(f"{FFMPEG}: {PROCESS_START * 1000:.0f} ms to start", file=sys.stderr)
    if args.quick:
        args.videos, args.counts, args.repeat = ["quick"], [1, 10, 100], 1
    cores = len(os.sched_getaffinity(0))
    # As an installed package is: byte-compiled (else every run compiles it, where
    # PYTHONDONTWRITEBYTECODE is set).
    compileall.compile_dir(str(HERE.parent / "snapcli"), quiet=1)
    rows: list[str] = []
    for name in args.videos:
        video = ALL_VIDEOS[name]
        generate(video)
        seconds_per_frame = measure_decode_speed(ALL_VIDEOS[video.decodes_like], 300)
        print(
            f"{name}: about {1 / seconds_per_frame:.0f} frames/s decoded by one thread",
            file=sys.stderr,
        )
        cases = [
            Case(video, count, interval, intra, sprites)
            for count in args.counts
            for interval in ((0,) if count == 1 else (0, 1))
            for intra in (False, True)
            for sprites in ((False,) if count == 1 else (False, True))
        ]
        jpeg_seconds = measure_jpeg_speed(video)
        costs = measure_frame_costs(ALL_VIDEOS[video.decodes_like])
        print(f"{name}: {jpeg_seconds * 1000:.1f} ms to encode a JPEG; a keyframe costs "
              f"{costs.keyframe:.1f}×, another frame {costs.other:.2f}× the average", file=sys.stderr)  # fmt: skip
        for case in cases:
            rows.append(
                run_case(
                    case, seconds_per_frame, cores, args.repeat, args.no_peers, jpeg_seconds, costs
                )
            )
            print(rows[-1], file=sys.stderr)
        rows.append(run_one_frame_overhead(video, args.repeat))
        print(rows[-1], file=sys.stderr)
    if args.batch:
        rows += batch_throughput(args.repeat)
        print("\n".join(rows[-2:]), file=sys.stderr)
    if args.posters:
        rows += poster_batch(args.repeat)
        print("\n".join(rows[-3:]), file=sys.stderr)
    write_results(args.output, rows, cores)


def run_case(
    case: Case,
    seconds_per_frame: float,
    cores: int,
    repeat: int,
    no_peers: bool,
    jpeg_seconds: float = 0.0,
    costs: FrameCosts = FrameCosts(),
) -> str:
    work = Path(tempfile.mkdtemp(prefix="snapcli-bench-"))
    try:
        ours, naive = Timing(), Timing()
        peers = {} if no_peers else peer_commands(case, work)
        peer_timings = {name: Timing() for name in peers}
        run_naive = not case.intra and not case.sprites and len(case.times()) <= 100
        decodes_like = ALL_VIDEOS[case.video.decodes_like]
        speeds = []
        for _ in range(repeat):  # interleaved: every tool sees the same machine state
            timed(case.snapcli_command(work / "snapcli"), ours)
            speeds.append(measure_decode_speed(decodes_like, sample_frames(seconds_per_frame)))
            if run_naive:
                timed_loop(naive_commands(case, work), naive)
            for name, (commands, _) in peers.items():
                timed_loop(commands, peer_timings[name])
        floor, runs = decode_floor_seconds(
            case, statistics.median(speeds), cores, jpeg_seconds, costs
        )
        exact = snapcli_exact(case, work / "snapcli") if not ours.failed else ours.failed
        cells = [
            case.label,
            f"{ours.median:.2f}",
            f"{ours.median / naive.median:.2f}×" if naive.seconds else "–",
            f"{naive.median:.2f} ({pictures_exact(case, work, 'naive')})" if naive.seconds else "–",
            f"{floor:.2f} ({runs} ffmpeg)",
            f"{ours.median / floor:.2f}×",
            f"{ours.peak_rss / 2**20:.0f}",
            exact,
        ]
        peer_text = []
        for name, timing in peer_timings.items():
            if timing.failed:
                peer_text.append(f"{name}: failed ({timing.failed})")
                continue
            how = peers[name][1]
            exactness = pictures_exact(case, work, "ftn") if how == "ftn" else how
            peer_text.append(
                f"{name} {timing.median:.2f} s, {timing.peak_rss / 2**20:.0f} MB, exact: {exactness}"
            )
        cells.append("; ".join(peer_text) or "–")
        return "| " + " | ".join(cells) + " |"
    finally:
        shutil.rmtree(work, ignore_errors=True)


def run_one_frame_overhead(video: BenchVideo, repeat: int) -> str:
    """One-frame grab, whole command, against one bare ffmpeg grab of the same frame and one
    ffmpegthumbnailer run."""
    work = Path(tempfile.mkdtemp(prefix="snapcli-bench-"))
    try:
        ours, bare, thumbnailer = Timing(), Timing(), Timing()
        at = one_frame_ms(video)
        for _ in range(repeat + 2):
            bare_one_frame(video, work, bare)
            if shutil.which("ffmpegthumbnailer"):
                timed(["ffmpegthumbnailer", "-i", str(video.path), "-o", str(work / "ftn.jpg"),
                       "-s", "0", "-t", _clock(at)], thumbnailer)  # fmt: skip
            timed([sys.executable, "-m", "snapcli", "grab", str(video.path), "-q", "-o", str(work),
                   "--at", str(at)], ours)  # fmt: skip
        peer = (
            f"ffmpegthumbnailer {thumbnailer.median:.2f} s ({ours.median / thumbnailer.median:.2f}×)"
            if thumbnailer.seconds
            else "–"
        )
        return (
            f"| {video.name} one frame, whole command vs bare ffmpeg | {ours.median:.2f} | "
            f"{ours.median / bare.median:.2f}× bare | {bare.median:.2f} (bare) | – | – | "
            f"{ours.peak_rss / 2**20:.0f} | – | {peer} |"
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)


def batch_throughput(repeat: int) -> list[str]:
    """Videos a minute for `snapcli batch -j 1` and `-j 2` on a folder of 12 short videos."""
    video = ALL_VIDEOS["quick"]
    generate(video)
    work = Path(tempfile.mkdtemp(prefix="snapcli-bench-"))
    try:
        for n in range(12):
            shutil.copy(video.path, work / f"clip{n:02d}.mp4")
        rows = []
        timings = {jobs: Timing() for jobs in (1, 2)}
        for _ in range(repeat):
            for jobs, timing in timings.items():
                timed([sys.executable, "-m", "snapcli", "batch", str(work), "-q", "--force", "-j", str(jobs),
                       "-o", str(work / "out"), "--interval", "0", "--count", "10"], timing)  # fmt: skip
        for jobs, timing in timings.items():
            rows.append(
                f"| batch of 12 × 30 s 360p, 10 snapshots each, -j {jobs} | {timing.median:.2f} | "
                f"{12 * 60 / timing.median:.0f} videos/min | – | – | – | {timing.peak_rss / 2**20:.0f} | – | – |"
            )
        return rows
    finally:
        shutil.rmtree(work, ignore_errors=True)


POSTERS = 40


def poster_batch(repeat: int) -> list[str]:
    """One exact frame (mid-GOP, mid-video) of each of 40 videos: `snapcli batch` against
    ffmpegthumbnailer and a naive `ffmpeg -ss` loop, two at a time as `xargs -P2` runs them, in
    the same run; every picture checked for its frame."""
    video = ALL_VIDEOS["clip720"]
    generate(video)
    work = Path(tempfile.mkdtemp(prefix="snapcli-bench-"))
    try:
        inputs = work / "in"
        inputs.mkdir()
        files = [inputs / f"clip{n:02d}.mp4" for n in range(POSTERS)]
        for file in files:
            os.link(video.path, file)  # the same bytes, no copy
        at = one_frame_ms(video)
        want = shown_frame(video, at)
        ours, thumbnailer, naive = Timing(), Timing(), Timing()
        for _ in range(repeat):
            shutil.rmtree(work / "out", ignore_errors=True)
            timed([sys.executable, "-m", "snapcli", "batch", str(inputs), "-q", "-o",
                   str(work / "out"), "--at", str(at)], ours)  # fmt: skip
            if shutil.which("ffmpegthumbnailer"):
                _two_at_a_time([["ffmpegthumbnailer", "-i", str(f), "-o", f"{f}.ftn.jpg", "-s", "0",
                                 "-t", _clock(at)] for f in files], thumbnailer)  # fmt: skip
            _two_at_a_time([[FFMPEG, "-v", "error", "-y", "-ss", f"{at / 1000:.3f}", "-i", str(f),
                             "-frames:v", "1", "-q:v", "3", f"{f}.naive.jpg"] for f in files],
                           naive)  # fmt: skip

        def wrong(pictures: list[Path]) -> str:
            count = sum(frame_number(Image.open(p)) != want for p in pictures)
            return "yes" if count == 0 else f"no ({count} of {len(pictures)} wrong)"

        ours_exact = wrong([work / "out" / f.stem / "snapshot-00001.jpg" for f in files])
        rows = [
            f"| {POSTERS} videos × one exact frame, snapcli batch | {ours.median:.2f} | "
            f"{ours.median / naive.median:.2f}× | {naive.median:.2f} "
            f"({wrong([Path(f'{f}.naive.jpg') for f in files])}) | – | – | "
            f"{ours.peak_rss / 2**20:.0f} | {ours_exact} | "
        ]
        if thumbnailer.seconds:
            rows[0] += (
                f"xargs -P2 ffmpegthumbnailer {thumbnailer.median:.2f} s "
                f"({ours.median / thumbnailer.median:.2f}×), exact: "
                f"{wrong([Path(f'{f}.ftn.jpg') for f in files])} |"
            )
        else:
            rows[0] += "– |"
        return rows
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _two_at_a_time(commands: list[list[str]], timing: Timing) -> None:
    """The commands, two running at once (as `xargs -P2`), timed as one."""
    from concurrent.futures import ThreadPoolExecutor

    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=2) as pool:
        codes = list(
            pool.map(lambda c: subprocess.run(c, capture_output=True).returncode, commands)
        )
    if any(codes):
        timing.failed = f"{sum(map(bool, codes))} of {len(codes)} failed"
        return
    timing.seconds.append(time.monotonic() - started)


def measure_process_start() -> float:
    """What starting the ffmpeg costs (the median of 5 runs that decode one tiny frame)."""
    times = []
    for _ in range(5):
        started = time.monotonic()
        subprocess.run([FFMPEG, "-v", "error", "-f", "lavfi", "-i", "color=size=16x16",
                        "-frames:v", "1", "-f", "null", "-"], check=True)  # fmt: skip
        times.append(time.monotonic() - started)
    return statistics.median(times)


def write_results(path: Path, rows: list[str], cores: int) -> None:
    ffmpeg_version = subprocess.run(
        [FFMPEG, "-version"], capture_output=True, text=True
    ).stdout.split("\n")[0]
    header = [
        "# snapcli benchmark results",
        "",
        f"Written by `python bench/run.py {' '.join(sys.argv[1:])}` on {time.strftime('%Y-%m-%d')}"
        f": {cores} cores, {ffmpeg_version}.",
        "Times are medians of the repeats, in seconds, interleaved with the baselines in the same run.",
        "`vs naive` is snapcli's time over the naive loop's (lower is better); `vs floor` is over the",
        "decode floor (the least decoding exact frames need, at this file's decode speed with one",
        "thread, measured by ~2 s of decoding right after each run of snapcli, each GOP's keyframe",
        "at a keyframe's cost (measured once, keyframes alone against every frame), plus one start per",
        "ffmpeg process snapcli runs and one JPEG encoded per snapshot, spread over the cores).",
        "Every baseline runs the same ffmpeg as snapcli. Memory is the peak",
        "RSS of the whole process tree. `exact` checks every picture's frame number against docs/api.md §4.",
        "snapcli runs byte-compiled, as an installed package does.",
        "",
        "| case | snapcli s | vs naive | naive loop s (exact) | decode floor s | vs floor | peak MB | exact | peers |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    path.write_text("\n".join(header + rows) + "\n")
    print(f"wrote {path}", file=sys.stderr)


if __name__ == "__main__":
    main()
