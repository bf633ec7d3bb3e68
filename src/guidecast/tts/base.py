"""The speech-engine interface shared by Piper, gTTS and the fake engine."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from ..media.arrays import Pcm

__all__ = ["Clip", "Engine", "Pcm"]


@dataclass(frozen=True)
class Clip:
    """Mono 16-bit speech at the engine's own sample rate."""

    samples: Pcm
    sample_rate: int
    loudness: float | None = None
    """Gated BS.1770 loudness in LUFS (-inf when silent), measured once and cached with the
    clip; None until measured."""

    @property
    def ms(self) -> int:
        return -(-len(self.samples) * 1000 // self.sample_rate)


class Engine(Protocol):
    """Something that turns one sentence into speech."""

    name: str
    workers: int
    """Sentences it can synthesize at once (threads calling `synthesize` side by side)."""
    phonemes: bool
    """Whether it reads `[[phonemes]]` inside the text (Piper's espeak IPA)."""
    local: bool
    """Whether it speaks on this machine (no network, no quota): worth asking for sentences
    ahead of need."""

    def identity(self) -> str:
        """A string that changes whenever the same text would sound different (voice, model)."""
        ...

    def synthesize(self, text: str, *, rate: float) -> Clip:
        """Speak one sentence at `rate` (1.0 natural, 0.8 slower, 1.2 faster)."""
        ...
