"""Sound files decoded in-process (soundfile): every format the docs name, mono by averaging,
only the head of a long file, and located, one-line errors for what cannot be read.

The MP3, FLAC and OGG files are written by ffmpeg, a reference independent of the decoder.
"""

from __future__ import annotations

import io
import struct
import subprocess
import wave
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

from guidecast.errors import AudioError, Loc
from guidecast.media.decode import decode_audio, decode_file, load_sound
from guidecast.model import SoundRef
from render_fixtures import FFMPEG, run_main

RATE = 22_050


def tone(seconds: float, hz: float = 440.0, level: float = 0.5) -> npt.NDArray[np.float64]:
    t = np.arange(int(seconds * RATE)) / RATE
    return level * np.sin(2 * np.pi * hz * t)


def wav(samples: npt.NDArray[np.float64], *, width: int = 2) -> bytes:
    """PCM WAV by the standard library: (n,) mono or (n, channels), 8 * width bits (8-bit WAV
    is unsigned)."""
    frames = samples if samples.ndim == 2 else samples[:, np.newaxis]
    scaled = np.round(frames * (2 ** (8 * width - 1) - 1)).astype("<i4")
    if width == 1:
        raw = (scaled + 128).astype(np.uint8).tobytes()
    else:
        raw = b"".join(int(v).to_bytes(4, "little", signed=True)[:width] for v in scaled.ravel())
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as w:
        w.setnchannels(frames.shape[1])
        w.setsampwidth(width)
        w.setframerate(RATE)
        w.writeframes(raw)
    return buffer.getvalue()


def float_wav(samples: npt.NDArray[np.float64]) -> bytes:
    """A mono 32-bit float WAV (format 3), written by hand: the standard library has none."""
    data = samples.astype("<f4").tobytes()
    fmt = struct.pack("<HHIIHH", 3, 1, RATE, RATE * 4, 4, 32)
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt
    body += b"data" + struct.pack("<I", len(data)) + data
    return b"RIFF" + struct.pack("<I", len(body)) + body


def ffmpeg_writes(path: Path, *codec: str) -> Path:
    """A one-second 330 Hz tone written by ffmpeg to `path` (the test skips if it cannot)."""
    source = path.with_name("source.wav")
    source.write_bytes(wav(tone(1.0, 330)))
    done = subprocess.run(
        [FFMPEG, "-v", "error", "-i", str(source), *codec, str(path)], capture_output=True
    )
    if done.returncode:
        pytest.skip(f"this ffmpeg cannot write {path.name}: {done.stderr.decode()[-200:]}")
    return path


