"""Splicing a session with a bed: the loop's frames and runs over it decode as a full encode.

The spliced file is compared with two references: the whole session's PCM encoded in one go
by the same reservoir-free encoder (frame for frame the same bytes: no seam at all), and the
full encode a render without splicing writes (lameenc, with its bit reservoir): the same
length and chapters, loudness within 0.1 LU, every sentence within half a frame, and around
every join no larger a difference than anywhere else.
"""

from __future__ import annotations

import itertools
import logging
from pathlib import Path

import numpy as np
import pytest

from guidecast.compiler.options import resolve_options
from guidecast.model import Routine
from guidecast.mp3.bedsplice import bed_runs
from guidecast.mp3.frames import frame_samples, split_frames
from guidecast.mp3.lame import encode_frames
from guidecast.mp3.splice import placed_pieces
from guidecast.sound.mix import resolve_mix
from guidecast.sound.render import AudioFormat, Rendered, Voice, render, stream_pcm
from render_fixtures import RATE, decode, ebur128, fake_voice, ffmetadata, routine_from
from test_splice import ROUTINE, _audio_frames, _best_lag, _render

BED = "rain"


def _rendered(routine: Routine, voice: Voice, fmt: AudioFormat | None = None) -> Rendered:
    options = resolve_options(routine, rate=voice.rate, countdown_ms=3000)
    mix = resolve_mix(routine, bed=BED)
    return render(routine, options, voice=voice, fmt=fmt or AudioFormat(), mix=mix)


@pytest.fixture(scope="module")
def bedded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Routine, Path]:
    """One variant with a bed, spliced and fully encoded, from one cache."""
    folder = tmp_path_factory.mktemp("splice-bed")
    routine = routine_from(folder, ROUTINE)
    cache = folder / "cache"
    spliced, _ = _render(folder, routine, fake_voice(cache), splice=True, name="s", bed=BED)
    full, _ = _render(folder, routine, fake_voice(cache), splice=False, name="f", bed=BED)
    return spliced, full, routine, cache


def test_a_spliced_bed_session_is_the_whole_session_encoded_frame_for_frame(
    bedded: tuple[Path, Path, Routine, Path],
) -> None:
    spliced, _, routine, cache = bedded
    voice = fake_voice(cache)
    rendered = _rendered(routine, voice)
    fmt = AudioFormat()
    whole = encode_frames(
        np.concatenate(list(stream_pcm(rendered, voice, fmt))), fmt, fmt.bed_quality, flush=True
    )
    frames, rest = split_frames(_audio_frames(spliced))
    assert rest == b"" and len(frames) == len(whole) + 1  # the Info frame first
    runs = bed_runs(placed_pieces(rendered, voice, fmt), rendered.bed, fmt, len(whole))  # type: ignore[arg-type]
    assert len(runs) >= 5 and sum(r.end - r.first for r in runs) < 0.8 * len(whole)
    assert frames[1:] == whole


