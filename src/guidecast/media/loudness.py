"""Loudness to the spoken-word target: BS.1770 measurement in a stream, and a true-peak limiter."""

from __future__ import annotations

import functools
import math

import numpy as np
import numpy.typing as npt

from .arrays import F64, Float
from .dsp import (
    Coefficients,
    biquad_response,
    fft_filter,
    lowpass_fir,
    running_mean,
    running_min,
)

__all__ = [
    "LoudnessMeter",
    "StreamMeter",
    "blocks_from_subs",
    "clip_loudness",
    "k_weighted_loop",
    "limit_true_peak",
    "loop_loudness",
    "loop_power_loudness",
    "loop_power_sums",
    "momentary_loudness",
    "sub_block_power",
    "true_peak_db",
    "weighted_percentile",
]

ABSOLUTE_GATE = -70.0
RELATIVE_GATE = -10.0


@functools.cache
def _k_weighting(rate: int) -> tuple[Coefficients, ...]:
    """The two BS.1770 pre-filters (high shelf, then high pass) designed for `rate`."""
    # Coefficients from the published analogue prototypes, as pyloudnorm and libebur128 do.
    f0, gain, q = 1681.974450955533, 3.999843853973347, 0.7071752369554196
    k = math.tan(math.pi * f0 / rate)
    vh = 10 ** (gain / 20)
    vb = vh**0.4996667741545416
    a0 = 1 + k / q + k * k
    shelf_b = (
        (vh + vb * k / q + k * k) / a0,
        2 * (k * k - vh) / a0,
        (vh - vb * k / q + k * k) / a0,
    )
    shelf_a = (1.0, 2 * (k * k - 1) / a0, (1 - k / q + k * k) / a0)
    f0, q = 38.13547087602444, 0.5003270373238773
    k = math.tan(math.pi * f0 / rate)
    a0 = 1 + k / q + k * k
    pass_b = (1.0, -2.0, 1.0)
    pass_a = (1.0, 2 * (k * k - 1) / a0, (1 - k / q + k * k) / a0)
    return ((shelf_b, shelf_a), (pass_b, pass_a))


SUB_PAD = 3
"""100 ms steps of silence set before (and after) a piece when it is measured."""


