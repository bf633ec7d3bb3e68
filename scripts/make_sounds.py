#!/usr/bin/env python3
"""Synthesize guidecast's built-in bell sounds and tones into ``assets/sounds/``.

Four bells are built from decaying sinusoidal modes (additive synthesis, numpy only):

* ``bowl``      -- Tibetan singing bowl, G3: inharmonic partials split into slowly beating
                   doublets, soft felt strike, ~6 s decay.
* ``chime``     -- three bright wind-chime tubes (G5, D6, B5) struck one after another, ~4 s.
* ``gong``      -- soft low gong, G2: the upper partials swell in after the strike, ~6 s.
* ``woodblock`` -- two soft wooden knocks 0.35 s apart, 0.8 s.

And four interval-timer tones, for sessions on the clock:

* ``go``     -- a bright beep (E6) that starts a work period, 0.6 s.
* ``rest``   -- two soft falling notes (G5, C5) that start a rest, 0.7 s.
* ``beeps``  -- three short beeps (A5) one second apart: the last three seconds of a period, 3 s.
* ``finish`` -- a rising, ringing arpeggio (C6, E6, G6, C7) that ends a session, 2.5 s.

And three breath tones, for breathwork with ``count: tones``, 0.8 s each:

* ``rise``   -- a soft tone gliding up a fifth (G4 to D5): breathe in.
* ``fall``   -- the same gliding down (D5 to G4): breathe out.
* ``steady`` -- a soft steady tone (B4): hold.

Every sound decays exponentially below -60 dBFS, is faded out over 100 ms and ends with 50 ms
of digital silence; it starts with a 5 ms fade-in, has its DC offset removed and peaks at
-3 dBFS. Output is 16-bit PCM mono WAV at 44100 Hz, written with the ``wave`` module. There is
no randomness, so the bytes are the same on every run (``--check`` verifies the committed files).

The ambience beds (``drone``, ``ocean``, ``rain``, ``air``) are not stored: guidecast makes
them at render time, deterministically, in ``guidecast.media.beds``; ``--beds DIR`` writes one
loop of each as a WAV file at 44100 Hz to listen to (or to edit and use as a bed file).

Usage: ``python scripts/make_sounds.py [--out DIR] [--check] [--beds DIR]``
"""

from __future__ import annotations

import argparse
import io
import sys
import wave
from collections.abc import Callable
from pathlib import Path

import numpy as np
import numpy.typing as npt

Signal = npt.NDArray[np.float64]

SAMPLE_RATE = 44100
PEAK_DBFS = -3.0
FLOOR_DBFS = -60.0  # the sound must have decayed below this before the fade-out starts
FADE_IN_S = 0.005
FADE_OUT_S = 0.100
SILENT_TAIL_S = 0.050
FULL_SCALE = 32767.0
DEFAULT_OUT = Path(__file__).resolve().parent.parent / "assets" / "sounds"


def timeline(seconds: float) -> Signal:
    """Sample times in seconds for a sound of the given length."""
    return np.arange(round(seconds * SAMPLE_RATE), dtype=np.float64) / SAMPLE_RATE


def attack(t: Signal, seconds: float) -> Signal:
    """Raised-cosine onset from 0 to 1 over ``seconds``: the softness of the strike."""
    return 0.5 - 0.5 * np.cos(np.pi * np.clip(t / seconds, 0.0, 1.0))


def decay(t: Signal, tau: float, swell: float = 0.0) -> Signal:
    """Exponential decay, time constant ``tau`` s; ``swell`` > 0 adds a 1 - e^(-t/swell) bloom."""
    env = np.exp(-t / tau)
    if swell > 0.0:
        env *= 1.0 - np.exp(-t / swell)
    return env


def partial(
    t: Signal,
    freq: float,
    amp: float,
    tau: float,
    *,
    phase: float = 0.0,
    beat: float = 0.0,
    depth: float = 0.0,
    swell: float = 0.0,
) -> Signal:
    """One vibrating mode: a sine at ``freq`` Hz with an exponential decay.

    With ``beat`` > 0 the mode is a doublet of two sines ``beat`` Hz apart (as in a slightly
    asymmetric bowl); ``depth`` (0..1), the weight of the second sine, sets how deep they beat.
    """
    w = 2.0 * np.pi * t
    tone = (1.0 - depth) * np.sin(w * (freq - beat / 2) + phase)
    if beat > 0.0:
        tone += depth * np.sin(w * (freq + beat / 2) + phase + 1.0)
    return amp * tone * decay(t, tau, swell)


def strike(
    t: Signal,
    start: float,
    soft: float,
    modes: list[tuple[float, float, float]],
    freq: float,
    beat: float = 0.0,
    depth: float = 0.0,
) -> Signal:
    """Modes ``(ratio, amplitude, tau)`` of a body, fundamental ``freq``, struck at ``start``."""
    local = np.maximum(t - start, 0.0)
    out = np.zeros_like(t)
    for i, (ratio, amp, tau) in enumerate(modes):
        out += partial(
            local, freq * ratio, amp, tau, phase=0.7 * i, beat=beat * (i + 1) / 2, depth=depth
        )
    return out * attack(local, soft)


