"""The gaps left open translating sixteen routine formats (tests/translations/README.md), closed:
a bell alone inside a pause (G2), a count-in before every side and repetition (G1), the closing
after the last work period (D1) in neutral words (G5), a warning for a stretched flow phase (G4).
"""

from __future__ import annotations

import json
import wave
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from guidecast.cli import cli
from guidecast.compiler.timeline import Layout, Silence, Sound, Speak
from guidecast.errors import RoutineError
from guidecast.lang.i18n import language_for
from guidecast.model import Narration
from guidecast.routine.durations import format_duration
from guidecast.routine.load import load_routine, parse_routine
from guidecast.sound.mix import Mix
from guidecast.sound.render import AudioFormat, stream_pcm
from render_fixtures import (
    doc_routine,
    fake_voice,
    periods_end,
    planned,
    render_routine,
    routine_from,
    said_in_order,
    silent_runs,
)

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs" / "routines.md"
TRANSLATIONS = ROOT / "tests" / "translations"
LEVELS = list(Narration)
S = 1000
MIN = 60 * S
RATE = 44_100


def _problems(text: str, base: Path | None = None) -> list[tuple[int, int, str]]:
    with pytest.raises(RoutineError) as e:
        parse_routine(text, "s.yaml", base)
    return [(p.loc.line, p.loc.col, p.message) for p in e.value.problems]


def _bells(lay: Layout) -> list[int]:
    return [i.start_ms for i in lay.items if isinstance(i.event, Sound)]


# -- G2: a bell alone inside a pause --------------------------------------------------------


@pytest.mark.parametrize("level", LEVELS, ids=lambda n: n.value)
def test_the_meditation_timer_rings_every_five_minutes_without_a_word(level: Narration) -> None:
    lay = planned(load_routine(TRANSLATIONS / "14-meditation-timed-pauses.yaml"), narration=level)
    assert _bells(lay) == [1 * MIN + k * 5 * MIN for k in range(5)]
    said_after_start = [
        i for i in lay.items if isinstance(i.event, Speak) and i.start_ms >= 1 * MIN
    ]
    assert said_after_start == [] and not any(i.cues for i in lay.items)
    titles = [c.title for c in lay.chapters]
    assert titles == [
        "Instructions",
        "Sitting: First period",
        "Second period",
        "Third period",
        "Last period",
        "Closing bell",
    ]


def test_the_meditation_timers_bells_are_five_minutes_apart_when_rendered(
    tmp_path: Path,
) -> None:
    routine = load_routine(TRANSLATIONS / "14-meditation-timed-pauses.yaml")
    rendered = render_routine(routine, fake_voice(tmp_path / "cache"), mix=Mix())
    assert _bells(rendered.layout) == [1 * MIN + k * 5 * MIN for k in range(5)]


def test_a_pause_keeps_its_length_with_its_bell_in_it() -> None:
    text = "title: T\nsounds: {start: none, transition: none, end: none}\nsteps:\n"
    text += "  - {pause: 20s, sound: bowl}\n  - {pause: 20s, sound: woodblock}\n  - pause: 20s\n"
    text += "  - say: [Done.]\n"
    lay = planned(parse_routine(text))
    assert _bells(lay) == [0, 20 * S]
    [done] = [i for i in lay.items if isinstance(i.event, Speak)]
    assert done.start_ms == 60 * S
    # The silence after each bell is the pause less the bell.
    pauses = [i.ms for i in lay.items if isinstance(i.event, Silence) and i.event.step is not None]
    assert pauses[:2] == [20 * S - 6 * S, 20 * S - 800]


def test_a_pause_bell_rings_at_its_time_in_the_audio(tmp_path: Path) -> None:
    text = "title: T\nsounds: {start: none, transition: none, end: none}\nsteps:\n"
    text += "  - {pause: 4s, sound: woodblock}\n" * 3
    routine = routine_from(tmp_path, text)
    voice = fake_voice(tmp_path / "cache")
    rendered = render_routine(routine, voice, mix=Mix())
    pcm = np.concatenate(list(stream_pcm(rendered, voice, AudioFormat()))).astype(np.float64)
    quiet = silent_runs(pcm / 32768, RATE, min_ms=1000)
    onsets = [round(end, 1) for _, end in quiet if end < len(pcm) / RATE - 0.1]
    assert onsets == [4.0, 8.0]  # and the first at 0.0, before any quiet


