"""Ambience beds as seamless loops: four built-in ones made from numpy, or any sound file.

Built-in beds are generated at render time, deterministically, as loops of about `LOOP_S`
seconds: their noise is shaped in the frequency domain with fixed random phases and every
tone and swell completes a whole number of cycles per loop, so the end flows into the start
with no seam and no crossfade. A user's file is looped with an equal-power crossfade: its last
`CROSSFADE_S` seconds fade out while its first ones fade in.

Every loop is a whole number of MP3 frames (`loop_multiple`: a file's loop is stretched to
it, inaudibly, as the periodic signal it is), so one encoded pass of it can be repeated frame
for frame under a session. What a render needs to know of a loop (its
loudness, peak and power) is kept beside the speech cache (`kept_bed`), so a re-render does
not make the loop again unless it encodes something new with it.
"""

from __future__ import annotations

import functools
import logging
import math
import struct
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import AudioError
from ..model import SoundRef
from ..store.blobs import BlobStore, blob_key
from .arrays import F64, Float, pack_measures, unpack_measures
from .decode import decode_file, resample, to_float
from .loudness import loop_power_loudness, loop_power_sums

__all__ = [
    "BUILTIN_BEDS",
    "STEADY_BEDS",
    "BedLoop",
    "crossfade_loop",
    "kept_bed",
    "load_bed",
    "make_builtin_bed",
    "probe_bed_file",
]

log = logging.getLogger(__name__)