def bowl() -> Signal:
    """Singing bowl, G3: ring-mode partials as beating doublets, soft felt strike."""
    t = timeline(6.0)
    modes = [(1.0, 1.0, 0.85), (2.71, 0.45, 0.62), (5.14, 0.16, 0.38), (8.27, 0.05, 0.22)]
    return strike(t, 0.0, 0.020, modes, freq=196.0, beat=0.9, depth=0.3)


def chime() -> Signal:
    """Three wind-chime tubes (free-bar partials), struck in turn, each a little softer."""
    t = timeline(4.0)
    tube = [(1.0, 1.0, 0.50), (2.756, 0.35, 0.30), (5.404, 0.12, 0.16), (8.933, 0.04, 0.08)]
    out = np.zeros_like(t)
    for start, freq, level in [(0.0, 783.99, 1.0), (0.16, 1174.66, 0.7), (0.41, 987.77, 0.5)]:
        out += level * strike(t, start, 0.004, tube, freq=freq, beat=0.4, depth=0.15)
    return out


def gong() -> Signal:
    """Soft low gong, G2: (ratio, amplitude, tau, swell) upper partials bloom after the strike."""
    t = timeline(6.0)
    freq = 98.0
    out = partial(t, freq, 1.0, 0.78, beat=0.35, depth=0.2, swell=0.12)
    upper = [
        (1.42, 0.55, 0.70, 0.15),
        (1.93, 0.45, 0.66, 0.30),
        (2.47, 0.35, 0.62, 0.45),
        (2.98, 0.25, 0.55, 0.60),
        (3.61, 0.16, 0.48, 0.75),
        (4.33, 0.10, 0.42, 0.90),
        (5.24, 0.07, 0.40, 1.00),
        (6.55, 0.045, 0.36, 1.10),
    ]
    for i, (ratio, amp, tau, swell) in enumerate(upper):
        phase, beat = 1.3 * (i + 1), 0.5 + 0.2 * i
        out += partial(t, freq * ratio, amp, tau, phase=phase, beat=beat, depth=0.25, swell=swell)
    return out * attack(t, 0.060)


def woodblock() -> Signal:
    """Two knocks on a hollow wooden block: heavily damped modes, the second a little softer."""
    t = timeline(0.8)
    modes = [(1.0, 1.0, 0.035), (1.73, 0.5, 0.022), (2.62, 0.3, 0.013), (4.1, 0.15, 0.007)]
    first = strike(t, 0.0, 0.005, modes, freq=587.0)
    return first + 0.8 * strike(t, 0.35, 0.005, modes, freq=587.0)


def beep(t: Signal, start: float, freq: float, length: float, tau: float = 0.018) -> Signal:
    """An electronic beep at ``start``: a sine with a little second and third harmonic, steady for
    ``length`` s (after a 5 ms attack), then an exponential decay with time constant ``tau``."""
    local = t - start
    steady = np.clip(local / 0.005, 0.0, 1.0) * (local >= 0)
    env = np.where(local <= length, steady, np.exp(-(local - length) / tau))
    w = 2.0 * np.pi * freq * np.maximum(local, 0.0)
    return env * (np.sin(w) + 0.18 * np.sin(2 * w) + 0.06 * np.sin(3 * w))


def go() -> Signal:
    """A work period starts: one bright beep, E6."""
    t = timeline(0.6)
    return beep(t, 0.0, 1318.51, 0.28)


def rest() -> Signal:
    """A rest starts: two softer notes falling a fifth, G5 then C5."""
    t = timeline(0.7)
    return beep(t, 0.0, 783.99, 0.14, tau=0.02) + 0.9 * beep(t, 0.2, 523.25, 0.16, tau=0.02)


def beeps() -> Signal:
    """A countdown: three short beeps one second apart (the next period starts a second after
    the last, on its own tone)."""
    t = timeline(3.0)
    return sum((beep(t, k, 880.0, 0.11) for k in (0.0, 1.0, 2.0)), np.zeros_like(t))


def finish() -> Signal:
    """The end of a session: four bell-like notes rising through a C major chord, ringing out."""
    t = timeline(2.5)
    modes = [(1.0, 1.0, 0.25), (2.0, 0.18, 0.14), (3.01, 0.06, 0.08)]
    out = np.zeros_like(t)
    for k, freq in enumerate((1046.50, 1318.51, 1567.98, 2093.00)):
        out += (1.0 - 0.1 * k) * strike(t, 0.12 * k, 0.004, modes, freq=freq)
    return out


