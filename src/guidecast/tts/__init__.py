"""Speech engines (Piper offline by default, gTTS online, a fake one for tests) and the cache."""

from __future__ import annotations

from .base import Clip, Engine, Pcm
from .cache import ClipCache, default_cache_dir, write_wav
from .catalog import CatalogError, CatalogVoice, fetch_catalog, install_voice
from .fake import FakeEngine
from .gtts import GttsEngine
from .piper import PiperEngine
from .voices import (
    InstalledVoice,
    bundled_voices,
    installed_voices,
    remove_voice,
    voice_for_language,
    voices_dir,
)

__all__ = [
    "ENGINES",
    "CatalogError",
    "CatalogVoice",
    "Clip",
    "ClipCache",
    "Engine",
    "FakeEngine",
    "GttsEngine",
    "InstalledVoice",
    "Pcm",
    "PiperEngine",
    "bundled_voices",
    "default_cache_dir",
    "fetch_catalog",
    "install_voice",
    "installed_voices",
    "make_engine",
    "remove_voice",
    "voice_for_language",
    "voices_dir",
    "write_wav",
]

ENGINES = ("piper", "gtts", "fake")


def make_engine(name: str = "piper", voice: str | None = None, language: str = "en") -> Engine:
    """Build an engine by name; `voice` is engine-specific (Piper: name or .onnx path).

    With no voice, Piper speaks `language` with the best installed voice for it.
    """
    if name == "piper":
        return PiperEngine(voice, language)
    if name == "gtts":
        return GttsEngine(voice, language)
    if name == "fake":
        return FakeEngine(voice, language)
    raise ValueError(f"unknown engine {name!r}; expected one of {', '.join(ENGINES)}")
