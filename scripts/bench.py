#!/usr/bin/env python3
"""Benchmark `guidecast render`: cold (empty cache), a re-render at another length (first
at a length never rendered, then back at the first one, everything kept), all with the default
bed; then another bed (`--bed ocean`) for the first time, without a bed (`--bed none`), and
that other bed again (warm+bed).

Renders a generated 30-minute and 60-minute routine (about 25 % speech) with the default
offline Piper voice, each run in a fresh process, and prints the whole process's wall time,
the time spent rendering in it (`render_session`: compile, lay out, balance, splice or encode,
write the files), audio seconds per wall second and peak RSS. Goals on a 2-core machine for
the warm re-render at another length (the splice renderer): at most 0.1 s rendering in-process,
at most 0.6 s wall for the whole process, peak RSS at most 80 MB, flat in length.

    python scripts/bench.py            # both lengths
    python scripts/bench.py --minutes 30
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

from guidecast.lang.speech import number_words


def routine_yaml(steps: int) -> str:
    """A routine of `steps` poses with distinct narration, one in three on both sides."""
    out = [
        "title: Benchmark Flow",
        "description: Generated for scripts/bench.py.",
        "intro: Settle onto your mat and let your breathing slow down.",
        "steps:",
    ]
    for i in range(steps):
        n = number_words(i + 1)
        out += [
            f"  - pose: Shape {n}",
            f"    cue: Move slowly into shape {n} and let your shoulders soften.",
            "    how:",
            f"      - Begin shape {n} from a steady and comfortable base on the mat.",
            f"      - Lengthen the spine for shape {n} while both hips stay level and calm.",
            f"      - In shape {n}, relax the jaw and keep the breath long and easy.",
            "    hold: 45-120s",
        ]
        if i % 3 == 2:
            out.append("    sides: true")
    out.append("outro: Rest for a moment, then roll to your side and come up slowly.")
    return "\n".join(out) + "\n"


CHILD = textwrap.dedent("""
    import resource, sys, time
    import guidecast.session
    from guidecast.__main__ import main
    spent = []
    real = guidecast.session.render_session
    def timed(*args, **kwargs):
        start = time.perf_counter()
        try:
            return real(*args, **kwargs)
        finally:
            spent.append(time.perf_counter() - start)
    guidecast.session.render_session = timed
    try:
        main()
    except SystemExit as e:
        code = e.code or 0
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"BENCH {sum(spent):.3f} {rss:.1f} {code}", file=sys.stderr)
""")


NAIVE = textwrap.dedent("""
    import re, sys, time
    import lameenc, numpy as np
    from piper import PiperVoice, SynthesisConfig
    from guidecast.tts.voices import resolve_voice
    from guidecast.tts.piper import TEACHER_PACE
    vtt, minutes = open(sys.argv[1]).read(), float(sys.argv[2])
    texts = list(dict.fromkeys(
        " ".join(b.splitlines()[1:]) for b in vtt.split("\\n\\n")[1:] if "-->" in b))
    start = time.perf_counter()
    voice = PiperVoice.load(resolve_voice(None, "en")[1])
    config = SynthesisConfig(length_scale=(voice.config.length_scale or 1) * TEACHER_PACE)
    rate = voice.config.sample_rate
    session = np.zeros(int(minutes * 60 * rate), np.int16)
    at = 0
    for text in texts:  # each sentence once, one after another, placed with a gap
        audio = np.concatenate([c.audio_int16_array for c in voice.synthesize(text, config)])
        at = min(at, len(session) - len(audio))
        session[at : at + len(audio)] = audio
        at += len(audio) + rate
    encoder = lameenc.Encoder()
    encoder.set_bit_rate(64); encoder.set_in_sample_rate(rate); encoder.set_channels(1)
    encoder.set_quality(2)
    mp3 = encoder.encode(session.tobytes()) + encoder.flush()
    print(f"NAIVE {time.perf_counter() - start:.3f} {len(texts)}")
""")
"""The naive pipeline the cold render is measured against: stock Piper (its own ONNX session
and threads) speaking each of the session's sentences once, one after another, laid into the
session's length and encoded whole with lameenc, as a short script would do it."""


def naive(vtt: Path, minutes: float) -> tuple[float, int]:
    """(wall s, sentences) of the naive pipeline on a rendered session's sentences."""
    args = [sys.executable, "-c", NAIVE, str(vtt), str(minutes)]
    proc = subprocess.run(args, capture_output=True, text=True, check=False)
    line = [x for x in proc.stdout.splitlines() if x.startswith("NAIVE ")]
    if proc.returncode or not line:
        sys.exit(f"naive pipeline failed:\n{proc.stderr}")
    _, seconds, count = line[-1].split()
    return float(seconds), int(count)


