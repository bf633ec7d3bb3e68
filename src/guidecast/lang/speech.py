"""Text helpers for narration: sentences, spoken numbers, lists, and speech-length estimates."""

from __future__ import annotations

import re
import string

from ..model import SoundRef
from .said import heard

__all__ = ["Estimate", "fill", "join_words", "number_words", "sentences"]

_SENTENCE_END = re.compile(r"(?<=[.!?…])[\"'”’)]*\s+(?=\S)")
_ONES = (
    "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
    "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen",
    "nineteen",
)  # fmt: skip
_TENS = ["_", "_", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]


def sentences(text: str) -> list[str]:
    """Split narration into sentences (short inputs keep synthesis fast and memory small)."""
    parts = [p.strip() for p in _SENTENCE_END.split(" ".join(text.split()))]
    return [p if p[-1] in ".!?…\"'”’)" else p + "." for p in parts if p]


def fill(template: str, **values: object) -> str:
    """`template` with its `{name}` placeholders filled; a value that starts a sentence starts
    with a capital ("{time} remaining." says "Five minutes remaining.")."""
    out: list[str] = []
    for literal, name, spec, _ in string.Formatter().parse(template):
        out.append(literal)
        if name is None:
            continue
        value = format(values[name], spec or "")
        said = "".join(out).rstrip()
        if not said or said[-1] in ".!?…:":
            value = value[:1].upper() + value[1:]
        out.append(value)
    return "".join(out)


def number_words(n: int) -> str:
    """Spell 0-999 in English words, the way a teacher counts aloud."""
    if n < 20:
        return _ONES[n]
    if n < 100:
        tens, ones = divmod(n, 10)
        return _TENS[tens] + (f"-{_ONES[ones]}" if ones else "")
    hundreds, rest = divmod(n, 100)
    return f"{_ONES[hundreds]} hundred" + (f" and {number_words(rest)}" if rest else "")


def join_words(items: tuple[str, ...] | list[str]) -> str:
    """Join `a`, `a and b`, `a, b and c`."""
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


FILE_SOUND_MS = 4000
"""Planning length of a sound file (render measures the real one)."""
NOMINAL_SOUND_MS = {
    "bowl": 6000, "chime": 4000, "gong": 6000, "woodblock": 800,
    "go": 600, "rest": 700, "beeps": 3000, "finish": 2500, "rise": 800, "fall": 800,
    "steady": 800, "": 0,
}  # fmt: skip
"""Lengths of the built-in sounds (assets/sounds); a test keeps them equal to the files."""


class Estimate:
    """Speech length from the length of the text and the rate; sounds at their nominal lengths.

    Calibrated on the default Piper voice at its teaching pace (a fit over the seed routines'
    403 sentences): about 67 ms a character at rate 1.0, plus 0.42 s of lead-in and the quiet
    Piper leaves around each sentence. Characters predict a clip better than words (a typical
    error of 0.33 s against 0.48 s) and get one-word cues ("One.", 0.7 s) right.
    """

    MS_PER_CHAR = 67
    SENTENCE_MS = 420

    def __init__(self, rate: float = 1.0) -> None:
        self.rate = rate

    def speech_ms(self, text: str) -> int:
        """A sentence's length by its key: at the session's rate times its own."""
        speaker, said = heard(text)
        rate = self.rate * (speaker.rate or 1.0)
        return round((len(said) * self.MS_PER_CHAR + self.SENTENCE_MS) / rate)

    def sound_ms(self, sound: SoundRef) -> int:
        return NOMINAL_SOUND_MS.get(sound.name, FILE_SOUND_MS)
