"""Ambience beds as seamless loops: four built-in ones made from numpy, or any sound file.

Built-in beds are generated at render time, deterministically, as loops of exactly `LOOP_S`
seconds: their noise is shaped in the frequency domain with fixed random phases and every
tone and swell completes a whole number of cycles per loop, so the end flows into the start
with no seam and no crossfade. A user's file is looped with an equal-power crossfade: its last
`CROSSFADE_S` seconds fade out while its first ones fade in.
"""

from __future__ import annotations

import functools
import logging
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import AudioError
from ..model import SoundRef
from .arrays import F64, Float
from .decode import decode_file, resample, to_float
from .loudness import loop_power_loudness, loop_power_sums

__all__ = [
    "BUILTIN_BEDS",
    "BedLoop",
    "crossfade_loop",
    "load_bed",
    "make_builtin_bed",
    "probe_bed_file",
]

log = logging.getLogger(__name__)

LOOP_S = 24
"""Length of a built-in loop: long enough that noise does not audibly repeat."""
CROSSFADE_S = 2.0
"""Equal-power crossfade at a user file's loop point (at most a quarter of the file)."""
MIN_FILE_S = 1.0
MAX_FILE_S = 300.0
"""Longer files are cut to this before looping: the bed stays small in memory."""
SILENT_LUFS = -70.0
PROBE_RATE = 16000
"""`check` decodes a bed file at this rate: enough to tell sound from silence, and quick."""


@dataclass(frozen=True, eq=False)
class BedLoop:
    """A bed ready to repeat end to start, at the output rate, with its measured loudness."""

    name: str
    samples: Float
    rate: int
    lufs: float
    """Gated integrated loudness of one pass of the loop."""
    power_sums: F64
    """Running sum of its K-weighted power (see `loop_power_sums`): what its loudness at any
    point of a session is estimated from."""

    @classmethod
    def measured(cls, name: str, samples: Float, rate: int) -> BedLoop:
        """A loop with its loudness measured (one K-weighting FFT for both measures)."""
        sums = loop_power_sums(samples, rate)
        return cls(name, samples, rate, loop_power_loudness(sums, rate), sums)


# -- built-in beds ------------------------------------------------------------------------------


def _noise(n: int, rate: int, seed: int, shape: Callable[[F64], F64]) -> F64:
    """Periodic noise of `n` samples whose spectrum magnitude follows `shape(frequency)`.

    Phases come from numpy's legacy RandomState, whose stream is frozen across versions.
    """
    freqs = np.fft.rfftfreq(n, 1 / rate)
    phases = np.random.RandomState(seed).uniform(0, 2 * np.pi, len(freqs))
    spectrum = shape(np.maximum(freqs, 1e-3)) * np.exp(1j * phases)
    spectrum[0] = 0
    x = np.fft.irfft(spectrum, n)
    return np.asarray(x / np.std(x), np.float64)


def _lowpass(f: F64, corner: float, order: int = 2) -> F64:
    return np.asarray(1 / np.sqrt(1 + (f / corner) ** (2 * order)), np.float64)


def _highpass(f: F64, corner: float, order: int = 2) -> F64:
    return np.asarray(1 / np.sqrt(1 + (corner / f) ** (2 * order)), np.float64)


def _cycles(t: F64, per_loop: int) -> F64:
    """Phase (radians) of something that completes `per_loop` whole cycles each loop."""
    return np.asarray(2 * np.pi * per_loop * t / LOOP_S, np.float64)


