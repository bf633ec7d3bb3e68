"""Sound cues: a sound right after an announcement (`cue_sound`), a sound as each repetition
starts (`rep_sound`) and on every breath of a flow (`sound:` in `flow:`), paced and on the
clock; the docs' examples, their rendered sound, and the located mistakes."""

from __future__ import annotations

import itertools
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from guidecast.cli import cli
from guidecast.compiler.timeline import Layout, Placed, Silence, Sound, Speak
from guidecast.errors import RoutineError
from guidecast.media.decode import load_sound
from guidecast.model import Narration
from guidecast.routine.load import parse_routine
from guidecast.sound.mix import Mix
from render_fixtures import (
    RATE,
    decode,
    doc_routine,
    export_to,
    fake_voice,
    periods_end,
    planned,
    render_routine,
    routine_from,
    said_in_order,
)

LEVELS = list(Narration)
ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs" / "routines.md"
SOUNDS = ROOT / "src" / "guidecast" / "data" / "sounds"


PACED = doc_routine("Sounds After Words")
TEMPO = doc_routine("Tempo Squats")
CLOCK = doc_routine("Announced on the Clock")


def _tones(lay: Layout) -> list[tuple[int, str]]:
    return [(i.start_ms, i.event.sound.name) for i in lay.items if isinstance(i.event, Sound)]


def _after(lay: Layout, k: int) -> Placed:
    """The item after item k, zero-length silences skipped."""
    return next(i for i in lay.items[k + 1 :] if i.ms)


# -- on the clock ---------------------------------------------------------------------------

CLOCK_TONES = [
    (0, "rest"), (5_600, "woodblock"), (10_000, "go"),  # get-ready: sound 0.6 s before the count
    (40_000, "rest"), (50_600, "woodblock"), (55_000, "go"),  # a 15 s rest
    (80_600, "woodblock"), (85_000, "go"),  # the last seconds of Push-ups
]  # fmt: skip
"""Then the closing and the finish tone, after the last period (at 1:45)."""


@pytest.mark.parametrize("level", LEVELS, ids=lambda n: n.value)
def test_on_the_clock_the_cue_sound_follows_the_announcement_and_periods_stay_exact(
    level: Narration,
) -> None:
    lay = planned(parse_routine(CLOCK), narration=level)
    assert _tones(lay)[:-1] == CLOCK_TONES
    assert _tones(lay)[-1][1] == "finish" and _tones(lay)[-1][0] > 105_000
    assert periods_end(lay) == 105_000
    assert [(c.title, c.start_ms) for c in lay.chapters] == [
        ("Get ready", 0), ("Squats", 10_000), ("Push-ups", 55_000), ("Plank", 85_000)
    ]  # fmt: skip
    said = said_in_order(lay)
    for text, sound_at in (
        ("First: Squats. Feet wide, sit back.", 5_600),
        ("Next: Push-ups.", 50_600),
        ("Next: Plank.", 80_600),
    ):
        [end] = [e for _, e, t in said if t == text]
        assert sound_at - 2_000 <= end <= sound_at  # said just before its sound, not over it
    counts = [s for s, _, t in said if t == "Three."]
    assert counts[:2] == [7_000, 37_000]  # the countdowns keep their seconds


@pytest.mark.parametrize(
    ("countdown", "tones"),
    [("beeps", [(0, "rest"), (5_600, "woodblock"), (7_000, "beeps"), (10_000, "go")]),
     ("0", [(0, "rest"), (8_600, "woodblock"), (10_000, "go")])],
)  # fmt: skip
def test_the_cue_sound_ends_clear_of_the_beeps_or_of_the_period_without_a_count(
    countdown: str, tones: list[tuple[int, str]]
) -> None:
    text = CLOCK.replace(
        "get_ready: 10s\n", f"get_ready: 10s\ndefaults: {{countdown: {countdown}}}\n"
    )
    lay = planned(parse_routine(text))
    assert _tones(lay)[: len(tones)] == tones
    assert periods_end(lay) == 105_000


