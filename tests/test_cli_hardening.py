"""Command-line mistakes found by trying guidecast as a new user would: each exits 2 with a
message that says what to write instead, never a silent wrong session."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from guidecast.cli import cli
from guidecast.compiler.fit import LENGTH_TOLERANCE_MS, every_text, length_bounds
from guidecast.compiler.options import resolve_options
from guidecast.errors import EngineError
from guidecast.lang.speech import Estimate
from guidecast.routine.durations import parse_duration
from guidecast.routine.load import load_routine
from guidecast.tts.voices import DEFAULT_VOICE, remove_voice
from render_fixtures import fake_voice, run_main, write_routine

ROOT = Path(__file__).resolve().parents[1]
SPINE = ROOT / "routines" / "love-your-spine.yaml"


@pytest.mark.parametrize(
    ("command", "option"),
    [
        ("render", "--bed-level"),
        ("render", "--loudness"),
        ("render", "--rate"),
        ("plan", "--rate"),
        ("say", "--rate"),
    ],
)
@pytest.mark.parametrize("value", ["nan", "NaN", "inf", "-inf"])
def test_float_options_refuse_nan_and_inf(
    command: str, option: str, value: str, tmp_path: Path
) -> None:
    args = [command, option, value]
    args += ["hello"] if command == "say" else [str(SPINE)]
    if command == "render":
        args += ["--engine", "fake", "-o", str(tmp_path)]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 2, result.output
    assert f"Invalid value for '{option}'" in result.output
    assert not list(tmp_path.glob("*.mp3"))


@pytest.mark.parametrize("value", ["45", "1.5", " 30 "])
def test_length_without_a_unit_asks_for_minutes(value: str) -> None:
    result = CliRunner().invoke(cli, ["plan", str(SPINE), "--length", value])
    assert result.exit_code == 2
    number = value.strip()
    assert f"'{number}' has no unit: did you mean {number}m?" in result.output


@pytest.mark.parametrize(
    ("text", "ms"),
    [
        ("14min", 14 * 60_000),
        ("14 min", 14 * 60_000),
        ("14mins", 14 * 60_000),
        ("1h30m", 90 * 60_000),
        ("1hr 30min", 90 * 60_000),
        ("90sec", 90_000),
        ("500ms", 500),
        ("1m30s", 90_000),
    ],
)
def test_spelled_out_units_are_read(text: str, ms: int) -> None:
    assert parse_duration(text) == ms


@pytest.mark.parametrize("text", ["14minutes", "1min30min", "3mn"])
def test_unknown_or_repeated_units_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match=text):
        parse_duration(text)


def test_length_in_minutes_spelled_out_plans() -> None:
    result = CliRunner().invoke(cli, ["plan", str(SPINE), "--length", "45min", "--json"])
    assert result.exit_code == 0, result.output
    assert '"length_ms": 2700000' in result.output


LENGTHS = """\
title: Lengths
steps:
  - pose: Child's Pose
    cue: Sit back on your heels and rest your forehead on the floor in front of you.
    hold: 1-3m
  - pose: Cat-Cow
    cue: Round your spine up to the ceiling, then let the belly sink toward the floor.
    hold: 1-3m
  - pose: Downward Dog
    cue: Lift your hips high and press the floor away with both of your hands.
    hold: 1-3m
  - pose: Cobra
    cue: Press the tops of your feet down and lift your chest away from the floor.
    hold: 1-3m
"""


def test_plan_and_render_accept_the_same_lengths_whatever_the_cache_holds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The fake voice speaks faster than the estimate: its real bounds are not the plan's."""
    path = write_routine(tmp_path, LENGTHS)
    routine = load_routine(path)
    options = resolve_options(routine)
    estimated = length_bounds(routine, options, Estimate(1.0))
    voice = fake_voice(tmp_path / "probe")
    voice.prepare(every_text(routine, options))
    real = length_bounds(routine, options, voice)
    over = (estimated.longest_ms + LENGTH_TOLERANCE_MS) // 1000  # seconds plan just accepts
    under = (estimated.shortest_ms - LENGTH_TOLERANCE_MS) // 1000  # seconds plan just refuses
    assert over * 1000 > real.longest_ms + LENGTH_TOLERANCE_MS  # the voice cannot reach it
    assert under * 1000 >= real.shortest_ms  # the voice could, but plan says no

    def code(*args: str, cache: str = "cache") -> int:
        cached = ["--engine", "fake", "--cache-dir", str(tmp_path / cache), "-o", str(tmp_path)]
        extra = cached if args[0] == "render" else []
        return run_main([*args, str(path), *extra], monkeypatch, capsys)[0]

    assert code("plan", "--length", f"{over}s") == 0
    assert code("render", "--length", f"{over}s", cache="cold") == 0  # nothing kept yet
    assert code("render", "--length", f"{over}s", cache="cold") == 0  # all of it kept
    assert code("plan", "--length", f"{under}s") == 2
    assert code("render", "--length", f"{under}s", cache="warm") == 2
    assert code("render", "--length", f"{under + 2}s", cache="warm") == 0
    assert code("render", "--length", f"{under}s", cache="warm") == 2  # kept: still refused


