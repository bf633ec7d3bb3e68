"""Files a routine points to are checked by `check`, with bounded memory (finding 11):
cover images too big to decode, sound files with impossible sample rates."""

from __future__ import annotations

import io
import struct
import subprocess
import sys
import textwrap
import wave
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from guidecast.errors import AudioError, Loc, RoutineError
from guidecast.media.decode import load_sound
from guidecast.model import SoundRef
from guidecast.routine.load import load_routine
from render_fixtures import run_main

STEPS = "steps:\n  - pose: A\n    hold: 1m\n"


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def blank_png(width: int, height: int) -> bytes:
    """A 1-bit black PNG, compressed a megabyte at a time: tiny on disk, huge when decoded."""
    row = b"\x00" * (1 + (width + 7) // 8)
    packer = zlib.compressobj(9)
    compressed = []
    rows_per_piece = max(1, (1 << 20) // len(row))
    for first in range(0, height, rows_per_piece):
        compressed.append(packer.compress(row * min(rows_per_piece, height - first)))
    compressed.append(packer.flush())
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", b"".join(compressed))
        + _chunk(b"IEND", b"")
    )


def wav_at(rate: int) -> bytes:
    """A short 16-bit mono WAV whose header claims `rate` samples a second."""
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(np.zeros(800, "<i2").tobytes())
    data = bytearray(buffer.getvalue())
    data[24:28] = struct.pack("<I", rate)
    return bytes(data)


def _routine(folder: Path, extra: str) -> Path:
    path = folder / "r.yaml"
    path.write_text(f"title: T\n{extra}{STEPS}", encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("size", "complaint"),
    [
        ((20_000, 20_000), "is too large to decode safely"),  # a 48 KB decompression bomb
        ((10_000, 10_000), "is too large to decode safely"),  # 100 megapixels in 12 KB
        ((8_000, 7_000), "is 8000x7000 pixels; use one of at most 50 megapixels"),
    ],
    ids=["bomb", "100 Mpx", "56 Mpx"],
)
def test_covers_too_big_to_decode_are_refused_at_check_time(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    size: tuple[int, int],
    complaint: str,
) -> None:
    (tmp_path / "big.png").write_bytes(blank_png(*size))
    assert (tmp_path / "big.png").stat().st_size < 64_000
    routine = _routine(tmp_path, "cover: big.png\n")
    for command in ("check", "plan"):
        code, out, err = run_main([command, routine], monkeypatch, capsys)
        assert code == 2
        assert f"{routine}:2:8: cover image 'big.png' {complaint}" in out + err
        assert "Traceback" not in out + err


def test_checking_a_decompression_bomb_takes_little_memory(tmp_path: Path) -> None:
    (tmp_path / "big.png").write_bytes(blank_png(10_000, 10_000))
    routine = _routine(tmp_path, "cover: big.png\n")
    script = textwrap.dedent(f"""
        import resource
        from guidecast.errors import RoutineError
        from guidecast.routine.load import load_routine
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        try:
            load_routine({str(routine)!r})
        except RoutineError as e:
            print(e)
        print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before)
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    message, grown_kb = done.stdout.strip().splitlines()
    assert "too large to decode safely" in message, done.stderr
    assert int(grown_kb) < 50_000  # the decoded image alone would be 100 MB


@pytest.mark.parametrize(
    ("content", "complaint"),
    [
        (b"\x89PNG\r\n\x1a\n", "is not a readable JPEG or PNG"),
        (b"just text", "is not a readable JPEG or PNG"),
        (None, "is not a readable JPEG or PNG"),
    ],
    ids=["signature only", "text", "bad checksum"],
)
def test_unreadable_covers_are_refused_at_check_time(
    tmp_path: Path, content: bytes | None, complaint: str
) -> None:
    if content is None:  # a real PNG with one byte of its pixel data flipped
        buffer = io.BytesIO()
        Image.new("RGB", (64, 64), (10, 20, 30)).save(buffer, "PNG")
        data = bytearray(buffer.getvalue())
        data[data.index(b"IDAT") + 6] ^= 0xFF
        content = bytes(data)
    (tmp_path / "c.png").write_bytes(content)
    with pytest.raises(RoutineError, match=complaint):
        load_routine(_routine(tmp_path, "cover: c.png\n"))


def test_a_good_cover_still_loads(tmp_path: Path) -> None:
    Image.new("RGB", (1600, 1400), (10, 20, 30)).save(tmp_path / "c.jpg")
    assert load_routine(_routine(tmp_path, "cover: c.jpg\n")).cover == str(tmp_path / "c.jpg")


@pytest.mark.parametrize("rate", [0, 1, 4_000, 10**9])
def test_sound_files_with_absurd_sample_rates_are_refused_at_check_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], rate: int
) -> None:
    (tmp_path / "bell.wav").write_bytes(wav_at(rate))
    routine = _routine(tmp_path, "sounds: {start: bell.wav}\n")
    for command in ("check", "render"):
        args = [command, routine] + (
            ["-e", "fake", "-o", tmp_path / "o"] if command == "render" else []
        )
        code, out, err = run_main(args, monkeypatch, capsys)
        assert code == 2, out + err
        assert f"{routine}:2:17: sound file 'bell.wav' has a sample rate of {rate} Hz" in out + err
        assert "Traceback" not in out + err


def test_sound_files_that_are_not_wav_inside_are_refused(tmp_path: Path) -> None:
    (tmp_path / "bell.wav").write_bytes(b"ID3 not a wav at all")
    with pytest.raises(RoutineError, match=r"sound file 'bell\.wav' is not a WAV file"):
        load_routine(_routine(tmp_path, "sounds: {start: bell.wav}\n"))
    (tmp_path / "bell.wav").write_bytes(wav_at(22_050))
    assert load_routine(_routine(tmp_path, "sounds: {start: bell.wav}\n"))


def test_the_renderer_refuses_an_absurd_rate_too(tmp_path: Path) -> None:
    """A library caller who skips the loader still gets an AudioError, not ZeroDivisionError."""
    (tmp_path / "zero.wav").write_bytes(wav_at(0))
    with pytest.raises(AudioError, match="sample rate"):
        load_sound(SoundRef("zero.wav", str(tmp_path / "zero.wav"), Loc("r.yaml")), 44_100)
