"""The command line: `check` and `plan` as a user runs them, exit codes included.

`cli` is the click group (tested with CliRunner); `main` wraps it to turn a GuidecastError into
a message and an exit code, so exit codes of failing commands are tested through `main`.
"""

from __future__ import annotations

import itertools
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner, Result

import guidecast.sound.balance
from guidecast.cli import cli
from guidecast.compiler.fit import LENGTH_TOLERANCE_MS, length_bounds
from guidecast.compiler.options import Options
from guidecast.lang.speech import Estimate
from guidecast.routine.durations import format_clock
from guidecast.routine.load import load_routine
from render_fixtures import STRETCH, run_main

ROOT = Path(__file__).resolve().parents[1]
SPINE = ROOT / "routines" / "love-your-spine.yaml"
ROUTINES = sorted((ROOT / "routines").glob("*.yaml"))
LOCATED = re.compile(r"^(?P<path>.+):(?P<line>\d+):(?P<col>\d+): (?P<message>.+)$")

THREE_MISTAKES = """\
title: Three Mistakes
defaults:
  narration: loud
steps:
  - pose: Child's Pose
    hold: 1:30
  - pose: Cobra
    hold: 30s
    sound: gongg
"""


def run(*args: str | Path) -> Result:
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


@pytest.fixture
def three_mistakes(tmp_path: Path) -> Path:
    path = tmp_path / "three-mistakes.yaml"
    path.write_text(THREE_MISTAKES, encoding="utf-8")
    return path


# -- check ------------------------------------------------------------------------------------


def test_check_reports_three_mistakes_with_locations(three_mistakes: Path) -> None:
    result = run("check", three_mistakes)
    assert result.exit_code == 2
    located = [m for line in result.output.splitlines() if (m := LOCATED.match(line))]
    assert [(m["path"], int(m["line"]), int(m["col"])) for m in located] == [
        (str(three_mistakes), 3, 14),
        (str(three_mistakes), 6, 11),
        (str(three_mistakes), 9, 12),
    ]
    messages = [m["message"] for m in located]
    assert "unknown narration level 'loud'" in messages[0]
    assert "write 1m30s" in messages[1]
    assert "did you mean 'gong'?" in messages[2]


def test_check_exits_2_through_main(
    three_mistakes: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run_main(["check", three_mistakes], monkeypatch, capsys)
    assert code == 2
    assert len([line for line in out.splitlines() if LOCATED.match(line)]) == 3
    assert "Traceback" not in out + err


def test_python_m_guidecast_check_exits_2(three_mistakes: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "guidecast", "check", str(three_mistakes)],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
    )
    assert result.returncode == 2, result.stderr
    assert len([line for line in result.stdout.splitlines() if LOCATED.match(line)]) == 3
    assert "Traceback" not in result.stderr


def test_check_clean_files_exit_0() -> None:
    result = run("check", *ROUTINES)
    assert result.exit_code == 0, result.output
    assert not [line for line in result.output.splitlines() if LOCATED.match(line)]
    for path in ROUTINES:
        assert f"{path}: ok" in result.output


