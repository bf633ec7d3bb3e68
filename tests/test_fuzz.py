"""Seeded mutation fuzzing of the seed routines: whatever a file holds, `check` and `plan` end
with exit 0, 1 or 2 and a message, never a traceback.

A few hundred cases run by default; more with `pytest tests/test_fuzz.py --fuzz-cases 5000`
(or GUIDECAST_FUZZ_CASES=5000). A failing case prints its number and the mutated file, and
`--fuzz-seed` replays another series.
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from click.testing import CliRunner

from guidecast.cli import cli
from guidecast.errors import GuidecastError

SEEDS = sorted((Path(__file__).parent.parent / "routines").glob("*.yaml"))

NASTY_VALUES = [
    "",
    "-1",
    "0",
    "0s",
    "9" * 400,
    "1e400",
    "nan",
    ".inf",
    "~",
    "[]",
    "{}",
    "[[[[[[[[",
    '!!int "²"',
    "!!binary AAAA",
    "!!python/object:os.system ls",
    '"\\x01\\x1b]0;t\\x07"',
    '"\\ud800"',
    '"\\0"',
    "&a x",
    "*a",
    "yes",
    "on",
    "1:30",
    "2-1m",
    "0-0s",
    "1m-1h",
    "4-2",
    "--> <b> & </b>",
    "x" * 5000,
    "{breaths: 0, cues: []}",
    "{breath: 6s, cues: [In, Out]}",
    "[right, right]",
    "right",
    "full",
    "../../etc/passwd",
    "/dev/zero",
    "missing.wav",
    "missing.png",
    "100",
    "-0",
    "1.5",
    "1h" * 50,
]


def _mutate(text: bytes, rng: random.Random) -> bytes:
    """Apply one random mutation: bytes, lines, or a value after a key."""
    lines = text.split(b"\n")
    kind = rng.randrange(9)
    if kind == 0 and text:  # flip a byte
        i = rng.randrange(len(text))
        return text[:i] + bytes([text[i] ^ (1 << rng.randrange(8))]) + text[i + 1 :]
    if kind == 1 and text:  # a random byte somewhere
        i = rng.randrange(len(text))
        return text[:i] + bytes([rng.randrange(256)]) + text[i:]
    if kind == 2 and len(lines) > 1:  # drop a line
        del lines[rng.randrange(len(lines))]
    elif kind == 3:  # repeat a line
        i = rng.randrange(len(lines))
        lines.insert(i, lines[i])
    elif kind == 4 and len(lines) > 1:  # swap two lines
        i, j = rng.randrange(len(lines)), rng.randrange(len(lines))
        lines[i], lines[j] = lines[j], lines[i]
    elif kind == 5:  # cut the file short
        return text[: rng.randrange(len(text) + 1)]
    elif kind == 6:  # re-indent a line
        i = rng.randrange(len(lines))
        lines[i] = b" " * rng.choice([0, 1, 3, 8]) + lines[i].lstrip()
    else:  # give a key a nasty value
        keyed = [i for i, line in enumerate(lines) if b": " in line or line.rstrip().endswith(b":")]
        if not keyed:
            return text
        i = rng.choice(keyed)
        key = lines[i].split(b":", 1)[0]
        lines[i] = key + b": " + rng.choice(NASTY_VALUES).encode()
    return b"\n".join(lines)


def _exit_code(args: list[str]) -> tuple[int, str]:
    """Run a command in-process as `guidecast` would: (exit code, output)."""
    result = CliRunner().invoke(cli, args)
    error = result.exception
    if isinstance(error, GuidecastError):  # main() prints these as a message
        return error.exit_code, str(error)
    if error is not None and not isinstance(error, SystemExit):
        raise error  # a traceback: the bug this test is for
    return result.exit_code, result.output


def test_mutated_seed_routines_never_crash(request: pytest.FixtureRequest, tmp_path: Path) -> None:
    cases: int = request.config.getoption("--fuzz-cases")
    rng = random.Random(request.config.getoption("--fuzz-seed"))
    seeds = [path.read_bytes() for path in SEEDS]
    assert seeds, "no seed routines found"
    routine = tmp_path / "fuzzed.yaml"
    for case in range(cases):
        text = rng.choice(seeds)
        for _ in range(rng.choice([1, 1, 2, 3, 5])):
            text = _mutate(text, rng)
        routine.write_bytes(text)
        for args in (["check", str(routine)], ["plan", str(routine), "--narration", "full"]):
            try:
                code, output = _exit_code(args)
            except Exception as e:
                shown = text.decode("utf-8", "replace")
                raise AssertionError(f"case {case}: {args[0]} crashed on:\n{shown}") from e
            assert code in (0, 1, 2), f"case {case}: {args[0]} exited {code}: {output}"
            assert "Traceback" not in output
            if code == 2:
                break  # plan would refuse the same routine
