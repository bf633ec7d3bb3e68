"""Splicing a session with a bed: the loop's frames and runs over it decode as a full encode.

The spliced file is compared with two references: the whole session's PCM encoded in one go
by the same reservoir-free encoder (under a bed played through, frame for frame the same
bytes: no seam at all), and the full encode a render without splicing writes (lameenc, with
its bit reservoir): the same length and chapters, loudness within 0.1 LU, every sentence
within half a frame, and around every join no larger a difference than anywhere else. A steady
bed starts its loop again under every run, so that a run is the same wherever it lands: a new
length encodes only the runs that say something new, and no restart can be heard.
"""

from __future__ import annotations

import itertools
import logging
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from guidecast.compiler.options import resolve_options
from guidecast.model import Routine
from guidecast.mp3 import bedsplice
from guidecast.mp3.bedruns import CONTEXT_FRAMES, POST_FRAMES, BedRun, bed_runs, place_bed
from guidecast.mp3.frames import (
    DECODER_DELAY,
    ENCODER_DELAY,
    frame_samples,
    frames_holding,
    split_frames,
)
from guidecast.mp3.lame import PRE_FRAMES, encode_frames
from guidecast.mp3.splice import placed_pieces
from guidecast.sound.mix import BedPlan, ducks, resolve_mix
from guidecast.sound.render import AudioFormat, Rendered, Voice, render, stream_pcm
from render_fixtures import RATE, decode, ebur128, fake_voice, ffmetadata, routine_from
from test_splice import ROUTINE, _audio_frames, _best_lag, _render

BED = "rain"
"""A steady bed: its loop starts again under every run."""
THROUGH = "ocean"
"""A bed with a swell, played through: its runs are encoded at their place in its loop."""


def _rendered(
    routine: Routine,
    voice: Voice,
    fmt: AudioFormat | None = None,
    bed: str = BED,
    length_ms: int | None = None,
) -> Rendered:
    """The session as `render_session` lays it for the encoders."""
    fmt = fmt or AudioFormat()
    options = resolve_options(routine, length_ms=length_ms, rate=voice.rate, countdown_ms=3000)
    mix = resolve_mix(routine, bed=bed)
    return place_bed(render(routine, options, voice=voice, fmt=fmt, mix=mix), voice, fmt)


def _both(folder: Path, bed: str) -> tuple[Path, Path, Routine, Path]:
    routine = routine_from(folder, ROUTINE)
    cache = folder / "cache"
    spliced, _ = _render(folder, routine, fake_voice(cache), splice=True, name="s", bed=bed)
    full, _ = _render(folder, routine, fake_voice(cache), splice=False, name="f", bed=bed)
    return spliced, full, routine, cache


@pytest.fixture(scope="module")
def bedded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Routine, Path]:
    """One variant with a steady bed, spliced and fully encoded, from one cache."""
    return _both(tmp_path_factory.mktemp("splice-bed"), BED)


@pytest.fixture(scope="module")
def through(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Routine, Path]:
    """The same with a bed played through."""
    return _both(tmp_path_factory.mktemp("splice-through"), THROUGH)


def test_a_spliced_session_over_a_bed_played_through_is_the_whole_session_encoded(
    through: tuple[Path, Path, Routine, Path],
) -> None:
    spliced, _, routine, cache = through
    voice = fake_voice(cache)
    rendered = _rendered(routine, voice, bed=THROUGH)
    assert rendered.bed is not None and rendered.bed.restarts == ()
    fmt = AudioFormat()
    whole = encode_frames(
        np.concatenate(list(stream_pcm(rendered, voice, fmt))), fmt, fmt.bed_quality, flush=True
    )
    frames, rest = split_frames(_audio_frames(spliced))
    assert rest == b"" and len(frames) == len(whole) + 1  # the Info frame first
    runs = bed_runs(placed_pieces(rendered, voice, fmt), rendered.bed, fmt, len(whole))
    assert len(runs) >= 5 and sum(r.end - r.first for r in runs) < 0.8 * len(whole)
    assert frames[1:] == whole


