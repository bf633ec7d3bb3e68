"""The mix: how bells and an optional ambience bed sit with the speech, and the bed's stream.

The bed is laid under the whole session at `bed_level` LU relative to the speech, faded in at
the start and out at the end, and ducked under speech (and bells, if asked) with a smooth
attack before each sentence and a release after it. Speech times are known from the layout,
so the bed is already down when a sentence starts. It is mixed into the PCM stream block by
block from one loop in memory, whatever the session's length.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from .bed import BedLoop
from .model import Routine, SoundRef

__all__ = ["BED_LEVEL", "BedPlan", "Mix", "mix_bed", "plan_bed", "resolve_mix"]

Float = npt.NDArray[np.float32]
Pcm = npt.NDArray[np.int16]

BED_LEVEL = -20.0
"""Default bed loudness in LU relative to the speech."""
SOFT_ONSET_MS = 120
"""Fade-in of a bell with a soft onset."""


@dataclass(frozen=True)
class Mix:
    """How the session's sounds are balanced: bells, and an optional bed under everything."""

    bed: SoundRef | None = None
    """A built-in bed (`ocean`) or a sound file; None for no bed (the default)."""
    bed_level: float = BED_LEVEL
    """Bed loudness in LU relative to the speech, in the holds."""
    duck_db: float = 18.0
    """How far the bed drops under speech."""
    duck_bells: bool = False
    """Also duck the bed under bells."""
    attack_ms: int = 300
    """The bed goes down over this much time, ending as a sentence starts."""
    release_ms: int = 900
    """The bed comes back over this much time, after `hold_ms` of quiet."""
    hold_ms: int = 400
    fade_in_ms: int = 4000
    fade_out_ms: int = 6000
    bell_onset_ms: int = 0
    """Fade every bell in over this long (0: as the sound file starts)."""


def resolve_mix(
    routine: Routine,
    *,
    bed: SoundRef | None = None,
    bed_level: float | None = None,
    soft_bells: bool | None = None,
) -> Mix:
    """Combine command-line choices with the routine's defaults (the command line wins).

    `bed` may name `none` (an empty SoundRef) to turn off the bed a routine asks for.
    """
    d = routine.defaults
    chosen = bed or d.bed
    level = bed_level if bed_level is not None else d.bed_level
    return Mix(
        bed=chosen if chosen is not None and not chosen.is_none else None,
        bed_level=level if level is not None else BED_LEVEL,
        bell_onset_ms=SOFT_ONSET_MS if soft_bells else 0,
    )


@dataclass(frozen=True, eq=False)
class BedPlan:
    """A bed laid out for one session: its loop, level and where it ducks, in samples."""

    loop: BedLoop
    scale: float
    """Linear gain from the loop to the output (session gain included)."""
    ducks: tuple[tuple[int, int], ...]
    """Merged (start, end) sample spans of the sound the bed ducks under, in time order."""
    total: int
    """Samples in the session."""
    mix: Mix

    @property
    def peak(self) -> float:
        """The bed's largest sample at full level in the output."""
        return float(np.abs(self.loop.samples).max()) * self.scale

    @property
    def ducked_peak(self) -> float:
        """The bed's largest sample while ducked."""
        return self.peak * 10 ** (-self.mix.duck_db / 20)

    def duck(self, a: int, b: int) -> Float | None:
        """How far ducked each sample in [a, b) is (0 full level, 1 all the way down); None
        when the bed is at full level throughout."""
        rate = self.loop.rate
        attack = max(1, self.mix.attack_ms * rate // 1000)
        hold = self.mix.hold_ms * rate // 1000
        release = max(1, self.mix.release_ms * rate // 1000)
        out: Float | None = None
        first = max(0, bisect.bisect_left(self.ducks, (a - hold - release, -1)) - 1)
        for start, end in self.ducks[first:]:
            if start - attack >= b:
                break
            if end + hold + release <= a:
                continue
            if out is None:
                out = np.zeros(b - a, np.float32)
            t = np.arange(a, b, dtype=np.float32)
            rise = np.clip((t - np.float32(start - attack)) / np.float32(attack), 0, 1)
            fall = np.clip((np.float32(end + hold + release) - t) / np.float32(release), 0, 1)
            np.maximum(out, np.minimum(rise, fall), out=out)
        if out is None:
            return None
        # A raised cosine: the gain leaves and reaches each level with zero slope.
        shaped: Float = (0.5 - 0.5 * np.cos(np.float32(np.pi) * out)).astype(np.float32)
        return shaped

    def fades(self, a: int, b: int) -> Float | None:
        """The start and end fades over [a, b); None where the bed is not fading."""
        rate = self.loop.rate
        fin = max(1, min(self.mix.fade_in_ms * rate // 1000, self.total // 3))
        fout = max(1, min(self.mix.fade_out_ms * rate // 1000, self.total // 3))
        if fin <= a and b <= self.total - 1 - fout:
            return None
        t = np.arange(a, b, dtype=np.float64)
        ramp = np.clip(np.minimum(t / fin, (self.total - 1 - t) / fout), 0, 1)
        shaped: Float = (0.5 - 0.5 * np.cos(np.pi * ramp)).astype(np.float32)
        return shaped

    def segment(self, a: int, b: int) -> Float:
        """The bed for output samples [a, b): looped, faded and ducked, at output level."""
        loop = self.loop.samples
        n = len(loop)
        parts: list[Float] = []
        at = a
        while at < b:
            take = min(b - at, n - at % n)
            parts.append(loop[at % n : at % n + take])
            at += take
        x: Float = (parts[0] if len(parts) == 1 else np.concatenate(parts)) * np.float32(self.scale)
        duck = self.duck(a, b)
        if duck is not None:
            x *= np.exp(duck * np.float32(-self.mix.duck_db * math.log(10) / 20))
        fade = self.fades(a, b)
        if fade is not None:
            x *= fade
        return x

    def unducked_seconds(self) -> float:
        """Roughly how long the bed plays at full level (for the loudness estimate)."""
        rate = self.loop.rate
        pad = (self.mix.attack_ms + self.mix.hold_ms + self.mix.release_ms) * rate // 2000
        ducked = sum(end - start + pad for start, end in self.ducks)
        return max(0.0, (self.total - ducked) / rate)


def plan_bed(
    loop: BedLoop, mix: Mix, *, level_db: float, spans: Sequence[tuple[int, int]], total: int
) -> BedPlan:
    """Lay a bed under a session: `level_db` is the gain from its loop to the output (dB)."""
    gap = (mix.attack_ms + mix.hold_ms) * loop.rate // 1000
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start - merged[-1][1] <= gap:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return BedPlan(loop, 10 ** (level_db / 20), tuple(merged), total, mix)


def bed_gain_db(loop: BedLoop, speech_lufs: float, level_lu: float) -> float:
    """The gain (dB) that sets a loop `level_lu` under speech measuring `speech_lufs`."""
    if not math.isfinite(loop.lufs) or not math.isfinite(speech_lufs):
        return -math.inf
    return speech_lufs + level_lu - loop.lufs


def mix_bed(blocks: Iterator[Pcm], plan: BedPlan, channels: int) -> Iterator[Pcm]:
    """Add the bed to a stream of int16 blocks (interleaved when stereo), block by block."""
    cursor = 0
    for block in blocks:
        n = len(block) // channels
        bed = plan.segment(cursor, cursor + n) * np.float32(32767)
        if channels > 1:
            bed = np.repeat(bed, channels)
        mixed = np.rint(block + bed)
        yield np.clip(mixed, -32768, 32767, out=mixed).astype(np.int16)
        cursor += n
