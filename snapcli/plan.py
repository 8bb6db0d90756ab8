"""Which ffmpeg runs decode which frames: a pure cost model over the frame timeline.

A video decodes forward from a keyframe, so an exact frame costs decoding from the keyframe before
it up to it. The least work for a set of frames, the *decode floor*, is for every GOP holding
targets the frames from its keyframe to its last target. A plan groups targets into runs (one seek
each): a run goes on decoding through a gap when that costs less than seeking anew at the next
keyframe, and a long run is split so that every worker has work. Runs are then shared out among
ffmpeg processes, one input per run: starting ffmpeg (mostly loading its libraries) costs several
times what opening one more input in a running one does, but every open input holds a decoder's
frames, so a process takes only as many as its memory budget allows.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable
from dataclasses import dataclass, replace

from .timeline import FrameTimeline

# A select expression with ~100 summed terms makes ffmpeg 5.1 fail; stay well below.
MAX_TARGETS_PER_RUN = 40
PROCESS_START_SECONDS = 0.12  # a new ffmpeg process
INPUT_START_SECONDS = 0.03  # one more input of a running ffmpeg: open, probe, seek
# What one open input holds (a decoder's reference frames and queues), per pixel of a frame, as
# measured (14 MB at 720p, 110 MB at 4K), and what all the inputs of one process may hold.
INPUT_BYTES_PER_PIXEL = 16
PROCESS_MEMORY_BUDGET = 128 << 20
# Decoding cost per pixel of one frame with one thread (H.264 on this class of machine);
# a keyframe costs a few times an average frame.
SECONDS_PER_PIXEL = 2.5e-9
KEYFRAME_COST_FACTOR = 3.0


@dataclass(frozen=True)
class Run:
    """One ffmpeg process: seek to the keyframe `seek_pts` (None: from the start), decode forward,
    and keep the frames whose pts are in `targets`."""

    seek_pts: int | None
    targets: tuple[int, ...]
    decoded_frames: int  # estimated frames decoded, from the seek to the last target


@dataclass(frozen=True)
class Plan:
    processes: tuple[tuple[Run, ...], ...]  # the runs of each ffmpeg process, one input each
    keyframes_only: bool
    floor_frames: int  # the decode floor: frames that must be decoded at the least

    @property
    def runs(self) -> tuple[Run, ...]:
        return tuple(run for process in self.processes for run in process)

    @property
    def decoded_frames(self) -> int:
        return sum(run.decoded_frames for run in self.runs)


class _DecodeCost:
    """Counts decoded frames between timestamps for one mode (every frame, or keyframes only)."""

    def __init__(self, timeline: FrameTimeline, keyframes_only: bool, pixels_per_frame: int):
        self.timeline = timeline
        self.decoded = timeline.keyframes if keyframes_only else timeline.pts
        factor = KEYFRAME_COST_FACTOR if keyframes_only else 1.0
        unit_seconds = max(pixels_per_frame * SECONDS_PER_PIXEL * factor, 1e-9)
        input_bytes = max(1, pixels_per_frame * INPUT_BYTES_PER_PIXEL)
        self.inputs_per_process = max(1, PROCESS_MEMORY_BUDGET // input_bytes)
        # In decoded frames: a new process, and a new run (its input, and its share of a process).
        self.process_start = PROCESS_START_SECONDS / unit_seconds
        self.run_start = (
            INPUT_START_SECONDS + PROCESS_START_SECONDS / self.inputs_per_process
        ) / unit_seconds

    def span(self, start: int, end: int) -> int:
        """Decoded frames from start to end, both included."""
        return bisect_right(self.decoded, end) - bisect_left(self.decoded, start)

    def of_group(self, group: list[int]) -> int:
        """Decoded frames of a run: from the keyframe before its first target to its last."""
        return self.span(self.timeline.keyframe_before(group[0]), group[-1])


def plan_extraction(
    timeline: FrameTimeline,
    targets: Iterable[int],
    *,
    keyframes_only: bool,
    pixels_per_frame: int,
    workers: int = 1,
    max_targets_per_run: int = MAX_TARGETS_PER_RUN,
    seekable: bool = True,
) -> Plan:
    """Group target frames (pts) into runs that decode the least, spread over `workers`. In a
    stream that cannot seek (`seekable` False: a raw stream without timestamps) every run
    decodes from the start."""
    if not seekable:
        timeline = replace(timeline, keyframes=timeline.keyframes[:1])
    wanted = sorted(set(targets))
    cost = _DecodeCost(timeline, keyframes_only, pixels_per_frame)
    groups: list[list[int]] = []
    for pts in wanted:
        key = timeline.keyframe_before(pts)
        if groups and len(groups[-1]) < max_targets_per_run:
            last = groups[-1][-1]
            same_gop = timeline.keyframe_before(last) == key
            go_on = cost.span(last, pts) - 1
            start_anew = cost.run_start + cost.span(key, pts)
            if same_gop or (go_on <= start_anew and timeline.contiguous(last, pts)):
                groups[-1].append(pts)
                continue
        groups.append([pts])
    groups = _split_for_workers(groups, cost, workers)

    first_key = timeline.keyframes[0]
    runs = []
    for group in groups:
        key = timeline.keyframe_before(group[0])
        seek = None if key == first_key else key
        runs.append(Run(seek_pts=seek, targets=tuple(group), decoded_frames=cost.of_group(group)))
    processes = _share_out(runs, cost, workers)
    last_target_of_gop = {timeline.keyframe_before(pts): pts for pts in wanted}
    floor = sum(cost.span(key, last) for key, last in last_target_of_gop.items())
    return Plan(processes=processes, keyframes_only=keyframes_only, floor_frames=floor)


def _share_out(runs: list[Run], cost: _DecodeCost, workers: int) -> tuple[tuple[Run, ...], ...]:
    """Runs in time order, cut into processes of about equal cost: as few as keep every worker
    busy (a multiple of the workers), and more where one would hold more inputs than its memory
    budget allows."""
    if not runs:
        return ()
    weights = [cost.run_start + run.decoded_frames for run in runs]
    count = min(workers, len(runs))
    while True:
        parts = _even_parts(runs, weights, count)
        if count >= len(runs) or max(map(len, parts)) <= cost.inputs_per_process:
            return tuple(tuple(part) for part in parts)
        count = min(len(runs), count + workers)


def _even_parts(runs: list[Run], weights: list[float], count: int) -> list[list[Run]]:
    """`count` parts of consecutive runs, none empty, cut where the running cost comes nearest to
    each equal share of the total."""
    total = sum(weights)
    cuts = [0]
    so_far = 0.0
    for index, weight in enumerate(weights):
        parts_left = count - len(cuts)  # cuts still to make
        if parts_left and index > cuts[-1]:
            target = total * len(cuts) / count
            nearer_now = abs(so_far - target) <= abs(so_far + weight - target)
            if nearer_now or index == len(runs) - parts_left:  # or too few runs left to wait
                cuts.append(index)
        so_far += weight
    cuts.append(len(runs))
    return [runs[start:end] for start, end in zip(cuts, cuts[1:])]


def _split_for_workers(groups: list[list[int]], cost: _DecodeCost, workers: int) -> list[list[int]]:
    """Split the costliest runs at GOP boundaries until every worker has one, where it pays."""
    keyframe_before = cost.timeline.keyframe_before
    while len(groups) < workers:
        longest = max(range(len(groups)), key=lambda i: cost.of_group(groups[i]))
        group = groups[longest]
        if cost.of_group(group) < 2 * cost.process_start:
            break
        cuts = [
            cut
            for cut in range(1, len(group))
            if keyframe_before(group[cut]) != keyframe_before(group[cut - 1])
        ]
        if not cuts:
            break
        cut = min(cuts, key=lambda c: max(cost.of_group(group[:c]), cost.of_group(group[c:])))
        groups[longest : longest + 1] = [group[:cut], group[cut:]]
    return groups