@pytest.mark.parametrize("which", ["bedded", "through"])
def test_a_spliced_bed_session_decodes_as_the_full_encode_does(
    which: str, request: pytest.FixtureRequest, capsys: pytest.CaptureFixture[str]
) -> None:
    spliced, full, routine, cache = request.getfixturevalue(which)
    a, b = decode(spliced), decode(full)  # no decoder messages
    assert len(a) == len(b)
    assert ffmetadata(spliced).chapters == ffmetadata(full).chapters
    assert ebur128(spliced)[0] == pytest.approx(ebur128(full)[0], abs=0.1)
    voice = fake_voice(cache)
    rendered = _rendered(routine, voice, bed=BED if which == "bedded" else THROUGH)
    frame = frame_samples(RATE)
    for start, length, _ in placed_pieces(rendered, voice, AudioFormat()):
        lo, hi = max(0, start - RATE // 50), start + length + RATE // 50
        lag, ratio = _best_lag(a[lo:hi], b[lo:hi], frame // 2 + 1)
        assert abs(lag) <= frame // 2 and ratio > 15, (start, lag, ratio)
    # The seams: around every join of loop frames and runs, the spliced file differs from the
    # full encode no more than it does anywhere (both are encodes of the same sound).
    fmt = AudioFormat()
    runs = bed_runs(placed_pieces(rendered, voice, fmt), rendered.bed, fmt, len(a) // frame)  # type: ignore[arg-type]
    # (Where a steady bed starts again, 2 frames before a run, the two encodes differ on
    # purpose: the spliced file has the loop's own first frames there. See the next test.)
    ends = (
        [r.end for r in runs] if which == "bedded" else [j for r in runs for j in (r.first, r.end)]
    )
    joins = [j * frame - 1105 for j in ends if 0 < j * frame < len(a)]
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


@pytest.mark.parametrize("splice", [True, False], ids=["spliced", "full"])
def test_a_steady_bed_starts_again_without_a_click(tmp_path: Path, splice: bool) -> None:
    routine = routine_from(tmp_path, ROUTINE)
    cache = tmp_path / "cache"
    out, _ = _render(tmp_path, routine, fake_voice(cache), splice=splice, bed=BED)
    a = decode(out)
    voice = fake_voice(cache)
    bed = _rendered(routine, voice).bed
    assert bed is not None and len(bed.restarts) >= 5
    # A click is a burst of high frequencies: the power of the sound's first difference in
    # 5 ms windows, around each restart and in the bed at full level away from them.
    window = RATE // 200
    hf = np.diff(a)[: (len(a) - 1) // window * window].reshape(-1, window)
    power = 10 * np.log10(np.mean(hf**2, axis=1) + 1e-30)
    attack = bed.mix.attack_ms * RATE // 1000
    release = (bed.mix.hold_ms + bed.mix.release_ms) * RATE // 1000
    busy = np.zeros(len(power), bool)
    for start, end in bed.ducks:
        busy[max(0, start - attack) // window : (end + release) // window + 1] = True
    busy[: 5 * RATE // window] = busy[-7 * RATE // window :] = True  # the fades
    near = np.zeros(len(power), bool)
    frame = frame_samples(RATE)
    for restart in bed.restarts:
        switch = restart - bed.restart_lead
        near[(switch - 2 * frame) // window : (switch + 2 * frame) // window + 1] = True
    at_restarts = power[near & ~busy]
    steady = power[~near & ~busy]
    assert len(at_restarts) >= 5 * 4 and len(steady) > 100
    assert float(at_restarts.max()) <= float(np.median(steady)) + 6


def test_a_new_length_over_a_steady_bed_encodes_only_runs_that_say_something_new(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # The first hold stretches: everything after it moves.
    text = ROUTINE.replace("hold: 6s", "hold: 6-40s").replace("hold: 40s", "hold: 30-90s")
    routine = routine_from(tmp_path, text)
    cache = tmp_path / "cache"
    fmt = AudioFormat()

    def runs(length_ms: int, bed: str) -> list[tuple[int, tuple[str, ...]]]:
        """Where each run of the session at that length starts, and what it says."""
        rendered = _rendered(routine, fake_voice(cache), bed=bed, length_ms=length_ms)
        assert rendered.bed is not None
        frames = rendered.layout.total_ms * RATE // 1000 // frame_samples(RATE) + 1
        placed = placed_pieces(rendered, fake_voice(cache), fmt)
        return [
            (run.first, tuple(piece.key for _, _, piece in run.parts))
            for run in bed_runs(placed, rendered.bed, fmt, frames)
        ]

    def encoded(length_ms: int, bed: str) -> int:
        caplog.clear()
        with caplog.at_level(logging.INFO, logger="guidecast.mp3.bedsplice"):
            _render(tmp_path, routine, fake_voice(cache), splice=True, length_ms=length_ms, bed=bed)
        line = next(r.getMessage() for r in caplog.records if "over the bed" in r.getMessage())
        return int(line.split(" kept, ")[1].split(" ")[0])

    for bed in (BED, THROUGH):
        encoded(180_000, bed)
    said = {sounds for _, sounds in runs(180_000, BED)}
    now = runs(225_000, BED)
    new = [sounds for _, sounds in now if sounds not in said]
    assert len(now) >= 8 and len(new) < len(now) / 2
    # The runs that say the same as before are copied; the new ones, and the joined last (it
    # carries the fade-out, whose distance from the end differs), are encoded.
    assert encoded(225_000, BED) <= len(new) + 1
    # Under a bed played through, every run that moved is encoded again.
    stayed = set(runs(180_000, THROUGH)) & set(runs(225_000, THROUGH))
    moved = len(runs(225_000, THROUGH)) - len(stayed)
    assert moved >= len(now) / 2
    assert encoded(225_000, THROUGH) >= moved


def _runs(rendered: Rendered, voice: Voice, bed: BedPlan | None = None) -> list[BedRun]:
    """The runs of a laid session, over its own bed or over `bed`."""
    fmt = AudioFormat()
    bed = bed or rendered.bed
    assert bed is not None
    frames = frames_holding(bed.total, frame_samples(RATE))
    return bed_runs(placed_pieces(rendered, voice, fmt), bed, fmt, frames)


def _laid_over_bed(
    bedded: tuple[Path, Path, Routine, Path],
) -> tuple[Rendered, Voice, BedPlan]:
    """The test session laid for the splice renderer, its voice, and its bed."""
    _, _, routine, cache = bedded
    voice = fake_voice(cache)
    rendered = _rendered(routine, voice)
    assert rendered.bed is not None
    return rendered, voice, rendered.bed


def test_the_fade_out_continues_the_last_sounds_in_a_joined_run(
    bedded: tuple[Path, Path, Routine, Path],
) -> None:
    rendered, voice, bed = _laid_over_bed(bedded)
    spliced = bedded[0]
    runs = _runs(rendered, voice)
    head, tail = runs[-2:]
    # The end bell rings into the fade-out: the last run ends where the bell begins, its
    # input short of the fade, and a joined run carries the bell and the fade.
    fs = frame_samples(RATE)
    bell = placed_pieces(rendered, voice, AudioFormat())[-1]
    assert bell[2].sound is not None and bell[0] + bell[1] > bed.fade_out_start()
    assert tail.joined and not head.joined and not any(r.joined for r in runs[:-1])
    assert tail.first == head.end and tail.end == frames_holding(bed.total, fs)
    assert (head.end + POST_FRAMES) * fs <= bed.fade_out_start()
    assert bell[0] - 4 * fs < tail.first * fs <= bell[0] + fs
    assert bell in head.parts and bell in tail.parts
    # The loop starts again under every run but the joined one.
    encoders = [(r.first - PRE_FRAMES) * fs for r in runs]
    assert bed.restarts == tuple(e for e in encoders[:-1] if e > 0)
    # Around the joint the frames are those of one encode of the whole session (no seam).
    fmt = AudioFormat()
    whole = encode_frames(
        np.concatenate(list(stream_pcm(rendered, voice, fmt))), fmt, fmt.bed_quality, flush=True
    )
    frames = split_frames(_audio_frames(spliced))[0][1:]
    assert frames[tail.first - 6 : tail.first + 6] == whole[tail.first - 6 : tail.first + 6]
    # A fade-out that begins just after the bell's reach: the last run keeps all of the bell
    # (to its own end), and the joined run holds the fade alone.
    end = -(-(bell[0] + bell[1] + ENCODER_DELAY + DECODER_DELAY) // fs) + CONTEXT_FRAMES
    fade_ms = (bed.total - 1 - (end + POST_FRAMES + 1) * fs) * 1000 // RATE
    *_, head, tail = _runs(rendered, voice, replace(bed, mix=replace(bed.mix, fade_out_ms=fade_ms)))
    assert tail.joined and tail.first == head.end == end and bell in head.parts
    assert tail.parts == ()


def test_the_fade_out_over_a_sentence_or_far_from_the_sounds_is_a_run_of_its_own(
    bedded: tuple[Path, Path, Routine, Path],
) -> None:
    rendered, voice, bed = _laid_over_bed(bedded)
    fs = frame_samples(RATE)
    # A sentence said under the fade-out, and no bell: one run from before it to the end.
    placed = placed_pieces(rendered, voice, AudioFormat())
    said = [i for i, (_, _, piece) in enumerate(placed) if piece.text is not None][-1]
    at = bed.fade_out_start() + fs
    assert rendered.starts is not None
    starts = list(rendered.starts)
    starts[said] += at - placed[said][0]
    starts[-1] = bed.total  # the bell after the end
    late = replace(rendered, starts=tuple(starts))
    spans = [(s, s + n) for s, n, piece in placed_pieces(late, voice, AudioFormat()) if piece.text]
    runs = _runs(late, voice, replace(bed, ducks=ducks(bed.mix, spans, RATE)))
    assert not any(r.joined for r in runs)
    assert runs[-1].first * fs < at < (runs[-1].end - 10) * fs
    assert runs[-1].end == frames_holding(bed.total, fs)
    # The same session a minute longer, with nothing said in its last minute: the fade-out
    # is a run of its own, the loop starting again under it.
    longer = _runs(rendered, voice, replace(bed, total=bed.total + 60 * RATE))
    assert not any(r.joined for r in longer)
    assert longer[-1].first > longer[-2].end + 60 * RATE // fs - 300
    # A bed played through has no joined runs.
    through = _rendered(bedded[2], voice, bed=THROUGH)
    assert not any(r.joined for r in _runs(through, voice))


def test_a_new_length_encodes_the_fade_out_and_keeps_the_last_sounds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    routine = routine_from(tmp_path, ROUTINE.replace("hold: 40s", "hold: 30-90s"))
    cache = tmp_path / "cache"
    encoded: list[BedRun] = []
    encode = bedsplice._BedFrames._encode

    def spied(self: bedsplice._BedFrames, lo: int, n: int, **kw: object) -> list[bytes]:
        if kw.get("run") is not None:
            encoded.append(kw["run"])  # type: ignore[arg-type]
        return encode(self, lo, n, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(bedsplice._BedFrames, "_encode", spied)
    _render(tmp_path, routine, fake_voice(cache), splice=True, length_ms=180_000, bed=BED)
    first = {tuple(p.key for _, _, p in run.parts) for run in encoded}
    encoded.clear()
    _render(tmp_path, routine, fake_voice(cache), splice=True, length_ms=225_000, bed=BED)
    runs = _runs(_rendered(routine, fake_voice(cache), length_ms=225_000), fake_voice(cache))
    head, tail = runs[-2:]
    assert tail.joined and tail in encoded
    assert (head.first, head.end) not in {(r.first, r.end) for r in encoded}
    # Whatever else is encoded says something the first length did not.
    assert all(tuple(p.key for _, _, p in r.parts) not in first for r in encoded if r != tail)