def sub_block_power(samples: Float, rate: int) -> F64:
    """Mean K-weighted power of each 100 ms of a piece set in silence, starting `SUB_PAD`
    steps before it (so the filter's ringing at both ends is counted)."""
    step = rate // 10
    pad = SUB_PAD * step
    length = -(-(len(samples) + 2 * pad) // step) * step
    y = np.zeros(length, np.float64)
    y[pad : pad + len(samples)] = samples
    y = fft_filter(y, _k_weighting(rate))
    subs: F64 = (y**2).reshape(-1, step).mean(axis=1)
    return subs


def blocks_from_subs(subs: F64) -> F64:
    """400 ms block powers (100 ms apart) from 100 ms sub-block powers."""
    return np.asarray((subs[:-3] + subs[1:-2] + subs[2:-1] + subs[3:]) / 4, np.float64)


def _block_energy(samples: Float, rate: int) -> F64:
    """Mean K-weighted power of each 400 ms block (100 ms apart) of a piece set in silence."""
    return blocks_from_subs(sub_block_power(samples, rate))


def k_weighted_loop(samples: Float, rate: int) -> F64:
    """A loop K-weighted as the periodic signal it is (one FFT over an even length of it)."""
    n = len(samples) - len(samples) % 2
    response = np.ones(n // 2 + 1, np.complex128)
    for coefficients in _k_weighting(rate):
        response *= biquad_response(coefficients, n)
    return np.asarray(np.fft.irfft(np.fft.rfft(samples[:n].astype(np.float64)) * response, n))


def momentary_loudness(samples: Float, rate: int) -> F64:
    """BS.1770 momentary loudness (400 ms blocks, 100 ms apart) of a piece in silence, in LUFS."""
    if not len(samples):
        return np.zeros(0, np.float64)
    with np.errstate(divide="ignore"):
        return np.asarray(-0.691 + 10 * np.log10(_block_energy(samples, rate)), np.float64)


def clip_loudness(samples: Float, rate: int) -> float:
    """Gated integrated loudness of one clip in LUFS (-inf when silent)."""
    meter = LoudnessMeter(rate)
    meter.feed_piece(samples)
    return meter.integrated()


def loop_loudness(samples: Float, rate: int) -> float:
    """Gated integrated loudness of a sound that repeats end to start (a bed loop), in LUFS.

    The loop is K-weighted as a periodic signal (one FFT over exactly its length), so the
    measure is what a listener hears on every pass after the first, not the first one's onset.
    """
    if len(samples) < rate // 2:
        return clip_loudness(samples, rate)
    return loop_power_loudness(loop_power_sums(samples, rate), rate)


def loop_power_sums(samples: Float, rate: int) -> F64:
    """Running sum of a loop's K-weighted power, from 0 (one entry more than an even length)."""
    power = k_weighted_loop(samples, rate) ** 2
    return np.concatenate([[0.0], np.cumsum(power)])


def loop_power_loudness(sums: F64, rate: int) -> float:
    """Gated integrated loudness of a loop from its `loop_power_sums`."""
    n = len(sums) - 1
    step, width = rate // 10, 4 * (rate // 10)
    starts = np.arange(0, n, step)
    ends = starts + width
    # Blocks that run past the end wrap round to the start: the loop plays again.
    blocks = (sums[ends % n] + (ends // n) * sums[-1] - sums[starts]) / width
    meter = LoudnessMeter(rate)
    meter.feed_blocks(blocks)
    return meter.integrated()


def weighted_percentile(values: F64, weights: F64, q: float) -> float:
    """The q-th percentile (0-100) of values each counted `weights` times; -inf when empty."""
    keep = np.isfinite(values) & (weights > 0)
    if not keep.any():
        return -math.inf
    order = np.argsort(values[keep])
    v, w = values[keep][order], weights[keep][order]
    cumulative = np.cumsum(w)
    index = int(np.searchsorted(cumulative, q / 100 * cumulative[-1]))
    return float(v[min(index, len(v) - 1)])


class LoudnessMeter:
    """Integrated loudness (LUFS) of separate pieces of sound, each surrounded by silence.

    Feeding only the sound actually present (speech and bells, not the silence between them)
    gives the whole file's value at a fraction of the cost: silent blocks fall under the
    absolute gate anyway. A piece heard several times is measured once with a count.
    """

    def __init__(self, rate: int, channels: int = 1) -> None:
        self.rate = rate
        self.channels = channels
        self.blocks: list[F64] = []
        self.weights: list[F64] = []

    def feed_piece(self, samples: Float, count: float = 1, rate: int | None = None) -> None:
        """Measure one piece as if it sat in silence, `count` times over.

        `rate` may differ from the meter's: a clip can be measured at its own rate before
        resampling, since loudness is a mean over time.
        """
        if not len(samples) or count <= 0:
            return
        blocks = _block_energy(samples, rate or self.rate)
        # A mono signal played on N channels sums N times (BS.1770 channel weights of 1).
        self.blocks.append(blocks * self.channels)
        self.weights.append(np.full(len(blocks), float(count)))

    def feed_blocks(self, blocks: F64, count: float = 1) -> None:
        """Count 400 ms block powers measured elsewhere (already weighted per channel)."""
        self.blocks.append(np.asarray(blocks, np.float64))
        self.weights.append(np.full(len(blocks), float(count)))

    def integrated(self) -> float:
        """Gated integrated loudness in LUFS; -inf for silence."""
        if not self.blocks:
            return -math.inf
        blocks = np.concatenate(self.blocks)
        weights = np.concatenate(self.weights)
        with np.errstate(divide="ignore"):
            loud = -0.691 + 10 * np.log10(blocks)
        keep = loud > ABSOLUTE_GATE
        if not keep.any():
            return -math.inf
        relative = -0.691 + 10 * math.log10(np.average(blocks[keep], weights=weights[keep]))
        keep &= loud > relative + RELATIVE_GATE
        return -0.691 + 10 * math.log10(np.average(blocks[keep], weights=weights[keep]))


class StreamMeter:
    """K-weighted power of one continuous stream (a mix with a bed), fed block by block.

    Each 100 ms sub-block is weighted in the frequency domain (Parseval: its mean K-weighted
    power is its spectrum times the filters' gain), so the whole output of a session is
    measured at a small cost and blocks of any length may be fed.
    """

    def __init__(self, rate: int, channels: int = 1) -> None:
        self.channels = channels
        self.step = rate // 10
        self.rest: F64 = np.zeros(0, np.float64)
        self.subs: list[F64] = []
        k = np.arange(self.step // 2 + 1)
        z = np.exp(-2j * np.pi * k / self.step)
        gain = np.ones(len(k), np.float64)
        for b, a in _k_weighting(rate):
            gain *= np.abs(np.polyval(b[::-1], z) / np.polyval(a[::-1], z)) ** 2
        # Each bin but DC (and Nyquist for an even length) stands for two conjugate bins.
        weight = np.full(len(k), 2.0)
        weight[0] = 1.0
        if self.step % 2 == 0:
            weight[-1] = 1.0
        self.bin_weight = gain * weight / float(self.step) ** 2

    def feed(self, pcm: npt.NDArray[np.int16]) -> None:
        """Measure the next int16 samples (interleaved when stereo; channels are identical)."""
        x = np.concatenate([self.rest, pcm[:: self.channels].astype(np.float64) / 32768])
        whole = len(x) // self.step * self.step
        if whole:
            self._measure(x[:whole])
        self.rest = x[whole:]

    def _measure(self, x: F64) -> None:
        spectra = np.fft.rfft(x.reshape(-1, self.step), axis=1)
        self.subs.append((np.abs(spectra) ** 2) @ self.bin_weight * self.channels)

    def blocks(self) -> F64:
        """400 ms block powers (100 ms apart) of everything fed, for `LoudnessMeter.feed_blocks`."""
        if len(self.rest):
            self._measure(np.concatenate([self.rest, np.zeros(self.step - len(self.rest))]))
            self.rest = np.zeros(0, np.float64)
        if not self.subs or sum(len(s) for s in self.subs) < 4:
            return np.zeros(0, np.float64)
        return blocks_from_subs(np.concatenate(self.subs))


@functools.cache
def _oversampling_phases(factor: int = 4, taps_per_phase: int = 12) -> list[Float]:
    """The polyphase parts of a 48-tap interpolation filter, as BS.1770's true-peak annex uses."""
    h = lowpass_fir(factor * taps_per_phase, 1 / factor) * factor
    return [h[p::factor].astype(np.float32) for p in range(factor)]


def _peak_per_sample(x: Float) -> Float:
    """Inter-sample (true) peak near each sample, from 4x oversampling."""
    peak = np.abs(x)
    for phase in _oversampling_phases():
        delay = len(phase) // 2
        np.maximum(peak, np.abs(np.convolve(x, phase)[delay : delay + len(x)]), out=peak)
    return peak


def true_peak_db(x: Float) -> float:
    """The true peak in dBTP."""
    if not len(x):
        return -math.inf
    peak = float(_peak_per_sample(x).max())
    return 20 * math.log10(peak) if peak > 0 else -math.inf


def limit_true_peak(x: Float, ceiling_db: float, rate: int) -> Float:
    """Turn down only the peaks that would pass `ceiling_db` dBTP, smoothly (5 ms look-ahead).

    The gain curve is a minimum filter of twice the window followed by a moving average of one
    window, so it never exceeds the gain each sample needs and has no sudden steps.
    """
    if not len(x):
        return x
    ceiling = 10 ** (ceiling_db / 20)
    peaks = _peak_per_sample(x)
    if float(peaks.max()) <= ceiling:
        return x
    need = np.minimum(1.0, ceiling / np.maximum(peaks, 1e-9)).astype(np.float32)
    window = max(1, rate // 200)
    gain = np.minimum(running_mean(running_min(need, 2 * window + 1), window), need)
    out = (x * gain).astype(np.float32)
    # The gain moves slowly next to the oversampling filter, so the sample peak is a safe
    # proxy for what is left over (a last trim for rounding, not a second limiter).
    over = float(np.abs(out).max()) / (ceiling * 10 ** (-0.1 / 20))
    return (out / over).astype(np.float32) if over > 1 else out
