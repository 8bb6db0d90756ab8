"""The picture a player shows (docs/api.md §3): HDR tone-mapped to SDR, interlaced video
deinterlaced, alpha flattened or kept, and the colours of 10/12-bit, full-range, BT.601 and
BT.2020 SDR sources. Each generated source is compared with a reference that a player-like
ffmpeg chain makes of the same frame, and with the picture it was made from."""

from __future__ import annotations

import subprocess
from collections.abc import Sequence
from pathlib import Path

import pytest
from PIL import Image, ImageChops, ImageStat
from support.videos import BAND_HEIGHT, HEIGHT, WIDTH, band_source, frame_number

import snapcli

# Every test here runs with each ffmpeg build (conftest.ffmpeg_build).
pytestmark = pytest.mark.usefixtures("ffmpeg_build")

# Saturated colours, a mid grey and a light grey: what a tone curve must keep.
COLOURS = [(32, 192, 64), (200, 40, 160), (40, 80, 220), (128, 128, 128), (200, 200, 200)]
STRIPE = 64
Colour = tuple[int, int, int]


def ffmpeg(*args: str) -> None:
    subprocess.run(["ffmpeg", "-v", "error", "-y", *args], check=True)


def stripes_graph(rate: int = 25, seconds: int = 2) -> str:
    """Stripes of COLOURS side by side, as RGB, `seconds` long."""
    sources = [
        f"color=c=0x{r:02X}{g:02X}{b:02X}:size={STRIPE}x160:rate={rate}:duration={seconds},"
        f"format=rgb24[c{i}]"
        for i, (r, g, b) in enumerate(COLOURS)
    ]
    inputs = "".join(f"[c{i}]" for i in range(len(COLOURS)))
    return ";".join(sources) + f";{inputs}hstack=inputs={len(COLOURS)}"