LOOP_S = 24
"""Length of a built-in loop (to the nearest `LOOP_MULTIPLE`): long enough that noise does not
audibly repeat."""
FILE_LOOP_S = 10.0
"""A shorter file's loop is repeated to this length before it is stretched to whole frames,
so that the stretch stays under 0.2 % (a fraction of the smallest pitch step anyone hears)."""
_VERSION = 2
"""Part of a built-in loop's identity: raise it when what `make_builtin_bed` makes changes."""
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
    """A bed ready to repeat end to start, at the output rate, with its measured loudness.

    Its samples are made (or read and looped) only when first asked for: a re-render that
    encodes nothing new needs only the measures, kept beside the speech cache.
    """

    name: str
    rate: int
    size: int
    """Samples in one pass of the loop (a whole number of MP3 frames)."""
    lufs: float
    """Gated integrated loudness of one pass of the loop."""
    peak: float
    """Its largest absolute sample."""
    power_sums: F64
    """Running sum of its K-weighted power every `power_stride` samples (see
    `loop_power_sums`): what its loudness at any point of a session is estimated from."""
    power_stride: int
    identity: tuple[object, ...]
    """What the loop is made from (JSON-able): keys what is kept of it and encoded with it."""
    make: Callable[[], Float] = field(repr=False)

    @property
    def steady(self) -> bool:
        """Whether the loop sounds the same wherever it is entered (`STEADY_BEDS`)."""
        return self.identity[0] == "builtin" and self.identity[1] in STEADY_BEDS

    @functools.cached_property
    def samples(self) -> Float:
        samples = self.make()
        assert len(samples) == self.size
        return samples

    @classmethod
    def measured(
        cls, name: str, samples: Float, rate: int, identity: tuple[object, ...] = ()
    ) -> BedLoop:
        """A loop with its loudness measured (one K-weighting FFT for both measures)."""
        sums = loop_power_sums(samples, rate)
        stride = math.gcd(rate // 10, len(samples))
        peak = float(np.abs(samples).max()) if len(samples) else 0.0
        lufs = loop_power_loudness(sums, rate)
        loop = cls(name, rate, len(samples), lufs, peak, sums[::stride].copy(), stride,
                   identity or ("samples", name, rate), lambda: samples)  # fmt: skip
        loop.__dict__["samples"] = samples
        return loop


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
    return np.asarray(2 * np.pi * per_loop * np.arange(len(t)) / len(t), np.float64)


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
    # (cycles per loop, amplitude, cycles of its slow swell per loop): 110 Hz is 2640 per 24 s
    # (109.97 Hz in a loop of 919 frames at 44.1 kHz, 24.007 s).
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

STEADY_BEDS = frozenset({"air", "rain"})
"""Built-in beds of even noise with no tone and no swell: one may jump to another place in
its loop at any frame and nobody hears it (the splice renderer restarts them under every run,
see `mp3.bedsplice`). Drone (tones) and ocean (a 6 s swell) are played through, as files are."""


def frame_size(rate: int) -> int:
    """Samples in one MP3 (layer III) frame at `rate`."""
    return 1152 if rate >= 32000 else 576


def loop_multiple(rate: int) -> int:
    """What a built-in loop's length is a whole number of: whole frames, and whole cycles of
    the CBR padding pattern (49 frames at 44.1 and 22.05 kHz, where frames of one byte more
    come 25 or so in 49; at the other rates every frame has the same size)."""
    return frame_size(rate) * (49 if rate % 11025 == 0 else 2)


def loop_size(seconds: float, rate: int, multiple: int) -> int:
    """The whole number of `multiple` samples nearest `seconds` (at least one)."""
    return max(1, round(seconds * rate / multiple)) * multiple


def _builtin_identity(name: str, rate: int) -> tuple[object, ...]:
    return ("builtin", name, rate, _VERSION)


@functools.lru_cache(maxsize=4)
def make_builtin_bed(name: str, rate: int) -> BedLoop:
    """A built-in bed as a loop of about `LOOP_S` seconds at `rate` (same samples every time)."""
    t = np.arange(loop_size(LOOP_S, rate, loop_multiple(rate)), dtype=np.float64) / rate
    x = BUILTIN_BEDS[name](t, rate)
    x = x - x.mean()
    samples = (0.25 * x / np.abs(x).max()).astype(np.float32)
    return BedLoop.measured(name, samples, rate, _builtin_identity(name, rate))


def stretch_loop(x: Float, size: int) -> Float:
    """A periodic signal resampled to `size` samples per period (through the FFT, so the
    result is as seamless as the input)."""
    if len(x) == size:
        return x
    spectrum = np.fft.rfft(x.astype(np.float64))
    keep = min(len(spectrum), size // 2 + 1)
    out = np.fft.irfft(spectrum[:keep], size) * (size / len(x))
    return out.astype(np.float32)


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


def _file_bed(path: Path, rate: int, identity: tuple[object, ...] = ()) -> BedLoop:
    x = _read_file(path, rate)
    x = (x - x.mean()).astype(np.float32)
    fade = min(int(CROSSFADE_S * rate), len(x) // 4)
    end, correlation = best_loop_end(x, fade, int(LOOP_SEARCH_S * rate))
    x = x[:end]
    looped = crossfade_loop(x, fade, correlation)
    looped = np.tile(looped, math.ceil(FILE_LOOP_S * rate / len(looped)))
    looped = stretch_loop(looped, loop_size(len(looped) / rate, rate, frame_size(rate)))
    loop = BedLoop.measured(path.name, looped, rate, identity)
    if not math.isfinite(loop.lufs) or loop.lufs < SILENT_LUFS:
        raise AudioError(f"bed file '{path}' is silent; give a file with some sound in it")
    return loop


@functools.lru_cache(maxsize=4)
def _cached_file_bed(path: str, identity: tuple[object, ...], rate: int) -> BedLoop:
    return _file_bed(Path(path), rate, identity)


def _identity(ref: SoundRef, rate: int) -> tuple[object, ...]:
    """What a bed is made from: a built-in's name and version, or a file's path, size and time."""
    if ref.path is None:
        return _builtin_identity(ref.name, rate)
    path = Path(ref.path)
    try:
        st = path.stat()
    except FileNotFoundError:
        raise AudioError(f"bed file '{path}' not found") from None
    except OSError as e:
        raise AudioError(f"cannot read bed file '{path}': {e.strerror}") from e
    return ("file", str(path), st.st_size, st.st_mtime_ns, rate)


def load_bed(ref: SoundRef, rate: int) -> BedLoop:
    """The bed a reference names: a built-in loop or a looped file (AudioError naming it)."""
    if ref.path is None:
        return make_builtin_bed(ref.name, rate)
    return _cached_file_bed(ref.path, _identity(ref, rate), rate)


def _kept_samples(ref: SoundRef, rate: int, store: BlobStore, size: int) -> Float:
    """A loop's samples, read from `store` when kept there (else made and kept): reading
    them is a tenth of the time making a built-in loop or looping a file takes."""
    key = blob_key(["bed samples", list(_identity(ref, rate))])  # as `kept_bed` keeps them
    body = store.get(key)
    if body is not None and len(body) == 4 * size:
        return np.frombuffer(body, "<f4").astype(np.float32)
    if body is not None:
        store.discard(key, "its length is not the loop's")
    samples = load_bed(ref, rate).samples
    store.put(key, samples.astype("<f4").tobytes())
    return samples


def kept_bed(ref: SoundRef, rate: int, store: BlobStore) -> BedLoop:
    """The bed a reference names, its measures read from `store` when kept there (else
    measured and kept): its samples are made only if something asks for them."""
    identity = _identity(ref, rate)
    key = blob_key(["bed", list(identity)])
    body = store.get(key)
    if body is not None:
        try:
            head, sums = unpack_measures(body)
            made = functools.partial(_kept_samples, ref, rate, store, head["size"])
            return BedLoop(head["name"], rate, head["size"], head["lufs"], head["peak"], sums,
                           head["stride"], identity, made)  # fmt: skip
        except (ValueError, KeyError, struct.error) as e:
            store.discard(key, str(e))
    loop = load_bed(ref, rate)
    # Its samples too, now they are made: a later render that encodes over it reads them.
    store.put(blob_key(["bed samples", list(identity)]), loop.samples.astype("<f4").tobytes())
    head = {"name": loop.name, "size": loop.size, "lufs": loop.lufs, "peak": loop.peak,
            "stride": loop.power_stride}  # fmt: skip
    store.put(key, pack_measures(head, loop.power_sums))
    return loop


def probe_bed_file(path: Path) -> str | None:
    """Why a file cannot serve as a bed (missing, unreadable, too short, silent), or None."""
    try:
        _file_bed(path, PROBE_RATE, ("probe", str(path)))
    except AudioError as e:
        return str(e)
    return None
