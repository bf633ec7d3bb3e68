"""Render: synthesize through the cache, lay out with real lengths, normalise, stream PCM."""

from __future__ import annotations

import contextlib
import functools
import logging
import math
import queue
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import Any, TypeVar

import numpy as np
import numpy.typing as npt

from .audio import load_sound, resample, to_float
from .bed import load_bed
from .compiler import compile_routine
from .durations import format_clock, format_duration
from .errors import EngineError
from .levels import SPEECH_LUFS, bell_gain_db, soft_onset, speech_gain_db, speech_p95
from .loudness import (
    SUB_PAD,
    LoudnessMeter,
    blocks_from_subs,
    clip_loudness,
    limit_true_peak,
    sub_block_power,
)
from .mix import BedPlan, Mix, bed_gain_db, mix_bed, plan_bed, resolve_mix
from .model import Routine, SoundRef
from .speech import Estimate
from .timeline import Layout, Options, Sound, Speak, Timeline, layout
from .tts import Clip, ClipCache, Engine

__all__ = [
    "AudioFormat",
    "Levels",
    "Progress",
    "Rendered",
    "Voice",
    "prefetch",
    "render",
    "stream_pcm",
]

T = TypeVar("T")

log = logging.getLogger(__name__)
Float = npt.NDArray[np.float32]
Float64 = npt.NDArray[np.float64]
Progress = Callable[[str, int, int], None]
"""Called as progress(stage, done, total) while synthesizing and encoding."""


def _no_progress(stage: str, done: int, total: int) -> None:
    return None


@dataclass(frozen=True)
class AudioFormat:
    """Output audio: CBR MP3 at a bitrate, a sample rate, mono or stereo, and a loudness target."""

    sample_rate: int = 44100
    channels: int = 1
    bitrate: int = 64
    """kbit/s, constant."""
    quality: int = 3
    """LAME's algorithm quality (0 best, 9 fastest); 3 is fast with no audible loss at 64k."""
    bed_quality: int = 7
    """LAME's quality when a bed plays: no frame is silent then, so every one is encoded, and
    7 encodes about twice as fast as 3 at the same signal-to-noise ratio (docs/performance.md)."""
    loudness: float | None = None
    """Integrated loudness target in LUFS; None means -19 for mono, -16 for stereo."""
    true_peak: float = -1.5
    """Ceiling in dBTP, a margin under the -1 dBTP standard for the MP3 encoder's overshoot."""
    encoder_gain_db: float = -0.44
    """LAME (through lameenc) scales its input by about 0.95, measured by decoding with ffmpeg;
    the loudness target makes up for it so the decoded file lands on target."""

    @property
    def target_lufs(self) -> float:
        if self.loudness is not None:
            return self.loudness
        return -19.0 if self.channels == 1 else -16.0


