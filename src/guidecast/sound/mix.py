"""The mix: how bells and an optional ambience bed sit with the speech, and the bed's stream.

The bed is laid under the whole session at `bed_level` LU relative to the speech, faded in at
the start and out at the end, and ducked under speech (and bells, if asked) with a smooth
attack before each sentence. It stays down across the short gaps between the sentences of one
instruction and comes back slowly in the holds, so it breathes with the voice instead of
pumping. Speech times are known from the layout, so the bed is already down when a sentence
starts. It is mixed into the PCM stream block by block from one loop in memory, whatever the
session's length.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from ..errors import Loc
from ..media.arrays import F64, Float, Pcm
from ..media.beds import BedLoop
from ..media.decode import INT16_MAX
from ..model import Routine, SoundRef
from ..routine.keys import BED_LEVEL, CLOCK_BED_LEVEL, DEFAULT_BED, DEFAULT_BED_LEVEL
from ..routine.sounds import bed_ref

__all__ = [
    "BED_LEVEL",
    "BedPlan",
    "BedSegments",
    "Mix",
    "bed_gain_db",
    "ducks",
    "mix_bed",
    "plan_bed",
    "resolve_mix",
]


_SEGMENT = 1 << 17
"""Samples of bed made at once (3 s at 44.1 kHz)."""
SOFT_ONSET_MS = 120
"""Fade-in of a bell with a soft onset."""


@dataclass(frozen=True)
class Mix:
    """How the session's sounds are balanced: bells, and an optional bed under everything."""

    bed: SoundRef | None = None
    """A built-in bed (`ocean`) or a sound file; None for no bed (`resolve_mix` gives a
    routine the default bed)."""
    bed_level: float = BED_LEVEL
    """Bed loudness in LU relative to the speech, in the holds."""
    bed_rest: SoundRef | None = None
    """The bed in the rests (`bed: {work: ..., rest: ...}`); None: `bed` throughout."""
    duck_db: float = 18.0
    """How far the bed drops under speech."""
    duck_bells: bool = False
    """Also duck the bed under bells."""
    attack_ms: int = 500
    """The bed goes down over this much time, ending as a sentence starts."""
    release_ms: int = 3000
    """The bed comes back over this much time, after `hold_ms` of quiet: slowly, as a room
    sound returns when the teacher stops talking."""
    hold_ms: int = 400
    """Quiet after the last sentence before the bed starts coming back."""
    bridge_ms: int = 3000
    """A gap shorter than this between two sounds the bed ducks under (the sentences of one
    instruction) keeps it down all the way through."""
    fade_in_ms: int = 4000
    """The bed fades in over this long at the start of the session..."""
    fade_out_ms: int = 6000
    """...and out over this long at its end, reaching zero on the last sample."""
    bell_onset_ms: int = 0
    """Fade every bell in over this long (0: as the sound file starts)."""


