"""The splice renderer: a session assembled from kept runs decodes as a full encode does."""

from __future__ import annotations

import itertools
import logging
import re
import shutil
import struct
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest
from mutagen.id3 import ID3
from mutagen.mp3 import MP3, BitrateMode
from scipy.signal import correlate

from guidecast.compiler.options import resolve_options
from guidecast.model import Narration, Routine
from guidecast.mp3.frames import ENCODER_DELAY, _crc16, _Header, frame_samples
from guidecast.mp3.splice import REUSE_DB, run_store
from guidecast.routine.load import load_routine
from guidecast.session import SessionResult, render_session
from guidecast.sound.balance import pieces
from guidecast.sound.mix import Mix, resolve_mix
from guidecast.sound.render import AudioFormat, PieceAudio, Voice, render
from guidecast.tts import FakeEngine
from render_fixtures import (
    RATE,
    SMALL,
    decode,
    ebur128,
    fake_voice,
    ffmetadata,
    ffmpeg_errors,
    routine_from,
    sounding,
)

Samples = npt.NDArray[np.float64]
ROOT = Path(__file__).resolve().parent.parent

# Bells at both ends, a countdown of short sentences close together, and long quiet holds.
ROUTINE = (
    SMALL
    + """\
  - pose: Child's Pose
    cue: Sit back on your heels and rest your forehead down.
    hold: 40s
sounds:
  start: bowl
  transition: chime
  end: bowl
"""
)


def _render(
    folder: Path,
    routine: Routine,
    voice: Voice,
    *,
    splice: bool,
    fmt: AudioFormat | None = None,
    length_ms: int | None = None,
    name: str = "session",
    bed: str = "none",
) -> tuple[Path, SessionResult]:
    options = resolve_options(routine, length_ms=length_ms, rate=voice.rate, countdown_ms=3000)
    out = folder / f"{name}.mp3"
    mix = resolve_mix(routine, bed=bed)
    done = render_session(
        routine, options, voice=voice, output=out, fmt=fmt, splice=splice, mix=mix
    )
    return out, done


def _audio_frames(path: Path) -> bytes:
    """The MPEG stream after the ID3 tag (the Info frame first)."""
    data = path.read_bytes()
    return data[ID3(path).size :]


def _onset(x: Samples, threshold: float = 1e-3) -> int | None:
    loud = np.flatnonzero(np.abs(x) > threshold)
    return int(loud[0]) if len(loud) else None


def _best_lag(a: Samples, b: Samples, most: int) -> tuple[int, float]:
    """The shift of `a` against `b` (within ±most samples) that matches them best (by FFT
    cross-correlation), and the signal-to-difference ratio there in dB."""
    corr = correlate(a, b, mode="full", method="fft")
    middle = len(b) - 1  # zero shift
    window = corr[middle - most : middle + most + 1]
    lag = int(np.argmax(window)) - most
    x = a[max(0, lag) : len(a) + min(0, lag)]
    y = b[max(0, -lag) : len(b) + min(0, -lag)]
    n = min(len(x), len(y))
    ratio = 10 * np.log10(np.sum(y[:n] ** 2) / max(np.sum((x[:n] - y[:n]) ** 2), 1e-20))
    return lag, float(ratio)


@pytest.fixture(scope="module")
def both(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Routine, Path]:
    """One variant rendered spliced and with the full encode, from one cache."""
    folder = tmp_path_factory.mktemp("splice")
    routine = routine_from(folder, ROUTINE)
    cache = folder / "cache"
    spliced, _ = _render(folder, routine, fake_voice(cache), splice=True, name="spliced")
    full, _ = _render(folder, routine, fake_voice(cache), splice=False, name="full")
    return spliced, full, routine, cache


