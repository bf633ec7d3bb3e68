"""The synthesis cache: one WAV per (engine identity, rate, text), written atomically."""

from __future__ import annotations

import hashlib
import json
import logging
import wave
from pathlib import Path

import numpy as np
import platformdirs

from ..atomic import atomic_file
from .base import Clip

__all__ = ["ClipCache", "default_cache_dir", "write_wav"]

log = logging.getLogger(__name__)


def default_cache_dir() -> Path:
    """The user's cache folder for guidecast clips (e.g. ~/.cache/guidecast/clips)."""
    return Path(platformdirs.user_cache_dir("guidecast")) / "clips"


class ClipCache:
    """Stores clips on disk; a damaged entry reads as a miss and is synthesized again."""

    def __init__(self, root: Path) -> None:
        self.root = root

    @staticmethod
    def key(identity: str, rate: float, text: str) -> str:
        blob = json.dumps([identity, round(rate, 4), text], ensure_ascii=False)
        return hashlib.sha256(blob.encode("utf-8")).hexdigest()

    def path(self, key: str) -> Path:
        return self.root / key[:2] / f"{key}.wav"

    def get(self, key: str) -> Clip | None:
        """Return the cached clip, or None when missing or damaged."""
        path = self.path(key)
        try:
            with wave.open(str(path), "rb") as w:
                if w.getnchannels() != 1 or w.getsampwidth() != 2:
                    raise wave.Error("not 16-bit mono")
                frames = w.getnframes()
                data = w.readframes(frames)
                rate = w.getframerate()
            if len(data) != frames * 2 or frames == 0:
                raise wave.Error(f"expected {frames} frames, found {len(data) // 2}")
        except FileNotFoundError:
            return None
        except (wave.Error, EOFError, OSError) as e:
            log.warning("cache entry %s is damaged (%s); synthesizing it again", path.name, e)
            return None
        return Clip(np.frombuffer(data, dtype="<i2").astype(np.int16), rate)

    def put(self, key: str, clip: Clip) -> None:
        """Store a clip; the entry appears whole or not at all."""
        path = self.path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        write_wav(path, clip, sync=False)


def write_wav(path: Path, clip: Clip, *, sync: bool = True) -> None:
    """Write a clip as a 16-bit mono WAV file, whole or not at all."""
    with atomic_file(path, sync=sync) as f, wave.open(f, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(clip.sample_rate)
        w.writeframes(clip.samples.astype("<i2").tobytes())