def test_on_the_clock_a_step_announced_in_its_own_period_plays_no_cue_sound() -> None:
    text = CLOCK.replace("get_ready: 10s\n", "")
    lay = planned(parse_routine(text))
    names = [name for _, name in _tones(lay)]
    assert names.count("woodblock") == 2  # in the rest and in Push-ups, not before Squats
    assert periods_end(lay) == 95_000


def test_without_cue_sounds_the_clock_session_is_unchanged() -> None:
    plain = parse_routine(re.sub(r"\n    cue_sound: woodblock[^\n]*", "", CLOCK))
    with_sounds = planned(parse_routine(CLOCK))
    without = planned(plain)
    assert [t for t in _tones(without) if t[1] != "woodblock"] == [
        t for t in _tones(with_sounds) if t[1] != "woodblock"
    ]
    assert without.total_ms == with_sounds.total_ms


# -- paced ----------------------------------------------------------------------------------


@pytest.mark.parametrize("level", LEVELS, ids=lambda n: n.value)
def test_paced_sounds_follow_their_lines_start_each_rep_and_each_breath(level: Narration) -> None:
    lay = planned(parse_routine(PACED), narration=level)
    items = lay.items
    sounds = [(k, i) for k, i in enumerate(items) if isinstance(i.event, Sound)]
    names = [i.event.sound.name for _, i in sounds if isinstance(i.event, Sound)]
    assert names == ["go", *["woodblock"] * 3, "chime", *["rise"] * 6, "bowl"]
    for k, item in sounds:
        assert isinstance(item.event, Sound)
        name = item.event.sound.name
        if name in ("go", "chime"):  # right after the announcement's last line
            before = items[k - 1]
            assert isinstance(before.event, Speak)
            assert before.start_ms + before.ms == item.start_ms
        if name == "go":
            assert before.event.text == "Next: push-ups."
        if name == "chime":
            assert before.event.text == "Move with your breath."
            nxt = _after(lay, k)
            assert isinstance(nxt.event, Silence) and nxt.event.kind == "settle"
        if name == "woodblock":  # the hold starts as it ends
            nxt = _after(lay, k)
            assert isinstance(nxt.event, Silence) and nxt.event.kind == "hold"
            assert nxt.start_ms == item.start_ms + item.ms and nxt.ms == 15_000
        if name == "rise":  # inside the breath: the first phase is shorter by the sound
            nxt = _after(lay, k)
            assert isinstance(nxt.event, Silence) and nxt.event.kind == "breath"
            assert item.ms + nxt.ms >= 3_000


def test_the_voice_after_a_say_steps_sound_waits_for_it_to_ring() -> None:
    text = """\
title: Said
sounds: {start: none, transition: none, end: none}
steps:
  - say: ["Next: push-ups."]
    cue_sound: go
  - say: ["Go."]
"""
    lay = planned(parse_routine(text))
    [sound] = [i for i in lay.items if isinstance(i.event, Sound)]
    [go] = [s for s, _, t in said_in_order(lay) if t == "Go."]
    assert go == sound.start_ms + sound.ms + 1200


@pytest.mark.parametrize("level", LEVELS, ids=lambda n: n.value)
def test_a_flows_sounds_start_each_phase_and_keep_its_tempo(level: Narration) -> None:
    lay = planned(parse_routine(TEMPO), narration=level)
    tones = [(at, name) for at, name in _tones(lay) if name in ("fall", "rise")]  # no bowls
    assert [name for _, name in tones] == ["fall", "rise"] * 8
    starts = [at for at, _ in tones]
    assert [b - a for a, b in itertools.pairwise(starts)] == [3_000, 2_000] * 7 + [3_000]
    cues = {s: t for s, _, t in said_in_order(lay) if t in ("Down.", "Up.")}
    for at, name in tones:  # each phase's cue right after its tone
        assert cues[at + 800] == {"fall": "Down.", "rise": "Up."}[name]


def test_every_repetition_and_side_starts_on_the_rep_sound() -> None:
    text = """\
title: Sides
sounds: {start: none, transition: none, end: none}
steps:
  - pose: Lunge
    cue: Step one foot back.
    hold: 20s
    sides: true
    reps: 2
    rep_sound: go
"""
    lay = planned(parse_routine(text))
    holds = [k for k, i in enumerate(lay.items) if getattr(i.event, "kind", "") == "hold"]
    assert len(holds) == 4
    for k in holds:
        before = lay.items[k - 1]
        assert isinstance(before.event, Sound) and before.event.sound.name == "go"


