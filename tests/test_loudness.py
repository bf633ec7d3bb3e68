"""Loudness: the streaming BS.1770 meter against pyloudnorm, the true-peak limiter, and the
loudness of rendered sessions as a player decodes them."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import numpy.typing as npt
import pyloudnorm
import pytest
from mutagen.mp3 import MP3
from scipy.signal import butter, lfilter, sosfilt

from guidecast.media.loudness import LoudnessMeter, limit_true_peak, true_peak_db
from guidecast.sound.render import AudioFormat
from render_fixtures import (
    SMALL,
    decode,
    export_to,
    fake_voice,
    render_routine,
    routine_from,
    true_peak_dbtp,
)

Array = npt.NDArray[np.float64]


def reference(x: Array, rate: int) -> float:
    """Integrated loudness by pyloudnorm, an independent BS.1770 implementation."""
    return float(pyloudnorm.Meter(rate).integrated_loudness(x))


def measure(pieces: list[Array], rate: int, channels: int = 1) -> float:
    meter = LoudnessMeter(rate, channels)
    for piece in pieces:
        meter.feed_piece(piece.astype(np.float32))
    return meter.integrated()


# -- test signals -----------------------------------------------------------------------------


def pinkish(seconds: float, rate: int, seed: int = 1) -> Array:
    """Pink-ish noise (Paul Kellet's -3 dB/octave filter on white noise) at -20 dBFS RMS."""
    white = np.random.default_rng(seed).standard_normal(int(seconds * rate))
    b = [0.049922035, -0.095993537, 0.050612699, -0.004408786]
    a = [1, -2.494956002, 2.017265875, -0.522189400]
    x = lfilter(b, a, white)
    return 0.1 * x / np.std(x)


def tone(seconds: float, rate: int, hz: float = 1000.0, dbfs: float = -18.0) -> Array:
    t = np.arange(int(seconds * rate)) / rate
    return 10 ** (dbfs / 20) * np.sqrt(2) * np.sin(2 * np.pi * hz * t)


def speechlike(seconds: float, rate: int, seed: int = 2) -> Array:
    """Syllable-rate bursts of filtered noise at varying levels, with pauses between phrases."""
    rng = np.random.default_rng(seed)
    out = np.zeros(int(seconds * rate))
    at = int(0.2 * rate)
    while at < len(out):
        n = int(rng.uniform(0.4, 1.8) * rate)
        t = np.arange(n) / rate
        syllables = np.clip(np.sin(2 * np.pi * rng.uniform(3, 5) * t), 0, None) ** 0.5
        burst = lfilter([1.0], [1.0, -0.9], rng.standard_normal(n)) * syllables
        burst *= 10 ** (rng.uniform(-12, 0) / 20) * 0.05
        out[at : at + n] = burst[: len(out) - at]
        at += n + int(rng.uniform(0.2, 2.0) * rate)
    return out


SIGNALS = {
    "pink noise": lambda rate: pinkish(8, rate),
    "1 kHz tone": lambda rate: tone(6, rate),
    "100 Hz tone": lambda rate: tone(6, rate, hz=100, dbfs=-10),
    "speech-like": lambda rate: speechlike(20, rate),
}


# -- the meter --------------------------------------------------------------------------------


@pytest.mark.parametrize("rate", [44_100, 48_000, 22_050])
@pytest.mark.parametrize("signal", SIGNALS, ids=list(SIGNALS))
def test_meter_agrees_with_pyloudnorm(signal: str, rate: int) -> None:
    x = SIGNALS[signal](rate)
    assert abs(measure([x], rate) - reference(x, rate)) < 0.2


def test_meter_stereo_sums_both_channels_like_pyloudnorm() -> None:
    rate = 44_100
    x = speechlike(10, rate)
    stereo = measure([x], rate, channels=2)
    assert abs(stereo - reference(np.stack([x, x], axis=1), rate)) < 0.2
    assert stereo - measure([x], rate) == pytest.approx(10 * np.log10(2), abs=0.01)


def test_pieces_measure_like_the_whole_with_silence_between() -> None:
    rate = 44_100
    pieces = [speechlike(3, rate, seed=s) * g for s, g in ((3, 1.0), (4, 0.4), (5, 2.0))]
    pieces.append(tone(1.5, rate, hz=440, dbfs=-25))
    gap = np.zeros(int(1.5 * rate))
    whole = np.concatenate([p for piece in pieces for p in (gap, piece)] + [gap])
    in_pieces = measure(pieces, rate)
    assert abs(in_pieces - reference(whole, rate)) < 0.3
    assert abs(in_pieces - measure([whole], rate)) < 0.3


def test_a_piece_counted_n_times_measures_like_n_copies() -> None:
    rate = 44_100
    quiet, loud = speechlike(2, rate, seed=6) * 0.3, speechlike(2, rate, seed=7)
    counted = LoudnessMeter(rate)
    counted.feed_piece(quiet.astype(np.float32), 5)
    counted.feed_piece(loud.astype(np.float32))
    copies = measure([quiet] * 5 + [loud], rate)
    assert counted.integrated() == pytest.approx(copies, abs=1e-6)
    gap = np.zeros(rate)
    whole = np.concatenate([gap, *[np.concatenate([quiet, gap])] * 5, loud, gap])
    assert abs(counted.integrated() - reference(whole, rate)) < 0.3
    assert counted.integrated() < measure([loud], rate) - 1  # the count really weighs in


def test_meter_reads_silence_as_minus_infinity() -> None:
    meter = LoudnessMeter(44_100)
    assert meter.integrated() == -np.inf
    meter.feed_piece(np.zeros(44_100, np.float32))
    assert meter.integrated() == -np.inf


# -- the true-peak limiter ----------------------------------------------------------------------


def faded(x: Array, rate: int) -> Array:
    """Fade in and out over 20 ms, so the edges add no clicks of their own."""
    ramp = np.linspace(0, 1, rate // 50)
    x = x.copy()
    x[: len(ramp)] *= ramp
    x[-len(ramp) :] *= ramp[::-1]
    return x


def lowpassed(x: Array, rate: int, hz: float) -> Array:
    return sosfilt(butter(8, hz, fs=rate, output="sos"), x)


# Signals the limiter must bring under the ceiling, each with how far an independent 4x
# oversampling meter may read above the limiter's own (BS.1770-style, 48-tap) meter. Two 4x
# meters agree closely on content below ~10 kHz, which is what the limiter sees in a session
# (Piper speaks at 22.05 kHz); near Nyquist they differ by a few tenths of a dB (4x
# oversampling can under-read there), which the render's -2 dBTP ceiling leaves room for.
LIMITER_SIGNALS = {
    "speech band": (lambda rate: lowpassed(speechlike(5, rate), rate, 8000) * 40, 0.05),
    "3 kHz tone": (lambda rate: faded(tone(2, rate, hz=3000, dbfs=0), rate), 0.05),
    "11 kHz tone, peaks between samples": (
        lambda rate: faded(0.95 * np.sin(np.pi / 2 * np.arange(rate) + np.pi / 4), rate),
        0.4,
    ),
    "full-band pink noise": (lambda rate: faded(pinkish(3, rate) * 8, rate), 0.4),
}


@pytest.mark.parametrize("ceiling", [-1.0, -3.0])
@pytest.mark.parametrize("gain_db", [6.0, 12.0])
@pytest.mark.parametrize("signal", LIMITER_SIGNALS, ids=list(LIMITER_SIGNALS))
def test_limiter_keeps_true_peak_under_the_ceiling(
    signal: str, ceiling: float, gain_db: float
) -> None:
    rate = 44_100
    make, slack = LIMITER_SIGNALS[signal]
    x = (make(rate) * 10 ** (gain_db / 20)).astype(np.float32)
    assert true_peak_dbtp(x.astype(np.float64)) > ceiling + 3  # there is work to do
    y = limit_true_peak(x, ceiling, rate)
    assert y.dtype == np.float32 and len(y) == len(x)
    assert true_peak_db(y) <= ceiling + 1e-4  # by its own meter, exactly
    for oversample in (4, 8):
        assert true_peak_dbtp(y.astype(np.float64), oversample) <= ceiling + slack
    assert np.all(np.abs(y) <= np.abs(x) + 1e-6)  # it only ever turns down
    assert true_peak_dbtp(y.astype(np.float64)) > ceiling - 1  # and not much more than needed


def test_limiter_leaves_quiet_signals_bit_identical() -> None:
    rate = 44_100
    x = (speechlike(5, rate) * 2).astype(np.float32)
    x *= 10 ** (-3 / 20) / 10 ** (true_peak_dbtp(x.astype(np.float64)) / 20)  # -3 dBTP
    y = limit_true_peak(x, -1.0, rate)
    assert y.dtype == x.dtype
    assert np.array_equal(y, x)


def test_limiter_only_touches_the_neighbourhood_of_a_peak() -> None:
    rate = 44_100
    x = (0.05 * np.sin(2 * np.pi * 300 * np.arange(2 * rate) / rate)).astype(np.float32)
    x[rate : rate + 20] = 1.0  # one loud click in the middle
    y = limit_true_peak(x, -1.0, rate)
    far = np.ones(len(x), bool)
    far[rate - rate // 50 : rate + rate // 50] = False  # 20 ms either side
    assert np.array_equal(y[far], x[far])
    assert true_peak_dbtp(y.astype(np.float64)) <= -1.0 + 0.01


# -- rendered sessions, decoded --------------------------------------------------------------


@pytest.mark.parametrize(
    ("channels", "loudness", "target"),
    [(1, None, -19.0), (2, None, -16.0), (1, -23.0, -23.0)],
    ids=["mono", "stereo", "override"],
)
def test_rendered_session_meets_loudness_and_true_peak(
    tmp_path: Path, channels: int, loudness: float | None, target: float
) -> None:
    fmt = AudioFormat(channels=channels, loudness=loudness)
    assert fmt.target_lufs == target
    routine = routine_from(tmp_path, SMALL)
    voice = fake_voice(tmp_path / "cache")
    rendered = render_routine(routine, voice, fmt)
    mp3 = export_to(tmp_path / "out", routine, rendered, voice, fmt).files.mp3
    assert MP3(mp3).info.channels == channels
    audio = decode(mp3, channels)
    assert abs(reference(audio, fmt.sample_rate) - target) <= 1.0
    assert true_peak_dbtp(audio) <= -1.0