def stripe_colours(picture: Image.Image) -> list[Colour]:
    rgb = picture.convert("RGB")
    scale = rgb.width / (STRIPE * len(COLOURS))
    return [
        rgb.getpixel((int((STRIPE * i + STRIPE // 2) * scale), rgb.height // 2))  # type: ignore[misc]
        for i in range(len(COLOURS))
    ]


def distance(got: Sequence[Colour], want: Sequence[Colour]) -> int:
    """The largest difference of any channel of any stripe."""
    return max(abs(a - b) for g, w in zip(got, want, strict=True) for a, b in zip(g, w))


def reference_frame(video: Path, chain: str, at: int, tmp_path: Path) -> Image.Image:
    """What a player-like ffmpeg chain shows of the frame at `at` ms (an exact seek)."""
    out = tmp_path / f"reference-{abs(hash(chain))}.png"
    ffmpeg("-ss", f"{at / 1000:.3f}", "-i", str(video), "-frames:v", "1", "-vf", chain, str(out))
    return Image.open(out).convert("RGB")


# HDR: the stripes made HDR as a camera would grade them (their white at HDR's reference white,
# 203 cd/m²), in BT.2020, 10-bit HEVC tagged PQ or HLG.
PLAYER_TONE_MAP = (
    "zscale=t=linear:npl=203,format=gbrpf32le,zscale=p=709,tonemap=mobius:desat=0,"
    "zscale=t=709:m=709:r=full,format=rgb24"
)
NAIVE = "scale=in_color_matrix=bt2020:in_range=tv:out_range=pc,format=rgb24"


@pytest.fixture(scope="module")
def hdr_videos(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("hdr")
    made = {}
    for name, transfer in (("pq", "smpte2084"), ("hlg", "arib-std-b67")):
        made[name] = root / f"{name}.mp4"
        graph = stripes_graph() + (
            ",format=gbrpf32le,zscale=tin=709:min=709:pin=709:rin=full:"
            f"t={transfer}:p=2020:m=2020_ncl:r=limited:npl=203,format=yuv420p10le"
        )
        ffmpeg(
            "-filter_complex", graph, "-c:v", "libx265", "-x265-params",
            f"log-level=error:colorprim=bt2020:transfer={transfer}:colormatrix=bt2020nc",
            "-tag:v", "hvc1", str(made[name]),
        )  # fmt: skip
    return made


@pytest.mark.parametrize("kind", ["pq", "hlg"])
def test_hdr_is_tone_mapped_as_a_player_shows_it(
    kind: str, hdr_videos: dict[str, Path], tmp_path: Path
) -> None:
    video = hdr_videos[kind]
    event = snapcli.grab(video, at=[1000], output_dir=tmp_path / "o", picture_format="png")
    got = stripe_colours(Image.open(event.snapshots[0].path))  # type: ignore[arg-type]
    player = stripe_colours(reference_frame(video, PLAYER_TONE_MAP, 1000, tmp_path))
    naive = stripe_colours(reference_frame(video, NAIVE, 1000, tmp_path))
    assert distance(got, player) <= 4, (got, player)
    # Near the colours it was graded from, where the coded values are far off (grey).
    assert distance(got, COLOURS) <= 40 < distance(naive, COLOURS), (got, naive)
    rendering = event.to_api()["Rendering"]
    assert rendering["DynamicRange"] == kind.upper() and rendering["ToneMapping"] == "mobius"


def test_tone_mapping_applies_to_jpegs_and_sheet_cells_too(
    hdr_videos: dict[str, Path], tmp_path: Path
) -> None:
    video = hdr_videos["pq"]
    event = snapcli.grab(
        video, at=[500, 1500], sprite={"CellWidth": 160, "Columns": 2, "Lines": 1},
        output_dir=tmp_path / "o", quality=100,
    )  # fmt: skip
    player = stripe_colours(reference_frame(video, PLAYER_TONE_MAP, 500, tmp_path))
    snapshot = stripe_colours(Image.open(event.snapshots[0].path))  # type: ignore[arg-type]
    sheet = Image.open(event.sprites[0].path).convert("RGB")
    cell = stripe_colours(sheet.crop((0, 0, sheet.width // 2, sheet.height)))
    assert distance(snapshot, player) <= 8, (snapshot, player)
    assert distance(cell, player) <= 10, (cell, player)


def test_tonemap_off_gives_the_coded_values_and_a_curve_can_be_named(
    hdr_videos: dict[str, Path], tmp_path: Path
) -> None:
    video = hdr_videos["pq"]
    off = snapcli.grab(video, at=[1000], output_dir=tmp_path / "off", picture_format="png",
                       tonemap="off")  # fmt: skip
    naive = stripe_colours(reference_frame(video, NAIVE, 1000, tmp_path))
    assert distance(stripe_colours(Image.open(off.snapshots[0].path)), naive) <= 4  # type: ignore[arg-type]
    assert off.to_api()["Rendering"]["ToneMapping"] == "none"
    hable = snapcli.grab(video, at=[1000], output_dir=tmp_path / "hable", picture_format="png",
                         tonemap="hable")  # fmt: skip
    reference = stripe_colours(
        reference_frame(video, PLAYER_TONE_MAP.replace("mobius", "hable"), 1000, tmp_path)
    )
    assert distance(stripe_colours(Image.open(hable.snapshots[0].path)), reference) <= 4  # type: ignore[arg-type]
    assert hable.to_api()["Rendering"]["ToneMapping"] == "hable"


def test_an_unknown_tone_curve_is_refused_in_one_sentence(run_cli, hdr_videos) -> None:  # type: ignore[no-untyped-def]
    result = run_cli("grab", str(hdr_videos["pq"]), "--tonemap", "brighter")
    assert result.code == 2 and "brighter" in result.stderr and "Traceback" not in result.stderr
    with pytest.raises(snapcli.SnapcliError, match="tonemap must be one of"):
        snapcli.grab(hdr_videos["pq"], at=[0], tonemap="brighter")  # type: ignore[arg-type]


# Interlaced: a white box moving 6 pixels a field, 50 fields a second, woven two fields a frame
# (top first), under a band that numbers the 25 frames a second (the same in both fields, so it
# reads as the frame). Woven, the box's sides are combs.
INTERLACED = {
    "h264_ts": ("h264.ts", ["-c:v", "libx264", "-preset", "veryfast", "-flags", "+ilme+ildct",
                            "-x264-params", "tff=1", "-g", "25", "-bf", "2"]),
    "mpeg2_ts": ("mpeg2.ts", ["-c:v", "mpeg2video", "-q:v", "3", "-flags", "+ilme+ildct",
                              "-top", "1", "-g", "12", "-bf", "2"]),
    # MPEG-4 Part 2 states no field order: a look at the frames finds it.
    "xvid_avi": ("xvid.avi", ["-c:v", "mpeg4", "-q:v", "3", "-flags", "+ilme+ildct", "-g", "25",
                              "-vtag", "XVID"]),
}  # fmt: skip
PLAYER_DEINTERLACE = "bwdif=mode=send_frame:parity=tff:deint=all"
# An untagged SD source: BT.601, limited range, to full-range RGB (test_colour.py checks these).
SD_TO_RGB = "scale=in_color_matrix=bt601:in_range=tv:out_range=pc:flags=bicubic+accurate_rnd+full_chroma_int"


@pytest.fixture(scope="module")
def interlaced_videos(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("interlaced")
    made = {}
    for name, (file_name, codec) in INTERLACED.items():
        made[name] = root / file_name
        ffmpeg(
            "-f", "lavfi", "-i", f"color=c=0x303030:size={WIDTH}x{HEIGHT - BAND_HEIGHT}:rate=50",
            "-f", "lavfi", "-i", "color=c=white:size=40x96:rate=50",
            "-f", "lavfi", "-i", band_source("25"), "-filter_complex",
            "[0][1]overlay=x='mod(n*6,216)':y=8[moving];"
            "[moving]interlace=scan=tff:lowpass=0[p];[2][p]vstack,format=yuv420p,setfield=tff",
            "-t", "4", *codec, str(made[name]),
        )  # fmt: skip
    return made


def combing(picture: Image.Image) -> float:
    """How far each line of the moving picture (below the band) stands from the mean of the
    lines above and below it: high where two fields of different moments are woven."""
    gray = picture.convert("L")
    moving = gray.crop((0, gray.height * BAND_HEIGHT // HEIGHT + 2, gray.width, gray.height))
    width, height = moving.size
    middle = moving.crop((0, 1, width, height - 1))
    around = Image.blend(
        moving.crop((0, 0, width, height - 2)), moving.crop((0, 2, width, height)), 0.5
    )
    return ImageStat.Stat(ImageChops.difference(middle, around)).mean[0]


def player_frame(video: Path, frame: int, tmp_path: Path) -> Image.Image:
    """The frame as a player playing from the start shows it: deinterlaced with bwdif."""
    out = tmp_path / f"player-{frame}.png"
    ffmpeg("-i", str(video), "-vf", f"{PLAYER_DEINTERLACE},select=eq(n\\,{frame}),{SD_TO_RGB}", "-frames:v",
           "1", "-pix_fmt", "rgb24", str(out))  # fmt: skip
    return Image.open(out).convert("RGB")


@pytest.mark.parametrize("name", list(INTERLACED))
def test_interlaced_video_is_deinterlaced_as_a_player_shows_it(
    name: str, interlaced_videos: dict[str, Path], tmp_path: Path
) -> None:
    video = interlaced_videos[name]
    times = [1060, 2100, 3140]  # frames 26, 52, 78: none a keyframe
    shown = snapcli.grab(video, at=times, output_dir=tmp_path / "auto", picture_format="png")
    woven = snapcli.grab(video, at=times, output_dir=tmp_path / "off", picture_format="png",
                         deinterlace="off")  # fmt: skip
    for index, (shot, raw) in enumerate(zip(shown.snapshots, woven.snapshots, strict=True)):
        picture, weave = Image.open(shot.path), Image.open(raw.path)  # type: ignore[arg-type]
        assert frame_number(picture) == frame_number(weave) == times[index] // 40
        assert combing(picture) < 0.25 * combing(weave), (combing(picture), combing(weave))
        player = player_frame(video, times[index] // 40, tmp_path)
        difference = ImageStat.Stat(ImageChops.difference(picture.convert("RGB"), player)).mean
        assert max(difference) < 2.0, difference
    rendering = shown.to_api()["Rendering"]
    assert rendering["FieldOrder"] == "tff" and rendering["Deinterlace"] == "bwdif"
    assert woven.to_api()["Rendering"]["Deinterlace"] == "none"


def test_a_deinterlaced_time_gives_one_picture_whatever_else_is_asked(
    interlaced_videos: dict[str, Path], tmp_path: Path
) -> None:
    """bwdif makes a picture from its neighbours too: a keyframe's picture must not depend on
    whether the run began at it or went on into it from an earlier GOP."""
    video = interlaced_videos["h264_ts"]
    together = snapcli.grab(video, at=[920, 960, 1000, 1040], output_dir=tmp_path / "together",
                            picture_format="png")  # fmt: skip
    for index, time in enumerate([920, 1000, 1040]):
        alone = snapcli.grab(video, at=[time], output_dir=tmp_path / f"alone{time}",
                             picture_format="png")  # fmt: skip
        position = [920, 960, 1000, 1040].index(time)
        same = ImageChops.difference(
            Image.open(alone.snapshots[0].path).convert("RGB"),  # type: ignore[arg-type]
            Image.open(together.snapshots[position].path).convert("RGB"),  # type: ignore[arg-type]
        )
        assert same.getbbox() is None, (index, time)


def test_progressive_video_is_left_as_it_is_unless_asked(
    videos: dict[str, object], tmp_path: Path
) -> None:
    video = videos["gop25"].path  # type: ignore[attr-defined]
    auto = snapcli.grab(video, at=[1040], output_dir=tmp_path / "auto")
    assert auto.to_api()["Rendering"]["FieldOrder"] == "progressive"
    assert auto.to_api()["Rendering"]["Deinterlace"] == "none"
    forced = snapcli.grab(video, at=[1040], output_dir=tmp_path / "on", deinterlace="on")
    assert forced.to_api()["Rendering"]["Deinterlace"] == "bwdif"
    assert frame_number(Image.open(forced.snapshots[0].path)) == 26  # type: ignore[arg-type]


# SDR sources beyond 8-bit limited-range BT.709/BT.601: the stripes in each, tagged.
SDR_SOURCES = {
    "10bit": ("scale=out_color_matrix=bt709:out_range=tv,format=yuv420p10le",
              ["-c:v", "libx264", "-colorspace", "bt709", "-color_primaries", "bt709",
               "-color_trc", "bt709"], "mp4"),
    "12bit": ("scale=out_color_matrix=bt709:out_range=tv,format=yuv420p12le",
              ["-c:v", "libx265", "-x265-params", "log-level=error:colorprim=bt709:"
               "transfer=bt709:colormatrix=bt709"], "mp4"),
    "full_range": ("scale=out_color_matrix=bt709:out_range=pc,format=yuvj420p",
                   ["-c:v", "libx264", "-colorspace", "bt709", "-color_range", "pc"], "mp4"),
    # Tagged BT.601 at an HD size, where an untagged source would be guessed BT.709.
    "bt601_hd": ("scale=1280:720,scale=out_color_matrix=bt601:out_range=tv,format=yuv420p",
                 ["-c:v", "libx264", "-colorspace", "smpte170m", "-color_primaries",
                  "smpte170m", "-color_trc", "smpte170m"], "mp4"),
    # BT.2020 primaries: shown as BT.709's, its colours would be dull.
    "bt2020_sdr": ("format=gbrpf32le,zscale=tin=709:min=709:pin=709:rin=full:t=2020_10:p=2020:"
                   "m=2020_ncl:r=limited,format=yuv420p10le",
                   ["-c:v", "libx265", "-x265-params", "log-level=error:colorprim=bt2020:"
                    "transfer=bt2020-10:colormatrix=bt2020nc"], "mp4"),
}  # fmt: skip


@pytest.fixture(scope="module")
def sdr_videos(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("sdr")
    made = {}
    for name, (conversion, codec, container) in SDR_SOURCES.items():
        made[name] = root / f"{name}.{container}"
        ffmpeg("-filter_complex", f"{stripes_graph()},{conversion}", *codec, str(made[name]))
    return made


@pytest.mark.parametrize("name", list(SDR_SOURCES))
@pytest.mark.parametrize("picture_format", ["png", "jpg"])
def test_sdr_sources_show_their_colours(
    name: str, picture_format: str, sdr_videos: dict[str, Path], tmp_path: Path
) -> None:
    event = snapcli.grab(sdr_videos[name], at=[500], output_dir=tmp_path / "o", quality=100,
                         picture_format=picture_format)  # type: ignore[arg-type]  # fmt: skip
    got = stripe_colours(Image.open(event.snapshots[0].path))  # type: ignore[arg-type]
    assert distance(got, COLOURS) <= 6, (got, COLOURS)
    assert event.to_api()["Rendering"]["DynamicRange"] == "SDR"


def test_the_colour_checks_can_tell_a_wrong_conversion(
    sdr_videos: dict[str, Path], tmp_path: Path
) -> None:
    """Each source read the usual wrong way (BT.2020 as BT.709's primaries, full range as
    limited, BT.601 as BT.709) is outside the tolerance."""
    wrong = {
        "bt2020_sdr": "scale=in_color_matrix=bt2020:in_range=tv:out_range=pc,format=rgb24",
        "full_range": "scale=in_color_matrix=bt709:in_range=tv:out_range=pc,format=rgb24",
        "bt601_hd": "scale=in_color_matrix=bt709:in_range=tv:out_range=pc,format=rgb24",
    }
    for name, chain in wrong.items():
        got = stripe_colours(reference_frame(sdr_videos[name], chain, 500, tmp_path))
        assert distance(got, COLOURS) > 6, name


# Alpha: the stripes opaque on the left half, half transparent, then transparent on the right.
ALPHA = "format=rgba,geq=r='r(X,Y)':g='g(X,Y)':b='b(X,Y)':a='if(lt(X,160),255,if(lt(X,240),128,0))'"
ALPHA_SOURCES = {
    "prores4444": (["-c:v", "prores_ks", "-profile:v", "4444", "-pix_fmt", "yuva444p10le"], "mov"),
    "png_in_mov": (["-c:v", "png", "-pix_fmt", "rgba"], "mov"),
    "vp9_alpha": (["-c:v", "libvpx-vp9", "-pix_fmt", "yuva420p", "-b:v", "1M"], "webm"),
}  # fmt: skip
GREEN = (32, 192, 64)


@pytest.fixture(scope="module")
def alpha_videos(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("alpha")
    made = {}
    source = f"color=c=0x20C040:size=320x180:rate=25:duration=2,{ALPHA}"
    for name, (codec, container) in ALPHA_SOURCES.items():
        made[name] = root / f"{name}.{container}"
        ffmpeg("-f", "lavfi", "-i", source, *codec, str(made[name]))
    return made


def close_to(got: Sequence[int], want: Sequence[int], tolerance: int = 6) -> bool:
    return all(abs(a - b) <= tolerance for a, b in zip(got, want, strict=True))


@pytest.mark.parametrize("name", list(ALPHA_SOURCES))
def test_alpha_is_kept_in_png_and_webp_and_flattened_in_jpeg(
    name: str, alpha_videos: dict[str, Path], tmp_path: Path
) -> None:
    video = alpha_videos[name]
    points = [(80, 90), (200, 90), (300, 90)]  # opaque, half, transparent
    for picture_format in ("png", "webp"):
        kept = snapcli.grab(video, at=[500], output_dir=tmp_path / picture_format,
                            picture_format=picture_format)  # type: ignore[arg-type]  # fmt: skip
        picture = Image.open(kept.snapshots[0].path)  # type: ignore[arg-type]
        assert picture.mode == "RGBA"
        alphas = [picture.getpixel(point)[3] for point in points]  # type: ignore[index]
        assert close_to(alphas, [255, 128, 0]), (picture_format, alphas)
        assert close_to(picture.getpixel(points[0])[:3], GREEN)  # type: ignore[index]
        assert kept.to_api()["Rendering"]["Alpha"] == "kept"
    flat = snapcli.grab(video, at=[500], output_dir=tmp_path / "jpg", quality=100)
    picture = Image.open(flat.snapshots[0].path)  # type: ignore[arg-type]
    assert picture.mode == "RGB"
    got = [picture.getpixel(point) for point in points]
    half = tuple(round(c * 128 / 255) for c in GREEN)
    assert all(close_to(g, w) for g, w in zip(got, [GREEN, half, (0, 0, 0)])), got  # type: ignore[arg-type]
    assert flat.to_api()["Rendering"]["Alpha"] == "flattened"


def test_sheets_lay_alpha_over_the_sprite_colour_or_keep_it(
    alpha_videos: dict[str, Path], tmp_path: Path
) -> None:
    video = alpha_videos["prores4444"]
    sprite = {"Columns": 2, "Lines": 1, "Color": "white"}
    jpeg = snapcli.grab(video, at=[0, 1000], sprite=sprite, output_dir=tmp_path / "j", quality=100)
    sheet = Image.open(jpeg.sprites[0].path)
    assert sheet.mode == "RGB"
    white_half = tuple(round(c * 128 / 255 + 255 * 127 / 255) for c in GREEN)
    assert close_to(sheet.getpixel((300, 90)), (255, 255, 255))  # type: ignore[arg-type]
    assert close_to(sheet.getpixel((200, 90)), white_half), sheet.getpixel((200, 90))  # type: ignore[arg-type]
    png = snapcli.grab(video, at=[0, 1000], sprite=sprite, output_dir=tmp_path / "p",
                       picture_format="png")  # fmt: skip
    sheet = Image.open(png.sprites[0].path)
    assert sheet.mode == "RGBA" and sheet.getpixel((300, 90))[3] == 0  # type: ignore[index]
    assert sheet.getpixel((80, 90))[3] == 255  # type: ignore[index]
