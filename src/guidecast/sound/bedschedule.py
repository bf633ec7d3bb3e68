"""Beds that change through a session: per section, block or step, in work and in rest, or a
folder of music played through.

Where the bed changes, the one before fades out while the next fades in over `CROSSFADE_S`
(equal-power gains centred on the change, shorter when a stretch is short). Each bed keeps
its own time: it resumes where it left off when it comes back, so a folder plays its files
through across the stretches it is heard in. The whole is ducked under speech and faded in
and out exactly as a single bed is (the duck and fades are `BedPlan`'s), and its power every
100 ms is worked out for the session's loudness as a single bed's is.

A session with one bed that is not a folder never comes here: it is a `BedPlan`.
"""

from __future__ import annotations

import bisect
import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from ..compiler.timeline import Layout, Silence, Sound, Speak, Timeline
from ..errors import Loc
from ..media.arrays import F64, Float
from ..media.beds import BedLoop, kept_bed
from ..media.playlist import Playlist
from ..model import BedChoice, Routine, SoundRef
from ..routine.sounds import is_folder
from ..store.blobs import BlobStore
from .levels import SPEECH_LUFS
from .mix import BedPlan, Mix, plan_bed

__all__ = [
    "CROSSFADE_S",
    "BedSchedule",
    "Stretch",
    "bed_stretches",
    "needs_schedule",
    "plan_schedule",
]

CROSSFADE_S = 3.0
"""Where the bed changes, the two overlap this long (equal power), centred on the change."""


_NO_BED = SoundRef("", None, Loc("<none>"))


class Source(Protocol):
    """A bed as a schedule plays it: samples at any position of its own time, and its power."""

    lufs: float
    peak: float

    def samples(self, a: int, b: int) -> Float: ...

    def power(self, at: F64) -> F64: ...


