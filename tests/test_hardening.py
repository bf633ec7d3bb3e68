"""Bad input gets a located message and exit 2, never a traceback (findings of the attack run)."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from guidecast.cli import cli
from guidecast.errors import RoutineError
from guidecast.routine.durations import parse_duration, parse_range
from guidecast.routine.load import MAX_ROUTINE_BYTES, load_routine, parse_routine

GOOD_STEP = "steps:\n  - pose: A\n    hold: 1m\n"


def _problems(source: str) -> list[str]:
    with pytest.raises(RoutineError) as e:
        parse_routine(source, "r.yaml")
    return [str(p) for p in e.value.problems]


def test_a_flow_with_breath_but_no_breaths_is_reported_not_crashed() -> None:
    source = "title: T\nsteps:\n  - pose: A\n    flow: {breath: 6s, cues: [In, Out]}\n"
    assert _problems(source) == ["r.yaml:4:11: flow is missing 'breaths'"]


@pytest.mark.parametrize(
    "title",
    ['"T\\ud800"', '"Ctrl\\x01char"', '"nul\\0here"', '"esc\\e]0;pwned\\a"'],
    ids=["surrogate", "control", "nul", "escape"],
)
def test_text_that_cannot_be_said_is_refused(title: str) -> None:
    [problem] = _problems(f"title: {title}\n{GOOD_STEP}")
    assert problem.startswith("r.yaml:1:8: the text contains U+")
    assert "\x1b" not in problem and "\x00" not in problem


@pytest.mark.parametrize("digits", [309, 5000])
def test_absurdly_long_numbers_are_refused(digits: int) -> None:
    with pytest.raises(ValueError, match="longer than 12 hours"):
        parse_duration("9" * digits)
    with pytest.raises(ValueError, match="longer than 12 hours"):
        parse_range(f"1-{'9' * digits}s")
    [problem] = _problems(f"title: T\nsteps:\n  - pose: A\n    hold: {'9' * digits}\n")
    assert "longer than 12 hours" in problem and len(problem) < 200


@pytest.mark.parametrize("reps", ['!!int "²"', "9" * 5000], ids=["superscript", "huge"])
def test_odd_integers_are_refused(reps: str) -> None:
    [problem] = _problems(f"title: T\nsteps:\n  - pose: A\n    hold: 1m\n    reps: {reps}\n")
    assert problem.startswith("r.yaml:5:11: ") and len(problem) < 200


def test_deep_nesting_is_refused() -> None:
    [problem] = _problems("title: T\nsteps: " + "[" * 2000 + "]" * 2000 + "\n")
    assert "nested too deeply" in problem


def test_device_files_and_huge_files_are_refused(tmp_path: Path) -> None:
    with pytest.raises(RoutineError, match="not a regular file"):
        load_routine("/dev/zero")
    big = tmp_path / "big.yaml"
    big.write_bytes(b"# " + b"x" * MAX_ROUTINE_BYTES + b"\n")
    with pytest.raises(RoutineError, match="too large"):
        load_routine(big)


@pytest.mark.parametrize(
    "args",
    [
        ["plan", "--rate", "nan"],
        ["plan", "--rate", "inf"],
        ["render", "--loudness", "nan", "--engine", "fake"],
        ["plan", "--length", "9" * 400],
        ["plan", "--countdown", "9" * 400],
    ],
)
def test_bad_numbers_on_the_command_line_exit_2(args: list[str], tmp_path: Path) -> None:
    routine = tmp_path / "r.yaml"
    routine.write_text(f"title: T\n{GOOD_STEP}", encoding="utf-8")
    out = tmp_path / "out"
    extra = ["-o", str(out)] if args[0] == "render" else []
    result = CliRunner().invoke(cli, [*args, *extra, str(routine)])
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert not out.exists()


@pytest.mark.parametrize(
    ("key", "suggested"),
    [("repeat", None), ("rounds", None), ("hwo", "how"), ("hodl", "hold"), ("setle", "settle")],
)
def test_suggestions_never_change_a_keys_meaning(key: str, suggested: str | None) -> None:
    source = f"title: T\nsteps:\n  - pose: A\n    hold: 1m\n    reps: 2\n    {key}: 5s\n"
    if key == "hodl":
        source = "title: T\nsteps:\n  - pose: A\n    hodl: 1m\n"
    problems = " ".join(_problems(source))
    if suggested is None:
        assert "did you mean" not in problems, problems
    else:
        assert f"did you mean '{suggested}'?" in problems


@pytest.mark.parametrize("title", ["Get ready!", "Rest.", "Why not?"])
def test_a_title_with_its_own_end_mark_gets_no_second_one(title: str) -> None:
    from guidecast.compiler.fit import compile_routine

    routine = parse_routine(f"title: T\nsteps:\n  - pose: {title}\n    hold: 10s\n", "r.yaml")
    assert title in compile_routine(routine).texts()
    assert not [t for t in compile_routine(routine).texts() if t.endswith(("!.", "..", "?."))]


def test_render_goes_on_past_a_failing_routine_and_exits_with_the_worst_code(
    tmp_path: Path,
) -> None:
    good = tmp_path / "good.yaml"
    good.write_text(f"title: Good\n{GOOD_STEP}", encoding="utf-8")
    bad = tmp_path / "bad.yaml"
    bad.write_text("title: Bad\nsteps:\n  - pose: A\n    hodl: 1m\n", encoding="utf-8")
    out = tmp_path / "out"
    result = CliRunner().invoke(
        cli, ["render", str(bad), str(good), "--engine", "fake", "-o", str(out)]
    )
    assert result.exit_code == 2, result.output
    assert (out / "good.mp3").is_file() and not (out / "bad.mp3").exists()
    assert f"{bad}:4:5: unknown key 'hodl'" in result.output
    assert f"1 of 2 sessions rendered; failed: {bad}" in result.output
