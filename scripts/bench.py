#!/usr/bin/env python3
"""Benchmark `guidecast render`: cold (empty cache), warm (full cache, another --length), and
warm with an ambience bed (`--bed ocean`, the same length as the warm run).

Renders a generated 30-minute and 60-minute routine (about 15 % speech) with the default
offline Piper voice, each run in a fresh process, and prints wall time, audio seconds per
wall second and peak RSS. Goals on a 2-core machine: cold >= 150x, warm >= 500x real time,
peak RSS < 700 MB cold and < 150 MB warm, the 60-minute peak within 10 % of the 30-minute one;
a warm render with a bed takes at most twice the warm render without one.

    python scripts/bench.py            # both lengths
    python scripts/bench.py --minutes 30
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

from guidecast.speech import number_words


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
    from guidecast.cli import main
    start = time.perf_counter()
    try:
        main()
    except SystemExit as e:
        code = e.code or 0
    wall = time.perf_counter() - start
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"BENCH {wall:.3f} {rss:.1f} {code}", file=sys.stderr)
""")


def run(
    routine: Path, out: Path, cache: Path, length: str, *extra: str
) -> tuple[float, float, int]:
    """Render in a fresh process; return (wall seconds, peak RSS MB, session ms)."""
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
    proc = subprocess.run(args, capture_output=True, text=True, check=False)
    line = [x for x in proc.stderr.splitlines() if x.startswith("BENCH ")]
    if proc.returncode or not line or line[-1].split()[3] != "0":
        sys.exit(f"render failed:\n{proc.stderr}")
    _, wall, rss, _ = line[-1].split()
    info = json.loads(out.with_suffix(".session.json").read_text())
    return float(wall), float(rss), int(info["duration_ms"])


def bench(minutes: int, work: Path) -> dict[str, tuple[float, float, int]]:
    steps = minutes // 2  # about 2 minutes a step once speech and bells are counted
    routine = work / f"bench-{minutes}.yaml"
    routine.write_text(routine_yaml(steps))
    cache = work / f"cache-{minutes}"
    out = work / f"bench-{minutes}.mp3"
    results = {
        "cold": run(routine, out, cache, f"{minutes}m"),
        "warm": run(routine, out, cache, f"{minutes + 2}m"),
        "warm+bed": run(routine, out, cache, f"{minutes + 2}m", "--bed", "ocean"),
    }
    for name, (wall, rss, ms) in results.items():
        print(
            f"{minutes:>3} min {name:>8}: {ms / 1000:7.1f} s of audio in {wall:6.2f} s wall = "
            f"{ms / 1000 / wall:6.1f}x real time, peak RSS {rss:6.1f} MB"
        )
    bed = results["warm+bed"][0] / results["warm"][0]
    print(f"{minutes:>3} min warm render with a bed / without: {bed:.2f}")
    spoken = 0.0
    for start, end in re.findall(r"(\S+) --> (\S+)", out.with_suffix(".vtt").read_text()):
        spoken += _seconds(end) - _seconds(start)
    share = spoken * 1000 / results["warm"][2]
    print(f"{minutes:>3} min speech share (from the transcript): {share:.0%}")
    return results


def _seconds(stamp: str) -> float:
    h, m, sec = stamp.split(":")
    return int(h) * 3600 + int(m) * 60 + float(sec)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=int, action="append", help="30, 60 or both (default)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="guidecast-bench-") as tmp:
        results = {m: bench(m, Path(tmp)) for m in args.minutes or [30, 60]}
    if 30 in results and 60 in results:
        for kind in ("cold", "warm", "warm+bed"):
            ratio = results[60][kind][1] / results[30][kind][1]
            print(f"peak RSS 60 min / 30 min ({kind}): {ratio:.2f}")


if __name__ == "__main__":
    start = time.perf_counter()
    main()
    print(f"benchmark took {time.perf_counter() - start:.0f} s")
