"""Render: synthesize through the cache, lay out with real lengths, normalise, stream PCM."""

from __future__ import annotations

import contextlib
import functools
import logging
import math
import queue
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from ..compiler.fit import compile_and_lay_out, compile_routine
from ..compiler.options import Options
from ..compiler.timeline import Layout, Timeline, layout
from ..lang.speech import Estimate
from ..media.arrays import Float, Pcm
from ..media.beds import kept_bed
from ..media.decode import INT16_MAX, to_float
from ..media.format import AudioFormat
from ..media.loudness import LoudnessMeter, StreamMeter, limit_true_peak
from ..model import Routine
from ..routine.durations import format_clock, format_duration
from ..store.blobs import BlobStore
from .balance import (
    Levels,
    Piece,
    duck_spans,
    loudness_gap_db,
    match_bells,
    measure,
    pieces,
    session_blocks,
    session_gain,
)
from .bedschedule import BedSchedule, needs_schedule, plan_schedule
from .levels import SPEECH_LUFS, stepped
from .mix import BedPlan, Mix, bed_gain_db, mix_bed, plan_bed, resolve_mix
from .voice import NotKept, Progress, Voice, no_progress

__all__ = [
    "AudioFormat",
    "Levels",
    "PieceAudio",
    "Progress",
    "Rendered",
    "Voice",
    "at_gain",
    "prefetch",
    "render",
    "stream_pcm",
]

