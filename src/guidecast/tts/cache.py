"""The synthesis cache: one WAV per (engine identity, rate, text), written atomically.

Each WAV ends with a checksum of its key and its bytes (a chunk readers skip), so a clip
copied or moved under another key is made again, never trusted. Beside it, `KEY.json` keeps
what was measured on the clip (its loudness, length), tied to the clip by that checksum and
to the key by name, so a warm render never measures a clip twice; a clip whose json is lost
is measured again once, not made again.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import logging
import os
import shutil
import stat
import struct
import wave
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
import platformdirs

from ..store.atomic import atomic_file
from ..store.blobs import entry_digest, entry_folder, read_entry, remove_entry
from .base import Clip

__all__ = ["ClipCache", "default_cache_dir", "write_wav"]

MIN_RATE, MAX_RATE = 8000, 192_000
"""Sample rates a cached clip may have; anything else is damage."""
_TAG = b"gcid"
"""The chunk at the end of a cached WAV that holds the checksum of its key and its bytes."""
_TRAILER = struct.Struct("<4sI32s")
_MAX_MEASURES = 16 * 1024 * 1024

log = logging.getLogger(__name__)


def default_cache_dir() -> Path:
    """The user's cache folder for guidecast clips (e.g. ~/.cache/guidecast/clips)."""
    return Path(platformdirs.user_cache_dir("guidecast")) / "clips"


class ClipCache:
    """Stores clips on disk; a damaged entry reads as a miss and is synthesized again."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.warned = False
        self._verified: dict[str, tuple[str, int]] = {}
        """Checksum and frames of each clip read whole in this process, by key: what its
        measures are tied to when they are written again."""

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

        An entry is trusted only when its bytes and its key match the checksum it ends with,
        so a flipped byte, a changed header (sample rate), a half-written file or a clip
        copied from another key is made again.
        """
        path = self.path(key)
        try:
            data = read_entry(path)
            wav, digest = self._checked(key, data)
            with wave.open(io.BytesIO(wav), "rb") as w:
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
        except _Earlier:
            log.info("cache entry %s was made by an earlier version; making it again", path.name)
            self._discard(key)
            return None
        except (wave.Error, EOFError, OSError, ValueError, struct.error) as e:
            log.warning("cache entry %s is damaged (%s); synthesizing it again", path.name, e)
            self._discard(key)
            return None
        self._verified[key] = (digest.hex(), frames)
        measures = self._measures(key)
        samples = np.frombuffer(pcm, dtype="<i2").astype(np.int16)
        lufs = measures.get("lufs") if measures.get("frames") == frames else None
        if measures.get("sha256") != digest.hex():
            lufs = None  # facts of another clip: measured again
        return Clip(samples, rate, float(lufs) if isinstance(lufs, int | float) else None)

    def _checked(self, key: str, data: bytes) -> tuple[bytes, bytes]:
        """The WAV bytes of an entry and its checksum, once both match the key."""
        if len(data) < _TRAILER.size:
            raise ValueError("too short for a clip")
        wav = data[: -_TRAILER.size]
        tag, size, digest = _TRAILER.unpack(data[-_TRAILER.size :])
        if tag != _TAG or size != 32:
            measures = self._measures(key, keyed=False)
            if measures.get("sha256") == hashlib.sha256(data).hexdigest():
                raise _Earlier
            raise ValueError("it has no checksum")
        if entry_digest(key, wav) != digest:
            raise ValueError("its checksum does not match its key and contents")
        return wav, digest

    def _measures(self, key: str, *, keyed: bool = True) -> dict[str, Any]:
        """What is stored beside a clip: its checksum, frames and loudness ({} if unreadable,
        or written for another key)."""
        try:
            found = json.loads(read_entry(self.measures_path(key), _MAX_MEASURES))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError):
            log.debug("measures of cache entry %s unreadable", key)
            return {}
        if not isinstance(found, dict) or (keyed and found.get("key") != key):
            return {}
        return found

    def _discard(self, key: str) -> None:
        """Remove a damaged entry (a file, a link, or a folder in its place) to make it again."""
        self._verified.pop(key, None)
        for path in (self.path(key), self.measures_path(key)):
            with contextlib.suppress(OSError):
                if stat.S_ISDIR(os.lstat(path).st_mode):
                    shutil.rmtree(path)
                else:
                    remove_entry(path)

    def facts(self, key: str) -> dict[str, Any]:
        """What was measured on a clip, read without the clip itself ({} when nothing is)."""
        return self._measures(key)

    def put_facts(self, key: str, facts: dict[str, Any]) -> None:
        """Add measurements beside a whole, checked entry (nothing for any other)."""
        measures = self._whole(key)
        if measures is not None:
            self._write_measures(key, {**measures, **facts})

    def put_loudness(self, key: str, clip: Clip) -> None:
        """Store a clip's measured loudness beside its cached WAV (with the WAV's checksum)."""
        if clip.loudness is None:
            return
        measures = self._whole(key)
        if measures is None:
            return  # only a whole, checked entry gets its loudness remembered
        self._write_measures(key, {**measures, "frames": len(clip.samples), "lufs": clip.loudness})

    def _whole(self, key: str) -> dict[str, Any] | None:
        """The measures of an entry known to be whole (read and checked, or just written),
        a fresh start when they were lost; None for an entry not known whole."""
        measures = self._measures(key)
        known = self._verified.get(key)
        if known is None:
            return measures if "sha256" in measures else None
        if measures.get("sha256") != known[0]:
            return {"key": key, "sha256": known[0]}
        return measures

    def put(self, key: str, clip: Clip) -> None:
        """Store a clip (and its loudness when measured); the entry appears whole or not at all.

        The cache is a convenience: when it cannot be written (read-only, full, a folder in
        the way) the render goes on without it, and says so once.
        """
        buffer = io.BytesIO()
        _wav(buffer, clip)
        wav = bytearray(buffer.getvalue())
        # The RIFF chunk's size counts the trailer, so the file stays a well-formed WAV.
        wav[4:8] = (len(wav) + _TRAILER.size - 8).to_bytes(4, "little")
        digest = entry_digest(key, bytes(wav))
        data = bytes(wav) + _TRAILER.pack(_TAG, 32, digest)
        measures: dict[str, Any] = {"key": key, "sha256": digest.hex()}
        if clip.loudness is not None:
            measures |= {"frames": len(clip.samples), "lufs": clip.loudness}
        try:
            path = self.path(key)
            entry_folder(path)
            with atomic_file(path, sync=False) as f:
                f.write(data)
            self._verified[key] = (digest.hex(), len(clip.samples))
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


class _Earlier(Exception):
    """A clip written by a version whose checksum did not cover the key: made again."""


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