def _tones(n: int, tones: list[tuple[int, float, float]]) -> F64:
    """Sum of cosines (cycles per loop, amplitude, phase) over a loop of `n` samples.

    Made as one inverse FFT of a sparse spectrum: exact whole cycles, and quick.
    """
    spectrum = np.zeros(n // 2 + 1, np.complex128)
    for k, amp, phase in tones:
        spectrum[k] += n * amp / 2 * np.exp(1j * phase)
    return np.asarray(np.fft.irfft(spectrum, n), np.float64)


def _drone(t: F64, rate: int) -> F64:
    """A soft low drone on A2 with its fifth and octave, slowly beating and breathing."""
    tones: list[tuple[int, float, float]] = []
    # (cycles per loop, amplitude, cycles of its slow swell per loop): 110 Hz is 2640 per 24 s.
    for k, amp, swell in [(2640, 1.0, 1), (2652, 0.3, 2), (3960, 0.45, 3), (5280, 0.25, 2),
                          (5292, 0.1, 1), (7920, 0.08, 3)]:  # fmt: skip
        # sin(a) (0.9 + 0.1 sin(b)) = 0.9 sin(a) + 0.05 cos(a - b) - 0.05 cos(a + b), with
        # phases a = k % 7 and b = k at the start of the loop.
        a, b = k % 7, float(k)
        tones += [(k, 0.9 * amp, a - np.pi / 2), (k - swell, 0.05 * amp, a - b),
                  (k + swell, 0.05 * amp, a + b + np.pi)]  # fmt: skip
    out = _tones(len(t), tones)
    warmth = _noise(len(t), rate, 11, lambda f: _lowpass(f, 300, 2) * _highpass(f, 60) / np.sqrt(f))
    return out / np.std(out) + 0.15 * warmth


def _ocean(t: F64, rate: int) -> F64:
    """Waves on a shore: a low rumble, and a wash that swells and recedes every 6 s or so."""
    rumble = _noise(len(t), rate, 21, lambda f: _lowpass(f, 250, 2) * _highpass(f, 40) / f**0.5)
    wash = _noise(len(t), rate, 22, lambda f: _lowpass(f, 2500, 1) * _highpass(f, 200) / f**0.5)
    # Four waves per loop, each a little different (a second and third harmonic of the swell).
    phase = _cycles(t, 4)
    swell = 0.5 - 0.5 * np.cos(phase + 0.35 * np.sin(phase) + 0.2 * np.sin(_cycles(t, 3)))
    return rumble + wash * (0.55 + 0.45 * swell**1.5)


def _rain(t: F64, rate: int) -> F64:
    """Steady rain: a bright hiss and many small, soft drops, with a gentle slow drift."""
    n = len(t)
    hiss = _noise(n, rate, 31, lambda f: _highpass(f, 700, 2) * _lowpass(f, 4500, 2) / f**0.3)
    rng = np.random.RandomState(32)
    drops = np.zeros(n)
    where = rng.randint(0, n, size=60 * LOOP_S)
    drops[where] = rng.uniform(0.3, 1.0, len(where)) * rng.choice([-1.0, 1.0], len(where))
    # Each drop is a short, damped knock: shaped in the frequency domain, so it wraps cleanly.
    f = np.asarray(np.fft.rfftfreq(n, 1 / rate) + 1e-3, np.float64)
    patter = np.fft.irfft(np.fft.rfft(drops) * _highpass(f, 1000, 2) * _lowpass(f, 2500, 2), n)
    patter /= np.std(patter)
    return (hiss + 0.3 * patter) * (1 + 0.06 * np.sin(_cycles(t, 2)))


def _air(t: F64, rate: int) -> F64:
    """Moving air: soft, dark noise with a slow rise and fall, like a breeze in a room."""
    air = _noise(len(t), rate, 41, lambda f: _lowpass(f, 700, 1) * _highpass(f, 50) / f**0.5)
    return air * (1 + 0.1 * np.sin(_cycles(t, 3)) + 0.05 * np.sin(_cycles(t, 5) + 1))


BUILTIN_BEDS: dict[str, Callable[[F64, int], F64]] = {
    "drone": _drone,
    "ocean": _ocean,
    "rain": _rain,
    "air": _air,
}
"""Built-in bed names and what makes them."""


@functools.lru_cache(maxsize=4)
def make_builtin_bed(name: str, rate: int) -> BedLoop:
    """A built-in bed as a loop of exactly `LOOP_S` seconds at `rate` (same samples every time)."""
    t = np.arange(LOOP_S * rate, dtype=np.float64) / rate
    x = BUILTIN_BEDS[name](t, rate)
    x = x - x.mean()
    samples = (0.25 * x / np.abs(x).max()).astype(np.float32)
    return BedLoop.measured(name, samples, rate)


# -- beds from files ----------------------------------------------------------------------------


def crossfade_loop(x: Float, fade: int, correlation: float = 0.0) -> Float:
    """Make `x` loop seamlessly: its last `fade` samples fade out over its first ones fading in.

    The gains are sin and cos of the same angle (equal power), so uncorrelated material keeps
    its level through the join; for material whose end and start are alike (`correlation`
    from 0 to 1, as `best_loop_end` finds it) they are scaled so the power still stays
    constant instead of swelling by up to 3 dB. The result is `fade` samples shorter than `x`.
    """
    fade = min(fade, len(x) // 2)
    if fade <= 0:
        return x
    angle = (np.arange(fade) + 0.5) / fade * (np.pi / 2)
    fade_in, fade_out = np.sin(angle), np.cos(angle)
    r = min(1.0, max(0.0, correlation))
    norm = 1 / np.sqrt(fade_in**2 + fade_out**2 + 2 * r * fade_in * fade_out)
    head = (x[:fade] * fade_in + x[len(x) - fade :] * fade_out) * norm
    return np.concatenate([head, x[fade : len(x) - fade]]).astype(np.float32)


LOOP_SEARCH_S = 0.1
"""How far back from a file's end the loop point may move to meet its start in phase."""


def best_loop_end(x: Float, fade: int, search: int) -> tuple[int, float]:
    """Where to end a loop so its crossfade region lines up in phase with its start.

    Tonal material (a drone, a hum) cancels itself in a crossfade when the end and start are
    out of phase; moving the end back by up to `search` samples to the most positively
    correlated spot avoids that dip. Noise does not care either way. Returns the end and the
    correlation there (-1 to 1).
    """
    search = max(0, min(search, len(x) - 2 * fade))
    if search == 0 or fade <= 0:
        return len(x), 0.0
    head = x[:fade].astype(np.float64)
    tail = x[len(x) - fade - search :].astype(np.float64)
    size = 1 << math.ceil(math.log2(len(tail) + fade))
    corr = np.fft.irfft(np.fft.rfft(tail, size) * np.conj(np.fft.rfft(head, size)), size)
    corr = corr[: search + 1]  # corr[k]: head against tail[k : k + fade]
    energy = np.concatenate([[0.0], np.cumsum(tail**2)])
    norm = np.sqrt(np.maximum(energy[fade : fade + search + 1] - energy[: search + 1], 1e-12))
    head_norm = math.sqrt(max(float(np.sum(head**2)), 1e-12))
    score = corr / norm / head_norm
    k = int(np.argmax(score))
    return len(x) - search + k, float(score[k])


def _read_file(path: Path, rate: int) -> Float:
    """A sound file as float32 mono at `rate`, at most `MAX_FILE_S` long; AudioError names it."""
    try:
        with path.open("rb"):
            pass
    except FileNotFoundError:
        raise AudioError(f"bed file '{path}' not found") from None
    except OSError as e:
        raise AudioError(f"cannot read bed file '{path}': {e.strerror}") from e
    samples, native = decode_file(path, seconds=MAX_FILE_S)
    if len(samples) < MIN_FILE_S * native:
        raise AudioError(
            f"bed file '{path}' is {len(samples) / native:.2f} s long; "
            f"a bed needs at least {MIN_FILE_S:g} s to loop"
        )
    return resample(to_float(samples), native, rate)


def _file_bed(path: Path, rate: int) -> BedLoop:
    x = _read_file(path, rate)
    x = (x - x.mean()).astype(np.float32)
    fade = min(int(CROSSFADE_S * rate), len(x) // 4)
    end, correlation = best_loop_end(x, fade, int(LOOP_SEARCH_S * rate))
    x = x[:end]
    fade += (len(x) - fade) % 2  # an even loop: it is measured as one periodic FFT
    loop = BedLoop.measured(path.name, crossfade_loop(x, fade, correlation), rate)
    if not math.isfinite(loop.lufs) or loop.lufs < SILENT_LUFS:
        raise AudioError(f"bed file '{path}' is silent; give a file with some sound in it")
    return loop


@functools.lru_cache(maxsize=4)
def _cached_file_bed(path: str, mtime: float, rate: int) -> BedLoop:
    return _file_bed(Path(path), rate)


def load_bed(ref: SoundRef, rate: int) -> BedLoop:
    """The bed a reference names: a built-in loop or a looped file (AudioError naming it)."""
    if ref.path is None:
        return make_builtin_bed(ref.name, rate)
    path = Path(ref.path)
    try:
        mtime = path.stat().st_mtime
    except FileNotFoundError:
        raise AudioError(f"bed file '{path}' not found") from None
    except OSError as e:
        raise AudioError(f"cannot read bed file '{path}': {e.strerror}") from e
    return _cached_file_bed(str(path), mtime, rate)


def probe_bed_file(path: Path) -> str | None:
    """Why a file cannot serve as a bed (missing, unreadable, too short, silent), or None."""
    try:
        _file_bed(path, PROBE_RATE)
    except AudioError as e:
        return str(e)
    return None
