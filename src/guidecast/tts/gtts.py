"""The online voice: Google Translate's text-to-speech through gTTS (needs internet)."""

from __future__ import annotations

import io
import logging

import numpy as np

from ..errors import EngineError
from ..media.decode import decode_audio
from .base import Clip

__all__ = ["GttsEngine"]

log = logging.getLogger(__name__)
SLOW_BELOW = 0.85
"""gTTS has only normal and slow speech: rates under this use slow."""


class GttsEngine:
    """gTTS voice for a language (and regional accent through `tld`, e.g. `co.uk`)."""

    name = "gtts"
    workers = 1
    phonemes = False
    local = False

    def __init__(self, voice: str | None = None, language: str = "en") -> None:
        self.language = language.split("-")[0].lower() or "en"
        self.tld = voice or "com"
        self.voice = self.tld

    def identity(self) -> str:
        return f"gtts:{self.language}:{self.tld}"

    def synthesize(self, text: str, *, rate: float) -> Clip:
        from gtts import gTTS, gTTSError

        buffer = io.BytesIO()
        try:
            gTTS(text, lang=self.language, tld=self.tld, slow=rate < SLOW_BELOW).write_to_fp(buffer)
        except gTTSError as e:
            # gTTS words its own "Probable cause" from the HTTP status or the lack of one.
            raise EngineError(f"speech engine 'gtts' could not speak {text!r}: {e}").with_hint(
                "offline"
            ) from e
        except ValueError as e:  # unsupported language
            raise EngineError(f"speech engine 'gtts' refused the request: {e}") from None
        if not buffer.getvalue():
            raise EngineError(
                "speech engine 'gtts' returned no audio. Probable cause: the service changed "
                "or refused the text"
            ).with_hint("offline")
        samples, sample_rate = decode_audio(buffer.getvalue(), what="gTTS reply")
        return Clip(samples.astype(np.int16, copy=False), sample_rate)
