"""A folder of sound files played as a bed: each file through, crossfaded into the next.

The files play in name order, each levelled to the same loudness (`REFERENCE_LUFS`), each
crossfading into the next over `PLAYLIST_CROSSFADE_S` with equal-power gains (sin and cos of
one angle, so uncorrelated music keeps its level through the join), and the last one into the
first again when the session is longer than the folder. Only measures are kept of every file
(length, gain, peak, power every 100 ms); their samples are decoded when played, one file at a
time, and at most two are held at once (the two sides of a crossfade).
"""

from __future__ import annotations

import math
import struct
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from ..errors import AudioError
from ..store.blobs import BlobStore, blob_key
from .arrays import F64, Float, pack_measures, unpack_measures
from .decode import decode_file, resample, sound_file_problem, to_float
from .loudness import SUB_PAD, clip_loudness, sub_block_power

__all__ = [
    "MAX_TRACK_S",
    "PLAYLIST_CROSSFADE_S",
    "READ_SUFFIXES",
    "REFERENCE_LUFS",
    "Playlist",
    "playlist_files",
    "playlist_problem",
]

READ_SUFFIXES = (".wav", ".mp3", ".ogg", ".flac", ".aiff", ".aif")
"""The files of a folder that are played (the sound files guidecast decodes)."""
PLAYLIST_CROSSFADE_S = 3.0
"""Each file fades into the next over this long (at most a third of the shortest file)."""
MAX_TRACK_S = 1200.0
"""A longer file is played for its first 20 minutes: one file is decoded whole at a time."""
MIN_TRACK_S = 1.0
REFERENCE_LUFS = -23.0
"""Every file is levelled to this loudness; the bed's level is then set from it."""
HELD = 2
"""Decoded files kept at once: the two sides of a crossfade."""


def playlist_files(folder: Path) -> list[Path]:
    """The sound files of a folder, in name order (not its subfolders)."""
    try:
        entries = list(folder.iterdir())
    except OSError:
        return []
    found = [p for p in entries if p.suffix.lower() in READ_SUFFIXES and p.is_file()]
    return sorted(found, key=lambda p: p.name)


def playlist_problem(folder: Path) -> str | None:
    """What is wrong with a folder as a bed (no sound files, one that cannot be decoded), or
    None; reads only each file's header."""
    files = playlist_files(folder)
    if not files:
        return f"holds no sound files ({', '.join(READ_SUFFIXES)})"
    for path in files:
        problem = sound_file_problem(path) or _length_problem(path)
        if problem:
            return f"has '{path.name}', which {problem}"
    return None


def _length_problem(path: Path) -> str | None:
    """Whether a file (whose header reads) is too short to play as a bed; from its header."""
    import soundfile  # a C library: loaded only when a folder is checked

    try:
        with path.open("rb") as f:
            seconds = float(soundfile.info(f).duration)
    except (OSError, RuntimeError, ValueError, TypeError):
        return None  # the decoder says what is wrong when the file is played
    if seconds < MIN_TRACK_S:
        return (
            f"is {seconds:.2f} s long; each file of a bed folder needs at least {MIN_TRACK_S:g} s"
        )
    return None


@dataclass(frozen=True)
class Track:
    """One file of a playlist, measured: what is kept of it between plays."""

    path: Path
    size: int
    """Samples at the playlist's rate."""
    gain: float
    """Linear gain that levels it to `REFERENCE_LUFS`."""
    peak: float
    """Its largest sample, levelled."""
    subs: F64
    """Mean K-weighted power of each 100 ms of it, levelled."""


def _read(path: Path, rate: int) -> Float:
    samples, native = decode_file(path, seconds=MAX_TRACK_S)
    if len(samples) < MIN_TRACK_S * native:
        raise AudioError(
            f"bed file '{path}' is {len(samples) / native:.2f} s long; each file of a bed "
            f"folder needs at least {MIN_TRACK_S:g} s"
        )
    x = resample(to_float(samples), native, rate)
    out: Float = (x - x.mean()).astype(np.float32)
    return out


_VERSION = 1


def _kept(path: Path, rate: int, store: BlobStore | None) -> Track:
    """A file's measures, from `store` when kept there (else measured, and kept): a re-render
    decodes only what it plays."""
    if store is None:
        return _measure(path, rate)
    try:
        st = path.stat()
    except OSError as e:
        raise AudioError(f"cannot read bed file '{path}': {e.strerror}") from e
    key = blob_key(["track", _VERSION, str(path), st.st_size, st.st_mtime_ns, rate])
    body = store.get(key)
    if body is not None:
        try:
            head, subs = unpack_measures(body)
            return Track(path, head["size"], head["gain"], head["peak"], subs)
        except (ValueError, KeyError, struct.error) as e:
            store.discard(key, str(e))
    track = _measure(path, rate)
    head = {"size": track.size, "gain": track.gain, "peak": track.peak}
    store.put(key, pack_measures(head, track.subs))
    return track