def resolve_mix(
    routine: Routine,
    *,
    bed: SoundRef | str | None = None,
    bed_level: float | None = None,
    soft_bells: bool | None = None,
) -> Mix:
    """Combine command-line choices with the routine's defaults (the command line wins).

    `bed` is a built-in name (`"ocean"`), a sound file, or `none` to turn off the bed the
    routine asks for, read as a routine's `bed:` is (`routine.sounds.bed_ref`, files relative
    to the current folder); AudioError says what is wrong with it. When neither names a bed,
    the session gets `DEFAULT_BED`, faint (`DEFAULT_BED_LEVEL`, or `CLOCK_BED_LEVEL` on the
    clock) unless a level is given: so that no hold is dead air.
    """
    d = routine.defaults
    if isinstance(bed, str) and d.bed is not None and bed.strip() == d.bed.name:
        chosen: SoundRef | None = d.bed  # the routine's own, named (its rest bed goes with it)
    else:
        chosen = bed_ref(bed) if isinstance(bed, str) else bed or d.bed
    default = SoundRef(DEFAULT_BED, None, Loc("<default>"))
    # Naming the default bed itself (as the server's picker does) is the default too.
    defaulted = d.bed is None and (
        chosen is None or (chosen.path, chosen.name) == (None, DEFAULT_BED)
    )
    level = bed_level if bed_level is not None else d.bed_level
    if level is None:
        level = (
            BED_LEVEL if not defaulted else CLOCK_BED_LEVEL if routine.clock else DEFAULT_BED_LEVEL
        )
    chosen = default if chosen is None else chosen
    # A bed for the rests goes with the routine's own bed, not with one the command line names.
    rest = d.bed_rest if chosen is d.bed else None
    return Mix(
        bed=None if chosen.is_none else chosen,
        bed_level=level,
        bed_rest=rest,
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
    blocks: F64 | None = None
    """The whole session's 400 ms block powers with this bed, before the session gain: what
    its loudness is set by."""
    restarts: tuple[int, ...] = ()
    """Samples, in order, where the loop starts again from its beginning (a steady bed under
    the splice renderer's runs, so that a run sounds the same wherever it lands); else the
    loop plays through from the session's start."""
    restart_lead: int = 0
    """The bed moves to its new place this many samples before each restart, playing the
    end of the loop up to it (where an encoder started there puts the loop's own frames)."""

    def _switches(self) -> list[int]:
        return [r - self.restart_lead for r in self.restarts]

    def phase(self, at: int) -> int:
        """Where in the loop output sample `at` is."""
        k = bisect.bisect_right(self.restarts, at + self.restart_lead)
        return (at - (self.restarts[k - 1] if k else 0)) % self.loop.size

    @property
    def peak(self) -> float:
        """The bed's largest sample at full level in the output."""
        return self.loop.peak * self.scale

    @property
    def ducked_peak(self) -> float:
        """The bed's largest sample while ducked."""
        return self.peak * 10 ** (-self.mix.duck_db / 20)

    def _ramps(self) -> tuple[int, int, int]:
        rate = self.loop.rate
        attack = max(1, self.mix.attack_ms * rate // 1000)
        hold = self.mix.hold_ms * rate // 1000
        release = max(1, self.mix.release_ms * rate // 1000)
        return attack, hold, release

    def _fade_lengths(self) -> tuple[int, int]:
        """Samples the bed fades in over at the start, and out over at the end."""
        rate = self.loop.rate
        fin = max(1, min(self.mix.fade_in_ms * rate // 1000, self.total // 3))
        fout = max(1, min(self.mix.fade_out_ms * rate // 1000, self.total // 3))
        return fin, fout

    def _duck_at(self, t: F64, ducks: Sequence[tuple[int, int]]) -> Float:
        """The duck curve at sample positions `t` (in increasing order)."""
        attack, hold, release = self._ramps()
        out = np.zeros(len(t), np.float32)
        for start, end in ducks:
            lo, hi = np.searchsorted(t, (start - attack, end + hold + release))
            if hi <= lo:
                continue
            near = t[lo:hi]
            rise = np.clip((near - (start - attack)) / attack, 0, 1)
            fall = np.clip((end + hold + release - near) / release, 0, 1)
            np.maximum(out[lo:hi], np.minimum(rise, fall), out=out[lo:hi], casting="unsafe")
        # A raised cosine: the gain leaves and reaches each level with zero slope.
        shaped: Float = (0.5 - 0.5 * np.cos(np.float32(np.pi) * out)).astype(np.float32)
        return shaped

    def duck(self, a: int, b: int) -> Float | None:
        """How far ducked each sample in [a, b) is (0 full level, 1 all the way down); None
        when the bed is at full level throughout."""
        attack, hold, release = self._ramps()
        first = max(0, bisect.bisect_left(self.ducks, (a - hold - release, -1)) - 1)
        near: list[tuple[int, int]] = []
        for start, end in self.ducks[first:]:
            if start - attack >= b:
                break
            if end + hold + release > a:
                near.append((start, end))
        if not near:
            return None
        return self._duck_at(np.arange(a, b, dtype=np.float64), near)

    def _fade_at(self, t: F64) -> Float:
        fin, fout = self._fade_lengths()
        ramp = np.clip(np.minimum(t / fin, (self.total - 1 - t) / fout), 0, 1)
        shaped: Float = (0.5 - 0.5 * np.cos(np.pi * ramp)).astype(np.float32)
        return shaped

    def fading(self, a: int, b: int) -> bool:
        """Whether the bed fades in or out anywhere in [a, b)."""
        fin, fout = self._fade_lengths()
        return not (fin <= a and b <= self.total - 1 - fout)

    def fades(self, a: int, b: int) -> Float | None:
        """The start and end fades over [a, b); None where the bed is not fading."""
        if not self.fading(a, b):
            return None
        return self._fade_at(np.arange(a, b, dtype=np.float64))

    def sub_block_power(self, step: int) -> F64:
        """The bed's mean K-weighted power in each `step` samples of the session, as mixed.

        From the loop's own K-weighted power (looped exactly) and the bed's gain at the middle
        of each step: what the loudness of the whole session is estimated from.
        """
        power, stride, n = self.loop.power_sums, self.loop.power_stride, self.loop.size
        assert step % stride == 0
        edges = np.arange(0, self.total + step, step, dtype=np.int64)
        sums = (edges // n) * power[-1] + power[(edges % n) // stride]
        mean = np.diff(sums) / step
        middle = (edges[:-1] + step / 2).astype(np.float64)
        duck = self._duck_at(middle, self.ducks).astype(np.float64)
        gain = self.scale * 10 ** (-self.mix.duck_db * duck / 20) * self._fade_at(middle)
        return np.asarray(mean * gain**2, np.float64)

    def changing(self) -> list[tuple[int, int]]:
        """The sample spans where the bed leaves its steady level before its fade-out: the
        fade-in, and where it ducks (from the start of each attack to the end of each
        release), merged, in order. The fade-out goes on from `fade_out_start()` to the end."""
        attack, hold, release = self._ramps()
        fin, _ = self._fade_lengths()
        spans = [(0, fin)]
        spans += [(start - attack, end + hold + release) for start, end in self.ducks]
        merged: list[tuple[int, int]] = []
        for start, end in sorted(spans):
            if merged and start <= merged[-1][1]:
                merged[-1] = (merged[-1][0], max(merged[-1][1], end))
            else:
                merged.append((max(0, start), min(self.total, end)))
        return merged

    def fade_out_start(self) -> int:
        """The last sample at the bed's full level before it fades out (to the session's end):
        the fade-out reaches stretches that end after it."""
        return self.total - 1 - self._fade_lengths()[1]

    def describe(self, a: int, b: int) -> list[object]:
        """What the bed's gain over samples [a, b) is made of, relative to `a` (JSON-able):
        with the loop, its scale and its phase at `a`, it keys what is encoded from it."""
        attack, hold, release = self._ramps()
        m = self.mix
        near = [[s - a, e - a] for s, e in self.ducks if s - attack < b and e + hold + release > a]
        fin, fout = self._fade_lengths()
        return [
            [m.duck_db, m.attack_ms, m.hold_ms, m.release_ms, m.fade_in_ms, m.fade_out_ms],
            near,
            # where it fades in (from the start) or out (from the end), as far as it reaches
            [a if a < fin else None, self.total - a if b > self.total - 1 - fout else None],
        ]

    def segment(self, a: int, b: int) -> Float:
        """The bed for output samples [a, b): looped, faded and ducked, at output level."""
        if b - a > _SEGMENT:  # its gain curves are worked out in float64: a piece at a time
            return np.concatenate(
                [self.segment(c, min(b, c + _SEGMENT)) for c in range(a, b, _SEGMENT)]
            )
        loop = self.loop.samples
        n = len(loop)
        parts: list[Float] = []
        at = a
        restarts = self._switches()
        k = bisect.bisect_right(restarts, a)  # restarts[k] is the next one after `at`
        while at < b:
            until = min(b, restarts[k]) if k < len(restarts) else b
            phase = self.phase(at)
            take = min(until - at, n - phase)
            parts.append(loop[phase : phase + take])
            at += take
            if k < len(restarts) and at == restarts[k]:
                k += 1
        x: Float = (parts[0] if len(parts) == 1 else np.concatenate(parts)) * np.float32(self.scale)
        duck = self.duck(a, b)
        if duck is not None:
            x *= np.exp(duck * np.float32(-self.mix.duck_db * math.log(10) / 20))
        fade = self.fades(a, b)
        if fade is not None:
            x *= fade
        return x


def plan_bed(
    loop: BedLoop, mix: Mix, *, level_db: float, spans: Sequence[tuple[int, int]], total: int
) -> BedPlan:
    """Lay a bed under a session: `level_db` is the gain from its loop to the output (dB)."""
    return BedPlan(loop, 10 ** (level_db / 20), ducks(mix, spans, loop.rate), total, mix)


def ducks(mix: Mix, spans: Sequence[tuple[int, int]], rate: int) -> tuple[tuple[int, int], ...]:
    """Where a bed ducks under sounds at `spans`: merged across gaps it bridges, in order."""
    gap = max(mix.bridge_ms, mix.attack_ms + mix.hold_ms) * rate // 1000
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start - merged[-1][1] < gap:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return tuple(merged)


def bed_gain_db(loop: BedLoop, speech_lufs: float, level_lu: float) -> float:
    """The gain (dB) that sets a loop `level_lu` under speech measuring `speech_lufs`."""
    if not math.isfinite(loop.lufs) or not math.isfinite(speech_lufs):
        return -math.inf
    return speech_lufs + level_lu - loop.lufs


class BedSegments(Protocol):
    """A bed as the mix reads it: its samples for any stretch of the output."""

    def segment(self, a: int, b: int) -> Float: ...


def mix_bed(blocks: Iterator[Pcm], plan: BedSegments, channels: int) -> Iterator[Pcm]:
    """Add the bed to a stream of int16 blocks (interleaved when stereo), block by block."""
    cursor = 0
    for block in blocks:
        n = len(block) // channels
        bed = plan.segment(cursor, cursor + n) * np.float32(INT16_MAX)
        if channels > 1:
            bed = np.repeat(bed, channels)
        mixed = np.rint(block + bed)
        yield np.clip(mixed, -INT16_MAX - 1, INT16_MAX, out=mixed).astype(np.int16)
        cursor += n