T = TypeVar("T")

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Rendered:
    """A timeline laid out with real lengths, and the gain that brings it to the target."""

    timeline: Timeline
    layout: Layout
    gain_db: float
    levels: Levels = field(default_factory=Levels)
    bed: BedPlan | None = None
    """The ambience bed under the session, if any."""
    limiter_loss_db: float = 0.0
    """What the true-peak limiter takes from the speech and bells, which `gain_db` makes up
    for: the session as heard is its measure at `gain_db - limiter_loss_db`."""
    schedule: BedSchedule | None = None
    """Beds that change through the session (per section, block or step, work and rest, a
    folder), instead of `bed`."""
    loudness_gap_db: float | None = None
    """How far its sound measured from the target before the gain (its pieces are measured
    through the limiter at that gain, to the nearest half dB); None when it is silent."""
    starts: tuple[int, ...] | None = None
    """The sample each piece (`balance.pieces`, in order) starts on, where the encoder has
    moved them (by under half an MP3 frame, see `mp3.bedruns.place_bed`); else each
    starts on the sample its planned time gives."""

    def piece_starts(self, rate: int) -> list[tuple[int, Piece]]:
        """Every piece of the session with the sample it starts on, in time order."""
        placed = pieces(self.layout)
        if self.starts is None:
            return [(piece.start_ms * rate // 1000, piece) for piece in placed]
        assert len(self.starts) == len(placed)
        return list(zip(self.starts, placed, strict=True))


def render(
    routine: Routine,
    options: Options,
    *,
    voice: Voice,
    fmt: AudioFormat,
    mix: Mix | None = None,
    progress: Progress = no_progress,
) -> Rendered:
    """Synthesize everything the session says, fit the length with real clips, and set the gain.

    Speech is levelled clip by clip, bells are matched to the speech, and the bed (if `mix`
    names one) is set under it; the gain then brings the whole to the loudness target. Give
    `voice.for_routine(routine)` to say the routine's own `pronounce:` words its way.
    """
    mix = mix or resolve_mix(routine)
    log.info("%s: voice %s, cache %s", routine.path, voice.identity, voice.cache.root)
    try:  # with every sentence kept (a re-render), fit the length with them at once
        timeline, lay = compile_and_lay_out(routine, options, voice.kept())
    except NotKept:  # else find what is said from estimates, and make it all in one go
        draft = compile_routine(routine, options, Estimate(options.rate))
        voice.prepare(draft.texts(), progress)
        timeline = compile_routine(routine, options, voice)
        voice.prepare(timeline.texts())
        lay = layout(timeline, voice)
    log.info(
        "%d sentences synthesized, %d from the cache",
        voice.synthesized,
        voice.sentences - voice.synthesized,
    )
    log.info(
        "laid out %s in %d chapters; holds %s",
        format_clock(lay.total_ms),
        len(lay.chapters),
        [format_duration(h) for h in timeline.holds_ms if h],
    )
    measures = measure(lay, voice, mix.bell_onset_ms)
    levels = match_bells(measures, mix)
    bed = schedule = None
    spans = duck_spans(lay, fmt.sample_rate, bells=mix.duck_bells)
    if needs_schedule(timeline.routine, mix):
        store = bed_store(voice.cache.root)
        schedule = plan_schedule(timeline, lay, mix, rate=fmt.sample_rate, spans=spans, store=store)
        schedule = replace(schedule, blocks=session_blocks(lay, measures, levels, schedule))
    elif mix.bed is not None:
        loop = kept_bed(mix.bed, fmt.sample_rate, bed_store(voice.cache.root))
        total = lay.total_ms * fmt.sample_rate // 1000
        level = bed_gain_db(loop, SPEECH_LUFS, mix.bed_level)
        bed = plan_bed(loop, mix, level_db=level, spans=spans, total=total)
        bed = replace(bed, blocks=session_blocks(lay, measures, levels, bed))
    source, exact, loss = session_gain(measures, voice, fmt, levels, bed or schedule)
    gain = stepped(exact)
    log.info(
        "speech, bells%s measure %.1f LUFS; gain %+.1f dB to reach %.1f LUFS",
        " and bed" if bed or schedule else "",
        source,
        gain,
        fmt.target_lufs,
    )
    gap = loudness_gap_db(source, fmt) if math.isfinite(source) else None
    rendered = Rendered(timeline, lay, 0.0, levels, bed, loss, schedule, gap)
    return at_gain(rendered, gain, fmt)


def at_gain(rendered: Rendered, gain_db: float, fmt: AudioFormat) -> Rendered:
    """The session at another gain: its bed follows the speech, and the speech and bells
    keep clear of the bed's peaks under the ceiling.

    The bed takes the gain alone, not the limiter's small loss (a few hundredths of a dB,
    different at every length): so that a session at another length, at the same gain, has
    the same bed, and its encoded frames serve again.
    """
    change = 10 ** ((gain_db - rendered.gain_db) / 20)
    bed, schedule, levels = rendered.bed, rendered.schedule, rendered.levels
    if bed is not None:
        bed = replace(bed, scale=bed.scale * change)
        speech, bells = _ceilings(bed, fmt)
        levels = replace(levels, speech_ceiling_db=speech, bell_ceiling_db=bells)
    if schedule is not None:
        schedule = replace(schedule, scale=schedule.scale * change)
        speech, bells = _ceilings(schedule, fmt)
        levels = replace(levels, speech_ceiling_db=speech, bell_ceiling_db=bells)
    return replace(rendered, gain_db=gain_db, levels=levels, bed=bed, schedule=schedule)


def bed_store(cache_root: Path) -> BlobStore:
    """Where a bed's measures are kept: beside the speech cache."""
    return BlobStore(cache_root / "beds", b"GCBED1", ".bed")


class _Processed:
    """Gain and limiting per piece, remembering recent results (repeated cues are common)."""

    def __init__(self, gain_db: float, fmt: AudioFormat, budget_bytes: int = 8 << 20) -> None:
        self.scale = 10 ** (gain_db / 20)
        self.fmt = fmt
        self.memo: OrderedDict[str, Pcm] = OrderedDict()
        self.budget = budget_bytes
        self.used = 0
        self.lock = threading.Lock()

    def __call__(self, key: str, load: Callable[[], Float], ceiling_db: float) -> Pcm:
        with self.lock:  # runs are encoded side by side (`mp3.bedsplice`)
            if key in self.memo:
                self.memo.move_to_end(key)
                return self.memo[key]
        x = limit_true_peak(load() * self.scale, ceiling_db, self.fmt.sample_rate)
        pcm = np.clip(np.round(x * INT16_MAX), -INT16_MAX - 1, INT16_MAX).astype(np.int16)
        with self.lock:
            if key not in self.memo:
                self.memo[key] = pcm
                self.used += pcm.nbytes
            while self.used > self.budget and len(self.memo) > 1:
                _, old = self.memo.popitem(last=False)
                self.used -= old.nbytes
        return pcm


class PieceAudio:
    """Each piece of a session as int16 at the session's gain, limited under its ceiling."""

    def __init__(self, rendered: Rendered, voice: Voice, fmt: AudioFormat) -> None:
        self.rendered = rendered
        self.voice = voice
        self.process = _Processed(rendered.gain_db, fmt)
        levels = rendered.levels
        self.speech_ceiling = _first(levels.speech_ceiling_db, fmt.true_peak)
        self.bell_ceiling = _first(levels.bell_ceiling_db, fmt.true_peak)

    def __call__(self, piece: Piece) -> Pcm:
        load = functools.partial(piece.audio, self.voice, self.rendered.levels)
        ceiling = self.speech_ceiling if piece.text else self.bell_ceiling
        return self.process(piece.key, load, ceiling)


def stream_pcm(
    rendered: Rendered,
    voice: Voice,
    fmt: AudioFormat,
    *,
    block_ms: int = 2000,
    meter: LoudnessMeter | None = None,
) -> Iterator[Pcm]:
    """Yield the session as int16 PCM blocks (interleaved when stereo), in constant memory.

    Sound and silence come in separate blocks of at most `block_ms`, so the encoder can tell
    silence at a glance. Every piece lands on the exact sample its start time gives, so
    chapter and caption times in milliseconds match the audio; silence is generated, never
    stored. A bed is added to every block as it passes.
    """
    bed = rendered.bed if rendered.bed is not None else rendered.schedule
    if bed is None:
        yield from _stream_pieces(rendered, voice, fmt, block_ms=block_ms, meter=meter)
        return
    pieces = _stream_pieces(rendered, voice, fmt, block_ms=block_ms, meter=None)
    if meter is None:
        yield from mix_bed(pieces, bed, fmt.channels)
        return
    # The mix itself is measured: the bed ducks under speech and sums with it, which no
    # estimate from the pieces and the bed apart gets right (it was 0.9 LU off).
    output = StreamMeter(fmt.sample_rate, fmt.channels)
    for block in mix_bed(pieces, bed, fmt.channels):
        output.feed(block)
        yield block
    meter.feed_blocks(output.blocks())


def _ceilings(bed: BedPlan | BedSchedule, fmt: AudioFormat) -> tuple[float, float]:
    """True-peak ceilings (dBTP) for speech and for bells, leaving room for the bed under them."""
    top = 10 ** (fmt.true_peak / 20)
    under_bells = bed.ducked_peak if bed.mix.duck_bells else bed.peak
    return (
        20 * math.log10(max(top - bed.ducked_peak, top / 2)),
        20 * math.log10(max(top - under_bells, top / 2)),
    )


def _stream_pieces(
    rendered: Rendered,
    voice: Voice,
    fmt: AudioFormat,
    *,
    block_ms: int,
    meter: LoudnessMeter | None,
) -> Iterator[Pcm]:
    """The speech, bells and silence of the session as int16 blocks (see `stream_pcm`)."""
    sr = fmt.sample_rate
    block = block_ms * sr // 1000
    total = rendered.layout.total_ms * sr // 1000
    audio = PieceAudio(rendered, voice, fmt)

    def chunks(pcm: Pcm) -> Iterator[Pcm]:
        for i in range(0, len(pcm), block):
            part = pcm[i : i + block]
            yield np.repeat(part, fmt.channels) if fmt.channels > 1 else part

    def silence(n: int) -> Iterator[Pcm]:
        while n > 0:
            yield np.zeros(min(n, block) * fmt.channels, np.int16)
            n -= block

    cursor = 0
    for start, piece in rendered.piece_starts(sr):
        pcm = audio(piece)
        if meter is not None:
            meter.feed_piece(to_float(pcm))
        yield from silence(start - cursor)
        pcm = pcm[max(0, cursor - start) : max(0, total - start)]
        yield from chunks(pcm)
        cursor = max(cursor, start + len(pcm))
    yield from silence(total - cursor)


def _first(value: float | None, default: float) -> float:
    return default if value is None else value


def prefetch(items: Iterator[T], depth: int = 4) -> Iterator[T]:
    """Run a generator in a background thread, `depth` items ahead of the consumer.

    The MP3 encoder releases the GIL, so preparing the next blocks (numpy, which mostly does
    too) overlaps with encoding on a second core. Errors reach the consumer; if the consumer
    stops early (Ctrl-C, a failed write), the thread is told to stop and finishes quickly.
    """
    buffer: queue.Queue[tuple[str, Any]] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def run() -> None:
        try:
            for item in items:
                while not stop.is_set():
                    try:
                        buffer.put(("item", item), timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            buffer.put(("end", None))
        except BaseException as e:  # handed to the consumer, who raises it
            buffer.put(("error", e))

    worker = threading.Thread(target=run, name="guidecast-pcm", daemon=True)
    worker.start()
    try:
        while True:
            kind, value = buffer.get()
            if kind == "end":
                return
            if kind == "error":
                raise value
            yield value
    finally:
        stop.set()
        with contextlib.suppress(queue.Empty):
            while True:
                buffer.get_nowait()
        worker.join(timeout=5)
