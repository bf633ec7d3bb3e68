"""Render: synthesize through the cache, lay out with real lengths, normalise, stream PCM."""

from __future__ import annotations

import logging
import math
from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from .audio import load_sound, resample, to_float
from .compiler import compile_routine
from .errors import EngineError
from .loudness import LoudnessMeter, limit_true_peak
from .model import Routine, SoundRef
from .speech import Estimate
from .timeline import Layout, Options, Sound, Speak, Timeline, layout
from .tts import Clip, ClipCache, Engine

__all__ = ["AudioFormat", "Progress", "Rendered", "Voice", "render", "stream_pcm"]

log = logging.getLogger(__name__)
Float = npt.NDArray[np.float32]
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

    def _clip(self, text: str) -> Clip:
        key = ClipCache.key(self.identity, self.rate, text)
        clip = self.cache.get(key)
        if clip is None:
            clip = self.engine.synthesize(text, rate=self.rate)
            if not len(clip.samples):
                raise EngineError(
                    f"speech engine '{self.engine.name}' returned no audio for {text!r}"
                )
            self.cache.put(key, clip)
            self.synthesized += 1
        return clip

    @property
    def sentences(self) -> int:
        """Distinct sentences used so far."""
        return len(self._samples)

    def prepare(self, texts: list[str], progress: Progress = _no_progress) -> None:
        """Make sure every text is in the cache and its length known."""
        for i, text in enumerate(texts):
            if text not in self._samples:
                self.samples(text)
            progress("speech", i + 1, len(texts))

    def samples(self, text: str) -> Float:
        """The sentence as float32 mono at the output rate."""
        clip = self._clip(text)
        audio = resample(to_float(clip.samples), clip.sample_rate, self.sample_rate)
        self._samples[text] = len(audio)
        return audio

    def speech_ms(self, text: str) -> int:
        if text not in self._samples:
            self.samples(text)
        return -(-self._samples[text] * 1000 // self.sample_rate)

    def sound_ms(self, sound: SoundRef) -> int:
        return -(-len(load_sound(sound, self.sample_rate)) * 1000 // self.sample_rate)


@dataclass(frozen=True)
class Rendered:
    """A timeline laid out with real lengths, and the gain that brings it to the target."""

    timeline: Timeline
    layout: Layout
    gain_db: float
    source_lufs: float
    """Loudness of the speech and bells before normalisation."""


def render(
    routine: Routine,
    options: Options,
    *,
    voice: Voice,
    fmt: AudioFormat,
    progress: Progress = _no_progress,
) -> Rendered:
    """Synthesize everything the session says, fit the length with real clips, and set the gain."""
    draft = compile_routine(routine, options, Estimate(options.rate))
    voice.prepare(draft.texts(), progress)
    timeline = compile_routine(routine, options, voice)
    voice.prepare(timeline.texts())
    lay = layout(timeline, voice)
    source, gain = _gain(lay, voice, fmt)
    return Rendered(timeline, lay, gain, source)


def _pieces(lay: Layout, voice: Voice) -> Iterator[tuple[int, int, Callable[[], Float], str]]:
    """Every sound actually present: (start_ms, length_ms, loader, cache key) in time order."""
    for item in lay.items:
        e = item.event
        if isinstance(e, Speak):
            yield item.start_ms, item.ms, _loader(voice, e.text), "t:" + e.text
        elif isinstance(e, Sound) and not e.sound.is_none:
            yield item.start_ms, item.ms, _bell(e.sound, voice.sample_rate), f"s:{e.sound.name}"
        for start, ms, cue in item.cues:
            yield start, ms, _loader(voice, cue.text), "t:" + cue.text


def _bell(ref: SoundRef, sample_rate: int) -> Callable[[], Float]:
    return lambda: load_sound(ref, sample_rate)


def _loader(voice: Voice, text: str) -> Callable[[], Float]:
    return lambda: voice.samples(text)


def _gain(lay: Layout, voice: Voice, fmt: AudioFormat) -> tuple[float, float]:
    """Gain (dB) that brings the limited sound to the target; two rounds absorb the limiter."""
    counts: dict[str, int] = {}
    loaders: dict[str, Callable[[], Float]] = {}
    for _, _, load, key in _pieces(lay, voice):
        counts[key] = counts.get(key, 0) + 1
        loaders[key] = load

    def measure(gain_db: float | None) -> float:
        meter = LoudnessMeter(fmt.sample_rate, fmt.channels)
        for key, count in counts.items():
            x = loaders[key]()
            if gain_db is not None:
                x = limit_true_peak(x * 10 ** (gain_db / 20), fmt.true_peak, fmt.sample_rate)
            meter.feed_piece(x, count)
        return meter.integrated()

    target = fmt.target_lufs - fmt.encoder_gain_db
    source = measure(None)
    if not math.isfinite(source):
        return source, 0.0
    gain = target - source
    limited = measure(gain)
    return source, gain + (target - limited)


class _Processed:
    """Gain and limiting per piece, remembering recent results (repeated cues are common)."""

    def __init__(self, gain_db: float, fmt: AudioFormat, budget_bytes: int = 24 << 20) -> None:
        self.scale = 10 ** (gain_db / 20)
        self.fmt = fmt
        self.memo: OrderedDict[str, npt.NDArray[np.int16]] = OrderedDict()
        self.budget = budget_bytes
        self.used = 0

    def __call__(self, key: str, load: Callable[[], Float]) -> npt.NDArray[np.int16]:
        if key in self.memo:
            self.memo.move_to_end(key)
            return self.memo[key]
        x = limit_true_peak(load() * self.scale, self.fmt.true_peak, self.fmt.sample_rate)
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

    Every piece lands on the exact sample its start time gives, so chapter and caption times in
    milliseconds match the audio; silence is generated, never stored.
    """
    sr = fmt.sample_rate
    total = rendered.layout.total_ms * sr // 1000
    process = _Processed(rendered.gain_db, fmt)
    pieces = sorted(_pieces(rendered.layout, voice), key=lambda p: p[0])
    block = block_ms * sr // 1000
    cursor = 0
    index = 0
    active: list[tuple[int, npt.NDArray[np.int16]]] = []
    while cursor < total:
        end = min(total, cursor + block)
        while index < len(pieces) and pieces[index][0] * sr // 1000 < end:
            start_ms, _, load, key = pieces[index]
            pcm = process(key, load)
            if meter is not None:
                meter.feed_piece(to_float(pcm))
            active.append((start_ms * sr // 1000, pcm))
            index += 1
        out = np.zeros(end - cursor, np.int16)
        still: list[tuple[int, npt.NDArray[np.int16]]] = []
        for start, pcm in active:
            lo, hi = max(start, cursor), min(start + len(pcm), end)
            if hi > lo:
                out[lo - cursor : hi - cursor] = pcm[lo - start : hi - start]
            if start + len(pcm) > end:
                still.append((start, pcm))
        active = still
        yield np.repeat(out, fmt.channels) if fmt.channels > 1 else out
        cursor = end