def _measure(path: Path, rate: int) -> Track:
    x = _read(path, rate)
    lufs = clip_loudness(x, rate)
    if not math.isfinite(lufs) or lufs < -70:
        raise AudioError(f"bed file '{path}' is silent; give a file with some sound in it")
    gain = 10 ** ((REFERENCE_LUFS - lufs) / 20)
    step = rate // 10
    subs = sub_block_power(x, rate)[SUB_PAD : SUB_PAD + -(-len(x) // step)] * gain**2
    return Track(path, len(x), gain, float(np.abs(x).max()) * gain, subs)


class Playlist:
    """A folder's files in a row at `rate`, each crossfaded into the next, round and round.

    Positions are samples from the start of the playlist's first pass; `samples(a, b)` gives
    any stretch of it, decoding the files it needs.
    """

    def __init__(
        self,
        folder: Path,
        rate: int,
        crossfade_s: float = PLAYLIST_CROSSFADE_S,
        store: BlobStore | None = None,
    ) -> None:
        files = playlist_files(folder)
        if not files:
            raise AudioError(f"bed folder '{folder}' holds no sound files")
        self.folder = folder
        self.rate = rate
        self.tracks = tuple(_kept(path, rate, store) for path in files)
        sizes = [t.size for t in self.tracks]
        self.fade = max(1, min(int(crossfade_s * rate), min(sizes) // 3))
        self.starts = tuple(
            int(s) for s in np.cumsum([0, *sizes[:-1]]) - self.fade * np.arange(len(sizes))
        )
        self.cycle = sum(sizes) - self.fade * len(sizes)
        """Samples in one pass of the folder (each file overlaps the next by `fade`)."""
        self.lufs = REFERENCE_LUFS
        self.peak = max(t.peak for t in self.tracks)
        self._decoded: OrderedDict[int, Float] = OrderedDict()

    @property
    def held(self) -> int:
        """How many files' samples are in memory."""
        return len(self._decoded)

    def _track(self, i: int) -> Float:
        if i in self._decoded:
            self._decoded.move_to_end(i)
            return self._decoded[i]
        while len(self._decoded) >= HELD:
            self._decoded.popitem(last=False)
        track = self.tracks[i]
        x = _read(track.path, self.rate)[: track.size] * np.float32(track.gain)
        self._decoded[i] = x
        return x

    def _envelope(self, at: F64, size: int, fade_in: bool | npt.NDArray[np.bool_]) -> F64:
        """Crossfade gains at positions `at` inside a file of `size` samples: in over its
        first `fade` samples (where `fade_in`), out over its last."""
        head = np.sin(np.clip((at + 0.5) / self.fade, 0, 1) * (np.pi / 2))
        tail = np.sin(np.clip((size - at - 0.5) / self.fade, 0, 1) * (np.pi / 2))
        return np.asarray(np.where(fade_in, head, 1.0) * tail, np.float64)

    def _placed(self, a: int, b: int) -> list[tuple[int, int, int]]:
        """(file, start, cycle) of every file that sounds in [a, b)."""
        out = []
        first = max(0, (a - self.fade) // self.cycle - 1)
        for k in range(first, b // self.cycle + 1):
            for i, track in enumerate(self.tracks):
                start = k * self.cycle + self.starts[i]
                if start < b and start + track.size > a:
                    out.append((i, start, k))
        return out

    def samples(self, a: int, b: int) -> Float:
        """The playlist's samples [a, b) (a >= 0), levelled and crossfaded."""
        out = np.zeros(b - a, np.float32)
        for i, start, k in self._placed(a, b):
            track = self.tracks[i]
            lo, hi = max(a, start) - start, min(b, start + track.size) - start
            at = np.arange(lo, hi, dtype=np.float64)
            gain = self._envelope(at, track.size, (i, k) != (0, 0))
            out[lo + start - a : hi + start - a] += self._track(i)[lo:hi] * gain.astype(np.float32)
        return out

    def power(self, at: F64) -> F64:
        """Mean K-weighted power of the playlist around positions `at` (its 100 ms there)."""
        step = self.rate // 10
        out = np.zeros(len(at), np.float64)
        where = np.mod(at, self.cycle)
        for i, track in enumerate(self.tracks):
            for shift in (0, self.cycle):
                local = where + shift - self.starts[i]
                live = (local >= 0) & (local < track.size) & (at - local >= 0)
                if not live.any():
                    continue
                near = local[live]
                index = np.minimum((near // step).astype(np.int64), len(track.subs) - 1)
                # The first file fades in from the file before, except on the first pass.
                fade_in = (at[live] - near > 0) if i == 0 else True
                gain = self._envelope(near, track.size, fade_in)
                out[live] += track.subs[index] * gain**2
        return out
