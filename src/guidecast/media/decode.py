"""Audio helpers: decoding sound files with pydub, resampling, and the built-in bells."""

from __future__ import annotations

import functools
import io
import logging
import subprocess
import warnings
from importlib import resources
from pathlib import Path

import numpy as np
import numpy.typing as npt

from ..errors import AudioError
from ..model import SoundRef
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


Float = npt.NDArray[np.float32]

MAX_SOUND_BYTES = 64 * 1024 * 1024
"""A bell or a bed is seconds to minutes of sound; a bigger file is a mistake."""
SOUND_RATES = (8000, 192_000)
"""Sample rates a sound file may have (Hz): others are damage, or too costly to resample."""
_WAV_FORMATS = {1: "PCM", 3: "float", 0xFFFE: "extensible"}


def sound_file_problem(path: Path) -> str | None:
    """Say what is wrong with a sound file, reading only its size and (WAV) its header."""
    try:
        size = path.stat().st_size
        if size > MAX_SOUND_BYTES:
            return f"is {size // 1_000_000} MB; a sound may be at most {MAX_SOUND_BYTES >> 20} MB"
        if path.suffix.lower() != ".wav":
            return None  # other formats are decoded (and checked) by ffmpeg at render time
        with path.open("rb") as f:
            return _wav_header_problem(f.read(4096))
    except OSError as e:
        return f"cannot be read: {e.strerror}"


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
            if not SOUND_RATES[0] <= rate <= SOUND_RATES[1]:
                return (
                    f"has a sample rate of {rate} Hz (expected {SOUND_RATES[0]}-{SOUND_RATES[1]})"
                )
            if bits not in (8, 16, 24, 32, 64):
                return f"has {bits} bits per sample"
            return None
        at += 8 + length + (length & 1)
    return "is not a WAV file (no format chunk at its start)"


def to_float(samples: npt.NDArray[np.int16]) -> Float:
    """int16 PCM to float32 in [-1, 1)."""
    return samples.astype(np.float32) / INT16_RANGE


def resample(samples: Float, from_rate: int, to_rate: int) -> Float:
    """Resample a clip (ideal band-limiting through the FFT)."""
    return fft_resample(samples, from_rate, to_rate)


def _ffmpeg() -> str:
    import imageio_ffmpeg

    return str(imageio_ffmpeg.get_ffmpeg_exe())


def _to_wav(data: bytes, *, what: str) -> bytes:
    """Decode any format to 16-bit WAV with our ffmpeg (pydub would also need ffprobe on PATH)."""
    command = [_ffmpeg(), "-v", "error", "-i", "pipe:0", "-vn", "-acodec", "pcm_s16le"]
    try:
        done = subprocess.run([*command, "-f", "wav", "pipe:1"], input=data, capture_output=True)
    except OSError as e:
        raise AudioError(f"cannot decode {what}: {e}") from e
    if done.returncode or not done.stdout:
        reason = done.stderr.decode(errors="replace").strip().splitlines() or ["no audio"]
        raise AudioError(f"cannot decode {what}: {reason[-1]}")
    return done.stdout


def decode_file(path: Path, *, seconds: float) -> tuple[npt.NDArray[np.int16], int]:
    """Decode at most the first `seconds` of a sound file of any format to mono int16, with
    ffmpeg reading the file itself (a long recording is never loaded whole)."""
    command = [_ffmpeg(), "-v", "error", "-t", f"{seconds:g}", "-i", str(path), "-vn", "-ac", "1"]
    try:
        done = subprocess.run(
            [*command, "-acodec", "pcm_s16le", "-f", "wav", "pipe:1"], capture_output=True
        )
    except OSError as e:
        raise AudioError(f"cannot decode {path}: {e}") from e
    if done.returncode or len(done.stdout) <= 44:
        reason = done.stderr.decode(errors="replace").strip().splitlines() or ["no audio"]
        raise AudioError(f"cannot decode {path}: {reason[-1]}")
    return decode_audio(done.stdout, "wav", what=str(path))


def decode_audio(data: bytes, fmt: str, *, what: str) -> tuple[npt.NDArray[np.int16], int]:
    """Decode audio bytes to mono int16 with pydub (ffmpeg from imageio-ffmpeg for non-WAV)."""
    with warnings.catch_warnings():
        # pydub warns at import when no ffmpeg is on PATH; WAV needs none, others get ours.
        warnings.simplefilter("ignore", RuntimeWarning)
        from pydub import AudioSegment

    if fmt != "wav":
        data, fmt = _to_wav(data, what=what), "wav"
    try:
        segment = AudioSegment.from_file(io.BytesIO(data), format=fmt)
    except Exception as e:
        if data[:4] == b"RIFF" and data[8:12] == b"WAVE":
            raise AudioError(f"cannot decode {what}: {e}") from None
        # Not a WAV file pydub can read: ffmpeg either decodes it or says what is wrong.
        segment = AudioSegment.from_file(io.BytesIO(_to_wav(data, what=what)), format="wav")
    segment = segment.set_channels(1).set_sample_width(2)
    samples = np.array(segment.get_array_of_samples(), dtype=np.int16)
    return samples, int(segment.frame_rate)


def _builtin_path(name: str) -> Path:
    return Path(str(resources.files("guidecast").joinpath("data", "sounds", f"{name}.wav")))


def sound_stamp(ref: SoundRef) -> list[object]:
    """What a sound's audio depends on (JSON-able): its name and file, with the file's size
    and modification time, so that data derived from it is made again when it changes."""
    path = Path(ref.path) if ref.path else _builtin_path(ref.name)
    try:
        st = path.stat()
    except OSError:
        return [ref.name, str(path)]
    return [ref.name, str(path), st.st_size, st.st_mtime_ns]


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
    samples, rate = decode_audio(data, path.suffix.lower().lstrip(".") or "wav", what=str(path))
    if not SOUND_RATES[0] <= rate <= SOUND_RATES[1]:
        raise AudioError(f"sound '{ref.name}' ({path}) has a sample rate of {rate} Hz")
    return resample(to_float(samples), rate, sample_rate)
