"""Speech through an engine and its cache: each clip measured once, and levelled."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

import numpy as np
import numpy.typing as npt

from .audio import load_sound, resample, to_float
from .errors import EngineError
from .levels import speech_gain_db
from .loudness import clip_loudness
from .model import Routine, SoundRef
from .pronounce import Lexicon
from .tts import Clip, ClipCache, Engine

__all__ = ["Progress", "Voice"]

Float = npt.NDArray[np.float32]
Progress = Callable[[str, int, int], None]
"""Called as progress(stage, done, total) while synthesizing and encoding."""


def _no_progress(stage: str, done: int, total: int) -> None:
    return None


class Voice:
    """Speech through an engine and its cache, measured at the output rate (a `Durations`)."""

    def __init__(
        self,
        engine: Engine,
        cache: ClipCache,
        *,
        rate: float,
        sample_rate: int,
        lexicon: Lexicon | None = None,
    ) -> None:
        self.engine = engine
        self.cache = cache
        self.rate = rate
        self.sample_rate = sample_rate
        self.lexicon = lexicon or Lexicon()
        self.identity = engine.identity()
        self._samples: dict[str, int] = {}
        self.synthesized = 0
        self._count = threading.Lock()

    def for_routine(self, routine: Routine) -> Voice:
        """This voice with the routine's own pronunciations (itself when it has none)."""
        english = routine.language.lower().startswith("en")
        if not routine.pronounce and english:
            return self
        # The built-in lexicon is written in English phonemes: other languages go without it.
        lexicon = Lexicon(routine.pronounce, builtin=english)
        return Voice(
            self.engine, self.cache, rate=self.rate, sample_rate=self.sample_rate, lexicon=lexicon
        )

    def spoken(self, text: str) -> str:
        """The text as the engine hears it: names respelled or given as phonemes."""
        return self.lexicon.spoken(text, phonemes=self.engine.phonemes)

    def clip(self, text: str) -> Clip:
        """The sentence as the engine made it (from the cache when there), with its loudness."""
        spoken = self.spoken(text)
        key = ClipCache.key(self.identity, self.rate, spoken)
        clip = self.cache.get(key)
        if clip is None:
            clip = self.engine.synthesize(spoken, rate=self.rate)
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
        workers = self.engine.workers
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
