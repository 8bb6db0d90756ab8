"""The frame timeline and the extraction planner, on plain values."""

from __future__ import annotations

from dataclasses import replace
from fractions import Fraction

from hypothesis import given
from hypothesis import strategies as st

from snapcli.core.geometry import display_size, output_size, rotation_from_display_matrix
from snapcli.core.plan import plan_extraction
from snapcli.core.timeline import FrameTimeline


def cfr(frames: int, gop: int, start: int = 0, step: int = 512) -> FrameTimeline:
    """A 25 fps stream in 1/12800 ticks, keyframe every `gop` frames, decode order = pts order."""
    entries = [(start + n * step, n % gop == 0, step) for n in range(frames)]
    return FrameTimeline.from_frames(entries, Fraction(1, 12800))


def test_frame_at_is_the_last_frame_starting_by_then() -> None:
    timeline = cfr(100, 25, start=90000)  # timestamps need not start at 0
    assert timeline.ms(timeline.frame_at(0)) == 0
    assert timeline.ms(timeline.frame_at(39)) == 0
    assert timeline.ms(timeline.frame_at(40)) == 40
    assert timeline.ms(timeline.frame_at(10_000)) == 3960  # past the end: the last frame
    assert timeline.duration_ms == 4000


def test_keyframe_near_ties_to_the_earlier() -> None:
    timeline = cfr(100, 25)  # keyframes at 0, 1000, 2000, 3000 ms
    assert [timeline.ms(timeline.keyframe_near(t)) for t in (499, 500, 501, 3900)] == [
        0,
        0,
        1000,
        3000,
    ]


def test_frames_before_the_first_keyframe_are_not_shown() -> None:
    entries = [(0, False, 512), (512, False, 512), (1024, True, 512), (1536, False, 512)]
    timeline = FrameTimeline.from_frames(entries, Fraction(1, 12800))
    assert timeline.pts == (1024, 1536) and timeline.origin == 1024


def test_frames_an_edit_list_hides_are_not_shown_and_intra_skips_their_keyframe() -> None:
    """A file cut mid-GOP by its edit list: the keyframe at -1024 and the frame after it are
    decoded but not shown. Time 0 is the frame at 0, decoding starts from the very start (the
    first frame shown stands as the first keyframe), and intra mode takes the real keyframe."""
    entries = [(n * 512 - 1024, n % 25 == 0, 512) for n in range(50)]  # keyframes at -1024, 11776
    timeline = FrameTimeline.from_frames(entries, Fraction(1, 12800), discarded={-1024, -512})
    assert timeline.origin == 0 and timeline.pts[:2] == (0, 512)
    assert timeline.keyframes == (0, 11776) and timeline.unkeyed_first
    assert timeline.keyframe_before(timeline.frame_at(100)) == 0
    assert timeline.keyframe_near(0) == 11776  # the frame at 0 is no keyframe
    assert timeline.duration_ms == 48 * 40


def test_last_frame_without_duration_lasts_a_typical_frame() -> None:
    entries = [(n * 512, n == 0, None) for n in range(10)]
    assert FrameTimeline.from_frames(entries, Fraction(1, 12800)).duration_ms == 400


def test_a_placeholder_duration_on_the_last_frame_is_not_believed() -> None:
    entries = [(n * 2, n == 0, 1) for n in range(10)]  # AVI: 1/50 ticks, 25 fps, "duration 1"
    assert FrameTimeline.from_frames(entries, Fraction(1, 50)).duration_ms == 400


def test_plan_decodes_each_gop_once_and_reports_the_floor() -> None:
    timeline = cfr(1000, 100)
    targets = [timeline.frame_at(t) for t in (100, 200, 4100, 4200)]  # two GOPs, two targets each
    plan = plan_extraction(
        timeline, targets, keyframes_only=False, pixels_per_frame=1920 * 1080, workers=1
    )
    assert plan.floor_frames == 6 + 6
    assert sorted(t for run in plan.runs for t in run.targets) == sorted(targets)
    assert plan.decoded_frames >= plan.floor_frames


def test_distant_targets_get_their_own_seek_and_share_the_workers() -> None:
    timeline = cfr(3000, 250)
    targets = [timeline.frame_at(t) for t in (10_400, 50_400, 90_400)]  # 10 frames into a GOP
    plan = plan_extraction(
        timeline, targets, keyframes_only=False, pixels_per_frame=1920 * 1080, workers=2
    )
    assert len(plan.runs) == 3
    assert [run.seek_pts is not None for run in plan.runs] == [True, True, True]
    assert plan.decoded_frames == plan.floor_frames
    assert len(plan.processes) == 2  # one ffmpeg per worker, one input per run


def test_sparse_runs_share_few_processes_within_their_memory_budget() -> None:
    timeline = cfr(15_000, 250)  # 10 minutes at 25 fps, a keyframe every 10 s
    targets = [timeline.frame_at(t) for t in range(5_000, 600_000, 10_000)]  # one a GOP
    small = plan_extraction(
        timeline, targets, keyframes_only=False, pixels_per_frame=1280 * 720, workers=2
    )
    assert len(small.runs) == 60
    assert len(small.processes) % 2 == 0 and len(small.processes) < 20
    huge = plan_extraction(
        timeline, targets, keyframes_only=False, pixels_per_frame=3840 * 2160, workers=2
    )
    assert max(len(process) for process in huge.processes) == 1  # a 4K decoder's frames each


