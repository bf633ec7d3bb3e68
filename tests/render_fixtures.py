"""Helpers for the render, loudness, export and engine tests: routines, renders, decoding.

Everything here is offline: speech comes from `FakeEngine` (a tone sized by word count),
decoding from the ffmpeg binary inside the imageio-ffmpeg wheel.
"""

from __future__ import annotations

import ipaddress
import re
import socket
import subprocess
import sys
import wave
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import imageio_ffmpeg
import lameenc
import numpy as np
import numpy.typing as npt
import pytest
from scipy.signal import resample_poly

from guidecast.cli import main
from guidecast.compiler.options import resolve_options
from guidecast.compiler.timeline import Layout, Silence, Sound, Speak
from guidecast.errors import EngineError
from guidecast.model import Narration, Routine
from guidecast.mp3.export import ExportResult, export_session, session_files
from guidecast.publish.serve import lan_address
from guidecast.routine.load import load_routine
from guidecast.sound.mix import Mix
from guidecast.sound.render import AudioFormat, Rendered, Voice, render, stream_pcm
from guidecast.tts import Clip, ClipCache, FakeEngine

FFMPEG = imageio_ffmpeg.get_ffmpeg_exe()
RATE = 44_100
SIDECARS = (".chapters.json", ".vtt", ".srt", ".jpg", ".session.json")

# A small routine with every structure a render lays out: sides, reps with rests, bells; the
# `why` lines are said only at full narration.
SMALL = """\
title: Small Flow
description: A short test session with sides and repetitions.
author: Test Teacher
series: Test Series
track: 7
year: 2024
steps:
  - pose: Mountain
    cue: Stand tall and breathe.
    why: It grounds you.
    hold: 6s
  - pose: Lunge
    cue: Step one foot back.
    why: It opens the hips.
    hold: 5s
    sides: true
  - pose: Bridge
    cue: Lift your hips.
    why: It wakes up the back of the body.
    hold: 4s
    reps: 3
    rest: 2s
"""


# A routine of two ranged holds: many lengths to choose from (sessions made on request).
STRETCH = """\
title: Quick Stretch
description: Two poses with room to stretch.
steps:
  - pose: Mountain
    cue: Stand tall and breathe.
    hold: 30s-2m
  - pose: Forward Fold
    cue: Fold forward and let your head hang.
    hold: 30s-3m
"""

# -- no network -------------------------------------------------------------------------------


class NetworkBlocked(OSError):
    """Raised when a test tries to leave the machine."""


_THIS_MACHINE = {lan_address()}
"""This machine's own address on its network (the one `guidecast serve` prints): traffic to it
never leaves the machine. Found before any test patches sockets; finding it sends nothing."""


def _is_local(host: object) -> bool:
    if host is None or host in ("localhost", ""):
        return True
    try:
        address = ipaddress.ip_address(str(host).split("%")[0])
    except ValueError:
        return False
    return address.is_loopback or str(address) in _THIS_MACHINE


def block_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make every connection or name lookup outside loopback fail at once."""
    real_connect = socket.socket.connect
    real_connect_ex = socket.socket.connect_ex
    real_getaddrinfo = socket.getaddrinfo

    def connect(self: socket.socket, address: object) -> None:
        if self.family in (socket.AF_INET, socket.AF_INET6):
            host = address[0] if isinstance(address, tuple) else address
            if not _is_local(host):
                raise NetworkBlocked(f"test tried to reach the network: {address!r}")
        real_connect(self, address)  # type: ignore[arg-type]

    def connect_ex(self: socket.socket, address: object) -> int:
        if self.family in (socket.AF_INET, socket.AF_INET6):
            host = address[0] if isinstance(address, tuple) else address
            if not _is_local(host):
                raise NetworkBlocked(f"test tried to reach the network: {address!r}")
        return real_connect_ex(self, address)  # type: ignore[arg-type]

    def getaddrinfo(host: object, *args: object, **kwargs: object) -> object:
        if not _is_local(host):
            raise NetworkBlocked(f"test tried to look up {host!r}")
        return real_getaddrinfo(host, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket.socket, "connect_ex", connect_ex)
    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


# -- routines and renders ---------------------------------------------------------------------


def write_routine(folder: Path, text: str, name: str = "session") -> Path:
    """Write routine YAML to `folder/name.yaml` and return its path."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def routine_from(folder: Path, text: str, name: str = "session") -> Routine:
    """Write routine YAML into `folder` and load it as the CLI would."""
    return load_routine(write_routine(folder, text, name))


