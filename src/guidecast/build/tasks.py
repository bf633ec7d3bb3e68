"""The work a catalog build hands to its workers: a batch of sentences to synthesize, or one
variant to assemble. Plain functions on picklable dataclasses, so a process pool and a Dask
cluster run the same code; each worker process loads a voice once and keeps it."""

from __future__ import annotations

import dataclasses
import logging
import shutil
from dataclasses import dataclass
from pathlib import Path

from ..compiler.fit import LENGTH_TOLERANCE_MS, length_bounds
from ..compiler.options import Options
from ..errors import GuidecastError, LengthError
from ..lang.speech import Estimate
from ..media.cores import one_core, tune_allocator
from ..media.format import AudioFormat
from ..model import Routine
from ..mp3.export import SIDECARS
from ..session import render_session
from ..sound.mix import Mix
from ..sound.voice import Voice
from ..tts import ClipCache, Engine, make_engine

__all__ = ["Assembly", "Built", "SpeechBatch", "VoiceSpec", "assemble", "synthesize"]

log = logging.getLogger(__name__)

_ENGINES: dict[tuple[str, str | None, str], Engine] = {}
"""Engines this process has made: a Piper voice loads once per worker, on first use."""


@dataclass(frozen=True)
class VoiceSpec:
    """The voice a task speaks with: engine, voice, language, pace, and the shared cache."""

    engine: str
    voice: str | None
    language: str
    rate: float
    sample_rate: int
    cache: str
    """The speech and run store: a folder every worker sees."""
    threads: int = 1
    """Sentences synthesized side by side inside one worker."""

    def make(self, routine: Routine) -> Voice:
        engine = self._engine(self.voice, self.language)
        voice = Voice(
            engine,
            ClipCache(Path(self.cache)),
            rate=self.rate,
            sample_rate=self.sample_rate,
            engines=self._engine,  # the voices of the routine's parts: once per process too
        )
        return voice.for_routine(routine)

    def _engine(self, voice: str | None, language: str) -> Engine:
        key = (self.engine, voice, language)
        engine = _ENGINES.get(key)
        if engine is None:
            engine = _ENGINES[key] = make_engine(self.engine, voice, language)
        engine.workers = self.threads
        return engine


@dataclass(frozen=True)
class SpeechBatch:
    """Sentences of one routine to synthesize into the shared cache."""

    spec: VoiceSpec
    routine: Routine
    """For its pronunciations (a sentence's cache key is what the voice hears)."""
    texts: tuple[str, ...]


@one_core
def synthesize(batch: SpeechBatch) -> tuple[int, int]:
    """Synthesize and measure every sentence of the batch not cached yet: (sentences in the
    batch, how many of them were made here)."""
    tune_allocator()
    voice = batch.spec.make(batch.routine)
    voice.prepare(list(batch.texts))
    return len(batch.texts), voice.synthesized


@dataclass(frozen=True)
class Assembly:
    """One variant to render into the staging folder."""

    name: str
    routine: Routine
    options: Options
    mix: Mix
    fmt: AudioFormat
    spec: VoiceSpec
    staging: str
    previous: str | None = None
    """The published session file, whose guid and first-render date the variant keeps."""
    edge: str | None = None
    """`shortest` or `longest`: the length every ranged hold at its least or most makes, found
    with the voice's real clip lengths."""


@dataclass(frozen=True)
class Built:
    """What assembling a variant made (or why it could not)."""

    name: str
    files: tuple[str, ...] = ()
    duration_ms: int = 0
    lufs: float = 0.0
    chapters: int = 0
    synthesized: int = 0
    skipped: str = ""
    """Why the variant is left out (a length its routine cannot reach)."""
    failed: str = ""


@one_core
def assemble(job: Assembly) -> Built:
    """Render one variant into the staging folder (the build publishes it with the others)."""
    tune_allocator()
    staging = Path(job.staging)
    mp3 = staging / f"{job.name}.mp3"
    for stale in [mp3, *(staging / f"{job.name}{s}" for s in SIDECARS)]:
        stale.unlink(missing_ok=True)  # a retried task starts clean
    if job.previous:
        shutil.copyfile(job.previous, staging / f"{job.name}.session.json")
    try:
        voice = job.spec.make(job.routine)
        options = _at_edge(job, voice) if job.edge else job.options
        done = render_session(
            job.routine, options, voice=voice, output=mp3, fmt=job.fmt, mix=job.mix
        )
    except LengthError as e:
        return Built(job.name, skipped=str(e))
    except GuidecastError as e:
        return Built(job.name, failed=str(e))
    files = tuple(str(p) for p in done.export.files.all if p.exists())
    return Built(
        job.name,
        files=files,
        duration_ms=done.export.duration_ms,
        lufs=round(done.lufs, 2),
        chapters=done.export.chapters,
        synthesized=done.synthesized,
    )


def _at_edge(job: Assembly, voice: Voice) -> Options:
    """The options with the length the variant's edge makes (its speech is in the cache)."""
    bounds = length_bounds(job.routine, job.options, voice)
    # Lengths are accepted on estimated speech (as `plan` and the page see them): the edge is
    # the real one, kept inside what is accepted.
    allowed = length_bounds(job.routine, job.options, Estimate(job.options.rate))
    if job.edge == "shortest":
        target = max(bounds.shortest_ms, allowed.shortest_ms - LENGTH_TOLERANCE_MS)
    else:
        target = min(bounds.longest_ms, allowed.longest_ms + LENGTH_TOLERANCE_MS)
    return dataclasses.replace(job.options, length_ms=target)