def test_check_clean_files_exit_0_through_main(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run_main(["check", *ROUTINES], monkeypatch, capsys)
    assert (code, out) == (0, "")
    assert err.count(": ok") == len(ROUTINES)


def test_check_quiet_prints_nothing_for_clean_files() -> None:
    result = run("-q", "check", SPINE)
    assert (result.exit_code, result.output) == (0, "")


def test_check_one_bad_file_among_clean_ones_fails(three_mistakes: Path) -> None:
    result = run("check", SPINE, three_mistakes)
    assert result.exit_code == 2
    assert f"{SPINE}: ok" in result.output
    assert f"{three_mistakes}:3:14:" in result.output


@pytest.mark.parametrize(
    ("name", "message"), [("missing.yaml", "file not found"), ("", "is a folder")]
)
def test_check_missing_file_or_folder(tmp_path: Path, name: str, message: str) -> None:
    path = tmp_path / name if name else tmp_path
    result = run("check", path)
    assert result.exit_code == 2
    assert f"{path}:1:1: {message}" in result.output


def test_check_needs_a_file() -> None:
    result = CliRunner().invoke(cli, ["check"])
    assert result.exit_code == 2
    assert "Missing argument" in result.output


# -- plan -------------------------------------------------------------------------------------


def plan_json(*args: str | Path) -> dict[str, Any]:
    result = run("plan", *args, "--json")
    assert result.exit_code == 0, result.output
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def test_plan_prints_a_table_and_the_total() -> None:
    result = run("plan", SPINE)
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert lines[0] == "Love Your Spine — standard narration, rate 1"
    assert lines[2].split() == ["start", "chapter", "what"]
    assert any("Easy Sitting Pose" in line and "“Easy Sitting Pose.”" in line for line in lines)
    assert re.fullmatch(r"total \d+:\d\d · \d+ chapters · speech about \d+:\d\d", lines[-1])


def test_plan_length_45m_totals_45_minutes() -> None:
    result = run("plan", "--length", "45m", SPINE)
    assert result.exit_code == 0
    last = result.output.splitlines()[-1]
    total = re.match(r"total (\d+):(\d\d) · ", last)
    assert total is not None, last
    assert abs(int(total[1]) * 60 + int(total[2]) - 45 * 60) <= LENGTH_TOLERANCE_MS // 1000
    data = plan_json("--length", "45m", SPINE)
    assert abs(data["total_ms"] - 45 * 60_000) <= LENGTH_TOLERANCE_MS
    assert data["options"]["length_ms"] == 45 * 60_000


def test_plan_options_may_follow_the_file() -> None:
    assert run("plan", SPINE, "--length", "45m").output == run("plan", "-l", "45m", SPINE).output


def test_plan_impossible_length_names_both_bounds(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    bounds = length_bounds(load_routine(SPINE), Options(), Estimate(1.0))
    code, out, err = run_main(["plan", SPINE, "--length", "5m"], monkeypatch, capsys)
    assert code == 2
    assert out == ""
    (line,) = err.splitlines()
    assert line.startswith("error: ") and "cannot make a 5:00 session" in line
    assert format_clock(bounds.shortest_ms) in line
    assert format_clock(bounds.longest_ms) in line


def test_plan_bad_routine_exits_2_with_located_problems(
    three_mistakes: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run_main(["plan", three_mistakes], monkeypatch, capsys)
    assert code == 2
    assert len([line for line in err.splitlines() if LOCATED.match(line)]) == 3
    assert "Traceback" not in err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--length", "5x"], "'5x' is not a duration"),
        (["--narration", "loud"], "'loud' is not one of"),
        (["--rate", "3"], "is not in the range 0.5<=x<=2.0"),
    ],
)
def test_plan_bad_option_exits_2(
    args: list[str],
    message: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, _, err = run_main(["plan", SPINE, *args], monkeypatch, capsys)
    assert code == 2
    assert message in err


def test_narration_levels_change_what_is_said() -> None:
    brief = run("plan", "--narration", "brief", SPINE).output
    full = run("plan", "--narration", "full", SPINE).output
    assert "brief narration" in brief and "full narration" in full
    for text in ("“In Sanskrit, Sukhasana.”", "“Find any comfortable seat", "Props for this"):
        assert text in full
        assert text not in brief
    for text in ("“Easy Sitting Pose.”", "“Sit tall, close your eyes"):
        assert text in brief and text in full
    assert len(brief.splitlines()) < len(full.splitlines())


def test_plan_json_describes_the_session() -> None:
    data = plan_json("--narration", "brief", "--countdown", "5s", "--breath-cues", SPINE)
    assert data["title"] == "Love Your Spine"
    assert data["source"] == str(SPINE)
    assert data["options"] == {
        "narration": "brief",
        "length_ms": None,
        "rate": 1.0,
        "countdown_ms": 5000,
        "countdown_beeps": False,
        "breath_cues": True,
    }
    events = data["events"]
    assert {e["type"] for e in events} == {"speak", "silence", "sound"}
    assert events[0]["start_ms"] == 0
    for before, after in itertools.pairwise(events):
        assert before["start_ms"] + before["ms"] == after["start_ms"]
    assert events[-1]["start_ms"] + events[-1]["ms"] == data["total_ms"]
    chapters = data["chapters"]
    assert chapters[0]["start_ms"] == 0 and chapters[-1]["end_ms"] == data["total_ms"]
    cues = [c["text"] for e in events for c in e.get("cues", [])]
    assert "Breathe in." in cues and "Five." in cues
    assert len(data["holds_ms"]) == len(load_routine(SPINE).steps)


def test_slower_rate_makes_the_plan_longer() -> None:
    assert plan_json("--rate", "0.8", SPINE)["total_ms"] > plan_json(SPINE)["total_ms"]


def test_verbose_plan_shows_short_pauses() -> None:
    quiet = run("plan", SPINE).output
    verbose = run("-v", "plan", SPINE).output
    assert "· pause 0.7s" in verbose and "· pause 0.7s" not in quiet


@pytest.mark.parametrize("path", ROUTINES, ids=lambda p: p.name)
@pytest.mark.parametrize("level", ["brief", "standard", "full"])
def test_every_routine_plans_at_every_level(path: Path, level: str) -> None:
    result = run("plan", "--narration", level, path)
    assert result.exit_code == 0
    assert f"— {level} narration" in result.output


# -- help -------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", cli.list_commands(click.Context(cli)))
def test_every_command_help_teaches_by_example(name: str) -> None:
    result = run(name, "--help")
    assert result.exit_code == 0
    assert "Example" in result.output
    assert f"guidecast {name}" in result.output


def test_commands_load_only_when_used() -> None:
    """`guidecast render` loads neither the server nor the feed (a second of a re-render)."""
    code = (
        "import sys; from guidecast.cli import cli; import click;"
        "cli.get_command(click.Context(cli), 'render');"
        "print(sorted(m for m in sys.modules if m.startswith(('guidecast.publish.serve', "
        "'guidecast.publish.feed', 'starlette', 'uvicorn'))))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
    assert set(cli.list_commands(click.Context(cli))) >= {"check", "plan", "render", "serve"}


def test_top_level_help_lists_commands_and_typical_use() -> None:
    result = run("--help")
    assert result.exit_code == 0
    for name in ("check", "plan"):
        assert f"guidecast {name} routines/" in result.output
    assert "Exit codes" in result.output


def test_version() -> None:
    result = run("--version")
    assert result.exit_code == 0
    assert result.output.startswith("guidecast, version ")


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("--countdown", "2m", "'2m' is more than 1m"),
        ("--length", "0", "'0' is zero"),
        ("--length", "13h", "'13h' is more than 12h"),
        ("--length", "soon", "'soon' is not a duration"),
    ],
)
def test_duration_options_are_checked(option: str, value: str, message: str) -> None:
    result = CliRunner().invoke(cli, ["plan", str(SPINE), option, value])
    assert result.exit_code == 2
    assert message in result.output


def _documented_commands() -> list[str]:
    """Every `guidecast check` and `guidecast plan` example in the README and in --help."""
    root = Path(__file__).resolve().parents[1]
    sources = [root / "README.md", *sorted((root / "src" / "guidecast" / "cli").glob("*.py"))]
    found: list[str] = []
    for source in sources:
        for line in source.read_text(encoding="utf-8").splitlines():
            line = line.split("#")[0].split("|")[0].strip()
            if line.startswith(("guidecast check ", "guidecast plan ")):
                found.append(line)
    return found


@pytest.mark.parametrize("command", _documented_commands())
def test_documented_examples_run(command: str, monkeypatch: pytest.MonkeyPatch) -> None:
    import glob
    import shlex

    root = Path(__file__).resolve().parents[1]
    monkeypatch.chdir(root)
    args: list[str] = []
    for word in shlex.split(command)[1:]:
        args += sorted(glob.glob(word)) if "*" in word else [word]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, (command, result.output)


def test_report_sums_up_the_outcomes_and_exits_with_the_worst_code() -> None:
    from guidecast.cli.report import FAILED, MISTAKE, OK, Report
    from guidecast.errors import EngineError, Loc, RoutineError

    report = Report()
    assert (report.failure_count, report.return_code, str(report)) == (
        0,
        OK,
        "0 of 0 sessions rendered",
    )
    report.done("good.yaml")
    report.failed("offline.yaml", EngineError("no internet"))
    assert report.return_code == FAILED
    report.failed("bad\x1b[2J.yaml", RoutineError.at(Loc("bad.yaml"), "unknown key"))
    assert report.return_code == MISTAKE  # a mistake in a routine outranks a failure
    assert report.failure_count == 2
    assert str(report) == "1 of 3 sessions rendered; failed: offline.yaml, bad\\x1b[2J.yaml"
    checked = Report(noun="files", verb="checked")
    checked.done("a.yaml")
    assert str(checked) == "1 of 1 files checked" and checked.return_code == OK


def test_after_a_first_render_any_other_length_renders_without_the_voice(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    routine = tmp_path / "stretch.yaml"
    routine.write_text(STRETCH, encoding="utf-8")
    common = ["render", routine, "--engine", "fake", "--cache-dir", tmp_path / "cache"]
    code, out, _ = run_main([*common, "-o", tmp_path / "a", "--length", "3m"], monkeypatch, capsys)
    assert code == 0 and "sentences kept for other lengths" in out
    # Their sentences were measured through the limiter then too: a new length measures none
    # (a bell may be, when the speech's loud end moves by half a dB and the bell with it).
    balance = guidecast.sound.balance
    measured: list[str | None] = []
    real_measure = balance._limited_blocks

    def spy(piece: Any, voice: Any, levels: Any, gain: float, fmt: Any, key: str) -> Any:
        if not balance._limit_store(voice).has(key):
            measured.append(piece.text)
        return real_measure(piece, voice, levels, gain, fmt, key)

    monkeypatch.setattr(balance, "_limited_blocks", spy)
    for length in ("2m", "4m", "5m"):
        code, out, _ = run_main(
            [*common, "-o", tmp_path / length, "--length", length], monkeypatch, capsys
        )
        assert code == 0 and "(0 sentences synthesized" in out, out
        assert "other lengths" not in out  # nothing left to prepare
    assert [text for text in measured if text is not None] == []


def test_no_cache_renders_only_what_the_session_says(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    routine = tmp_path / "stretch.yaml"
    routine.write_text(STRETCH, encoding="utf-8")
    args = ["render", routine, "--engine", "fake", "--no-cache", "-o", tmp_path / "a"]
    code, out, _ = run_main(args, monkeypatch, capsys)
    assert code == 0 and "other lengths" not in out