def test_a_spliced_bed_session_decodes_as_the_full_encode_does(
    bedded: tuple[Path, Path, Routine, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    spliced, full, routine, cache = bedded
    a, b = decode(spliced), decode(full)  # no decoder messages
    assert len(a) == len(b)
    assert ffmetadata(spliced).chapters == ffmetadata(full).chapters
    assert ebur128(spliced)[0] == pytest.approx(ebur128(full)[0], abs=0.1)
    voice = fake_voice(cache)
    rendered = _rendered(routine, voice)
    frame = frame_samples(RATE)
    for start, length, _ in placed_pieces(rendered, voice, AudioFormat()):
        lo, hi = max(0, start - RATE // 50), start + length + RATE // 50
        lag, ratio = _best_lag(a[lo:hi], b[lo:hi], frame // 2 + 1)
        assert abs(lag) <= frame // 2 and ratio > 15, (start, lag, ratio)
    # The seams: around every join of loop frames and runs, the spliced file differs from the
    # full encode no more than it does anywhere (both are encodes of the same sound).
    fmt = AudioFormat()
    runs = bed_runs(placed_pieces(rendered, voice, fmt), rendered.bed, fmt, len(a) // frame)  # type: ignore[arg-type]
    joins = [j * frame - 1105 for r in runs for j in (r.first, r.end) if 0 < j * frame < len(a)]
    difference = np.abs(a - b)
    at_joins = max(float(difference[j - 2 * frame : j + 2 * frame].max()) for j in joins)
    steady = np.concatenate(
        [difference[r.end * frame + 3 * frame : s.first * frame - 3 * frame]
         for r, s in itertools.pairwise(runs)]
    )  # fmt: skip
    with capsys.disabled():
        print(
            f"\nbed seams: max |spliced - full encode| {at_joins:.5f} around {len(joins)} joins,"
            f" {float(steady.max()):.5f} in the steady bed, {float(difference.max()):.5f} overall"
        )
    assert at_joins <= 2 * float(np.percentile(difference, 99.99))


def test_a_bed_session_re_rendered_copies_kept_frames(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    routine = routine_from(tmp_path, ROUTINE.replace("hold: 40s", "hold: 30-90s"))
    cache = tmp_path / "cache"
    first, _ = _render(
        tmp_path, routine, fake_voice(cache), splice=True, length_ms=180_000, bed=BED
    )
    audio = _audio_frames(first)
    _render(tmp_path, routine, fake_voice(cache), splice=True, length_ms=225_000, bed=BED)
    with caplog.at_level(logging.INFO, logger="guidecast.mp3.bedsplice"):
        again, _ = _render(
            tmp_path, routine, fake_voice(cache), splice=True, length_ms=180_000, bed=BED
        )
    spliced = [r.getMessage() for r in caplog.records if "over the bed" in r.getMessage()]
    assert spliced and ", 0 encoded)" in spliced[-1], spliced
    assert _audio_frames(again) == audio


def test_another_bed_or_level_is_encoded_anew(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    routine = routine_from(tmp_path, ROUTINE)
    cache = tmp_path / "cache"
    _render(tmp_path, routine, fake_voice(cache), splice=True, bed=BED)
    with caplog.at_level(logging.INFO, logger="guidecast.mp3.bedsplice"):
        other, _ = _render(tmp_path, routine, fake_voice(cache), splice=True, bed="ocean")
    spliced = [r.getMessage() for r in caplog.records if "over the bed" in r.getMessage()]
    assert spliced and "(0 kept" in spliced[-1], spliced
    decode(other)


def test_a_damaged_bed_run_is_encoded_again(
    bedded: tuple[Path, Path, Routine, Path], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    spliced, _, routine, cache = bedded
    kept = sorted((cache / "runs").rglob("*.bedrun"))
    assert len(kept) >= 3
    data = bytearray(kept[0].read_bytes())
    data[len(data) // 2] ^= 0x5A
    kept[0].write_bytes(bytes(data))
    with caplog.at_level(logging.WARNING):
        again, _ = _render(tmp_path, routine, fake_voice(cache), splice=True, name="again", bed=BED)
    assert any(kept[0].name in r.getMessage() for r in caplog.records)
    assert _audio_frames(again) == _audio_frames(spliced)


@pytest.mark.parametrize(
    "fmt",
    [AudioFormat(channels=2), AudioFormat(sample_rate=22050, bitrate=32),
     AudioFormat(sample_rate=48000, bitrate=128), AudioFormat(bitrate=96)],
    ids=lambda f: f"{f.sample_rate}-{f.bitrate}-{f.channels}ch",
)  # fmt: skip
def test_other_formats_splice_a_bed_to_the_same_length(tmp_path: Path, fmt: AudioFormat) -> None:
    routine = routine_from(tmp_path, ROUTINE)
    voice = fake_voice(tmp_path / "cache", sample_rate=fmt.sample_rate)
    spliced, _ = _render(tmp_path, routine, voice, splice=True, fmt=fmt, name="s", bed=BED)
    full, _ = _render(tmp_path, routine, voice, splice=False, fmt=fmt, name="f", bed=BED)
    a, b = decode(spliced, fmt.channels), decode(full, fmt.channels)
    assert a.shape == b.shape
    assert ebur128(spliced)[0] == pytest.approx(ebur128(full)[0], abs=0.1)


def test_a_warm_re_render_with_a_bed_does_not_make_the_loop(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import guidecast.media.beds as beds

    routine = routine_from(tmp_path, ROUTINE)
    cache = tmp_path / "cache"
    first, _ = _render(tmp_path, routine, fake_voice(cache), splice=True, bed=BED)
    assert list((cache / "beds").rglob("*.bed"))  # its loudness, peak and power, kept

    def refused(name: str, rate: int) -> None:
        raise AssertionError("the loop was made again")

    monkeypatch.setattr(beds, "make_builtin_bed", refused)
    again, _ = _render(tmp_path, routine, fake_voice(cache), splice=True, name="again", bed=BED)
    assert _audio_frames(again) == _audio_frames(first)
