"""Sixteen well-known routine formats written from the docs alone (tests/translations/): every
file passes `check`, and each timed format's plan keeps the format's own times, computed here
from the format's numbers. Also the defects found writing them (tests/translations/README.md).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from guidecast.cli import cli
from guidecast.compiler.options import resolve_options
from guidecast.compiler.timeline import Speak
from guidecast.lang.i18n import language_for
from guidecast.routine.load import load_routine, parse_routine
from guidecast.sound.bedschedule import bed_stretches
from guidecast.sound.mix import resolve_mix
from guidecast.sound.render import AudioFormat, render
from render_fixtures import fake_voice, periods_end, planned

HERE = Path(__file__).parent / "translations"
FILES = sorted(HERE.glob("*.yaml"))
S = 1000
MIN = 60 * S


def _plan(name: str) -> dict[str, Any]:
    result = CliRunner().invoke(cli, ["plan", str(HERE / name), "--json"])
    assert result.exit_code == 0, result.output
    plan: dict[str, Any] = json.loads(result.output)
    return plan


def _silences(plan: dict[str, Any], kind: str, step: int | None = None) -> list[int]:
    return [
        e["ms"]
        for e in plan["events"]
        if e["type"] == "silence" and e["kind"] == kind and (step is None or e["step"] == step)
    ]


def _chapter_starts(plan: dict[str, Any]) -> list[int]:
    return [c["start_ms"] for c in plan["chapters"]]


def routine_closing(name: str) -> str | None:
    """The routine's own `phrases: closing`, if it words one."""
    return dict(load_routine(HERE / name).phrases).get("closing")


def test_there_are_sixteen() -> None:
    assert len(FILES) == 16


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_every_translation_checks_clean(path: Path) -> None:
    result = CliRunner(mix_stderr=False).invoke(cli, ["check", "--format", "json", str(path)])
    assert result.exit_code == 0, result.output
    errors = [p for p in json.loads(result.stdout) if p["severity"] == "error"]
    assert errors == []


# -- the clock-timed formats: the planned total is the format's total -----------------------


@pytest.mark.parametrize(
    ("name", "total_ms"),
    [
        # 10 s get-ready, 12 exercises of 30 s, 10 s rest between them
        ("01-seven-minute-workout.yaml", 10 * S + 12 * 30 * S + 11 * 10 * S),
        # 10 s get-ready, 3 rounds of 4 x 40 s with 20 s between, 60 s between rounds
        ("05-hiit-circuit.yaml", 10 * S + 3 * (4 * 40 * S + 3 * 20 * S) + 2 * 60 * S),
        # 10 s get-ready, 8 x (20 s work + 10 s rest)
        ("06-tabata-music.yaml", 10 * S + 8 * (20 * S + 10 * S)),
        # 5 min walk, 8 x (60 s run + 90 s walk), 5 min walk
        ("09-couch-to-5k-w1d1.yaml", 5 * MIN + 8 * (60 * S + 90 * S) + 5 * MIN),
        # 4 x 25 min work, 3 x 5 min break, 15 min long break
        ("16-pomodoro.yaml", 4 * 25 * MIN + 3 * 5 * MIN + 15 * MIN),
    ],
)
def test_a_clock_timed_format_keeps_its_total(name: str, total_ms: int) -> None:
    lay = planned(load_routine(HERE / name))
    assert periods_end(lay) == total_ms
    ends_on_rest = name.startswith("06")
    if ends_on_rest:  # the last rest holds the closing and the finish tone
        assert lay.total_ms == total_ms
    else:  # the closing and the finish tone follow the last work period
        assert total_ms < lay.total_ms <= total_ms + 10 * S
        closing = [
            i.event.text for i in lay.items if isinstance(i.event, Speak) and i.start_ms >= total_ms
        ]
        own = routine_closing(name)
        assert " ".join(closing) == (own or "Well done, that is the end of the session.")


def test_the_seven_minute_workout_has_twelve_periods_ten_seconds_apart() -> None:
    plan = _plan("01-seven-minute-workout.yaml")
    starts = [c["start_ms"] for c in plan["chapters"] if c["step"] is not None]
    assert starts == [10 * S + k * (30 * S + 10 * S) for k in range(12)]


def test_couch_to_5k_runs_start_where_the_format_says() -> None:
    plan = _plan("09-couch-to-5k-w1d1.yaml")
    runs = [c["start_ms"] for c in plan["chapters"] if c["title"].startswith("Run")]
    assert runs == [5 * MIN + k * (60 * S + 90 * S) for k in range(8)]


# -- the other timed formats: their timed parts are exact ----------------------------------


def test_box_breathing_is_ten_cycles_of_four_fours() -> None:
    assert _silences(_plan("10-box-breathing.yaml"), "breathe") == [4 * S] * 4 * 10


def test_the_spanish_session_breathes_five_minutes_then_four_cycles_of_4_7_8() -> None:
    plan = _plan("11-respiracion-es.yaml")
    assert sum(_silences(plan, "breathe", 0)) == 5 * MIN  # 5-5 for 5 minutes
    assert _silences(plan, "breathe", 1) == [4 * S, 7 * S, 8 * S] * 4
    assert plan["chapters"][0]["title"] == "Introducción"


