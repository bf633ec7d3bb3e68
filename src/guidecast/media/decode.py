"""Audio helpers: decoding sound files in-process with soundfile, resampling, the built-in bells.

soundfile (libsndfile, shipped inside its wheel) reads WAV (PCM and float), AIFF, FLAC,
OGG (Vorbis, Opus) and MP3, telling the format from the file's content, not its name.
"""

from __future__ import annotations

import functools
import io
import logging
from importlib import resources
from pathlib import Path
from typing import BinaryIO

import numpy as np

from ..errors import AudioError
from ..model import SoundRef
from .arrays import Float, Pcm
from .dsp import fft_resample

__all__ = [
    "INT16_MAX",
    "INT16_RANGE",
    "decode_audio",
    "decode_file",
    "load_sound",
    "resample",
    "sound_file_problem",
    "to_float",
]

log = logging.getLogger(__name__)

INT16_MAX = 32767
"""Full scale of 16-bit PCM: float samples in [-1, 1] are written as x * INT16_MAX."""
INT16_RANGE = 32768.0
"""16-bit PCM read back as floats: x / INT16_RANGE, so -32768 maps to exactly -1."""


Decoded = tuple[Pcm, int]
"""Mono 16-bit samples and their sample rate."""

MAX_SOUND_BYTES = 64 * 1024 * 1024
"""A bell or a bed is seconds to minutes of sound; a bigger file is a mistake."""
SOUND_RATES = (8000, 192_000)
"""Sample rates a sound file may have (Hz): others are damage, or too costly to resample."""
_WAV_FORMATS = {1: "PCM", 3: "float", 0xFFFE: "extensible"}


def sound_file_problem(path: Path) -> str | None:
    """Say what is wrong with a sound file, reading only its size and its header."""
    try:
        size = path.stat().st_size
        if size > MAX_SOUND_BYTES:
            return f"is {size // 1_000_000} MB; a sound may be at most {MAX_SOUND_BYTES >> 20} MB"
        if path.suffix.lower() != ".wav":
            return _probe(path)
        with path.open("rb") as f:
            return _wav_header_problem(f.read(4096))
    except OSError as e:
        return f"cannot be read: {e.strerror}"


def _probe(path: Path) -> str | None:
    """Open a sound file the way a render decodes it (headers only) and say what is wrong."""
    import soundfile

    try:
        with path.open("rb") as f:
            rate = soundfile.info(f).samplerate
    except (RuntimeError, ValueError, TypeError) as e:
        return f"cannot be decoded: {_reason(e)}"
    return _rate_problem(int(rate))


def _rate_problem(rate: int) -> str | None:
    if SOUND_RATES[0] <= rate <= SOUND_RATES[1]:
        return None
    return f"has a sample rate of {rate} Hz (expected {SOUND_RATES[0]}-{SOUND_RATES[1]})"


def _wav_header_problem(head: bytes) -> str | None:
    """Check a WAV file's RIFF header and its `fmt ` chunk."""
    if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
        return "is not a WAV file (no RIFF/WAVE header)"
    at = 12
    while at + 8 <= len(head):
        chunk, length = head[at : at + 4], int.from_bytes(head[at + 4 : at + 8], "little")
        if chunk == b"fmt ":
            body = head[at + 8 : at + 8 + 16]
            if len(body) < 16:
                break
            kind = int.from_bytes(body[0:2], "little")
            channels = int.from_bytes(body[2:4], "little")
            rate = int.from_bytes(body[4:8], "little")
            bits = int.from_bytes(body[14:16], "little")
            if kind not in _WAV_FORMATS:
                return f"has WAV encoding {kind}, not PCM or float"
            if not 1 <= channels <= 8:
                return f"has {channels} channels"
            if problem := _rate_problem(rate):
                return problem
            if bits not in (8, 16, 24, 32, 64):
                return f"has {bits} bits per sample"
            return None
        at += 8 + length + (length & 1)
    return "is not a WAV file (no format chunk at its start)"


def to_float(samples: Pcm) -> Float:
    """int16 PCM to float32 in [-1, 1)."""
    return samples.astype(np.float32) / INT16_RANGE


def resample(samples: Float, from_rate: int, to_rate: int) -> Float:
    """Resample a clip (ideal band-limiting through the FFT)."""
    return fft_resample(samples, from_rate, to_rate)


