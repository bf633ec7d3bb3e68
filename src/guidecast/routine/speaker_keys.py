"""The keys that set who speaks a step, a block or a section, and how fast: `rate`, `voice`
and `language` (the session's come from the command line and the routine's top level)."""

from __future__ import annotations

from . import kinds
from .keys import RATE_RANGE
from .kinds import TEXT, number
from .table import key

__all__ = ["SPEAKER_KEYS", "SPEAK_LANGUAGE", "SPEAK_RATE", "SPEAK_VOICE"]

SPEAK_RATE = key(
    "rate",
    number(*RATE_RANGE),
    "The voice's speaking rate here, multiplying the session's (--rate): 0.85 says it slower, "
    "1.1 faster. Lengths are planned at it.",
    0.85,
    default=1.0,
)
SPEAK_VOICE = key(
    "voice",
    TEXT,
    "Another voice for this part: a name as --voice takes (`guidecast voices`).",
    "amy",
    default_doc="the session's voice",
)
SPEAK_LANGUAGE = key(
    "language",
    kinds.LANGUAGE,
    "The language of this part: guidecast's phrases and numbers in it, said by a voice that "
    "speaks it (an installed one, as for the routine's `language`).",
    "es",
    default_doc="the routine's",
)
SPEAKER_KEYS = (SPEAK_RATE, SPEAK_VOICE, SPEAK_LANGUAGE)
"""What a step, a block or a section may set about its speaker."""