class LoopSource:
    """A bed loop (built-in or a file) as a schedule plays it: round and round."""

    def __init__(self, loop: BedLoop) -> None:
        self.loop = loop
        self.lufs = loop.lufs
        self.peak = loop.peak

    def samples(self, a: int, b: int) -> Float:
        n = self.loop.size
        index = np.arange(a, b, dtype=np.int64) % n
        out: Float = self.loop.samples[index]
        return out

    def power(self, at: F64) -> F64:
        loop = self.loop
        stride, n, sums = loop.power_stride, loop.size, loop.power_sums
        step = loop.rate // 10
        start = (np.floor(at - step / 2).astype(np.int64) // stride) * stride
        edges = np.stack([start, start + step])
        total = (edges // n) * sums[-1] + sums[(edges % n) // stride]
        return np.asarray((total[1] - total[0]) / step, np.float64)


@dataclass(frozen=True)
class Stretch:
    """A stretch of the session with one bed (None: none) at one level."""

    start: int
    end: int
    """Samples: [start, end)."""
    bed: SoundRef | None
    level: float
    """LU relative to the speech."""


def needs_schedule(routine: Routine, mix: Mix) -> bool:
    """Whether the session's bed changes (a step, block or section names its own, or there is
    one for rests) or is a folder: else it is a single `BedPlan`."""
    if any(s.bed is not None or s.bed_level is not None for s in routine.steps):
        return True
    if mix.bed_rest is not None:
        return True
    return mix.bed is not None and _is_folder(mix.bed)


def _is_folder(ref: SoundRef) -> bool:
    return ref.path is not None and is_folder(Path(ref.path))


def _choice(routine: Routine, mix: Mix, step: int | None) -> tuple[BedChoice | None, float]:
    own = routine.steps[step] if step is not None else None
    level = own.bed_level if own is not None and own.bed_level is not None else mix.bed_level
    if own is not None and own.bed is not None:
        return own.bed, level
    if mix.bed is None and mix.bed_rest is None:
        return None, level
    return BedChoice(mix.bed or _NO_BED, mix.bed_rest), level


def bed_stretches(timeline: Timeline, lay: Layout, mix: Mix, rate: int) -> list[Stretch]:
    """Which bed plays where: each step's own (else its block's or section's, else the
    session's), the rest bed in rests and in what is said outside the steps (introduction,
    outro); a bell takes the bed of what follows it, a pause between steps keeps the bed
    before it. Neighbours with the same bed merge."""
    routine = timeline.routine
    marks: list[tuple[int, SoundRef | None, float] | None] = []
    stepped = False
    for item in lay.items:
        e = item.event
        lead_in = isinstance(e, Silence) and e.step is None and e.kind == "rest"
        # The closing said after the last step (no outro) keeps that step's bed to the end.
        closing = isinstance(e, Speak) and e.step is None and stepped and not routine.outro
        stepped = stepped or getattr(e, "step", None) is not None
        if (
            isinstance(e, Sound)
            or (isinstance(e, Silence) and e.step is None and not lead_in)
            or closing
        ):
            marks.append(None)  # a bell, a pause between steps or the closing: see below
            continue
        choice, level = _choice(routine, mix, e.step)
        rest = (
            e.step is None
            or routine.steps[e.step].kind == "rest"
            or (isinstance(e, Silence) and e.kind == "rest")
        )
        bed = None if choice is None else choice.rest if rest and choice.rest else choice.work
        if bed is not None and bed.is_none:
            bed = None
        marks.append((item.start_ms * rate // 1000, bed, level))
    # A bell takes the bed of what comes after it; a pause outside a step, of what came before.
    following = None
    for i in range(len(marks) - 1, -1, -1):
        mark = marks[i]
        if mark is None:
            if following is not None and isinstance(lay.items[i].event, Sound):
                marks[i] = (lay.items[i].start_ms * rate // 1000, following[1], following[2])
        else:
            following = mark
    total = lay.total_ms * rate // 1000
    out: list[Stretch] = []
    for mark in marks:
        if mark is None:
            continue
        start, bed, level = mark
        key = (bed, level if bed is not None else 0.0)
        if out and _same(out[-1].bed, bed) and out[-1].level == key[1]:
            continue
        if out:
            out[-1] = Stretch(out[-1].start, start, out[-1].bed, out[-1].level)
        out.append(Stretch(0 if not out else start, total, *key))
    return [s for s in out if s.end > s.start] or [Stretch(0, total, None, 0.0)]


def _same(a: SoundRef | None, b: SoundRef | None) -> bool:
    """The same bed, wherever it is named."""
    return (a and (a.name, a.path)) == (b and (b.name, b.path))


@dataclass(frozen=True)
class Segment:
    """A stretch as played: its bed, gain, and where in the bed's own time it plays."""

    start: int
    end: int
    source: int | None
    """Index into the schedule's sources; None for no bed."""
    gain: float
    """Linear gain from the source to the output (before the session gain)."""
    lead: int
    """Samples it fades in over before `start` (half the crossfade)..."""
    tail: int
    """...and out over after `end`."""
    offset: int
    """The source's own position at `start - lead`."""
    glide_in: bool = False
    """The stretch before plays the same bed (at another level)..."""
    glide_out: bool = False
    """...or the one after does."""


@dataclass(frozen=True, eq=False)
class BedSchedule:
    """Beds that change through a session, laid out in samples: what `mix_bed` and the
    loudness estimate need of a bed, as `BedPlan` gives it for a single one."""

    loop: BedLoop
    """Holds only the output rate (what reads a bed's rate reads it here)."""
    scale: float
    """Linear gain to the output on top of every segment's (the session gain)."""
    shape: BedPlan
    """The ducks under speech and the start and end fades (a `BedPlan` at unit scale)."""
    segments: tuple[Segment, ...]
    sources: tuple[Source, ...]
    total: int
    mix: Mix
    blocks: F64 | None = None
    """The session's 400 ms block powers with the beds, before the session gain."""

    @property
    def ducks(self) -> tuple[tuple[int, int], ...]:
        return self.shape.ducks

    @property
    def peak(self) -> float:
        """The largest sample the beds can reach at full level (two of them, crossfading)."""
        loud = [s.gain * self.sources[s.source].peak for s in self.segments if s.source is not None]
        return max(loud, default=0.0) * math.sqrt(2) * self.scale

    @property
    def ducked_peak(self) -> float:
        return self.peak * 10 ** (-self.mix.duck_db / 20)

    @functools.cached_property
    def _reach(self) -> list[int]:
        """Where each segment stops sounding (in order: a crossfade is at most half of either
        side), to find the few a stretch of output needs."""
        return [seg.end + seg.tail for seg in self.segments]

    def _weights(self, seg: Segment, t: F64) -> F64:
        """A segment's crossfade gains at positions `t`: equal power (sin in, cos out) between
        two beds; between two levels of one bed, complementary (sin² and cos²) over one
        continuous play of it, so its level glides from one to the other."""
        w = np.ones(len(t), np.float64)
        if seg.lead:
            rise = np.sin(
                np.clip((t - (seg.start - seg.lead) + 0.5) / (2 * seg.lead), 0, 1) * np.pi / 2
            )
            w *= rise**2 if seg.glide_in else rise
        if seg.tail:
            fall = np.cos(
                np.clip((t - (seg.end - seg.tail) + 0.5) / (2 * seg.tail), 0, 1) * np.pi / 2
            )
            w *= fall**2 if seg.glide_out else fall
        return w

    def segment(self, a: int, b: int) -> Float:
        """The beds for output samples [a, b): crossfaded, faded and ducked, at output level."""
        out = np.zeros(b - a, np.float32)
        for seg in self.segments[bisect.bisect_right(self._reach, a) :]:
            if seg.start - seg.lead >= b:
                break
            lo, hi = max(a, seg.start - seg.lead), min(b, seg.end + seg.tail)
            if hi <= lo or seg.source is None:
                continue
            here = seg.offset + lo - (seg.start - seg.lead)
            x = self.sources[seg.source].samples(here, here + hi - lo)
            w = self._weights(seg, np.arange(lo, hi, dtype=np.float64)) * seg.gain
            out[lo - a : hi - a] += x * w.astype(np.float32)
        out *= np.float32(self.scale)
        duck = self.shape.duck(a, b)
        if duck is not None:
            out *= np.exp(duck * np.float32(-self.mix.duck_db * math.log(10) / 20))
        fade = self.shape.fades(a, b)
        if fade is not None:
            out *= fade
        return out

    def sub_block_power(self, step: int) -> F64:
        """The beds' mean K-weighted power in each `step` samples of the session, as mixed."""
        middle = np.arange(step / 2, self.total, step, dtype=np.float64)
        power = np.zeros(len(middle), np.float64)
        for seg in self.segments:
            lo, hi = np.searchsorted(middle, (seg.start - seg.lead, seg.end + seg.tail))
            if hi <= lo or seg.source is None:
                continue
            t = middle[lo:hi]
            here = seg.offset + t - (seg.start - seg.lead)
            w = self._weights(seg, t) * seg.gain
            power[lo:hi] += self.sources[seg.source].power(here) * w**2
        duck = self.shape._duck_at(middle, self.ducks).astype(np.float64)
        gain = self.scale * 10 ** (-self.mix.duck_db * duck / 20) * self.shape._fade_at(middle)
        return np.asarray(power * gain**2, np.float64)


def _rate_only(rate: int) -> BedLoop:
    silent = np.zeros(1, np.float32)
    zeros = np.zeros(2, np.float64)
    return BedLoop("schedule", rate, 1, -math.inf, 0.0, zeros, 1, ("schedule",), lambda: silent)


def _source(ref: SoundRef, rate: int, store: BlobStore) -> Source:
    if _is_folder(ref):
        assert ref.path is not None
        return Playlist(Path(ref.path), rate, store=store)
    return LoopSource(kept_bed(ref, rate, store))


def plan_schedule(
    timeline: Timeline,
    lay: Layout,
    mix: Mix,
    *,
    rate: int,
    spans: Sequence[tuple[int, int]],
    store: BlobStore,
) -> BedSchedule:
    """Lay the session's beds out: which plays where, crossfaded, each at its level under
    the speech; `spans` are what the beds duck under (samples)."""
    stretches = bed_stretches(timeline, lay, mix, rate)
    keys: dict[tuple[str, str | None], int] = {}
    sources: list[Source] = []
    for s in stretches:
        if s.bed is not None and (s.bed.name, s.bed.path) not in keys:
            keys[(s.bed.name, s.bed.path)] = len(sources)
            sources.append(_source(s.bed, rate, store))
    fade = int(CROSSFADE_S * rate)
    played: dict[int, int] = {}
    segments: list[Segment] = []
    for i, s in enumerate(stretches):
        before = stretches[i - 1] if i else None
        after = stretches[i + 1] if i + 1 < len(stretches) else None
        lead = _half(fade, before, s)
        tail = _half(fade, s, after)
        index = None if s.bed is None else keys[(s.bed.name, s.bed.path)]
        gain = 0.0
        if index is not None:
            db = _gain_db(sources[index], s.level)
            gain = 10 ** (db / 20) if math.isfinite(db) else 0.0
        offset = played.get(index, 0) if index is not None else 0
        glide_in = bool(segments) and index is not None and segments[-1].source == index
        if glide_in:
            # One play of the bed throughout: the same position at the same time.
            offset -= lead + segments[-1].tail
        glide_out = after is not None and _same(after.bed, s.bed) and s.bed is not None
        segments.append(
            Segment(s.start, s.end, index, gain, lead, tail, offset, glide_in, glide_out)
        )
        if index is not None:
            played[index] = offset + lead + (s.end - s.start) + tail
    total = lay.total_ms * rate // 1000
    stub = _rate_only(rate)
    shape = plan_bed(stub, mix, level_db=0.0, spans=spans, total=total)
    return BedSchedule(stub, 1.0, shape, tuple(segments), tuple(sources), total, mix)


def _half(fade: int, a: Stretch | None, b: Stretch | None) -> int:
    """Half the crossfade between two stretches: at most half of either."""
    if a is None or b is None:
        return 0
    return max(0, min(fade // 2, (a.end - a.start) // 2, (b.end - b.start) // 2))


def _gain_db(source: Source, level: float) -> float:
    """The gain (dB) that sets a source `level` LU under the speech."""
    if not math.isfinite(source.lufs):
        return -math.inf
    return SPEECH_LUFS + level - source.lufs