def test_serve_a_missing_folder_is_a_command_line_mistake(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run_main(
        ["serve", str(tmp_path / "missing"), "--port", "0"], monkeypatch, capsys
    )
    assert code == 2 and "no such folder" in err
    args = ["serve", str(tmp_path), "--routines", str(tmp_path / "none"), "--port", "0"]
    code, _, err = run_main(args, monkeypatch, capsys)
    assert code == 2 and "no such folder of routines" in err


def test_feed_says_how_many_episodes_it_lists(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    for name in ("one", "two"):
        path = write_routine(
            tmp_path, f"title: {name}\nsteps:\n  - pose: Cat\n    hold: 5s\n", name
        )
        args = ["-q", "render", str(path), "-o", str(out), "--engine", "fake"]
        assert run_main([*args, "--cache-dir", str(tmp_path / "c")], monkeypatch, capsys)[0] == 0
    args = ["feed", str(out), "--base-url", "https://example.org/yoga/"]
    code, stdout, _ = run_main(args, monkeypatch, capsys)
    assert code == 0 and "(2 episodes)" in stdout


def test_say_leaves_nothing_in_the_current_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    here, temp = tmp_path / "here", tmp_path / "temp"
    here.mkdir()
    temp.mkdir()
    monkeypatch.chdir(here)
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    result = CliRunner().invoke(cli, ["say", "Hello there!", "--engine", "fake"])
    assert result.exit_code == 0, result.output
    assert list(here.iterdir()) == []
    wav = temp / "guidecast-say" / "hello-there.wav"
    assert wav.is_file() and str(wav) in result.output


def test_voices_remove_does_not_offer_the_bundled_voice(tmp_path: Path) -> None:
    with pytest.raises(EngineError) as info:
        remove_voice("es_ES-nobody-medium", tmp_path)
    assert DEFAULT_VOICE not in str(info.value)
    assert "installed: none" in str(info.value)


LONG = "a" * 299


@pytest.mark.parametrize(
    ("text", "where"),
    [
        (f"title: Long\ncover: {LONG}.jpg\nsteps:\n  - pose: Cat\n    hold: 5s\n", "2:8"),
        (f"title: Long\nsteps:\n  - pose: Cat\n    hold: 5s\n    sound: {LONG}.wav\n", "5:12"),
        (
            f"title: Long\ndefaults:\n  bed: {LONG}.wav\nsteps:\n  - pose: Cat\n    hold: 5s\n",
            "3:8",
        ),
    ],
    ids=["cover", "sound", "bed"],
)
def test_a_file_name_too_long_is_a_located_mistake(
    text: str,
    where: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = write_routine(tmp_path, text)
    code, out, err = run_main(["check", str(path)], monkeypatch, capsys)
    assert code == 2
    assert f"{path}:{where}: " in out + err
    assert "file names have at most 255" in out + err and "Traceback" not in out + err


@pytest.mark.parametrize(
    ("args", "exit_code"),
    [
        (["--bed", f"{LONG}.wav"], 2),
        (["--voice", f"{LONG}.onnx"], 1),
        (["-o", f"{LONG}.mp3"], 1),
    ],
    ids=["bed", "voice", "output"],
)
def test_a_file_name_too_long_on_the_command_line_is_one_clear_line(
    args: list[str],
    exit_code: int,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    path = write_routine(tmp_path, "title: Long\nsteps:\n  - pose: Cat\n    hold: 5s\n")
    cache = ["--cache-dir", str(tmp_path / "cache")]
    engine = [] if args[0] == "--voice" else ["--engine", "fake"]
    code, _, err = run_main(["render", str(path), *engine, *cache, *args], monkeypatch, capsys)
    assert code == exit_code
    assert "file names have at most 255" in err and "Traceback" not in err