def test_one_long_run_is_split_for_two_workers() -> None:
    timeline = cfr(3000, 50)
    targets = [timeline.frame_at(t) for t in range(0, 120_000, 2000)]  # 1 per GOP, close together
    one = plan_extraction(
        timeline, targets, keyframes_only=False, pixels_per_frame=1920 * 1080, workers=1
    )
    two = plan_extraction(
        timeline, targets, keyframes_only=False, pixels_per_frame=1920 * 1080, workers=2
    )
    assert len(two.runs) >= 2 and len(two.runs) >= len(one.runs)


def test_targets_alone_on_keyframes_share_a_run_that_decodes_keyframes_only() -> None:
    timeline = cfr(15_000, 250)  # 10 minutes at 25 fps, a keyframe every 10 s
    on_keys = [timeline.frame_at(t) for t in range(0, 600_000, 10_000)]  # every keyframe
    plan = plan_extraction(
        timeline, on_keys, keyframes_only=False, pixels_per_frame=1920 * 1080, workers=2
    )
    assert all(run.keyframes_only for run in plan.runs)
    assert len(plan.processes) == len(plan.runs) == 2  # not one input (of 4 a process) a target
    assert plan.decoded_frames == plan.floor_frames == 60
    # A keyframe with another target in its GOP is decoded on the way to it, in an exact run.
    mixed = plan_extraction(
        timeline, [*on_keys, timeline.frame_at(55_000)], keyframes_only=False,
        pixels_per_frame=1920 * 1080, workers=2,
    )  # fmt: skip
    exact = [run for run in mixed.runs if not run.keyframes_only]
    assert [run.targets for run in exact] == [
        (timeline.frame_at(50_000), timeline.frame_at(55_000))
    ]
    # A raw stream without timestamps: ffmpeg numbers only the frames it decodes.
    raw = plan_extraction(
        timeline, on_keys, keyframes_only=False, pixels_per_frame=1920 * 1080, seekable=False
    )
    assert not any(run.keyframes_only for run in raw.runs)


def test_the_first_frame_of_a_stream_cut_mid_gop_is_no_keyframe_to_skip_to() -> None:
    cut = replace(cfr(500, 100), unkeyed_first=True)  # frame 0 starts the timeline, no keyframe
    plan = plan_extraction(cut, [0, 100 * 512], keyframes_only=False, pixels_per_frame=1)
    assert [(run.targets, run.keyframes_only) for run in plan.runs] == [
        ((0,), False),
        ((100 * 512,), True),
    ]


@given(
    gop=st.integers(1, 300),
    picks=st.lists(st.integers(0, 5999), min_size=1, max_size=120),
    workers=st.integers(1, 4),
    keyframes_only=st.booleans(),
)
def test_every_target_is_in_exactly_one_run_after_its_seek(
    gop: int, picks: list[int], workers: int, keyframes_only: bool
) -> None:
    timeline = cfr(6000, gop)
    targets = [timeline.pts[i] for i in picks]
    plan = plan_extraction(
        timeline,
        targets,
        keyframes_only=keyframes_only,
        pixels_per_frame=1280 * 720,
        workers=workers,
    )
    planned = [t for run in plan.runs for t in run.targets]
    assert sorted(planned) == sorted(set(targets))
    assert len(plan.processes) >= min(workers, len(plan.runs))
    assert all(0 < len(process) <= 9 for process in plan.processes)  # 720p: 9 inputs at most
    for run in plan.runs:
        assert len(run.targets) <= 40
        assert run.seek_pts is None or run.seek_pts in timeline.keyframes
        assert run.seek_pts is None or run.seek_pts <= min(run.targets)
        # keyframes only: every target is one (in intra mode every run is such)
        assert run.keyframes_only == keyframes_only or set(run.targets) <= set(timeline.keyframes)


def test_geometry_rules() -> None:
    assert display_size(1440, 1080, Fraction(4, 3), 0) == (1920, 1080)
    assert display_size(1920, 1080, Fraction(1), 90) == (1080, 1920)
    assert output_size((1920, 1080), 640, None) == (640, 360)
    assert output_size((1920, 1080), None, 100) == (178, 100)
    assert output_size((1920, 1080), 9, 9) == (9, 9)
    assert output_size((4000, 8), 8, None) == (8, 1)  # the computed side is at least 1
    assert [rotation_from_display_matrix(a) for a in (0, 90, -90, 180, -180, 270)] == [
        0,
        270,
        90,
        180,
        180,
        90,
    ]


def test_a_timeline_read_in_windows_knows_only_its_windows() -> None:
    def window(first: int, count: int, gop: int = 25) -> list[tuple[int, bool, int]]:
        return [((first + n) * 512, (first + n) % gop == 0, 512) for n in range(count)]

    # The start, the GOP at 4 s read for 1.5 s, and the last GOP to the end (frames 0-249).
    timeline = FrameTimeline.from_windows(
        [window(0, 13), window(100, 38), window(225, 25)], Fraction(1, 12800), reorder_margin=3200
    )
    assert timeline.duration_ms == 10_000 and timeline.origin == 0
    assert timeline.knows_time(4000) and timeline.knows_time(5000)
    assert not timeline.knows_time(5400)  # within the window's last 0.25 s: maybe not all read
    assert not timeline.knows_time(2000)  # never read
    assert timeline.knows_time(9990)  # the last window reaches the end
    assert timeline.contiguous(timeline.frame_at(4000), timeline.frame_at(5000))
    assert not timeline.contiguous(timeline.frame_at(100), timeline.frame_at(4000))