def test_a_spliced_session_decodes_as_the_full_encode_does(
    both: tuple[Path, Path, Routine, Path],
) -> None:
    spliced, full, _, _ = both
    assert ffmpeg_errors(spliced) == "" and ffmpeg_errors(full) == ""
    a, b = decode(spliced), decode(full)
    assert len(a) == len(b)  # the same length to the sample, from the Info header
    frame = frame_samples(RATE)
    lay = _layout(both)
    assert len(lay.chapters) >= 5
    for chapter in lay.chapters:  # every chapter's first sound, within one frame of the plan
        start, end = chapter.start_ms * RATE // 1000, chapter.end_ms * RATE // 1000
        onset_a, onset_b = _onset(a[start:end]), _onset(b[start:end])
        assert (onset_a is None) == (onset_b is None), chapter.title
        if onset_a is not None and onset_b is not None:
            assert abs(onset_a - onset_b) <= frame, chapter.title
    for start_ms, end_ms in sounding(lay):  # each sound, placed and encoded alike
        lo = max(0, (start_ms - 30) * RATE // 1000)
        hi = (end_ms + 30) * RATE // 1000
        lag, ratio = _best_lag(a[lo:hi], b[lo:hi], frame // 2 + 1)
        assert abs(lag) <= frame // 2 + 1
        assert ratio > 20, (start_ms, lag, ratio)


def _layout(both: tuple[Path, Path, Routine, Path]):  # type: ignore[no-untyped-def]
    _, _, routine, cache = both
    voice = fake_voice(cache)
    options = resolve_options(routine, rate=voice.rate, countdown_ms=3000)
    return render(routine, options, voice=voice, fmt=AudioFormat(), mix=Mix()).layout


def test_the_holds_of_a_spliced_session_are_exactly_zero(
    both: tuple[Path, Path, Routine, Path],
) -> None:
    spliced = decode(both[0])
    lay = _layout(both)
    sounds = sounding(lay)
    quiet = [(end, start) for (_, end), (start, _) in itertools.pairwise(sounds)]
    checked = 0
    for end_ms, start_ms in quiet:
        lo, hi = (end_ms + 300) * RATE // 1000, (start_ms - 100) * RATE // 1000
        if hi - lo > RATE:
            assert not spliced[lo:hi].any(), (end_ms, start_ms)
            checked += hi - lo
    assert checked > 40 * RATE  # the long hold at least


def test_a_spliced_file_is_a_valid_cbr_stream_with_a_true_info_header(
    both: tuple[Path, Path, Routine, Path],
) -> None:
    path = both[0]
    stream = _audio_frames(path)
    info = _Header.parse(stream[:4])
    at, sizes = info.size, []
    while at < len(stream):
        header = _Header.parse(stream[at : at + 4])  # raises on a lost frame sync
        assert (header.bitrate, header.sample_rate, header.mono) == (64, RATE, True)
        sizes.append(header.size)
        at += header.size
    assert at == len(stream)
    first = stream[: info.size]
    xing = first.find(b"Info")
    assert xing > 0
    _, frames, total_bytes = struct.unpack(">III", first[xing + 4 : xing + 16])
    assert frames == len(sizes) and total_bytes == len(stream)
    lame = xing + 120
    assert first[lame : lame + 9] == b"LAME3.100"
    delay_padding = int.from_bytes(first[lame + 21 : lame + 24], "big")
    delay, padding = delay_padding >> 12, delay_padding & 0xFFF
    samples = frames * 1152 - delay - padding
    assert delay == ENCODER_DELAY and samples == len(decode(path))
    assert struct.unpack(">H", first[lame + 34 : lame + 36])[0] == _crc16(first[: lame + 34])
    mp3 = MP3(path)  # another reader: CBR from the Info tag, the length from its counts
    assert mp3.info.bitrate_mode == BitrateMode.CBR
    assert abs(mp3.info.bitrate - 64000) < 64  # copied silence frames all carry padding
    assert mp3.info.length == pytest.approx(samples / RATE, abs=0.03)


def test_a_re_render_at_another_length_copies_kept_runs(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    routine = routine_from(tmp_path, ROUTINE.replace("hold: 40s", "hold: 30-90s"))
    cache = tmp_path / "cache"
    first, _ = _render(tmp_path, routine, fake_voice(cache), splice=True, length_ms=180_000)
    audio = _audio_frames(first)
    _render(tmp_path, routine, fake_voice(cache), splice=True, length_ms=225_000)
    engine = FakeEngine()
    with caplog.at_level(logging.INFO, logger="guidecast.mp3.splice"):
        again, done = _render(
            tmp_path, routine, fake_voice(cache, engine), splice=True, length_ms=180_000
        )
    assert engine.calls == [] and done.synthesized == 0
    spliced = [r.getMessage() for r in caplog.records if "spliced" in r.getMessage()]
    assert spliced and ", 0 encoded)" in spliced[-1], spliced
    assert _audio_frames(again) == audio  # byte for byte the same sound


def test_a_damaged_run_is_encoded_again(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    routine = routine_from(tmp_path, ROUTINE)
    cache = tmp_path / "cache"
    first, _ = _render(tmp_path, routine, fake_voice(cache), splice=True)
    audio = _audio_frames(first)
    runs = sorted((cache / "runs").rglob("*.run"))
    assert runs
    data = bytearray(runs[0].read_bytes())
    data[len(data) // 2] ^= 0x5A
    runs[0].write_bytes(bytes(data))
    runs[1].write_bytes(b"")
    with caplog.at_level(logging.WARNING):
        again, _ = _render(tmp_path, routine, fake_voice(cache), splice=True)
    damaged = [r for r in caplog.records if "damaged" in r.getMessage()]
    assert {runs[0].name, runs[1].name} <= {n for r in damaged for n in r.getMessage().split()}
    assert _audio_frames(again) == audio
    assert runs[0].read_bytes() != bytes(data)  # remade


def test_a_run_store_that_cannot_be_written_is_skipped(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    routine = routine_from(tmp_path, SMALL)
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / "runs").write_text("a file where the folder goes")
    with caplog.at_level(logging.WARNING):
        out, _ = _render(tmp_path, routine, fake_voice(cache), splice=True)
        out2, _ = _render(tmp_path, routine, fake_voice(cache), splice=False, name="full")
    assert ffmpeg_errors(out) == "" and len(decode(out)) == len(decode(out2))
    warned = [r for r in caplog.records if "cannot keep" in r.getMessage()]
    assert len(warned) == 1  # once, not once per run


FORMATS = [AudioFormat(channels=2)] + [
    AudioFormat(sample_rate=rate, bitrate=bitrate)
    for rate in (22050, 44100, 48000)
    for bitrate in (32, 48, 64, 96, 128)
]


@pytest.mark.parametrize(
    "fmt", FORMATS, ids=lambda f: f"{f.sample_rate}-{f.bitrate}-{f.channels}ch"
)  # every format `render` offers
def test_other_formats_splice_to_the_same_length(tmp_path: Path, fmt: AudioFormat) -> None:
    routine = routine_from(tmp_path, SMALL)
    voice = fake_voice(tmp_path / "cache", sample_rate=fmt.sample_rate)
    spliced, _ = _render(tmp_path, routine, voice, splice=True, fmt=fmt, name="s")
    full, _ = _render(tmp_path, routine, voice, splice=False, fmt=fmt, name="f")
    assert ffmpeg_errors(spliced) == ""
    a, b = decode(spliced, fmt.channels), decode(full, fmt.channels)
    assert a.shape == b.shape
    assert _onset(a.reshape(len(a), -1)[:, 0]) == pytest.approx(
        _onset(b.reshape(len(b), -1)[:, 0]), abs=frame_samples(fmt.sample_rate)
    )


@pytest.mark.slow
def test_a_spliced_seed_session_matches_its_full_encode_with_the_real_voice(
    piper_voice: Voice, tmp_path: Path
) -> None:
    routine = load_routine(ROOT / "routines" / "back-stiffness.yaml")
    options = resolve_options(routine, rate=piper_voice.rate)
    # Runs other tests kept could lend a gain a little off this variant's own (`kept_gain`).
    shutil.rmtree(run_store(piper_voice.cache.root).blobs.root or "", ignore_errors=True)
    spliced = render_session(
        routine, options, voice=piper_voice, output=tmp_path / "s.mp3", mix=Mix()
    )
    full = render_session(
        routine, options, voice=piper_voice, output=tmp_path / "f.mp3", splice=False, mix=Mix()
    )
    a, b = decode(tmp_path / "s.mp3"), decode(tmp_path / "f.mp3")
    assert len(a) == len(b) == spliced.export.duration_ms * RATE // 1000
    assert ffmetadata(tmp_path / "s.mp3").chapters == ffmetadata(tmp_path / "f.mp3").chapters
    assert ebur128(tmp_path / "s.mp3")[0] == pytest.approx(ebur128(tmp_path / "f.mp3")[0], abs=0.1)
    assert spliced.lufs == pytest.approx(full.lufs, abs=0.05)
    rendered = render(routine, options, voice=piper_voice, fmt=AudioFormat(), mix=Mix())
    source = PieceAudio(rendered, piper_voice, AudioFormat())
    frame = frame_samples(RATE)
    worst = np.inf
    for piece in pieces(rendered.layout):  # each sentence and bell: in place, as well encoded
        pcm = source(piece) / 32768
        start = piece.start_ms * RATE // 1000
        quality = []
        for decoded in (a, b):
            lag, _ = _best_lag(decoded[start : start + len(pcm)], pcm, frame)
            x = decoded[start + lag : start + lag + len(pcm)]
            quality.append(10 * np.log10(np.sum(pcm**2) / np.sum((x - pcm[: len(x)]) ** 2)))
            assert abs(lag) <= frame // 2 + 1 or decoded is b
        worst = min(worst, quality[0] - quality[1])
        assert quality[0] > quality[1] - 1.5, (piece.start_ms, quality)
    print(f"spliced against full encode, worst piece: {worst:+.2f} dB signal-to-noise")
    sounds = sounding(rendered.layout)
    for (_, end_ms), (start_ms, _) in itertools.pairwise(sounds):  # digital silence between
        lo, hi = (end_ms + 300) * RATE // 1000, (start_ms - 100) * RATE // 1000
        assert not a[lo:hi].any(), (end_ms, start_ms)


@pytest.mark.parametrize(
    "change",
    [{"true_peak": -6.0}, {"loudness": -23.0}, {"bitrate": 96}, {"bitrate": 32}],
    ids=["ceiling", "loudness", "96 kbit/s", "32 kbit/s"],
)
def test_a_run_is_used_only_for_what_it_was_made_with(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, change: dict[str, float]
) -> None:
    routine = routine_from(tmp_path, SMALL)
    cache = tmp_path / "cache"
    with caplog.at_level(logging.INFO, logger="guidecast.mp3.splice"):
        _render(tmp_path, routine, fake_voice(cache), splice=True)
        out, _ = _render(
            tmp_path, routine, fake_voice(cache), splice=True, fmt=AudioFormat(**change)
        )
    first, second = [r.getMessage() for r in caplog.records if "spliced" in r.getMessage()]
    # The second render keeps only what it made itself (a run it says twice), as the first did.
    assert second.split("(")[1].split(" kept")[0] == first.split("(")[1].split(" kept")[0]
    assert ffmpeg_errors(out) == ""
    if "true_peak" in change:
        assert ebur128(out)[1] <= -6.0 + 0.5  # the sound follows the new ceiling


def test_another_narration_level_takes_the_gain_of_kept_runs(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    routine = routine_from(tmp_path, ROUTINE)
    cache = tmp_path / "cache"
    target = AudioFormat().target_lufs
    with caplog.at_level(logging.INFO, logger="guidecast"):
        first, one = _render(tmp_path, routine, fake_voice(cache), splice=True, name="a")
        voice = fake_voice(cache)
        options = resolve_options(routine, narration=Narration.FULL, countdown_ms=3000)
        exact = render(routine, options, voice=voice, fmt=AudioFormat(), mix=Mix()).gain_db
        out = tmp_path / "b.mp3"
        two = render_session(routine, options, voice=voice, output=out, mix=Mix())
    spliced = [r.getMessage() for r in caplog.records if "spliced" in r.getMessage()]
    kept, encoded = (int(x) for x in re.findall(r"\((\d+) kept, (\d+) encoded", spliced[-1])[0])
    assert kept > encoded  # what both levels say is copied, not encoded again
    reused = [r.getMessage() for r in caplog.records if "of kept runs" in r.getMessage()]
    if reused:  # the level measured a little off the first: within REUSE_DB of its own gain
        taken = float(reused[-1].split()[1])
        assert taken != exact and abs(taken - exact) <= REUSE_DB + 1e-9
    assert abs(ebur128(out)[0] - target) <= 0.5 and abs(ebur128(first)[0] - target) <= 0.5
    assert abs(two.lufs - one.lufs) <= REUSE_DB + 0.2