def test_a_file_bell_in_a_pause_is_taken_at_its_real_length(tmp_path: Path) -> None:
    bell = tmp_path / "bell.wav"
    with wave.open(str(bell), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        t = np.arange(int(1.5 * RATE)) / RATE
        w.writeframes((0.3 * np.sin(2 * np.pi * 660 * t) * 32767).astype("<i2").tobytes())
    text = "title: T\nsounds: {start: none, transition: none, end: none}\nsteps:\n"
    text += "  - {pause: 10s, sound: bell.wav}\n" * 2 + "  - say: [Done.]\n"
    routine = routine_from(tmp_path, text)
    rendered = render_routine(routine, fake_voice(tmp_path / "cache"), mix=Mix())
    assert _bells(rendered.layout) == [0, 10 * S]
    [done] = [i for i in rendered.layout.items if isinstance(i.event, Speak)]
    assert done.start_ms == 20 * S


def test_mistakes_in_a_pause_bell_are_located(tmp_path: Path) -> None:
    [(line, col, message)] = _problems("title: T\nsteps:\n  - pause: 5m\n    sound: bowel\n")
    assert (line, col) == (4, 12) and "did you mean 'bowl'?" in message
    [(line, col, message)] = _problems(
        "title: T\nsteps:\n  - {pause: 5m, sound: gone.wav}\n", tmp_path
    )
    assert (line, col) == (3, 24) and "gone.wav" in message
    [(line, col, message)] = _problems("title: T\nsteps:\n  - {pause: 3-9s, sound: gong}\n")
    assert (line, col) == (3, 26)
    assert "'gong' lasts 6s: longer than the pause it starts (3s)" in message
    assert not parse_routine("title: T\nsteps:\n  - {pause: 6s, sound: gong}\n").warnings


def test_the_docs_interval_bells_land_a_pause_apart() -> None:
    lay = planned(parse_routine(doc_routine("Interval Bells")))
    assert _bells(lay) == [30 * S, 5 * MIN + 30 * S, 10 * MIN + 30 * S]


# -- G1: a count-in before every side and every repetition ----------------------------------


def _count_ins(lay: Layout) -> list[tuple[int | None, int]]:
    """(step, ms) of every count-in, in order."""
    return [
        (i.event.step, i.ms)
        for i in lay.items
        if isinstance(i.event, Silence) and i.event.kind == "count"
    ]


EACH = """\
title: T
sounds: {start: none, transition: none, end: none}
steps:
  - pose: Calf Stretch
    hold: 30s
    sides: true
    count_in: COUNT
  - pose: Push-ups
    hold: 20s
    reps: 3
    rest: 10s
    count_in: COUNT
"""


@pytest.mark.parametrize("level", LEVELS, ids=lambda n: n.value)
def test_a_count_in_for_each_comes_before_every_side_and_repetition(level: Narration) -> None:
    each = parse_routine(EACH.replace("COUNT", "{length: 5s, each: true}"))
    lay = planned(each, narration=level)
    assert _count_ins(lay) == [(0, 5 * S)] * 2 + [(1, 5 * S)] * 3
    # Each count-in ends as a hold starts: the hold follows it directly.
    kinds = [i.event.kind for i in lay.items if isinstance(i.event, Silence)]
    follows = [kinds[k + 1] for k, kind in enumerate(kinds) if kind == "count"]
    assert follows == ["hold"] * 5
    # Without `each`, as before: the first side and the first repetition only.
    first_only = planned(parse_routine(EACH.replace("COUNT", "5s")), narration=level)
    assert _count_ins(first_only) == [(0, 5 * S), (1, 5 * S)]
    assert lay.total_ms - first_only.total_ms == 3 * 5 * S


def test_a_steps_own_count_in_replaces_the_defaults_each() -> None:
    text = EACH.replace("    count_in: COUNT\n", "", 1).replace("COUNT", "3s")
    text = text.replace("steps:", "defaults: {count_in: {length: 5s, each: true}}\nsteps:", 1)
    lay = planned(parse_routine(text))
    assert _count_ins(lay) == [(0, 5 * S), (0, 5 * S), (1, 3 * S)]


def test_the_counted_stretch_counts_in_every_side_with_a_chapter_per_side() -> None:
    lay = planned(load_routine(TRANSLATIONS / "04-scripted-stretch-count-in.yaml"))
    assert _count_ins(lay) == [(s, 5 * S) for s in (0, 0, 1, 1, 2, 2)] + [(3, 3 * S)]
    sides = [c.title for c in lay.chapters if "side" in c.title]
    assert sides == [
        "Calf Stretch (left side)",
        "Calf Stretch (right side)",
        "Standing Hamstring Stretch (right side)",
        "Standing Hamstring Stretch (left side)",
        "Quad Stretch (right side)",
        "Quad Stretch (left side)",
    ]
    said = [i.event.text for i in lay.items if isinstance(i.event, Speak)]
    assert said.count("Calf Stretch.") == 1  # the name once, not again before the second side
    assert "Now the right foot back, heel down." in said


def test_mistakes_in_a_count_in_are_located() -> None:
    base = "title: T\nsteps:\n  - pose: A\n    hold: 20s\n    count_in: "
    [(line, col, message)] = _problems(base + "{length: 5s, each: yes}\n")
    assert (line, col) == (5, 34) and "write true or false" in message
    [(line, col, message)] = _problems(base + "{lenght: 5s}\n")
    assert (line, col) == (5, 16) and "lenght" in message
    [(line, col, message)] = _problems(base + "{length: 20s, each: true}\n")
    assert (line, col) == (5, 24) and "a count-in of 20s is too long: at most 10s" in message
    [(line, col, message)] = _problems(base + "{each: true}\n")
    assert (line, col) == (5, 15) and "length" in message


def test_the_docs_count_in_for_every_side_plans_as_it_says() -> None:
    lay = planned(parse_routine(doc_routine("Counted Every Side")))
    assert _count_ins(lay) == [(0, 5 * S)] * 2 + [(1, 3 * S)] * 3


# -- D1: the closing follows the last work period; G5: in neutral words -------------------------

CLOSING = "Well done, that is the end of the session."
LAST_WORK = """\
title: Last Work
timing: clock
sounds: {start: none, transition: none, end: none}
steps:
  - {pose: Squats, hold: 30s}
  - {pose: Plank, hold: 30s}
"""


@pytest.mark.parametrize("level", LEVELS, ids=lambda n: n.value)
def test_a_last_work_period_runs_to_its_end_and_the_closing_follows_it(level: Narration) -> None:
    lay = planned(parse_routine(LAST_WORK), narration=level)
    said = said_in_order(lay)
    # The plank is counted down to its end like every period, with nothing said over it after.
    assert [(s, t) for s, _, t in said if s >= 57_000] == [
        (57_000, "Three."), (58_000, "Two."), (59_000, "One."), (said[-1][0], CLOSING)
    ]  # fmt: skip
    assert periods_end(lay) == 60_000 and said[-1][0] >= 60_000
    [finish] = [i for i in lay.items if isinstance(i.event, Sound)][-1:]
    assert finish.event.sound.name == "finish" and finish.start_ms >= said[-1][1]
    # The session grows by the closing: its sentence, the quiet around it and the tone.
    assert 60_000 + 4_000 < lay.total_ms < 60_000 + 10_000
    assert lay.chapters[-1].title == "Plank" and lay.chapters[-1].end_ms == lay.total_ms


def test_a_last_rest_still_holds_the_closing_and_the_total_is_exact() -> None:
    lay = planned(parse_routine(LAST_WORK + "  - rest: 15s\n"))
    assert lay.total_ms == periods_end(lay) == 75_000
    closing = [(s, t) for s, _, t in said_in_order(lay) if t == CLOSING]
    assert closing and 60_000 <= closing[0][0] < 75_000  # inside the rest
    finish = [i for i in lay.items if isinstance(i.event, Sound) and i.event.sound.name == "finish"]
    assert [i.start_ms + i.ms for i in finish] == [75_000]


def test_the_plan_shows_the_closing_after_the_last_period(tmp_path: Path) -> None:
    path = tmp_path / "w.yaml"
    path.write_text(LAST_WORK, encoding="utf-8")
    out = CliRunner().invoke(cli, ["plan", str(path)]).output
    rows = out.splitlines()
    [k] = [k for k, row in enumerate(rows) if CLOSING in row]
    assert rows[k].split()[0] in ("1:00", "1:01") and "♪ finish" in rows[k + 1]
    assert "total 1:0" in out and "total 1:00 " not in out


@pytest.mark.parametrize("code", ["en", "es", "de", "fr"])
def test_the_closing_on_the_clock_is_neutral_in_every_language(code: str) -> None:
    said = language_for(code).say(CLOSING)
    assert code == "en" or said != CLOSING  # translated: no language falls back to English
    for workout in ("workout", "entrenamiento", "Training", "entraînement"):
        assert workout not in said
    text = LAST_WORK.replace("title: Last Work", f"title: W\nlanguage: {code}")
    assert said_in_order(planned(parse_routine(text)))[-1][2] == said


# -- G4: check warns when a flow phase is stretched -------------------------------------------

STRETCHED = """\
title: Stretched
steps:
  - pose: Flow
    flow: {breaths: 2, quiet: false, phases: [1s, 1s],
           cues: [Inhale and reach all the way up., Exhale and fold.]}
"""


def _check(tmp_path: Path, text: str) -> tuple[int, list[dict[str, object]]]:
    path = tmp_path / "r.yaml"
    path.write_text(text, encoding="utf-8")
    result = CliRunner(mix_stderr=False).invoke(cli, ["check", "--format", "json", str(path)])
    problems: list[dict[str, object]] = json.loads(result.stdout)
    return result.exit_code, problems


def test_check_warns_at_the_flow_when_a_phase_is_stretched_by_its_cue(tmp_path: Path) -> None:
    code, problems = _check(tmp_path, STRETCHED)
    assert code == 0  # a warning, the routine still renders
    [p] = problems
    assert (p["line"], p["column"], p["rule"], p["severity"]) == (
        4, 11, "stretched-phase", "warning"
    )  # fmt: skip
    message = str(p["message"])
    assert "its 1s phase takes" in message and "“Inhale and reach all the way up.”" in message
    assert "lengthen the phase or shorten the cue" in message
    # The warning says how much longer the flow runs, as the plan lays it out.
    lay = planned(parse_routine(STRETCHED))
    phases = [i for i in lay.items if isinstance(i.event, Silence) and i.event.kind == "breath"]
    more = sum(i.ms - i.event.ms for i in phases if isinstance(i.event, Silence))
    assert more > 4 * S and f"runs {format_duration(more)} longer" in message


def test_phases_that_hold_their_cues_and_untimed_flows_are_not_warned(tmp_path: Path) -> None:
    roomy = STRETCHED.replace("phases: [1s, 1s]", "phases: [4s, 3s]")
    assert _check(tmp_path, roomy) == (0, [])
    # Without a breath length or phases the cues set the pace, as documented: no warning.
    untimed = STRETCHED.replace("phases: [1s, 1s],", "")
    assert _check(tmp_path, untimed) == (0, [])


def test_the_sun_salutation_keeps_its_phases_and_a_longer_cue_is_warned(tmp_path: Path) -> None:
    text = (TRANSLATIONS / "15-sun-salutation.yaml").read_text(encoding="utf-8")
    assert not [p for p in _check(tmp_path, text)[1] if p["rule"] == "stretched-phase"]
    longer = text.replace(
        "- Inhale, arms up.", "- Inhale, and sweep both arms wide and all the way up overhead."
    )
    [p] = [p for p in _check(tmp_path, longer)[1] if p["rule"] == "stretched-phase"]
    assert p["line"] == 11  # the flow mapping, at its first key
    assert "its 3s phase takes" in str(p["message"])
