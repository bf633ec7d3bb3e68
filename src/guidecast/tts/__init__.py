"""Speech engines (Piper offline by default, gTTS online, a fake one for tests) and the cache."""

from __future__ import annotations

from .base import Clip, Engine, Pcm
from .cache import ClipCache, default_cache_dir, write_wav
from .fake import FakeEngine
from .gtts import GttsEngine
from .piper import PiperEngine, bundled_voices

__all__ = [
    "ENGINES",
    "Clip",
    "ClipCache",
    "Engine",
    "FakeEngine",
    "GttsEngine",
    "Pcm",
    "PiperEngine",
    "bundled_voices",
    "default_cache_dir",
    "make_engine",
    "write_wav",
]

ENGINES = ("piper", "gtts", "fake")


def make_engine(name: str = "piper", voice: str | None = None, language: str = "en") -> Engine:
    """Build an engine by name; `voice` is engine-specific (Piper: name or .onnx path)."""
    if name == "piper":
        return PiperEngine(voice)
    if name == "gtts":
        return GttsEngine(voice, language)
    if name == "fake":
        return FakeEngine(voice)
    raise ValueError(f"unknown engine {name!r}; expected one of {', '.join(ENGINES)}")
