"""Even sound: every sentence levelled to one loudness, every bell matched to loud speech.

Speech clips arrive peak-normalised from the voice, so a short "Five." can sound several LU
louder than a long instruction. Each clip is measured once (gated BS.1770, cached with the
clip) and levelled to `SPEECH_LUFS` before the session gain. Bells are then set so that their
loudest moment (400 ms momentary loudness) sits just under the loud end of the session's
speech (its 95th percentile), whatever the sound file's own level.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np

from ..media.arrays import F64, Float
from ..media.loudness import weighted_percentile

__all__ = [
    "BELL_MARGIN_LU",
    "SPEECH_LUFS",
    "bell_gain_db",
    "soft_onset",
    "speech_gain_db",
    "speech_p95",
]


SPEECH_LUFS = -20.0
"""Loudness every speech clip is levelled to before the session gain (leaves float headroom)."""
MAX_SPEECH_GAIN_DB = 24.0
"""A clip this much under the level is nearly silent: raise it no further."""
BELL_MARGIN_LU = 2.0
"""A bell's loudest moment sits this far under the 95th percentile of speech."""
MAX_BELL_GAIN_DB = 12.0
"""A quiet sound file is raised at most this much (its noise floor comes up with it)."""
GATE_LUFS = -70.0


def speech_gain_db(loudness: float | None) -> float:
    """The gain (dB) that brings a clip measuring `loudness` LUFS to `SPEECH_LUFS`."""
    if loudness is None or not math.isfinite(loudness):
        return 0.0
    return min(MAX_SPEECH_GAIN_DB, SPEECH_LUFS - loudness)


def speech_p95(pieces: Iterable[tuple[F64, int]]) -> float:
    """95th percentile of momentary loudness over speech, from (momentary LUFS, count) pieces.

    Each distinct clip is measured once and weighted by how often it plays; blocks under the
    absolute gate (the silence around a clip) do not count.
    """
    values: list[F64] = []
    weights: list[F64] = []
    for momentary, count in pieces:
        m = momentary[momentary > GATE_LUFS]
        values.append(m)
        weights.append(np.full(len(m), float(count)))
    if not values:
        return -math.inf
    return weighted_percentile(np.concatenate(values), np.concatenate(weights), 95)


def bell_gain_db(momentary: F64, speech_p95_lufs: float) -> float:
    """The gain (dB) that puts a bell's momentary maximum `BELL_MARGIN_LU` under speech p95."""
    m = momentary
    if not len(m) or not math.isfinite(speech_p95_lufs):
        return 0.0
    loudest = float(m.max())
    if not math.isfinite(loudest) or loudest <= GATE_LUFS:
        return 0.0
    return min(MAX_BELL_GAIN_DB, speech_p95_lufs - BELL_MARGIN_LU - loudest)


def soft_onset(x: Float, rate: int, ms: int) -> Float:
    """Fade a sound in over `ms` (a raised cosine): a bell that swells in instead of striking."""
    n = min(len(x), ms * rate // 1000)
    if n <= 1:
        return x
    out = x.copy()
    out[:n] *= (0.5 - 0.5 * np.cos(np.pi * np.arange(n) / n)).astype(np.float32)
    return out


GAIN_STEP_DB = 0.1
"""Session and bell gains are set in steps this fine, so that the encoded runs of one variant
serve the next (their gains differ by hundredths of a dB); half a step is far inside any
loudness tolerance."""


def stepped(db: float) -> float:
    """A gain rounded to the nearest `GAIN_STEP_DB` (infinities pass unchanged)."""
    return db if not math.isfinite(db) else round(round(db / GAIN_STEP_DB) * GAIN_STEP_DB, 6)
