"""The synthesis cache: one WAV per (engine identity, rate, text), written atomically.

Beside each WAV, `KEY.json` keeps what was measured on the clip (its loudness), so a warm
render never measures a clip twice.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import logging
import shutil
import wave
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
import platformdirs

from ..store.atomic import atomic_file
from .base import Clip

__all__ = ["ClipCache", "default_cache_dir", "write_wav"]

MIN_RATE, MAX_RATE = 8000, 192_000
"""Sample rates a cached clip may have; anything else is damage."""

log = logging.getLogger(__name__)


def default_cache_dir() -> Path:
    """The user's cache folder for guidecast clips (e.g. ~/.cache/guidecast/clips)."""
    return Path(platformdirs.user_cache_dir("guidecast")) / "clips"


class ClipCache:
    """Stores clips on disk; a damaged entry reads as a miss and is synthesized again."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.warned = False

    @staticmethod
    def key(identity: str, rate: float, text: str) -> str:
        blob = json.dumps([identity, round(rate, 4), text], ensure_ascii=False)
        return hashlib.sha256(blob.encode("utf-8")).hexdigest()

    def path(self, key: str) -> Path:
        return self.root / key[:2] / f"{key}.wav"

    def measures_path(self, key: str) -> Path:
        return self.root / key[:2] / f"{key}.json"

    def get(self, key: str) -> Clip | None:
        """Return the cached clip (and its loudness if measured); None if missing or damaged.

        An entry is trusted only when its bytes match the checksum written beside it, so a
        flipped byte, a changed header (sample rate) or a half-written file is made again.
        """
        path = self.path(key)
        try:
            data = path.read_bytes()
            measures = self._measures(key)
            if measures.get("sha256") != hashlib.sha256(data).hexdigest():
                raise ValueError("its checksum does not match")
            with wave.open(io.BytesIO(data), "rb") as w:
                if w.getnchannels() != 1 or w.getsampwidth() != 2:
                    raise ValueError("not 16-bit mono")
                rate = w.getframerate()
                if not MIN_RATE <= rate <= MAX_RATE:
                    raise ValueError(f"a sample rate of {rate} Hz")
                frames = w.getnframes()
                pcm = w.readframes(frames)
            if len(pcm) != frames * 2 or frames == 0:
                raise ValueError(f"expected {frames} frames, found {len(pcm) // 2}")
        except FileNotFoundError:
            return None
        except (wave.Error, EOFError, OSError, ValueError) as e:
            log.warning("cache entry %s is damaged (%s); synthesizing it again", path.name, e)
            self._discard(key)
            return None
        samples = np.frombuffer(pcm, dtype="<i2").astype(np.int16)
        lufs = measures.get("lufs") if measures.get("frames") == frames else None
        return Clip(samples, rate, float(lufs) if isinstance(lufs, int | float) else None)

    def _measures(self, key: str) -> dict[str, Any]:
        """What is stored beside a clip: its checksum, frames and loudness ({} if unreadable)."""
        try:
            found = json.loads(self.measures_path(key).read_text("utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError):
            log.debug("measures of cache entry %s unreadable", key)
            return {}
        return found if isinstance(found, dict) else {}

    def _discard(self, key: str) -> None:
        """Remove a damaged entry (a file, or a folder in its place) so it can be made again."""
        for path in (self.path(key), self.measures_path(key)):
            with contextlib.suppress(OSError):
                if path.is_dir() and not path.is_symlink():
                    shutil.rmtree(path)
                else:
                    path.unlink(missing_ok=True)

    def facts(self, key: str) -> dict[str, Any]:
        """What was measured on a clip, read without the clip itself ({} when nothing is)."""
        return self._measures(key)

    def put_facts(self, key: str, facts: dict[str, Any]) -> None:
        """Add measurements beside a whole, checked entry (nothing for any other)."""
        measures = self._measures(key)
        if "sha256" in measures:
            self._write_measures(key, {**measures, **facts})

    def put_loudness(self, key: str, clip: Clip) -> None:
        """Store a clip's measured loudness beside its cached WAV (with the WAV's checksum)."""
        if clip.loudness is None:
            return
        measures = self._measures(key)
        if "sha256" not in measures:
            return  # only a whole, checked entry gets its loudness remembered
        self._write_measures(key, {**measures, "frames": len(clip.samples), "lufs": clip.loudness})

    def put(self, key: str, clip: Clip) -> None:
        """Store a clip (and its loudness when measured); the entry appears whole or not at all.

        The cache is a convenience: when it cannot be written (read-only, full, a folder in
        the way) the render goes on without it, and says so once.
        """
        buffer = io.BytesIO()
        _wav(buffer, clip)
        data = buffer.getvalue()
        measures: dict[str, Any] = {"sha256": hashlib.sha256(data).hexdigest()}
        if clip.loudness is not None:
            measures |= {"frames": len(clip.samples), "lufs": clip.loudness}
        try:
            path = self.path(key)
            path.parent.mkdir(parents=True, exist_ok=True)
            with atomic_file(path, sync=False) as f:
                f.write(data)
            self._write_measures(key, measures)
        except OSError as e:
            self._unwritable(e)

    def _write_measures(self, key: str, measures: dict[str, Any]) -> None:
        try:
            with atomic_file(self.measures_path(key), sync=False) as f:
                f.write(json.dumps(measures).encode("utf-8"))
        except OSError as e:
            self._unwritable(e)

    def _unwritable(self, e: OSError) -> None:
        if not self.warned:
            self.warned = True
            log.warning(
                "cannot write the speech cache in %s (%s); rendering without it",
                self.root,
                e.strerror or e,
            )


def write_wav(path: Path, clip: Clip, *, sync: bool = True) -> None:
    """Write a clip as a 16-bit mono WAV file, whole or not at all."""
    with atomic_file(path, sync=sync) as f:
        _wav(f, clip)


def _wav(f: BinaryIO, clip: Clip) -> None:
    with wave.open(f, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(clip.sample_rate)
        w.writeframes(clip.samples.astype("<i2").tobytes())
