"""The voices a routine's parts speak in: each made once before rendering, so a voice that is
not installed is a located mistake in the routine, not a failure halfway through."""

from __future__ import annotations

import difflib

from ..errors import EngineError, Problem, RoutineError
from ..model import Routine
from ..tts import Engine, installed_voices
from .voice import Engines

__all__ = ["check_speakers"]


def check_speakers(routine: Routine, engines: Engines) -> dict[tuple[str | None, str], Engine]:
    """Make the engine of every `voice:` and `language:` a step, block or section sets, by
    (voice, language); raise a located `RoutineError` for those that cannot speak (unknown
    voice: with a did-you-mean; a language no installed voice speaks: the routine-level
    language's message)."""
    made: dict[tuple[str | None, str], Engine] = {}
    problems: list[Problem] = []
    seen: set[tuple[str | None, str | None]] = {(None, None)}
    for step in routine.steps:
        speaker = step.speaker
        wanted = (speaker.voice, speaker.language)
        if wanted in seen:
            continue
        seen.add(wanted)
        language = speaker.language or routine.language
        try:
            made[speaker.voice, language] = engines(speaker.voice, language)
        except EngineError as e:
            named = speaker.voice is not None
            loc = speaker.voice_loc if named else speaker.language_loc
            assert loc is not None, "a speaker's voice and language are located"
            message = str(e) + (_did_you_mean(speaker.voice) if speaker.voice else "")
            problems.append(Problem(loc, message, "unknown-value"))
    if problems:
        raise RoutineError(problems)
    return made


def _did_you_mean(voice: str) -> str:
    """'; did you mean 'amy'?' for an installed voice whose name is close to `voice`."""
    close = difflib.get_close_matches(voice, list(installed_voices()), n=1, cutoff=0.6)
    return f"; did you mean '{close[0]}'?" if close else ""
