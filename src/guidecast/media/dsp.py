"""Signal helpers in plain numpy: FFT resampling and filtering, running minimum and mean.

scipy would do all of this, but importing scipy.signal costs most of a second on every render;
these few functions are all the renderer needs.
"""

from __future__ import annotations

import functools
import math

import numpy as np
import numpy.typing as npt

from .arrays import F64, Float

__all__ = ["biquad_response", "fft_filter", "fft_resample", "lowpass_fir", "running_mean",
           "running_min"]  # fmt: skip

Coefficients = tuple[tuple[float, ...], tuple[float, ...]]
EDGE = 512
"""Zeros added at each end before an FFT, so circular wrap-around stays in the padding."""


def _fast_length(n: int) -> int:
    """A length >= n with only small prime factors, where numpy's FFT is quick."""
    best = 1 << math.ceil(math.log2(max(n, 1)))
    for threes in (1, 3, 9):
        for fives in (1, 5, 25):
            m = threes * fives
            candidate = m * (1 << max(0, math.ceil(math.log2(max(n / m, 1)))))
            best = min(best, candidate) if candidate >= n else best
    return best


def fft_resample(x: Float, from_rate: int, to_rate: int) -> Float:
    """Resample a clip by zero-padding or truncating its spectrum (ideal band-limiting)."""
    if from_rate == to_rate or not len(x):
        return x.astype(np.float32, copy=False)
    n_out = round(len(x) * to_rate / from_rate)
    pad = EDGE
    size = _fast_length(len(x) + 2 * pad)
    spectrum = np.fft.rfft(x, size)
    out_size = round(size * to_rate / from_rate)
    bins = min(len(spectrum), out_size // 2 + 1)
    resized = np.zeros(out_size // 2 + 1, np.complex128)
    resized[:bins] = spectrum[:bins]
    y = np.fft.irfft(resized, out_size) * (out_size / size)
    return y[:n_out].astype(np.float32)


def biquad_response(coefficients: Coefficients, size: int) -> npt.NDArray[np.complex128]:
    """The frequency response of an IIR filter (b, a) on an rfft grid of `size` points."""
    b, a = coefficients
    z = np.exp(-1j * np.pi * np.linspace(0, 1, size // 2 + 1))
    # np.polyval wants the highest power first: b0 + b1 z + b2 z^2 by Horner's rule.
    return np.asarray(np.polyval(b[::-1], z) / np.polyval(a[::-1], z), dtype=np.complex128)


def fft_filter(x: F64, filters: tuple[Coefficients, ...]) -> F64:
    """Apply IIR filters through the FFT; the caller pads with silence longer than their ring.

    Sizes are powers of two, so a handful of cached responses serve every clip length.
    """
    size = 1 << math.ceil(math.log2(max(len(x), 2)))
    return np.fft.irfft(np.fft.rfft(x, size) * _response(filters, size), size)[: len(x)]


@functools.lru_cache(maxsize=12)
def _response(filters: tuple[Coefficients, ...], size: int) -> npt.NDArray[np.complex128]:
    response = np.ones(size // 2 + 1, np.complex128)
    for coefficients in filters:
        response *= biquad_response(coefficients, size)
    return response


def lowpass_fir(taps: int, cutoff: float) -> F64:
    """A Hamming-windowed sinc low-pass; `cutoff` as a fraction of Nyquist (like scipy's firwin)."""
    m = np.arange(taps) - (taps - 1) / 2
    h = cutoff * np.sinc(cutoff * m) * np.hamming(taps)
    return np.asarray(h / h.sum())


def running_min(x: Float, size: int) -> Float:
    """Minimum over a centred window of `size` samples (edges repeat), in O(n).

    The van Herk / Gil-Werman method: prefix and suffix minima within blocks of `size`.
    """
    if size <= 1 or not len(x):
        return x
    half = size // 2
    padded = np.concatenate([np.full(half, x[0]), x, np.full(size - half, x[-1])])
    blocks = -(-len(padded) // size)
    padded = np.concatenate([padded, np.full(blocks * size - len(padded), x[-1])])
    grid = padded.reshape(blocks, size)
    prefix = np.minimum.accumulate(grid, axis=1).ravel()
    suffix = np.minimum.accumulate(grid[:, ::-1], axis=1)[:, ::-1].ravel()
    n = len(x)
    return np.minimum(suffix[:n], prefix[size - 1 : size - 1 + n]).astype(x.dtype, copy=False)


def running_mean(x: Float, size: int) -> Float:
    """Mean over a centred window of `size` samples (edges repeat)."""
    if size <= 1 or not len(x):
        return x
    half = size // 2
    padded = np.concatenate([np.full(half, x[0]), x, np.full(size - half, x[-1])])
    sums = np.concatenate([[0.0], np.cumsum(padded, dtype=np.float64)])
    mean: Float = ((sums[size : size + len(x)] - sums[: len(x)]) / size).astype(np.float32)
    return mean
