"""A deterministic stand-in voice for tests: a soft tone sized by word count."""

from __future__ import annotations

import hashlib

import numpy as np

from ..media.decode import INT16_MAX
from .base import Clip

__all__ = ["FakeEngine"]


class FakeEngine:
    """Speaks each word as 250 ms of tone (plus 200 ms), divided by the rate; no model, no I/O."""

    name = "fake"
    workers = 1
    phonemes = False
    local = True
    sample_rate = 22050
    WORD_MS = 250
    TAIL_MS = 200

    def __init__(self, voice: str | None = None, language: str | None = None) -> None:
        self.voice = voice or "tone"
        self.language = language or "en"
        """The language it stands in for (a voice of another language is another voice)."""
        self.calls: list[str] = []

    def identity(self) -> str:
        english = self.language.lower().startswith("en")
        return f"fake:{self.voice}" if english else f"fake:{self.voice}:{self.language}"

    def synthesize(self, text: str, *, rate: float) -> Clip:
        self.calls.append(text)
        ms = round((len(text.split()) * self.WORD_MS + self.TAIL_MS) / rate)
        n = ms * self.sample_rate // 1000
        # A pitch per text keeps clips distinguishable when a test looks at the audio.
        pitch = 180 + int(hashlib.sha256(text.encode()).hexdigest()[:4], 16) % 120
        t = np.arange(n) / self.sample_rate
        envelope = np.minimum(1.0, np.minimum(t, t[::-1]) / 0.02) if n else t
        wave = 0.5 * np.sin(2 * np.pi * pitch * t) * envelope
        return Clip(np.round(wave * INT16_MAX).astype(np.int16), self.sample_rate)