def check(
    folder: Path, sound: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> tuple[int, str, Path]:
    """`guidecast check` on a routine whose start sound is `sound` (line 2, column 17)."""
    routine = folder / "r.yaml"
    routine.write_text(f"title: T\nsounds: {{start: {sound}}}\nsteps:\n  - pose: A\n    hold: 1m\n")
    code, out, _ = run_main(["check", routine], monkeypatch, capsys)
    return code, out, routine


def as_float(samples: npt.NDArray[np.int16]) -> npt.NDArray[np.float64]:
    return samples.astype(np.float64) / 32768


def test_16_bit_wav_samples_come_back_exactly() -> None:
    x = np.round(tone(0.5) * 32767).astype("<i2")
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(x.tobytes())
    samples, rate = decode_audio(buffer.getvalue(), what="t.wav")
    assert rate == RATE and samples.dtype == np.int16
    assert np.array_equal(samples, x)


@pytest.mark.parametrize("width", [1, 3, 4])
def test_other_pcm_widths_decode(width: int) -> None:
    samples, rate = decode_audio(wav(tone(0.5), width=width), what="t.wav")
    assert rate == RATE and len(samples) == RATE // 2
    assert np.abs(as_float(samples) - tone(0.5)).max() < (0.02 if width == 1 else 1e-3)


def test_float_wav_decodes_and_is_clipped_not_wrapped() -> None:
    x = tone(0.5, level=1.5)  # over full scale
    samples, _ = decode_audio(float_wav(x), what="t.wav")
    assert np.abs(as_float(samples) - np.clip(x, -1, 32767 / 32768)).max() < 1e-3


def test_stereo_is_averaged_to_mono() -> None:
    left, right = tone(0.5, 440), tone(0.5, 660, level=0.25)
    samples, _ = decode_audio(wav(np.stack([left, right], axis=1)), what="t.wav")
    assert np.abs(as_float(samples) - (left + right) / 2).max() < 1e-3


@pytest.mark.parametrize("suffix", [".mp3", ".flac", ".ogg", ".aiff"])
def test_formats_written_by_ffmpeg_decode(tmp_path: Path, suffix: str) -> None:
    path = ffmpeg_writes(tmp_path / f"tone{suffix}")
    samples, rate = decode_file(path, seconds=300)
    assert rate == RATE
    assert RATE <= len(samples) <= 1.1 * RATE  # MP3 and OGG may add a little at the ends
    x = as_float(samples)
    spectrum = np.abs(np.fft.rfft(x * np.hanning(len(x))))
    assert abs(np.fft.rfftfreq(len(x), 1 / RATE)[spectrum.argmax()] - 330) < 3
    assert 0.3 < np.abs(x).max() < 0.6


def test_decode_file_reads_only_the_first_seconds(tmp_path: Path) -> None:
    path = tmp_path / "long.wav"
    path.write_bytes(wav(tone(3.0)))
    samples, _ = decode_file(path, seconds=1.5)
    assert len(samples) == int(1.5 * RATE)


def test_an_empty_sound_file_says_it_has_no_audio(tmp_path: Path) -> None:
    path = tmp_path / "empty.wav"
    path.write_bytes(wav(np.zeros(0)))
    with pytest.raises(AudioError, match=f"cannot decode {path}: no audio"):
        decode_file(path, seconds=10)


@pytest.mark.parametrize(
    "content",
    [b"this is no sound at all" * 50, b"RIFF garbage", b""],
    ids=["text", "riff", "empty"],
)
def test_what_is_not_a_sound_file_is_one_line_naming_it(content: bytes) -> None:
    with pytest.raises(AudioError) as info:
        decode_audio(content, what="bell.mp3")
    message = str(info.value)
    assert message == (
        "cannot decode bell.mp3: not a sound file in a format guidecast reads "
        "(WAV, FLAC, OGG, MP3 or AIFF)"
    )


def test_a_header_problem_is_named_before_decoding(tmp_path: Path) -> None:
    data = bytearray(wav(tone(0.1)))
    data[34:36] = (12).to_bytes(2, "little")  # bits per sample
    (tmp_path / "odd.wav").write_bytes(bytes(data))
    with pytest.raises(AudioError, match=r"sound 'odd' \(.*odd\.wav\) has 12 bits per sample"):
        load_sound(SoundRef("odd", str(tmp_path / "odd.wav"), Loc("r.yaml")), 44_100)


def test_check_decodes_the_header_of_sound_files_that_are_not_wav(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "bell.mp3").write_bytes(b"this is no MP3 at all" * 50)
    code, out, routine = check(tmp_path, "bell.mp3", monkeypatch, capsys)
    assert code == 2
    assert f"{routine}:2:17: sound file 'bell.mp3' cannot be decoded: not a sound file" in out
    (tmp_path / "bell.flac").write_bytes(b"fLaC but nothing after")
    code, out, routine = check(tmp_path, "bell.flac", monkeypatch, capsys)
    assert code == 2 and f"{routine}:2:17: sound file 'bell.flac' cannot be decoded" in out
    ffmpeg_writes(tmp_path / "bell.ogg")
    assert check(tmp_path, "bell.ogg", monkeypatch, capsys)[:2] == (0, "")


def test_m4a_is_refused_at_check_time_as_a_format_guidecast_does_not_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    ffmpeg_writes(tmp_path / "bell.m4a", "-c:a", "aac")
    code, out, routine = check(tmp_path, "bell.m4a", monkeypatch, capsys)
    assert code == 2
    assert out == (
        f"{routine}:2:17: sound file 'bell.m4a' cannot be decoded: not a sound file in a "
        "format guidecast reads (WAV, FLAC, OGG, MP3 or AIFF) [bad-file]\n"
    )
