"""The built-in sounds in assets/sounds/ are exactly what scripts/make_sounds.py generates."""

from __future__ import annotations

import array
import importlib.util
import itertools
import math
import subprocess
import sys
import wave
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "scripts" / "make_sounds.py"
SOUNDS_DIR = ROOT / "assets" / "sounds"
NAMES = [
    *("bowl", "chime", "gong", "woodblock", "go", "rest", "beeps", "finish"),
    *("rise", "fall", "steady"),
]
RATE = 44100
FULL_SCALE = 32768


@pytest.fixture(scope="module")
def make_sounds() -> ModuleType:
    spec = importlib.util.spec_from_file_location("make_sounds", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def read_wav(path: Path) -> tuple[tuple[int, int, int, str], list[int]]:
    """(channels, sample width, rate, compression) and the samples of a 16-bit WAV file."""
    with wave.open(str(path), "rb") as wav:
        fmt = (wav.getnchannels(), wav.getsampwidth(), wav.getframerate(), wav.getcomptype())
        frames = wav.readframes(wav.getnframes())
    samples = array.array("h")
    samples.frombytes(frames)
    if sys.byteorder == "big":
        samples.byteswap()
    return fmt, samples.tolist()


def test_script_knows_exactly_the_documented_sounds(make_sounds: ModuleType) -> None:
    assert list(make_sounds.SOUNDS) == NAMES
    assert sorted(p.name for p in SOUNDS_DIR.glob("*.wav")) == sorted(f"{n}.wav" for n in NAMES)


def test_generation_is_bit_exact(make_sounds: ModuleType, tmp_path: Path) -> None:
    assert make_sounds.main(["--out", str(tmp_path)]) == 0
    for name in NAMES:
        generated = (tmp_path / f"{name}.wav").read_bytes()
        assert generated == (SOUNDS_DIR / f"{name}.wav").read_bytes(), f"{name}.wav differs"


def test_check_reports_stale_files(
    make_sounds: ModuleType, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in NAMES:
        (tmp_path / f"{name}.wav").write_bytes((SOUNDS_DIR / f"{name}.wav").read_bytes())
    assert make_sounds.main(["--check", "--out", str(tmp_path)]) == 0
    chime = tmp_path / "chime.wav"
    data = bytearray(chime.read_bytes())
    data[len(data) // 2] ^= 1
    chime.write_bytes(bytes(data))
    (tmp_path / "woodblock.wav").unlink()
    capsys.readouterr()
    assert make_sounds.main(["--check", "--out", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert "chime.wav" in out and "woodblock.wav" in out
    assert "bowl.wav" not in out and "gong.wav" not in out


def test_check_command_line_passes_on_committed_files() -> None:
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--check"], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("name", NAMES)
def test_sound_format_and_levels(name: str) -> None:
    fmt, samples = read_wav(SOUNDS_DIR / f"{name}.wav")
    assert fmt == (1, 2, RATE, "NONE")
    assert len(samples) / RATE > 0.5

    peak_dbfs = 20 * math.log10(max(abs(s) for s in samples) / FULL_SCALE)
    assert -6.0 <= peak_dbfs <= -1.0

    ms = RATE // 1000
    assert all(s == 0 for s in samples[-50 * ms :]), "last 50 ms must be digital silence"
    # rung out: below -60 dBFS (|s| < 32.768) in the 150 ms before the silent tail
    assert max(abs(s) for s in samples[-200 * ms : -50 * ms]) < FULL_SCALE * 10 ** (-60 / 20)
    # faded in from zero, and no DC offset
    assert samples[0] == 0
    assert max(abs(s) for s in samples[: ms // 2]) < 0.05 * max(abs(s) for s in samples)
    assert abs(sum(samples) / len(samples)) < 0.5


def test_planning_lengths_match_the_sound_files() -> None:
    from guidecast.lang.speech import NOMINAL_SOUND_MS

    for name in NAMES:
        with wave.open(str(SOUNDS_DIR / f"{name}.wav"), "rb") as w:
            assert NOMINAL_SOUND_MS[name] == w.getnframes() * 1000 // w.getframerate(), name


def test_beds_are_written_as_the_loops_guidecast_plays(
    make_sounds: ModuleType, tmp_path: Path
) -> None:
    from guidecast.media.beds import BUILTIN_BEDS, make_builtin_bed

    make_sounds.write_beds(tmp_path)
    for name in BUILTIN_BEDS:
        fmt, samples = read_wav(tmp_path / f"{name}.wav")
        assert fmt == (1, 2, RATE, "NONE")
        assert len(samples) == len(make_builtin_bed(name, RATE).samples)


def _pitch(samples: list[int], start: float, end: float) -> float:
    """The mean frequency between `start` and `end` seconds, from zero crossings."""
    part = samples[int(start * RATE) : int(end * RATE)]
    ups = sum(1 for a, b in itertools.pairwise(part) if a < 0 <= b)
    return ups / (end - start)


def test_breath_tones_rise_to_breathe_in_fall_to_breathe_out_and_hold_steady() -> None:
    pitches = {}
    for name in ("rise", "fall", "steady"):
        _, samples = read_wav(SOUNDS_DIR / f"{name}.wav")
        pitches[name] = (_pitch(samples, 0.02, 0.1), _pitch(samples, 0.3, 0.38))
    early, late = pitches["rise"]
    assert late > early * 1.25  # up a fifth
    early, late = pitches["fall"]
    assert early > late * 1.25
    early, late = pitches["steady"]
    assert abs(early - late) < 25
