"""A sentence's identity: what is said, and by whom and how fast when that is not the
session's own voice and rate.

The audio stages know a sentence by one string (the speech cache, clip lengths, the pieces
of a session and the catalog's shared sentences are all keyed by it). A sentence said at
another rate, by another voice or in another language is another clip, so its key says so:
`said()` puts a short header before the text, which `heard()` reads back. A sentence of the
session's own voice is its text alone, so nothing changes for a routine that sets none.
"""

from __future__ import annotations

import json

from ..model import Speaker

__all__ = ["heard", "said", "shown_speaker"]

_MARK = "\x1f"
"""Starts and ends the header: a unit separator, which `sentences()` turns into a space, so
no text a routine writes begins with it."""


def said(text: str, speaker: Speaker | None) -> str:
    """The sentence's key: its text, with a header when `speaker` is not the session's."""
    if speaker is None:
        return text
    rate = None if speaker.rate in (None, 1.0) else round(speaker.rate, 4)
    if rate is None and speaker.voice is None and speaker.language is None:
        return text
    header = json.dumps([rate, speaker.voice, speaker.language], ensure_ascii=False)
    return f"{_MARK}{header}{_MARK}{text}"


def heard(key: str) -> tuple[Speaker, str]:
    """The speaker and text of a sentence's key (the session's own speaker: `Speaker()`)."""
    if not key.startswith(_MARK):
        return Speaker(), key
    header, _, text = key[1:].partition(_MARK)  # JSON writes the mark as an escape
    try:
        rate, voice, language = json.loads(header)
    except (ValueError, TypeError):  # not a header `said` wrote (the loader refuses U+001F)
        return Speaker(), key
    return Speaker(rate, voice, language), text


def shown_speaker(speaker: Speaker | None) -> str:
    """`rate 0.85, voice amy, es` for the plan; empty for the session's own speaker."""
    if speaker is None:
        return ""
    parts = []
    if speaker.rate is not None and speaker.rate != 1.0:
        parts.append(f"rate ×{speaker.rate:g}")
    if speaker.voice is not None:
        parts.append(f"voice {speaker.voice}")
    if speaker.language is not None:
        parts.append(speaker.language)
    return ", ".join(parts)