FORMATS = "WAV, FLAC, OGG, MP3 or AIFF"
"""The sound formats guidecast reads, for messages."""


def _reason(error: Exception) -> str:
    """libsndfile's own words for a failure, with the formats read when it knows none."""
    reason = str(getattr(error, "error_string", "") or error).strip().rstrip(".")
    if reason == "Format not recognised":
        return f"not a sound file in a format guidecast reads ({FORMATS})"
    return reason


def _decode(source: BinaryIO, *, what: str, seconds: float | None = None) -> Decoded:
    """Decode at most `seconds` (all when None) of a sound to mono int16, and its rate.

    The decoder gets an open file, never a name: it then tells the format from the content
    alone (given a name ending in .mp3, libsndfile would try MP3 on anything, and its MP3
    decoder prints notes about damaged frames on the terminal).
    """
    import soundfile  # a C library: loaded only when a sound file is read

    try:
        with soundfile.SoundFile(source) as f:
            rate = int(f.samplerate)
            frames = -1 if seconds is None else int(seconds * rate)
            samples = f.read(frames, dtype="float32", always_2d=True)
    except (RuntimeError, ValueError, TypeError) as e:  # LibsndfileError is a RuntimeError
        raise AudioError(f"cannot decode {what}: {_reason(e)}") from None
    mono = samples.mean(axis=1) if samples.shape[1] > 1 else samples[:, 0]
    # 16-bit sources come back exactly (libsndfile reads them as x / 32768); float sources
    # over full scale are clipped rather than wrapped.
    return np.clip(np.round(mono * INT16_RANGE), -INT16_RANGE, INT16_MAX).astype(np.int16), rate


def decode_file(path: Path, *, seconds: float) -> Decoded:
    """Decode at most the first `seconds` of a sound file to mono int16, reading only that
    much of it (a long recording is never loaded whole)."""
    try:
        with path.open("rb") as f:
            samples, rate = _decode(f, what=str(path), seconds=seconds)
    except OSError as e:
        raise AudioError(f"cannot decode {path}: {e.strerror}") from e
    if not len(samples):
        raise AudioError(f"cannot decode {path}: no audio")
    return samples, rate


def decode_audio(data: bytes, *, what: str) -> Decoded:
    """Decode a sound file's bytes to mono int16 and its sample rate."""
    return _decode(io.BytesIO(data), what=what)


def _builtin_path(name: str) -> Path:
    return Path(str(resources.files("guidecast").joinpath("data", "sounds", f"{name}.wav")))


def sound_stamp(ref: SoundRef) -> list[object]:
    """What a sound's audio depends on (JSON-able): its name and file, with the file's size
    and modification time (for a folder, of each file in it), so that data derived from it is
    made again when it changes."""
    path = Path(ref.path) if ref.path else _builtin_path(ref.name)
    try:
        st = path.stat()
        if path.is_dir():  # a folder played as a bed: every file in it
            inside = sorted(p for p in path.iterdir() if p.is_file())
            return [ref.name, str(path), [[p.name, *_size_time(p)] for p in inside]]
    except OSError:
        return [ref.name, str(path)]
    return [ref.name, str(path), st.st_size, st.st_mtime_ns]


def _size_time(path: Path) -> list[int]:
    st = path.stat()
    return [st.st_size, st.st_mtime_ns]


@functools.lru_cache(maxsize=32)
def load_sound(ref: SoundRef, sample_rate: int) -> Float:
    """A bell as float32 mono at `sample_rate`, whole: it always rings out to its end."""
    if ref.is_none:
        return np.zeros(0, np.float32)
    path = Path(ref.path) if ref.path else _builtin_path(ref.name)
    try:
        data = path.read_bytes()
    except OSError as e:
        raise AudioError(f"cannot read sound '{ref.name}' ({path}): {e.strerror}") from e
    # A library caller may skip the loader's check: the same header check, then the decoder.
    if data[:4] == b"RIFF" and (problem := _wav_header_problem(data[:4096])):
        raise AudioError(f"sound '{ref.name}' ({path}) {problem}")
    samples, rate = decode_audio(data, what=str(path))
    if problem := _rate_problem(rate):
        raise AudioError(f"sound '{ref.name}' ({path}) {problem}")
    return resample(to_float(samples), rate, sample_rate)
