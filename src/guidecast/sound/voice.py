"""Speech through an engine and its cache: each clip measured once, and levelled."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from ..errors import EngineError
from ..lang.said import heard
from ..media.arrays import F64, Float
from ..media.decode import load_sound, resample, sound_stamp, to_float
from ..media.loudness import SUB_PAD, clip_loudness, sub_block_power
from ..model import Pronunciation, Routine, SoundRef, Speaker
from ..routine.pronounce import Lexicon
from ..store.blobs import BlobStore, blob_key
from ..tts import Clip, ClipCache, Engine, make_engine
from ..tts.cache import MAX_RATE, MIN_RATE
from .levels import soft_onset, speech_gain_db

__all__ = ["ClipFacts", "Engines", "Kept", "NotKept", "Progress", "Voice", "no_progress"]

Progress = Callable[[str, int, int], None]
"""Called as progress(stage, done, total) while synthesizing and encoding."""
Engines = Callable[[str | None, str], Engine]
"""Makes the engine for a part of the session with its own voice or language:
engines(voice, language), voice None for the best installed voice of the language."""


def no_progress(stage: str, done: int, total: int) -> None:
    """A `Progress` that shows nothing."""
    return None


class Voice:
    """Speech through an engine and its cache, measured at the output rate (a `Durations`).

    Every method takes a sentence by its key (`Speak.key`): a sentence a step says at its own
    rate, in its own voice or language, is spoken by that engine at that rate, and cached as
    its own clip.
    """

    def __init__(
        self,
        engine: Engine,
        cache: ClipCache,
        *,
        rate: float,
        sample_rate: int,
        lexicon: Lexicon | None = None,
        engines: Engines | None = None,
        language: str = "en",
        pronounce: tuple[Pronunciation, ...] = (),
    ) -> None:
        self.engine = engine
        self.cache = cache
        self.rate = rate
        self.sample_rate = sample_rate
        self.lexicon = lexicon or Lexicon()
        self.identity = engine.identity()
        self.language = language
        """The session's language: what a part that names only its own `voice` speaks."""
        self.pronounce = pronounce
        self._make: Engines = engines or (
            lambda voice, language: make_engine(engine.name, voice, language)
        )
        self._engines: dict[tuple[str | None, str | None], Engine] = {}
        self._engine_lock = threading.Lock()
        self._lexicons: dict[bool, Lexicon] = {}
        self._samples: dict[str, int] = {}
        self._facts: dict[str, ClipFacts] = {}
        self._keys: dict[str, str] = {}
        self._sounds: dict[str, tuple[F64, int]] = {}
        self._stamps: dict[SoundRef, list[object]] = {}
        self._measures = BlobStore(cache.root / "measures", b"GCSOUND1", ".sound")
        self._made: set[str] = set()
        """Sentences synthesized by this voice (each counted once, however often it is)."""
        self._unkept: dict[str, Clip] = {}
        """Clips the cache could not keep (it cannot be written): made once all the same."""
        self._count = threading.Lock()

    @property
    def synthesized(self) -> int:
        """Distinct sentences synthesized so far; the rest of `sentences` came from the cache."""
        return len(self._made)

    def for_routine(self, routine: Routine) -> Voice:
        """This voice with the routine's own pronunciations (itself when it has none)."""
        english = routine.language.lower().startswith("en")
        if not routine.pronounce and english:
            return self
        # The built-in lexicon is written in English phonemes: other languages go without it.
        lexicon = Lexicon(routine.pronounce, builtin=english)
        return Voice(
            self.engine,
            self.cache,
            rate=self.rate,
            sample_rate=self.sample_rate,
            lexicon=lexicon,
            engines=self._make,
            language=routine.language,
            pronounce=routine.pronounce,
        )

    def engine_for(self, speaker: Speaker) -> Engine:
        """The engine that says a sentence of `speaker`: the session's, unless it names its
        own voice or language (made once, on first use: a Piper model loads only to speak)."""
        if speaker.voice is None and speaker.language is None:
            return self.engine
        wanted = (speaker.voice, speaker.language)
        with self._engine_lock:
            found = self._engines.get(wanted)
            if found is None:
                language = speaker.language or self.language
                found = self._engines[wanted] = self._make(speaker.voice, language)
            return found

    def spoken(self, text: str) -> str:
        """The text as the engine hears it: names respelled or given as phonemes."""
        speaker, said = heard(text)
        engine = self.engine_for(speaker)
        return self._lexicon(speaker).spoken(said, phonemes=engine.phonemes)

    def _lexicon(self, speaker: Speaker) -> Lexicon:
        """The session's lexicon; for a part in another language, the routine's words with
        the built-in (English) ones only when that part speaks English."""
        if speaker.language is None:
            return self.lexicon
        english = speaker.language.lower().startswith("en")
        if english == self.language.lower().startswith("en"):
            return self.lexicon
        found = self._lexicons.get(english)
        if found is None:
            found = self._lexicons[english] = Lexicon(self.pronounce, builtin=english)
        return found

    def rate_of(self, speaker: Speaker) -> float:
        """The speaking rate of `speaker`'s sentences: the session's times its own."""
        return self.rate * (speaker.rate or 1.0)

    def clip_key(self, text: str) -> str:
        """The speech cache's key for the sentence: engine, voice, rate and what is said."""
        key = self._keys.get(text)
        if key is None:
            speaker, _ = heard(text)
            identity = self.engine_for(speaker).identity()
            spoken = self.spoken(text)
            key = self._keys[text] = ClipCache.key(identity, self.rate_of(speaker), spoken)
        return key

    def clip(self, text: str) -> Clip:
        """The sentence as the engine made it (from the cache when there), with its loudness."""
        key = self.clip_key(text)
        clip = self._unkept.get(text)
        if clip is None:
            clip = self.cache.get(key)
        if clip is None:
            speaker, said = heard(text)
            engine = self.engine_for(speaker)
            clip = engine.synthesize(self.spoken(text), rate=self.rate_of(speaker))
            if not len(clip.samples):
                raise EngineError(f"speech engine '{engine.name}' returned no audio for {said!r}")
            clip = _measured(clip)
            self.cache.put(key, clip)
            with self._count:
                self._made.add(text)
                if self.cache.warned:
                    self._unkept[text] = clip
        elif clip.loudness is None:  # cached before clips were measured
            clip = _measured(clip)
            self.cache.put_loudness(key, clip)
        return clip

    def facts(self, text: str) -> ClipFacts:
        """The sentence's length, rate and loudness, from what the cache keeps beside the clip
        (the clip itself is read, or made, only when they are not there yet)."""
        found = self._kept_facts(text)
        if found is None:
            clip = self.clip(text)
            assert clip.loudness is not None
            subs = sub_block_power(to_float(clip.samples), clip.sample_rate)
            found = ClipFacts(len(clip.samples), clip.sample_rate, clip.loudness, subs)
            self.cache.put_facts(self.clip_key(text), found.to_json())
            self._remember(text, found)
        return found

    def missing(self, texts: list[str]) -> list[str]:
        """The texts the cache does not hold yet (each once, in order)."""
        return [t for t in dict.fromkeys(texts) if self._kept_facts(t) is None]

    def _kept_facts(self, text: str) -> ClipFacts | None:
        found = self._facts.get(text)
        if found is None:
            found = ClipFacts.parse(self.cache.facts(self.clip_key(text)))
            if found is not None:
                self._remember(text, found)
        return found

    def _remember(self, text: str, facts: ClipFacts) -> None:
        self._facts[text] = facts
        self._samples[text] = facts.samples_at(self.sample_rate)

    def levelled_subs(self, text: str) -> tuple[F64, float]:
        """The levelled sentence's K-weighted power every 100 ms at its own rate (see
        `sub_block_power`), and its length in seconds."""
        f = self.facts(text)
        return f.subs * 10 ** (speech_gain_db(f.lufs) / 10), f.frames / f.rate

    def kept(self) -> Kept:
        """This voice's durations for what the cache already holds; `NotKept` for the rest."""
        return Kept(self)

    def levelled(self, text: str) -> tuple[Float, int]:
        """The sentence at its own rate, levelled to `SPEECH_LUFS` (even speech)."""
        clip = self.clip(text)
        scale = np.float32(10 ** (speech_gain_db(clip.loudness) / 20))
        return to_float(clip.samples) * scale, clip.sample_rate

    @property
    def sentences(self) -> int:
        """Distinct sentences used so far."""
        return len(self._samples)

    def prepare(self, texts: list[str], progress: Progress = no_progress) -> None:
        """Make sure every text is in the cache and its length known.

        Engines that can (Piper) synthesize several sentences at once, one per core.
        """
        todo = self.missing(texts)
        workers = self.engine.workers
        done = len(texts) - len(todo)
        with ThreadPoolExecutor(max_workers=workers) as pool:
            for _ in pool.map(self.facts, todo):
                done += 1
                progress("speech", done, len(texts))
        for text in texts:
            self.facts(text)
        progress("speech", len(texts), len(texts))

    def samples(self, text: str) -> Float:
        """The sentence as float32 mono at the output rate, levelled to `SPEECH_LUFS`."""
        audio, rate = self.levelled(text)
        audio = resample(audio, rate, self.sample_rate)
        self._samples[text] = len(audio)
        return audio

    def output_samples(self, text: str) -> int:
        """The sentence's length in samples at the output rate."""
        if text not in self._samples:
            self.facts(text)
        return self._samples[text]

    def speech_ms(self, text: str) -> int:
        return -(-self.output_samples(text) * 1000 // self.sample_rate)

    def sound_stamp(self, sound: SoundRef) -> list[object]:
        """`audio.sound_stamp`, looked up once per voice (a render makes its own voice)."""
        found = self._stamps.get(sound)
        if found is None:
            found = self._stamps[sound] = sound_stamp(sound)
        return found

    def sound_samples(self, sound: SoundRef) -> int:
        return self._sound_facts(sound, 0)[1]

    def sound_subs(self, sound: SoundRef, onset_ms: int) -> tuple[F64, float]:
        """A sound's K-weighted power every 100 ms at the output rate (with its onset), and
        its length in seconds."""
        subs, samples = self._sound_facts(sound, onset_ms)
        return subs, samples / self.sample_rate

    def _sound_facts(self, sound: SoundRef, onset_ms: int) -> tuple[F64, int]:
        """(subs, samples) of a sound, kept beside the speech cache: a warm render never
        decodes a bell."""
        key = blob_key(["sound", self.sound_stamp(sound), self.sample_rate, onset_ms])
        found = self._sounds.get(key)
        if found is not None:
            return found
        body = self._measures.get(key)
        if body is not None and len(body) >= 8 and (len(body) - 8) % 8 == 0:
            samples = int.from_bytes(body[:8], "big")
            found = np.frombuffer(body[8:], ">f8").astype(np.float64), samples
        else:
            x = soft_onset(load_sound(sound, self.sample_rate), self.sample_rate, onset_ms)
            found = sub_block_power(x, self.sample_rate), len(x)
            data = found[0].astype(">f8").tobytes()
            self._measures.put(key, len(x).to_bytes(8, "big") + data)
        self._sounds[key] = found
        return found

    def sound_ms(self, sound: SoundRef) -> int:
        return -(-self.sound_samples(sound) * 1000 // self.sample_rate)


class NotKept(Exception):
    """A sentence is not in the speech cache yet."""


class Kept:
    """Durations of sentences the cache holds (a `Durations`): compiling against it either
    succeeds without synthesizing anything or raises `NotKept` at the first new sentence."""

    def __init__(self, voice: Voice) -> None:
        self.voice = voice

    def speech_ms(self, text: str) -> int:
        if self.voice._kept_facts(text) is None:
            raise NotKept(text)
        return self.voice.speech_ms(text)

    def sound_ms(self, sound: SoundRef) -> int:
        return self.voice.sound_ms(sound)


@dataclass(frozen=True)
class ClipFacts:
    """What is measured once on a clip and kept beside it in the cache."""

    frames: int
    rate: int
    lufs: float
    subs: F64
    """K-weighted power every 100 ms at the clip's own level (`sub_block_power`)."""

    def samples_at(self, rate: int) -> int:
        """The clip's length once resampled to `rate` (as `resample` makes it)."""
        return self.frames if rate == self.rate else round(self.frames * rate / self.rate)

    def to_json(self) -> dict[str, Any]:
        return {"frames": self.frames, "rate": self.rate, "lufs": self.lufs,
                "subs": [float(x) for x in self.subs]}  # fmt: skip

    @classmethod
    def parse(cls, found: dict[str, Any]) -> ClipFacts | None:
        """The facts in a cache entry's measures; None unless all are there and consistent."""
        frames, rate, lufs, subs = (found.get(k) for k in ("frames", "rate", "lufs", "subs"))
        if not (isinstance(frames, int) and isinstance(rate, int) and isinstance(subs, list)):
            return None
        if frames <= 0 or not MIN_RATE <= rate <= MAX_RATE or not isinstance(lufs, int | float):
            return None
        step = rate // 10
        if len(subs) != -(-(frames + 2 * SUB_PAD * step) // step):
            return None
        try:
            array = np.array(subs, np.float64)
        except (TypeError, ValueError):
            return None
        if not np.isfinite(array).all() or (array < 0).any():
            return None
        return cls(frames, rate, float(lufs), array)


def _measured(clip: Clip) -> Clip:
    return replace(clip, loudness=clip_loudness(to_float(clip.samples), clip.sample_rate))