# -- rendered with the fake voice: the sounds are heard where the plan puts them --------------


def _heard(audio: np.ndarray, item: Placed) -> float:
    """How much of the sound `item` plays is in the decoded audio at its start (about 1 when
    it is there at full level, 0 when it is not)."""
    assert isinstance(item.event, Sound)
    sound = load_sound(item.event.sound, RATE).astype(np.float64)
    start = item.start_ms * RATE // 1000
    heard = audio[start : start + len(sound)]
    return float(np.dot(heard, sound) / np.dot(sound, sound))


@pytest.mark.parametrize("text", [CLOCK, PACED], ids=["clock", "paced"])
def test_a_rendered_session_has_the_sounds_at_the_planned_times(tmp_path: Path, text: str) -> None:
    routine = routine_from(tmp_path, text)
    voice = fake_voice(tmp_path / "cache")
    rendered = render_routine(routine, voice, mix=Mix())  # no bed: only speech and sounds
    lay = rendered.layout
    plan = planned(routine)
    if routine.clock:  # exact periods: the same times as planned, whatever the voice
        assert _tones(lay)[:-1] == _tones(plan)[:-1] == CLOCK_TONES
        assert periods_end(lay) == periods_end(plan) == 105_000
    else:  # paced: the same sounds, each where the real speech before it ends
        assert [n for _, n in _tones(lay)] == [n for _, n in _tones(plan)]
        for k, item in enumerate(lay.items):
            if isinstance(item.event, Sound) and item.event.sound.name in ("go", "chime"):
                before = lay.items[k - 1]
                assert isinstance(before.event, Speak)
                assert before.start_ms + before.ms == item.start_ms
    audio = decode(export_to(tmp_path / "out", routine, rendered, voice).files.mp3)
    cues = [i for i in lay.items if isinstance(i.event, Sound)]
    assert cues
    for item in cues:
        assert _heard(audio, item) > 0.05, item
    # Where no sound plays, the sound is not heard: half a second before a cue sound is
    # speech or quiet, not the sound itself.
    for item in cues:
        assert isinstance(item.event, Sound)
        if item.event.sound.name == "woodblock":
            early = Placed(item.start_ms - 400, item.ms, item.event)
            assert _heard(audio, early) < 0.05


# -- mistakes, located ------------------------------------------------------------------------


def _problems(text: str, base: Path | None = None) -> list[tuple[int, int, str]]:
    with pytest.raises(RoutineError) as e:
        parse_routine(text, "s.yaml", base)
    return [(p.loc.line, p.loc.col, p.message) for p in e.value.problems]


CLOCK_STEPS = "title: T\ntiming: clock\nsteps:\n"


def test_an_unknown_sound_name_says_what_was_meant() -> None:
    text = "title: T\nsteps:\n  - pose: A\n    hold: 20s\n    cue_sound: woodblok\n"
    [(line, col, message)] = _problems(text)
    assert (line, col) == (5, 16)
    assert "unknown sound 'woodblok'; did you mean 'woodblock'?" in message
    text = "title: T\nsteps:\n  - pose: A\n    flow: {breaths: 4, cues: [In., Out.], sound: rize}\n"
    [(line, col, message)] = _problems(text)
    assert (line, col) == (4, 50) and "did you mean 'rise'?" in message


def test_a_cue_sound_that_does_not_fit_the_rest_before_is_a_located_error() -> None:
    text = CLOCK_STEPS + (
        "  - pose: A\n    hold: 20s\n  - rest: 5s\n"
        "  - pose: B\n    hold: 20s\n    cue_sound: woodblock\n"
    )
    [(line, col, message)] = _problems(text)
    assert (line, col) == (9, 16)
    assert "'woodblock' after the announcement does not fit the rest before the step" in message
    assert "it lasts 5s" in message and "need 8.1s" in message
    assert not parse_routine(text.replace("rest: 5s", "rest: 9s")).warnings  # 9 s holds it


