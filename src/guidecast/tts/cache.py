"""The synthesis cache: one WAV per (engine identity, rate, text), written atomically.

Beside each WAV, `KEY.json` keeps what was measured on the clip (its loudness), so a warm
render never measures a clip twice.
"""

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

    def measures_path(self, key: str) -> Path:
        return self.root / key[:2] / f"{key}.json"

    def get(self, key: str) -> Clip | None:
        """Return the cached clip (and its loudness if measured); None if missing or damaged."""
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
        samples = np.frombuffer(data, dtype="<i2").astype(np.int16)
        return Clip(samples, rate, self._loudness(key, frames))

    def _loudness(self, key: str, frames: int) -> float | None:
        """The measured loudness stored beside the clip, if it belongs to these samples."""
        try:
            found = json.loads(self.measures_path(key).read_text("utf-8"))
            if found["frames"] == frames:
                return float(found["lufs"])
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, TypeError):
            log.debug("measures of cache entry %s unreadable; measuring again", key)
        return None

    def put_loudness(self, key: str, clip: Clip) -> None:
        """Store a clip's measured loudness beside its cached WAV."""
        if clip.loudness is None:
            return
        path = self.measures_path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        blob = json.dumps({"frames": len(clip.samples), "lufs": clip.loudness})
        with atomic_file(path, sync=False) as f:
            f.write(blob.encode("utf-8"))

    def put(self, key: str, clip: Clip) -> None:
        """Store a clip (and its loudness when measured); the entry appears whole or not at all."""
        path = self.path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        write_wav(path, clip, sync=False)
        if clip.loudness is None:
            self.measures_path(key).unlink(missing_ok=True)  # it measured the old samples
        self.put_loudness(key, clip)


def write_wav(path: Path, clip: Clip, *, sync: bool = True) -> None:
    """Write a clip as a 16-bit mono WAV file, whole or not at all."""
    with atomic_file(path, sync=sync) as f, wave.open(f, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(clip.sample_rate)
        w.writeframes(clip.samples.astype("<i2").tobytes())
