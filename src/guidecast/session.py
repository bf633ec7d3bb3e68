"""The whole pipeline for one routine: compile, render, stream, export. What `render` runs."""

from __future__ import annotations

import functools
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .compiler.fit import every_text
from .compiler.options import Options
from .media.arrays import Pcm
from .media.cores import work_threads
from .media.cover import kept_cover
from .media.loudness import LoudnessMeter
from .model import Routine
from .mp3.bedruns import place_bed
from .mp3.bedsplice import splice_bed_mp3
from .mp3.export import ExportResult, export_session, prepare_output, session_files
from .mp3.lame import available as lame_available
from .mp3.splice import run_store, splice_mp3
from .sound.balance import keep_limited
from .sound.mix import Mix
from .sound.render import AudioFormat, Progress, Voice, prefetch, stream_pcm
from .sound.render import render as render_timeline
from .sound.voice import no_progress
from .store.blobs import BlobStore

__all__ = ["SessionResult", "prepare_every_length", "render_session"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SessionResult:
    """A finished session: its files and what was measured on the way."""

    export: ExportResult
    lufs: float
    """Integrated loudness of the encoded sound (the encoder's own gain included)."""
    synthesized: int
    """Sentences synthesized for this session; the rest came from the cache."""
    sentences: int
    loudness_gap_db: float | None = None
    """How far its sound measured from the target before the gain (see `prepare_every_length`)."""


def render_session(
    routine: Routine,
    options: Options,
    *,
    voice: Voice,
    output: Path,
    fmt: AudioFormat | None = None,
    mix: Mix | None = None,
    progress: Progress = no_progress,
    splice: bool = True,
) -> SessionResult:
    """Render a routine to `output` (a folder, or an .mp3 path) with its sidecars.

    Nothing replaces the previous session's files until the new ones are complete. `mix`
    sets bells and the optional ambience bed (default: the routine's, see `resolve_mix`).

    The MP3 is spliced from encoded runs kept beside the speech cache (`mp3.splice`; with a
    bed, `mp3.bedsplice`), so a re-render copies frames instead of encoding them; with
    `splice=False` the whole session is encoded as one stream.
    """
    fmt = fmt or AudioFormat()
    files = session_files(output, routine.path)
    prepare_output(files)
    voice = voice.for_routine(routine)
    rendered = render_timeline(routine, options, voice=voice, fmt=fmt, mix=mix, progress=progress)
    rendered = place_bed(rendered, voice, fmt)
    meter = LoudnessMeter(fmt.sample_rate, fmt.channels)
    total = rendered.layout.total_ms

    def blocks() -> Iterator[Pcm]:
        done = 0
        blocks = stream_pcm(rendered, voice, fmt, meter=meter)
        for block in prefetch(blocks) if work_threads() > 1 else blocks:
            done += len(block) * 1000 // (fmt.sample_rate * fmt.channels)
            progress("encode", min(done, total), total)
            yield block

    # Beds that change (`sound.bedschedule`) are encoded with the whole session, not spliced.
    if splice and rendered.schedule is None and (rendered.bed is None or lame_available()):
        splicer = splice_mp3 if rendered.bed is None else splice_bed_mp3
        store = run_store(voice.cache.root)
        audio: Any = functools.partial(
            splicer, rendered, voice, fmt, store=store, progress=progress, meter=meter
        )
    else:
        audio = blocks()
    result = export_session(
        routine,
        rendered.layout,
        audio,
        files=files,
        fmt=fmt,
        quality=fmt.quality
        if rendered.bed is None and rendered.schedule is None
        else fmt.bed_quality,
        narration=options.narration.value,
        cover=kept_cover(
            BlobStore(voice.cache.root / "covers", b"GCCOVER1", ".jpg"),
            routine.title,
            routine.series,
            routine.cover,
        ),
    )
    for cue in rendered.layout.dropped_cues:
        log.warning("%s: no room for %r inside its hold; left out", routine.path, cue.text)
    return SessionResult(
        result,
        meter.integrated() + fmt.encoder_gain_db,
        voice.synthesized,
        voice.sentences,
        rendered.loudness_gap_db,
    )


def prepare_every_length(
    routine: Routine,
    options: Options,
    *,
    voice: Voice,
    progress: Progress = no_progress,
    loudness_gap_db: float | None = None,
    fmt: AudioFormat | None = None,
) -> int:
    """Synthesize everything a session of the routine can say at any length it allows (see
    `every_text`), so that a render at a length never made before is a splice of kept speech
    with no voice to load; with how far a render of it measured from the target
    (`SessionResult.loudness_gap_db`), measure them through the limiter too, so that such a
    render measures nothing. Returns how many sentences were made."""
    voice = voice.for_routine(routine)
    before = voice.synthesized
    texts = every_text(routine, options)
    voice.prepare(texts, progress)
    if loudness_gap_db is not None:
        measured = keep_limited(texts, voice, fmt or AudioFormat(), loudness_gap_db)
        log.info("%d measures of other lengths' sentences through the limiter kept", measured)
    return voice.synthesized - before