def test_a_flow_on_the_clock_plays_its_cue_sound_after_its_own_cue() -> None:
    text = CLOCK_STEPS + (
        "  - pose: A\n    hold: 20s\n  - rest: 5s\n  - pose: B\n    cue: Breathe with it.\n"
        "    flow: {breaths: 2, cues: [In., Out.]}\n    cue_sound: woodblock\n"
    )
    lay = planned(parse_routine(text))  # no error: nothing is said ahead of a flow
    [k] = [
        k
        for k, i in enumerate(lay.items)
        if isinstance(i.event, Sound) and i.event.sound.name == "woodblock"
    ]
    before = lay.items[k - 1]
    assert isinstance(before.event, Speak) and before.event.text == "Breathe with it."


def test_a_cue_sound_that_does_not_fit_the_get_ready_is_a_located_error() -> None:
    text = "title: T\ntiming: clock\nget_ready: 6s\nsteps:\n"
    text += "  - pose: B\n    hold: 20s\n    cue_sound: go\n"
    [(line, col, message)] = _problems(text)
    assert (line, col) == (7, 16) and "does not fit the get-ready" in message


def test_on_the_clock_a_cue_sound_file_and_a_rep_sound_are_located_errors(tmp_path: Path) -> None:
    shutil.copy(SOUNDS / "chime.wav", tmp_path / "ding.wav")
    text = CLOCK_STEPS + "  - pose: A\n    hold: 20s\n    reps: 2\n    rest: 10s\n"
    text += "    cue_sound: ding.wav\n    rep_sound: go\n"
    found = _problems(text, tmp_path)
    assert sorted((line, col) for line, col, _ in found) == [(8, 16), (9, 16)]
    messages = " ".join(m for _, _, m in found)
    assert "the sound after an announcement lies inside the period before" in messages
    assert "set 'sound' (the go tone unless you choose one) rather than 'rep_sound'" in messages
    paced = text.replace("timing: clock\n", "")
    assert parse_routine(paced, "s.yaml", tmp_path).steps[0].cue_sound is not None


def test_check_reports_a_cue_sound_that_does_not_fit_at_its_place(tmp_path: Path) -> None:
    path = tmp_path / "short.yaml"
    path.write_text(CLOCK.replace("rest: 15s", "rest: 6s"), encoding="utf-8")
    result = CliRunner().invoke(cli, ["check", str(path)])
    assert result.exit_code == 2
    line = CLOCK.splitlines().index(
        '    cue_sound: woodblock           # after "Next: Push-ups." in the rest'
    )
    assert f"short.yaml:{line + 1}:16: 'woodblock' after the announcement does not fit" in (
        result.output
    )


def test_a_rep_sound_needs_reps() -> None:
    text = "title: T\nsteps:\n  - pose: A\n    hold: 20s\n    rep_sound: go\n"
    [(line, col, message)] = _problems(text)
    assert (line, col) == (5, 16) and "add reps: 2 or more" in message


@pytest.mark.parametrize(
    ("sound", "message"),
    [("bowl", "'bowl' lasts 6s: too long to start a phase of 2s; choose a shorter one (wood"),
     ("[go, bowl]", "'bowl' lasts 6s: too long to start a phase of 2s"),
     ("ding.wav", "a flow's sound starts its phase, inside it: use one of guidecast's"),
     ("[go, go, go]", "'sound' needs one sound, or one per phase: 2 like 'cues', found 3")],
)  # fmt: skip
def test_a_flow_sound_that_does_not_fit_its_phase_is_a_located_error(
    tmp_path: Path, sound: str, message: str
) -> None:
    shutil.copy(SOUNDS / "chime.wav", tmp_path / "ding.wav")
    text = "title: T\nsteps:\n  - pose: A\n    flow:\n      breaths: 4\n"
    text += f"      cues: [In., Out.]\n      breath: 4s\n      sound: {sound}\n"
    [(line, col, found)] = _problems(text, tmp_path)
    assert line == 8 and col in (14, 19) and message in found  # at the sound that is wrong