class FailingEngine(FakeEngine):
    """The fake voice, failing like a broken engine on its `fail_at`-th synthesis (1-based)."""

    def __init__(self, fail_at: int) -> None:
        super().__init__()
        self.fail_at = fail_at

    def synthesize(self, text: str, *, rate: float) -> Clip:
        if len(self.calls) + 1 >= self.fail_at:
            self.calls.append(text)
            raise EngineError("speech engine 'fake' crashed. Probable cause: a test said so")
        return super().synthesize(text, rate=rate)


def fake_voice(
    cache_dir: Path, engine: FakeEngine | None = None, *, rate: float = 1.0, sample_rate: int = RATE
) -> Voice:
    """A Voice speaking through the fake engine and an on-disk cache."""
    return Voice(engine or FakeEngine(), ClipCache(cache_dir), rate=rate, sample_rate=sample_rate)


def render_routine(
    routine: Routine,
    voice: Voice,
    fmt: AudioFormat | None = None,
    *,
    narration: Narration | None = None,
    length_ms: int | None = None,
    mix: Mix | None = None,
) -> Rendered:
    """Compile and render with the given knobs (the routine's defaults for the rest, the
    default bed included unless `mix` says otherwise: `Mix()` has no bed)."""
    options = resolve_options(routine, narration=narration, length_ms=length_ms, rate=voice.rate)
    return render(routine, options, voice=voice, fmt=fmt or AudioFormat(), mix=mix)


