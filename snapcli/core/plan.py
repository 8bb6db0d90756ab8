"""Which ffmpeg runs decode which frames: a pure cost model over the frame timeline.

A video decodes forward from a keyframe, so an exact frame costs decoding from the keyframe before
it up to it. The least work for a set of frames, the *decode floor*, is for every GOP holding
targets the frames from its keyframe to its last target. A plan groups targets into runs (one seek
each): a run goes on decoding through a gap when that costs less than seeking anew at the next
keyframe, and a long run is split so that every worker has work. Runs are then shared out among
ffmpeg processes, one input per run: starting ffmpeg (mostly loading its libraries) costs several
times what opening one more input in a running one does, but every open input holds a decoder's
frames, so a process takes only as many as its memory budget allows.

A target that is a keyframe, alone in its GOP, needs no frame but itself: such targets form runs
of their own that decode keyframes only (`-skip_frame nokey`), as intra mode does. One such run
passes over whole GOPs for the cost of reading their packets, where each target would otherwise
take a new input or process (60 snapshots every 2 s of a 1080p file with 2 s GOPs: 2.5-2.8 s
that way, 0.99 s this way).
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, replace

from snapcli.core.timeline import FrameTimeline

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
    keyframes_only: bool = False  # every target is a keyframe: the decoder skips the rest


@dataclass(frozen=True)
class Plan:
    processes: tuple[tuple[Run, ...], ...]  # the runs of each ffmpeg process, one input each
    keyframes_only: bool  # intra mode: every run decodes keyframes only
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
        self.keyframes_only = keyframes_only
        self.decoded = timeline.keyframes if keyframes_only else timeline.pts
        factor = KEYFRAME_COST_FACTOR if keyframes_only else 1.0
        self.unit_seconds = unit_seconds = max(pixels_per_frame * SECONDS_PER_PIXEL * factor, 1e-9)
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
    keyframes_decode_alone: bool = True,
    runs_within_gops: bool = False,
) -> Plan:
    """Group target frames (pts) into runs that decode the least, spread over `workers`. In a
    stream that cannot seek (`seekable` False: a raw stream without timestamps) every run
    decodes from the start. Where a decode of keyframes alone misdates them
    (`keyframes_decode_alone` False), no run decodes keyframes only. With `runs_within_gops`,
    every run starts at its own GOP's keyframe: a picture made from its neighbours too (a
    deinterlaced one) must not depend on where decoding began."""
    if not seekable:
        timeline = replace(timeline, keyframes=timeline.keyframes[:1])
    wanted = sorted(set(targets))
    cost = _DecodeCost(timeline, keyframes_only, pixels_per_frame)
    skips = keyframes_only or not (seekable and keyframes_decode_alone)
    alone = set() if skips else _alone_on_keyframes(timeline, wanted)
    keyframe_cost = _DecodeCost(timeline, True, pixels_per_frame)
    costed = [
        (run_cost, group)
        for run_cost, chosen in (
            (cost, [pts for pts in wanted if pts not in alone]),
            (keyframe_cost, sorted(alone)),
        )
        for group in _grouped(chosen, run_cost, max_targets_per_run, runs_within_gops)
    ]
    costed = _split_for_workers(sorted(costed, key=lambda item: item[1][0]), workers)

    first_key = timeline.keyframes[0]
    runs, weights = [], []
    for run_cost, group in costed:
        key = timeline.keyframe_before(group[0])
        decoded = run_cost.of_group(group)
        runs.append(
            Run(
                seek_pts=None if key == first_key else key,
                targets=tuple(group),
                decoded_frames=decoded,
                keyframes_only=run_cost.keyframes_only,
            )
        )
        weights.append((run_cost.run_start + decoded) * run_cost.unit_seconds)
    processes = _share_out(runs, weights, cost.inputs_per_process, workers)
    last_target_of_gop = {timeline.keyframe_before(pts): pts for pts in wanted}
    floor = sum(cost.span(key, last) for key, last in last_target_of_gop.items())
    return Plan(processes=processes, keyframes_only=keyframes_only, floor_frames=floor)


def _grouped(
    wanted: list[int], cost: _DecodeCost, max_targets_per_run: int, within_gops: bool = False
) -> list[list[int]]:
    """Sorted targets in runs: a run goes on through a gap where that costs less than seeking
    anew at the next keyframe (and through its own GOP always; with `within_gops`, never
    further)."""
    timeline = cost.timeline
    groups: list[list[int]] = []
    for pts in wanted:
        key = timeline.keyframe_before(pts)
        if groups and len(groups[-1]) < max_targets_per_run:
            last = groups[-1][-1]
            same_gop = timeline.keyframe_before(last) == key
            go_on = cost.span(last, pts) - 1
            start_anew = cost.run_start + cost.span(key, pts)
            goes_on = not within_gops and go_on <= start_anew and timeline.contiguous(last, pts)
            if same_gop or goes_on:
                groups[-1].append(pts)
                continue
        groups.append([pts])
    return groups


def _alone_on_keyframes(timeline: FrameTimeline, wanted: list[int]) -> set[int]:
    """The targets that are keyframes with no other target in their GOP. Not the first frame of
    a stream cut mid-GOP: it starts the timeline, but the decoder takes it for no keyframe."""
    keyframes = set(timeline.keyframes[1:] if timeline.unkeyed_first else timeline.keyframes)
    by_gop: dict[int, list[int]] = defaultdict(list)
    for pts in wanted:
        by_gop[timeline.keyframe_before(pts)].append(pts)
    return {key for key, members in by_gop.items() if members == [key] and key in keyframes}


def _share_out(
    runs: list[Run], weights: list[float], inputs_per_process: int, workers: int
) -> tuple[tuple[Run, ...], ...]:
    """Runs in time order, cut into processes of about equal cost (`weights`): as few as keep
    every worker busy (a multiple of the workers), and more where one would hold more inputs
    than its memory budget allows."""
    if not runs:
        return ()
    count = min(workers, len(runs))
    while True:
        parts = _even_parts(runs, weights, count)
        if count >= len(runs) or max(map(len, parts)) <= inputs_per_process:
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


def _split_for_workers(
    costed: list[tuple[_DecodeCost, list[int]]], workers: int
) -> list[tuple[_DecodeCost, list[int]]]:
    """Split the costliest runs at GOP boundaries until every worker has one, where it pays."""

    def seconds(item: tuple[_DecodeCost, list[int]]) -> float:
        cost, group = item
        return cost.of_group(group) * cost.unit_seconds

    while len(costed) < workers:
        longest = max(range(len(costed)), key=lambda i: seconds(costed[i]))
        cost, group = costed[longest]
        if cost.of_group(group) < 2 * cost.process_start:
            break
        keyframe_before = cost.timeline.keyframe_before
        cuts = [
            cut
            for cut in range(1, len(group))
            if keyframe_before(group[cut]) != keyframe_before(group[cut - 1])
        ]
        if not cuts:
            break
        cut = min(cuts, key=lambda c: max(cost.of_group(group[:c]), cost.of_group(group[c:])))
        costed[longest : longest + 1] = [(cost, group[:cut]), (cost, group[cut:])]
    return costed