class Voice:
    """Speech through an engine and its cache, measured at the output rate (a `Durations`)."""

    def __init__(self, engine: Engine, cache: ClipCache, *, rate: float, sample_rate: int) -> None:
        self.engine = engine
        self.cache = cache
        self.rate = rate
        self.sample_rate = sample_rate
        self.identity = engine.identity()
        self._samples: dict[str, int] = {}
        self.synthesized = 0
        self._count = threading.Lock()

    def clip(self, text: str) -> Clip:
        """The sentence as the engine made it (from the cache when there), with its loudness."""
        key = ClipCache.key(self.identity, self.rate, text)
        clip = self.cache.get(key)
        if clip is None:
            clip = self.engine.synthesize(text, rate=self.rate)
            if not len(clip.samples):
                raise EngineError(
                    f"speech engine '{self.engine.name}' returned no audio for {text!r}"
                )
            clip = _measured(clip)
            self.cache.put(key, clip)
            with self._count:
                self.synthesized += 1
        elif clip.loudness is None:  # cached before clips were measured
            clip = _measured(clip)
            self.cache.put_loudness(key, clip)
        return clip

    def levelled(self, text: str) -> tuple[Float, int]:
        """The sentence at its own rate, levelled to `SPEECH_LUFS` (even speech)."""
        clip = self.clip(text)
        scale = np.float32(10 ** (speech_gain_db(clip.loudness) / 20))
        return to_float(clip.samples) * scale, clip.sample_rate

    @property
    def sentences(self) -> int:
        """Distinct sentences used so far."""
        return len(self._samples)

    def prepare(self, texts: list[str], progress: Progress = _no_progress) -> None:
        """Make sure every text is in the cache and its length known.

        Engines that can (Piper) synthesize several sentences at once, one per core.
        """
        todo = [t for t in dict.fromkeys(texts) if t not in self._samples]
        workers = getattr(self.engine, "workers", 1)
        done = len(texts) - len(todo)
        with ThreadPoolExecutor(max_workers=workers) as pool:
            for _ in pool.map(self.clip, todo):
                done += 1
                progress("speech", done, len(texts))
        for text in todo:
            self.samples(text)
        progress("speech", len(texts), len(texts))

    def samples(self, text: str) -> Float:
        """The sentence as float32 mono at the output rate, levelled to `SPEECH_LUFS`."""
        audio, rate = self.levelled(text)
        audio = resample(audio, rate, self.sample_rate)
        self._samples[text] = len(audio)
        return audio

    def speech_ms(self, text: str) -> int:
        if text not in self._samples:
            self.samples(text)
        return -(-self._samples[text] * 1000 // self.sample_rate)

    def sound_ms(self, sound: SoundRef) -> int:
        return -(-len(load_sound(sound, self.sample_rate)) * 1000 // self.sample_rate)


def _measured(clip: Clip) -> Clip:
    return replace(clip, loudness=clip_loudness(to_float(clip.samples), clip.sample_rate))


@dataclass(frozen=True)
class Levels:
    """The balance within a session: bell gains against speech, and their onset."""

    bell_gain_db: Mapping[str, float] = field(default_factory=dict)
    """Gain per bell, by piece key (speech is levelled by `Voice`)."""
    bell_onset_ms: int = 0
    speech_p95: float = -math.inf
    """95th percentile of the speech's momentary loudness (LUFS, before the session gain)."""
    speech_ceiling_db: float | None = None
    """True-peak ceiling for speech (dBTP), lower than the format's to leave room for a bed;
    None for the format's own."""
    bell_ceiling_db: float | None = None


@dataclass(frozen=True)
class Rendered:
    """A timeline laid out with real lengths, and the gain that brings it to the target."""

    timeline: Timeline
    layout: Layout
    gain_db: float
    source_lufs: float
    """Loudness of the speech and bells before normalisation."""
    levels: Levels = field(default_factory=Levels)
    bed: BedPlan | None = None
    """The ambience bed under the session, if any."""


def render(
    routine: Routine,
    options: Options,
    *,
    voice: Voice,
    fmt: AudioFormat,
    mix: Mix | None = None,
    progress: Progress = _no_progress,
) -> Rendered:
    """Synthesize everything the session says, fit the length with real clips, and set the gain.

    Speech is levelled clip by clip, bells are matched to the speech, and the bed (if `mix`
    names one) is set under it; the gain then brings the whole to the loudness target.
    """
    mix = mix or resolve_mix(routine)
    log.info("%s: voice %s, cache %s", routine.path, voice.identity, voice.cache.root)
    draft = compile_routine(routine, options, Estimate(options.rate))
    voice.prepare(draft.texts(), progress)
    timeline = compile_routine(routine, options, voice)
    voice.prepare(timeline.texts())
    log.info(
        "%d sentences synthesized, %d from the cache",
        voice.synthesized,
        voice.sentences - voice.synthesized,
    )
    lay = layout(timeline, voice)
    log.info(
        "laid out %s in %d chapters; holds %s",
        format_clock(lay.total_ms),
        len(lay.chapters),
        [format_duration(h) for h in timeline.holds_ms if h],
    )
    measures = _measure(lay, voice, mix.bell_onset_ms)
    levels = _levels(measures, mix)
    bed = None
    if mix.bed is not None:
        loop = load_bed(mix.bed, fmt.sample_rate)
        spans = _duck_spans(lay, fmt.sample_rate, bells=mix.duck_bells)
        total = lay.total_ms * fmt.sample_rate // 1000
        level = bed_gain_db(loop, SPEECH_LUFS, mix.bed_level)
        bed = plan_bed(loop, mix, level_db=level, spans=spans, total=total)
        bed = replace(bed, blocks=_session_blocks(lay, measures, levels, bed))
    source, gain, loss = _gain(measures, voice, fmt, levels, bed)
    log.info(
        "speech, bells%s measure %.1f LUFS; gain %+.1f dB to reach %.1f LUFS",
        " and bed" if bed else "",
        source,
        gain,
        fmt.target_lufs,
    )
    if bed is not None:
        # The bed follows the speech as heard, after the limiter has taken its small loss.
        bed = replace(bed, scale=bed.scale * 10 ** ((gain - loss) / 20))
        speech, bells = _ceilings(bed, fmt)
        levels = replace(levels, speech_ceiling_db=speech, bell_ceiling_db=bells)
    return Rendered(timeline, lay, gain, source, levels, bed)


@dataclass(frozen=True, eq=False)
class _Measured:
    """One distinct piece of the session, measured once: how loud it is every 100 ms."""

    piece: _Piece
    """Where it first plays."""
    count: int
    """How often it plays."""
    subs: Float64
    """K-weighted power every 100 ms (see `sub_block_power`), bells before their gain."""
    seconds: float

    @property
    def momentary(self) -> Float64:
        with np.errstate(divide="ignore"):
            return np.asarray(-0.691 + 10 * np.log10(blocks_from_subs(self.subs)), np.float64)


def _measure(lay: Layout, voice: Voice, onset_ms: int) -> dict[str, _Measured]:
    """Measure every distinct sentence (levelled, at its own rate) and bell once."""
    counts: dict[str, int] = {}
    first: dict[str, _Piece] = {}
    for piece in _pieces(lay):
        counts[piece.key] = counts.get(piece.key, 0) + 1
        first.setdefault(piece.key, piece)
    out: dict[str, _Measured] = {}
    for key, piece in first.items():
        x, rate = piece.native(voice, Levels(bell_onset_ms=onset_ms))
        out[key] = _Measured(piece, counts[key], sub_block_power(x, rate), len(x) / rate)
    return out


def _levels(measures: dict[str, _Measured], mix: Mix) -> Levels:
    """Match every bell to the loud end of the session's speech."""
    p95 = speech_p95((m.momentary, m.count) for m in measures.values() if m.piece.text)
    gains: dict[str, float] = {}
    for key, m in measures.items():
        if m.piece.sound is not None:
            gains[key] = bell_gain_db(m.momentary, p95)
            log.info("sound %s: %+.1f dB to sit under loud speech", m.piece.sound.name, gains[key])
    return Levels(gains, mix.bell_onset_ms, p95)


def _duck_spans(lay: Layout, rate: int, *, bells: bool) -> list[tuple[int, int]]:
    """Sample spans of the speech (and bells) the bed ducks under."""
    spans: list[tuple[int, int]] = []
    for item in lay.items:
        e = item.event
        if isinstance(e, Speak) or (bells and isinstance(e, Sound) and not e.sound.is_none):
            spans.append((item.start_ms * rate // 1000, (item.start_ms + item.ms) * rate // 1000))
        spans.extend((s * rate // 1000, (s + ms) * rate // 1000) for s, ms, _ in item.cues)
    return spans


@dataclass(frozen=True)
class _Piece:
    """A sound actually present in the session: a sentence or a bell, at its start time."""

    start_ms: int
    key: str
    """Same key, same audio: 't:' + text or 's:' + sound name."""
    text: str | None = None
    sound: SoundRef | None = None

    def audio(self, voice: Voice, levels: Levels) -> Float:
        """At the output rate and its level in the mix (before the session gain)."""
        if self.text is not None:
            return voice.samples(self.text)
        assert self.sound is not None
        x = soft_onset(load_sound(self.sound, voice.sample_rate), voice.sample_rate,
                       levels.bell_onset_ms)  # fmt: skip
        gain = levels.bell_gain_db.get(self.key, 0.0)
        return x * np.float32(10 ** (gain / 20)) if gain else x

    def native(self, voice: Voice, levels: Levels) -> tuple[Float, int]:
        """At the rate it was made at (cheaper to measure: no resampling)."""
        if self.text is not None:
            return voice.levelled(self.text)
        return self.audio(voice, levels), voice.sample_rate


def _pieces(lay: Layout) -> list[_Piece]:
    """Every sound actually present, in time order."""
    out: list[_Piece] = []
    for item in lay.items:
        e = item.event
        if isinstance(e, Speak):
            out.append(_Piece(item.start_ms, "t:" + e.text, text=e.text))
        elif isinstance(e, Sound) and not e.sound.is_none:
            out.append(_Piece(item.start_ms, f"s:{e.sound.name}:{e.sound.path}", sound=e.sound))
        out.extend(_Piece(start, "t:" + cue.text, text=cue.text) for start, _, cue in item.cues)
    return sorted(out, key=lambda p: p.start_ms)


LIMITER_SAMPLE_S = 60
"""Seconds of distinct sound used to measure how much the limiter lowers the loudness."""


def _gain(
    measures: dict[str, _Measured],
    voice: Voice,
    fmt: AudioFormat,
    levels: Levels,
    bed: BedPlan | None = None,
) -> tuple[float, float, float]:
    """Source loudness, the gain (dB) that brings the limited sound to the target, and the
    limiter's loss the gain makes up for.

    The loudness of the sound present comes from each distinct piece, measured once (weighted
    by how often it plays) at the clips' own rate; with a bed, from the session's power map.
    The limiter's small loss is then measured on an evenly spread sample of the pieces and
    made up.
    """
    meter = LoudnessMeter(fmt.sample_rate, fmt.channels)
    if bed is not None and bed.blocks is not None:
        meter.feed_blocks(bed.blocks * fmt.channels)
    else:
        for key, m in measures.items():
            power = 10 ** (levels.bell_gain_db.get(key, 0.0) / 10) * fmt.channels
            meter.feed_blocks(blocks_from_subs(m.subs) * power, m.count)
    source = meter.integrated()
    if not math.isfinite(source):
        return source, 0.0, 0.0
    target = fmt.target_lufs - fmt.encoder_gain_db
    gain = target - source
    keys = list(measures)
    stride = max(1, round(sum(m.seconds for m in measures.values()) / LIMITER_SAMPLE_S))
    plain = LoudnessMeter(fmt.sample_rate, fmt.channels)
    limited = LoudnessMeter(fmt.sample_rate, fmt.channels)
    scale = 10 ** (gain / 20)
    for key in keys[::stride]:
        x = measures[key].piece.audio(voice, levels) * scale
        count = measures[key].count
        plain.feed_piece(x, count)
        limited.feed_piece(limit_true_peak(x, fmt.true_peak, fmt.sample_rate), count)
    loss = plain.integrated() - limited.integrated()
    loss = loss if math.isfinite(loss) else 0.0
    return source, gain + loss, loss


def _session_blocks(
    lay: Layout, measures: dict[str, _Measured], levels: Levels, bed: BedPlan
) -> Float64:
    """The 400 ms block powers of the whole session with its bed (before the session gain).

    With a bed, much of the session sits near BS.1770's relative gate, so its loudness is
    worked out on the session's own timeline: the bed's power every 100 ms, plus each piece's
    (measured once, placed wherever it plays, to the nearest 100 ms).
    """
    step = bed.loop.rate // 10
    subs = np.concatenate([bed.sub_block_power(step), np.zeros(2 * SUB_PAD)])
    starts: dict[str, list[int]] = {}
    for piece in _pieces(lay):
        starts.setdefault(piece.key, []).append(piece.start_ms)
    for key, m in measures.items():
        power = m.subs * 10 ** (levels.bell_gain_db.get(key, 0.0) / 10)
        for start_ms in starts.get(key, []):
            at = round(start_ms / 100) - SUB_PAD
            lo, hi = max(0, at), min(len(subs), at + len(power))
            if hi > lo:
                subs[lo:hi] += power[lo - at : hi - at]
    return blocks_from_subs(subs)


class _Processed:
    """Gain and limiting per piece, remembering recent results (repeated cues are common)."""

    def __init__(self, gain_db: float, fmt: AudioFormat, budget_bytes: int = 8 << 20) -> None:
        self.scale = 10 ** (gain_db / 20)
        self.fmt = fmt
        self.memo: OrderedDict[str, npt.NDArray[np.int16]] = OrderedDict()
        self.budget = budget_bytes
        self.used = 0

    def __call__(
        self, key: str, load: Callable[[], Float], ceiling_db: float
    ) -> npt.NDArray[np.int16]:
        if key in self.memo:
            self.memo.move_to_end(key)
            return self.memo[key]
        x = limit_true_peak(load() * self.scale, ceiling_db, self.fmt.sample_rate)
        pcm = np.clip(np.round(x * 32767), -32768, 32767).astype(np.int16)
        self.memo[key] = pcm
        self.used += pcm.nbytes
        while self.used > self.budget and len(self.memo) > 1:
            _, old = self.memo.popitem(last=False)
            self.used -= old.nbytes
        return pcm


def stream_pcm(
    rendered: Rendered,
    voice: Voice,
    fmt: AudioFormat,
    *,
    block_ms: int = 2000,
    meter: LoudnessMeter | None = None,
) -> Iterator[npt.NDArray[np.int16]]:
    """Yield the session as int16 PCM blocks (interleaved when stereo), in constant memory.

    Sound and silence come in separate blocks of at most `block_ms`, so the encoder can tell
    silence at a glance. Every piece lands on the exact sample its start time gives, so
    chapter and caption times in milliseconds match the audio; silence is generated, never
    stored. A bed is added to every block as it passes.
    """
    if rendered.bed is None:
        yield from _stream_pieces(rendered, voice, fmt, block_ms=block_ms, meter=meter)
        return
    pieces = _stream_pieces(rendered, voice, fmt, block_ms=block_ms, meter=None)
    yield from mix_bed(pieces, rendered.bed, fmt.channels)
    if meter is not None and rendered.bed.blocks is not None:
        # The session as the gain was set by, at that gain (the pieces alone would miss the bed).
        meter.feed_blocks(rendered.bed.blocks * fmt.channels * 10 ** (rendered.gain_db / 10))


def _ceilings(bed: BedPlan, fmt: AudioFormat) -> tuple[float, float]:
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
) -> Iterator[npt.NDArray[np.int16]]:
    """The speech, bells and silence of the session as int16 blocks (see `stream_pcm`)."""
    sr = fmt.sample_rate
    levels = rendered.levels
    speech_ceiling = _first(levels.speech_ceiling_db, fmt.true_peak)
    bell_ceiling = _first(levels.bell_ceiling_db, fmt.true_peak)
    block = block_ms * sr // 1000
    total = rendered.layout.total_ms * sr // 1000
    process = _Processed(rendered.gain_db, fmt)

    def chunks(pcm: npt.NDArray[np.int16]) -> Iterator[npt.NDArray[np.int16]]:
        for i in range(0, len(pcm), block):
            part = pcm[i : i + block]
            yield np.repeat(part, fmt.channels) if fmt.channels > 1 else part

    def silence(n: int) -> Iterator[npt.NDArray[np.int16]]:
        while n > 0:
            yield np.zeros(min(n, block) * fmt.channels, np.int16)
            n -= block

    cursor = 0
    for piece in _pieces(rendered.layout):
        start = piece.start_ms * sr // 1000
        load = functools.partial(piece.audio, voice, rendered.levels)
        pcm = process(piece.key, load, speech_ceiling if piece.text else bell_ceiling)
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