def glide(start_hz: float, end_hz: float) -> Signal:
    """A soft breath tone, 0.8 s: a sine (with a touch of second harmonic) whose pitch glides
    from ``start_hz`` to ``end_hz`` over its first 0.35 s, then fades out quickly."""
    t = timeline(0.8)
    freq = start_hz + (end_hz - start_hz) * np.clip(t / 0.35, 0.0, 1.0)
    phase = 2.0 * np.pi * np.cumsum(freq) / SAMPLE_RATE
    env = np.clip(t / 0.06, 0.0, 1.0) * np.where(t <= 0.4, 1.0, np.exp(-(t - 0.4) / 0.02))
    return env * (np.sin(phase) + 0.12 * np.sin(2 * phase))


def rise() -> Signal:
    """Breathe in: a tone gliding up a fifth, G4 to D5."""
    return glide(392.00, 587.33)


def fall() -> Signal:
    """Breathe out: a tone gliding down a fifth, D5 to G4."""
    return glide(587.33, 392.00)


def steady() -> Signal:
    """Hold: a steady tone, B4."""
    return glide(493.88, 493.88)


SOUNDS: dict[str, Callable[[], Signal]] = {
    "bowl": bowl,
    "chime": chime,
    "gong": gong,
    "woodblock": woodblock,
    "go": go,
    "rest": rest,
    "beeps": beeps,
    "finish": finish,
    "rise": rise,
    "fall": fall,
    "steady": steady,
}


def to_wav(x: Signal) -> bytes:
    """Fade, remove DC, normalize to PEAK_DBFS and encode as 16-bit mono WAV bytes."""
    n, fade_in = len(x), round(FADE_IN_S * SAMPLE_RATE)
    tail, fade_out = round(SILENT_TAIL_S * SAMPLE_RATE), round(FADE_OUT_S * SAMPLE_RATE)
    gain = np.ones(n)
    gain[:fade_in] = 0.5 - 0.5 * np.cos(np.pi * np.arange(fade_in) / fade_in)
    ramp = np.arange(1, fade_out + 1) / fade_out
    gain[n - tail - fade_out : n - tail] = 0.5 + 0.5 * np.cos(np.pi * ramp)
    gain[n - tail :] = 0.0
    y = x * gain
    y -= gain * (y.sum() / gain.sum())  # zero mean, while keeping the faded ends at zero
    scale = 10.0 ** (PEAK_DBFS / 20.0) * FULL_SCALE / np.max(np.abs(y))
    ringing = np.max(np.abs(x[n - tail - fade_out :])) * scale / FULL_SCALE
    if ringing >= 10.0 ** (FLOOR_DBFS / 20.0):
        level = 20 * np.log10(ringing)
        raise ValueError(f"sound still rings at {level:.1f} dBFS when the fade-out starts")
    pcm = np.clip(np.rint(y * scale), -32768, 32767).astype("<i2")
    buf = io.BytesIO()
    with wave.open(buf, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(SAMPLE_RATE)
        wav.writeframes(pcm.tobytes())
    return buf.getvalue()


def render_all() -> dict[str, bytes]:
    """The WAV file contents of every built-in sound, keyed by file name."""
    return {f"{name}.wav": to_wav(make()) for name, make in SOUNDS.items()}


def write_beds(folder: Path) -> None:
    """Write one loop of every built-in bed as 16-bit mono WAV (from guidecast itself)."""
    from guidecast.media.beds import BUILTIN_BEDS, make_builtin_bed

    folder.mkdir(parents=True, exist_ok=True)
    for name in BUILTIN_BEDS:
        loop = make_builtin_bed(name, SAMPLE_RATE)
        pcm = np.clip(np.rint(loop.samples * FULL_SCALE), -32768, 32767).astype("<i2")
        with wave.open(str(folder / f"{name}.wav"), "wb") as wav:
            wav.setnchannels(1)
            wav.setsampwidth(2)
            wav.setframerate(SAMPLE_RATE)
            wav.writeframes(pcm.tobytes())
        print(f"wrote {folder / name}.wav ({len(pcm) / SAMPLE_RATE:.0f} s loop)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output directory")
    parser.add_argument(
        "--check",
        action="store_true",
        help="write nothing; exit 1 if the files in --out differ from the output",
    )
    parser.add_argument("--beds", type=Path, help="also write the built-in beds' loops here")
    args = parser.parse_args(argv)
    if args.beds:
        write_beds(args.beds)
    rendered = render_all()
    if args.check:
        stale = [
            name
            for name, data in rendered.items()
            if not (args.out / name).is_file() or (args.out / name).read_bytes() != data
        ]
        for name in stale:
            print(f"{args.out / name}: differs from generated sound (run scripts/make_sounds.py)")
        return 1 if stale else 0
    args.out.mkdir(parents=True, exist_ok=True)
    for name, data in rendered.items():
        (args.out / name).write_bytes(data)
        print(f"wrote {args.out / name} ({(len(data) - 44) / 2 / SAMPLE_RATE:.2f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