def test_the_sun_salutation_flows_five_rounds_of_its_phases() -> None:
    phases = [3, 4, 3, 4, 3, 4, 20, 3, 4, 3, 4]
    assert _silences(_plan("15-sun-salutation.yaml"), "breath") == [p * S for p in phases] * 5


def test_the_counted_stretch_counts_in_every_side() -> None:
    plan = _plan("04-scripted-stretch-count-in.yaml")
    assert _silences(plan, "count") == [5 * S] * 6 + [3 * S]
    assert _silences(plan, "hold") == [30 * S] * 6 + [20 * S]


def test_the_relaxation_pauses_are_the_formats() -> None:
    tense, release = 5 * S, 15 * S
    holds = _plan("07-audio-instructions-relaxation.yaml")["holds_ms"]
    assert holds == [10 * S, *[tense, release] * 5, 1 * MIN, None]


def test_the_cue_sheet_says_each_instruction_at_its_time() -> None:
    starts = _chapter_starts(_plan("08-audio-instructions-cue-sheet.yaml"))
    assert starts == [0, 1 * MIN, 3 * MIN, 6 * MIN, 9 * MIN, 10 * MIN]


def test_the_meditation_bells_are_five_minutes_apart() -> None:
    plan = _plan("14-meditation-timed-pauses.yaml")
    bells = [e["start_ms"] for e in plan["events"] if e["type"] == "sound"]
    assert bells == [1 * MIN + k * 5 * MIN for k in range(5)]  # 20 minutes from 1:00


def test_tabata_plays_one_bed_under_work_and_another_under_rest(tmp_path: Path) -> None:
    routine = load_routine(HERE / "06-tabata-music.yaml")
    rendered = render(
        routine,
        resolve_options(routine),
        voice=fake_voice(tmp_path / "cache"),
        fmt=AudioFormat(),
        mix=resolve_mix(routine),
    )
    stretches = bed_stretches(rendered.timeline, rendered.layout, resolve_mix(routine), 44_100)
    names = [s.bed.name if s.bed else None for s in stretches]
    # The get-ready lead-in plays the rest bed (as the docs say); then 8 x (work, rest), each
    # bed from the countdown beeps that lead into its period.
    assert names == ["ocean", *["drone", "ocean"] * 8]
    assert [s.start // 441 for s in stretches[:4]] == [0, 700, 2700, 3700]  # 1/100 s
    assert all(s.level == -15 for s in stretches)
    assert rendered.layout.total_ms == 10 * S + 8 * (20 * S + 10 * S)


def test_yoga_nidra_says_each_section_at_its_own_rate() -> None:
    routine = load_routine(HERE / "13-yoga-nidra.yaml")
    rates: dict[str | None, set[float | None]] = {}
    for item in planned(routine).items:
        e = item.event
        if isinstance(e, Speak) and e.step is not None:
            rate = e.speaker.rate if e.speaker else None
            rates.setdefault(routine.steps[e.step].section, set()).add(rate)
    assert rates == {
        "Settling": {None},
        "Intention": {None},
        "Rotation of consciousness": {1.2},
        "Breath": {None},
        "Opposites": {None},
        "Visualisation": {0.85},
        "Return": {0.9},
    }


def test_yin_meets_its_own_length() -> None:
    total = _plan("12-yin-yoga.yaml")["total_ms"]
    assert abs(total - 35 * MIN) <= 5 * S


# -- defects found on the way ----------------------------------------------------------------


def test_a_section_of_plain_speech_starts_a_chapter_named_after_it() -> None:
    routine = parse_routine(
        "title: T\nsteps:\n"
        "  - section: Arriving\n    steps:\n      - say: [Walk.]\n"
        "  - section: Breath\n    steps:\n      - say: [Breathe.]\n"
        "  - section: Feet\n    steps:\n      - {chapter: Toes, say: [Toes.]}\n"
    )
    titles = [c.title for c in planned(routine).chapters]
    assert titles == ["Start", "Arriving", "Breath", "Feet: Toes"]


@pytest.mark.parametrize(
    ("ms", "said"),
    [(53_000, "about fifty-five seconds"), (55_000, "fifty-five seconds")],
)
def test_a_hold_is_not_said_to_be_seconds_longer_than_it_is(ms: int, said: str) -> None:
    assert language_for("en").spoken_time(ms) == said


def test_check_reports_a_default_length_the_routine_cannot_make(tmp_path: Path) -> None:
    path = tmp_path / "r.yaml"
    path.write_text("title: T\ndefaults:\n  length: 45m\nsteps:\n  - {pose: A, hold: 1-2m}\n")
    result = CliRunner().invoke(cli, ["check", str(path)])
    assert result.exit_code == 2
    assert f"{path}:3:11: length 45:00 cannot be made" in result.output
    assert "[out-of-range]" in result.output


def test_one_warning_and_one_chapter_are_singular(tmp_path: Path) -> None:
    path = tmp_path / "r.yaml"
    path.write_text(
        "title: T\nsounds: {start: none, end: none}\nsteps:\n"
        "  - pose: A\n    hold: 20s\n    reminders: [Breathe.]\n"
    )
    checked = CliRunner().invoke(cli, ["check", str(path)])
    assert checked.exit_code == 0
    assert ": ok (1 warning)" in checked.output
    planned_text = CliRunner().invoke(cli, ["plan", str(path)]).output
    assert " · 1 chapter · " in planned_text