def export_to(
    out: Path, routine: Routine, rendered: Rendered, voice: Voice, fmt: AudioFormat | None = None
) -> ExportResult:
    """Stream and export a rendered session into folder `out`."""
    fmt = fmt or AudioFormat()
    return export_session(
        routine,
        rendered.layout,
        stream_pcm(rendered, voice, fmt),
        files=session_files(out, routine.path),
        fmt=fmt,
    )


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file in a folder (hidden ones too) by name, with its bytes."""
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


# -- running the real entry point ---------------------------------------------------------------


def run_main(
    args: Iterable[str | Path],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> tuple[int, str, str]:
    """Run `guidecast.cli.main()` in-process: (exit code, stdout, stderr)."""
    monkeypatch.setattr(sys, "argv", ["guidecast", *map(str, args)])
    with pytest.raises(SystemExit) as info:
        main()
    captured = capsys.readouterr()
    code = info.value.code
    return (code if isinstance(code, int) else 1), captured.out, captured.err


def tone_mp3(
    seconds: float, *, rate: int = RATE, hz: float = 440.0, bitrate: int = 64, level: float = 0.3
) -> bytes:
    """A mono sine tone encoded as MP3 by lameenc (no Info header, no tags)."""
    encoder = lameenc.Encoder()
    encoder.set_bit_rate(bitrate)
    encoder.set_in_sample_rate(rate)
    encoder.set_out_sample_rate(rate)
    encoder.set_channels(1)
    encoder.set_quality(7)
    t = np.arange(int(seconds * rate)) / rate
    pcm = (level * 32767 * np.sin(2 * np.pi * hz * t)).astype("<i2").tobytes()
    return bytes(encoder.encode(pcm) + encoder.flush())


# -- decoding and measuring ---------------------------------------------------------------------


def decode(path: Path, channels: int = 1) -> npt.NDArray[np.float64]:
    """Decode an audio file with ffmpeg to float samples ((n,) mono, (n, channels) otherwise)."""
    done = subprocess.run(
        [FFMPEG, "-v", "error", "-i", str(path), "-f", "f32le", "-acodec", "pcm_f32le", "-"],
        capture_output=True,
        check=True,
    )
    assert done.stderr == b"", done.stderr.decode(errors="replace")
    x = np.frombuffer(done.stdout, "<f4").astype(np.float64)
    return x if channels == 1 else x.reshape(-1, channels)


def ffmpeg_errors(path: Path) -> str:
    """What ffmpeg complains about while decoding the whole file (empty when clean)."""
    done = subprocess.run(
        [FFMPEG, "-v", "error", "-i", str(path), "-f", "null", "-"],
        capture_output=True,
        check=False,
    )
    return done.stderr.decode(errors="replace") + ("" if done.returncode == 0 else "exit != 0")


def true_peak_dbtp(x: npt.NDArray[np.float64], oversample: int = 4) -> float:
    """True peak by polyphase oversampling (BS.1770-4 annex 2 uses 4x), over all channels."""
    x = x.reshape(len(x), -1)
    peak = max(
        float(np.abs(resample_poly(x[:, c], oversample, 1)).max()) for c in range(x.shape[1])
    )
    return 20 * np.log10(max(peak, 1e-12))


def silent_runs(
    x: npt.NDArray[np.float64], rate: int, *, threshold: float = 1e-3, min_ms: int = 500
) -> list[tuple[float, float]]:
    """Runs of digital near-silence (|x| under `threshold`) in seconds, to about a millisecond."""
    hop = rate // 1000
    n = len(x) // hop
    loud = np.abs(x[: n * hop]).reshape(n, hop).max(axis=1) >= threshold
    edges = np.flatnonzero(np.diff(np.concatenate([[1], loud.astype(np.int8), [1]])))
    runs = [(start * hop / rate, end * hop / rate) for start, end in edges.reshape(-1, 2)]
    return [(start, end) for start, end in runs if end - start >= min_ms / 1000]


def sounding(lay: Layout) -> list[tuple[int, int]]:
    """(start_ms, end_ms) of everything audible in a layout: speech, bells, cues in holds."""
    out: list[tuple[int, int]] = []
    for item in lay.items:
        if isinstance(item.event, Speak) or (
            isinstance(item.event, Sound) and not item.event.sound.is_none
        ):
            out.append((item.start_ms, item.start_ms + item.ms))
        out.extend((start, start + ms) for start, ms, _ in item.cues)
    return sorted(out)


def holds(lay: Layout, kind: str = "hold") -> list[tuple[int, int, Silence]]:
    """(start_ms, ms, event) of every silence of a kind, in time order."""
    return [
        (item.start_ms, item.ms, item.event)
        for item in lay.items
        if isinstance(item.event, Silence) and item.event.kind == kind
    ]


# -- a second reader: ffmpeg's ffmetadata ----------------------------------------------------


@dataclass(frozen=True)
class FfChapter:
    title: str
    start_ms: int
    end_ms: int


@dataclass(frozen=True)
class FfMetadata:
    tags: dict[str, str]
    chapters: list[FfChapter]


def ffmetadata(path: Path) -> FfMetadata:
    """Tags and chapters as ffmpeg reads them (`ffmpeg -i F -f ffmetadata -`).

    `-copyts` keeps ffmpeg from shifting chapter times by the stream's start time (the 25 ms
    encoder + decoder delay that gapless playback trims), so the values are the ones stored.
    """
    done = subprocess.run(
        [FFMPEG, "-v", "error", "-copyts", "-i", str(path), "-f", "ffmetadata", "-"],
        capture_output=True,
        check=True,
    )
    assert done.stderr == b"", done.stderr.decode(errors="replace")
    text = done.stdout.decode("utf-8")
    assert text.startswith(";FFMETADATA1")
    # Values may continue on the next line after a backslash (the lyrics do).
    lines = re.sub(r"\\\n", "\x00", text).splitlines()[1:]
    sections: list[tuple[str, list[str]]] = [("", [])]
    for line in lines:
        if line.startswith("[") and line.strip().endswith("]"):
            sections.append((line.strip(), []))  # [CHAPTER], [STREAM]
        else:
            sections[-1][1].append(line)

    def pairs(section: list[str]) -> dict[str, str]:
        found: dict[str, str] = {}
        for line in section:
            if "=" in line and not line.startswith(";"):
                key, value = line.split("=", 1)
                found[key] = re.sub(r"\\(.)", r"\1", value).replace("\x00", "\n")
        return found

    chapters = []
    for kind, section in sections[1:]:
        if kind != "[CHAPTER]":
            continue
        fields = pairs(section)
        assert fields["TIMEBASE"] == "1/1000", fields
        chapters.append(FfChapter(fields["title"], int(fields["START"]), int(fields["END"])))
    return FfMetadata(pairs(sections[0][1]), chapters)


def ebur128(path: Path) -> tuple[float, float]:
    """Integrated loudness (LUFS) and true peak (dBTP) by ffmpeg's ebur128 filter."""
    done = subprocess.run(
        [FFMPEG, "-hide_banner", "-nostats", "-i", str(path), "-af", "ebur128=peak=true",
         "-f", "null", "-"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    summary = done.stderr[done.stderr.rindex("Summary:") :]
    loudness = float(re.search(r"I:\s+(-?[\d.]+) LUFS", summary).group(1))  # type: ignore[union-attr]
    peak = float(re.search(r"Peak:\s+(-?[\d.]+) dBFS", summary).group(1))  # type: ignore[union-attr]
    return loudness, peak


def piper_voice_for(cache_dir: Path) -> Voice:
    """The real Piper voice with a cache of its own (slow tests share one per session)."""
    from guidecast.tts import PiperEngine

    return Voice(PiperEngine(), ClipCache(cache_dir), rate=1.0, sample_rate=RATE)


def planned(routine: Routine, **options: object) -> Layout:
    """The routine compiled and laid out with the planning estimate (no audio)."""
    from guidecast.compiler.fit import compile_routine
    from guidecast.compiler.timeline import layout
    from guidecast.lang.speech import Estimate

    opts = resolve_options(routine, **options)  # type: ignore[arg-type]
    estimate = Estimate(opts.rate)
    return layout(compile_routine(routine, opts, estimate), estimate)


def said_in_order(lay: Layout) -> list[tuple[int, int, str]]:
    """(start, end, text) of everything said, sentences and cues alike, in time order."""
    out = [
        (i.start_ms, i.start_ms + i.ms, i.event.text)
        for i in lay.items
        if isinstance(i.event, Speak)
    ]
    out += [(s, s + ms, c.text) for i in lay.items for s, ms, c in i.cues]
    return sorted(out)


def periods_end(lay: Layout) -> int:
    """When the session's timed periods end: the total less what follows them (a closing
    sentence said outside any step, the quiet around it and the end tone after it). A session
    on the clock that ends on a work period closes after it; one that ends on a rest holds the
    closing and the finish tone inside it, so its periods end with the session."""
    items = lay.items
    k = len(items)
    while k > 0:
        e = items[k - 1].event
        before = items[k - 2].event if k >= 2 else None
        in_period = isinstance(before, Silence) and before.kind != "pause"
        trailing = (
            (isinstance(e, Silence) and e.kind == "pause" and e.step is None)
            or (isinstance(e, Speak) and e.step is None)
            or (isinstance(e, Sound) and not in_period)
        )
        if not trailing:
            break
        k -= 1
    return items[k - 1].start_ms + items[k - 1].ms if k else 0


ROUTINES_DOC = Path(__file__).resolve().parents[1] / "docs" / "routines.md"


def doc_routine(title: str) -> str:
    """The YAML of docs/routines.md's example whose title is `title`."""
    text = ROUTINES_DOC.read_text(encoding="utf-8")
    for match in re.finditer(r"^```yaml\n(.*?)^```", text, re.MULTILINE | re.DOTALL):
        if re.search(rf"^title: {re.escape(title)}\s*(#.*)?$", match.group(1), re.MULTILINE):
            return match.group(1)
    raise AssertionError(f"docs/routines.md shows no routine titled {title!r}")


def write_wav(path: Path, x: npt.NDArray[np.float64], rate: int = RATE) -> Path:
    """Write mono 16-bit WAV (clipped to full scale), making its folder."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(np.round(np.clip(x, -1, 1) * 32767).astype("<i2").tobytes())
    return path