def run(
    routine: Path, out: Path, cache: Path, length: str, *extra: str
) -> tuple[float, float, float, int]:
    """Render in a fresh process; return (wall s, rendering s, peak RSS MB, session ms)."""
    args = [
        sys.executable,
        "-c",
        CHILD,
        "-q",
        "render",
        str(routine),
        "-o",
        str(out),
        "--cache-dir",
        str(cache),
        "--length",
        length,
        *extra,
    ]
    start = time.perf_counter()
    proc = subprocess.run(args, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - start
    line = [x for x in proc.stderr.splitlines() if x.startswith("BENCH ")]
    if proc.returncode or not line or line[-1].split()[3] != "0":
        sys.exit(f"render failed:\n{proc.stderr}")
    _, spent, rss, _ = line[-1].split()
    info = json.loads(out.with_suffix(".session.json").read_text())
    return wall, float(spent), float(rss), int(info["duration_ms"])


def bench(minutes: int, work: Path) -> dict[str, tuple[float, float, float, int]]:
    steps = minutes // 2  # about 2 minutes a step once speech and bells are counted
    routine = work / f"bench-{minutes}.yaml"
    routine.write_text(routine_yaml(steps))
    cache = work / f"cache-{minutes}"
    out = work / f"bench-{minutes}.mp3"
    results = {
        "cold": run(routine, out, cache, f"{minutes}m"),
    }
    stock, sentences = naive(out.with_suffix(".vtt"), results["cold"][3] / 60_000)
    cold = results["cold"][1]
    print(
        f"{minutes:>3} min naive pipeline (stock Piper, {sentences} sentences, whole encode): "
        f"{stock:.2f} s; cold render to the finished file {cold:.2f} s = {cold / stock:.2f}x"
    )
    results |= {
        "new length": run(routine, out, cache, f"{minutes + 2}m"),
        "warm": run(routine, out, cache, f"{minutes}m"),
        "new bed": run(routine, out, cache, f"{minutes + 2}m", "--bed", "ocean"),
        "no bed": run(routine, out, cache, f"{minutes}m", "--bed", "none"),
        "warm+bed": run(routine, out, cache, f"{minutes + 2}m", "--bed", "ocean"),
    }
    for name, (wall, spent, rss, ms) in results.items():
        print(
            f"{minutes:>3} min {name:>10}: {ms / 1000:7.1f} s of audio in {wall:6.2f} s wall "
            f"({spent:5.3f} s rendering) = {ms / 1000 / wall:7.1f}x real time, "
            f"peak RSS {rss:6.1f} MB"
        )
    bed = results["warm+bed"][0] / results["warm"][0]
    print(f"{minutes:>3} min warm render with ocean / with the default bed: {bed:.2f}")
    spoken = 0.0
    for start, end in re.findall(r"(\S+) --> (\S+)", out.with_suffix(".vtt").read_text()):
        spoken += _seconds(end) - _seconds(start)
    share = spoken * 1000 / results["warm"][3]
    print(f"{minutes:>3} min speech share (from the transcript): {share:.0%}")
    return results


def _seconds(stamp: str) -> float:
    h, m, sec = stamp.split(":")
    return int(h) * 3600 + int(m) * 60 + float(sec)


def with_bytecode(work: Path) -> None:
    """Let the measured processes keep compiled bytecode (in `work`), as an installed
    guidecast does: a shell with PYTHONDONTWRITEBYTECODE=1 makes every process compile
    guidecast's sources again, about 0.1 s of each figure that a user never waits for."""
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    os.environ["PYTHONPYCACHEPREFIX"] = str(work / "pycache")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=int, action="append", help="30, 60 or both (default)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="guidecast-bench-") as tmp:
        with_bytecode(Path(tmp))
        results = {m: bench(m, Path(tmp)) for m in args.minutes or [30, 60]}
    if 30 in results and 60 in results:
        for kind in ("cold", "warm", "warm+bed"):
            ratio = results[60][kind][2] / results[30][kind][2]
            print(f"peak RSS 60 min / 30 min ({kind}): {ratio:.2f}")


if __name__ == "__main__":
    start = time.perf_counter()
    main()
    print(f"benchmark took {time.perf_counter() - start:.0f} s")
