"""Sessions that sound like a class (issue 17): every hold heard as it starts, the set-up before
the key cue, repetitions counted before their movement, intervals led like a timer app, lines
that stand apart, and workouts and breathing sessions that end on a closing sentence and a sound.

Read from the laid-out plan with the planning estimate, at every narration level, on the seed
routines and the examples; a render with the fake voice checks the tones' real lengths.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from guidecast.cli.app import options_for
from guidecast.compiler.narrate import SENTENCE_GAP_MS
from guidecast.compiler.options import resolve_options
from guidecast.compiler.poses import restates
from guidecast.compiler.timeline import Layout, Silence, Sound, Speak
from guidecast.errors import RoutineError
from guidecast.lang.i18n import language_for
from guidecast.lang.messages import WORDINGS
from guidecast.model import Narration, Routine
from guidecast.routine.load import load_routine, parse_routine
from guidecast.sound.render import Voice
from render_fixtures import (
    fake_voice,
    holds,
    periods_end,
    planned,
    render_routine,
    said_in_order,
    sounding,
)

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
SESSIONS = [
    *sorted((ROOT / "routines").glob("*.yaml")),
    *(EXAMPLES / f"{name}.yaml" for name in (
        "tabata", "circuit", "couch-to-5k-week-1", "box-breathing", "body-scan", "espalda-suave",
    )),
]  # fmt: skip
LEVELS = list(Narration)
CLOSINGS = {
    language_for(code).say(msgid)
    for code in ("en", "es")
    for msgid in (
        "Well done, that is the end of the session.",
        "Let your breath return to its own rhythm.",
    )
}


@pytest.fixture(scope="module", params=SESSIONS, ids=lambda p: p.stem)
def session(request: pytest.FixtureRequest) -> Routine:
    return load_routine(request.param)


def _periods(lay: Layout, *kinds: str) -> list[tuple[int, int, Silence]]:
    """(start, end, silence) of each silence of these kinds, a period on the clock starting
    where the tone that opens it starts."""
    out = []
    for k, item in enumerate(lay.items):
        if isinstance(item.event, Silence) and item.event.kind in kinds:
            start = item.start_ms
            if k and isinstance(lay.items[k - 1].event, Sound):
                start = lay.items[k - 1].start_ms
            out.append((start, item.start_ms + item.ms, item.event))
    return out


def _sounds(lay: Layout, name: str | None = None) -> list[tuple[int, int]]:
    return [
        (i.start_ms, i.start_ms + i.ms)
        for i in lay.items
        if isinstance(i.event, Sound)
        and not i.event.sound.is_none
        and (name is None or i.event.sound.name == name)
    ]


def _texts(lay: Layout) -> list[str]:
    return [t for _, _, t in said_in_order(lay)]


# -- every hold heard -------------------------------------------------------------------------


@pytest.mark.parametrize("level", LEVELS, ids=lambda n: n.value)
def test_every_hold_starts_with_something_heard_within_a_second(
    session: Routine, level: Narration
) -> None:
    lay = planned(session, narration=level)
    heard = sounding(lay)
    periods = _periods(lay, "hold", "move", "breathe")
    assert periods or all(s.kind in ("say", "pause") for s in session.steps)
    for start, _, silence in periods:
        assert any(s <= start + 1000 and e >= start for s, e in heard), (level, start, silence)


def test_every_side_and_repetition_starts_with_a_cue_and_second_sides_say_their_length() -> None:
    routine = parse_routine(
        "title: T\nsounds: {start: none, transition: none, end: none}\nsteps:\n"
        "  - pose: Child\n    hold: 15s\n    sides: true\n"
        "  - pose: Twist\n    hold: 45s\n    sides: true\n"
        "  - pose: Bridge\n    hold: 15s\n    reps: 3\n",
        "t.yaml",
    )
    for level in LEVELS:
        lay = planned(routine, narration=level)
        firsts = []
        for start, _, _ in _periods(lay, "hold"):
            [(at, text)] = [(s, t) for s, _, t in said_in_order(lay) if start <= s < start + 1000]
            assert at == start, text
            firsts.append(text)
        assert "fifteen seconds" in firsts[0] and "fifteen seconds" in firsts[1]
        assert "forty-five seconds" in firsts[2] and "forty-five seconds" in firsts[3]
        assert firsts[0] != firsts[1] and firsts[2] != firsts[3], "varied wording"
        assert "fifteen seconds" in firsts[4]
        assert firsts[5] in WORDINGS["hold_again"] and firsts[6] in WORDINGS["hold_again"]
        assert firsts[5] != firsts[6]


def test_repetitions_are_counted_before_their_movement_and_the_last_one_is_released() -> None:
    routine = load_routine(ROOT / "routines" / "back-stiffness.yaml")
    index = next(k for k, s in enumerate(routine.steps) if s.pose == "Glute Bridge")
    step = routine.steps[index]
    assert step.cue
    for level in LEVELS:
        lay = planned(routine, narration=level)
        said = [(s, e, t) for s, e, t in said_in_order(lay)]
        texts = [t for _, _, t in said]
        count = "Repetition one of five." if level is not Narration.BRIEF else "Begin."
        assert texts.index(count) + 1 == texts.index(step.cue), "counted, then the movement"
        bridge = [(s, e) for s, e, h in _periods(lay, "hold") if h.step == index]
        assert len(bridge) == 5
        cue_start = next(s for s, _, t in said if t == step.cue)
        # Lifting on the cue, the listener holds about the hold, not the hold and a settle.
        assert bridge[0][1] - cue_start <= 15_000 + 10_000
        after = [t for s, _, t in said if bridge[-1][1] <= s]
        assert after[0] in WORDINGS["release"], after[:2]


# -- set-up first -----------------------------------------------------------------------------


def test_the_set_up_comes_before_the_key_cue_which_is_said_once() -> None:
    routine = load_routine(ROOT / "routines" / "love-your-spine.yaml")
    step = next(s for s in routine.steps if s.pose == "Dangling Pose")
    assert step.cue
    restating = "Cross your forearms, hold each elbow, and let your whole upper body hang."
    assert restating in step.how
    for level in (Narration.STANDARD, Narration.FULL):
        texts = _texts(planned(routine, narration=level))
        assert texts.count(step.cue) == 1
        assert restating not in texts
        for line in step.how:
            if line != restating:
                assert texts.index(line) < texts.index(step.cue), line


def test_every_pose_says_its_set_up_before_its_cue(session: Routine) -> None:
    texts = _texts(planned(session, narration=Narration.STANDARD))
    for step in session.steps:
        if not step.cue or step.clock or not step.how or step.kind != "pose":
            continue
        cue = texts.index(step.cue) if step.cue in texts else None
        assert cue is not None, step.pose
        for line in step.how:
            if line in texts:
                assert texts.index(line) < cue, (step.pose, line)


@pytest.mark.parametrize(
    ("line", "cue", "same"),
    [
        (
            "Cross your forearms, hold each elbow, and let your whole upper body hang.",
            "Hold your elbows and let your upper body hang heavy.",
            True,
        ),
        (
            "Keep both shoulders down on the mat.",
            "Keep both shoulders on the mat as your bent knee crosses over.",
            True,
        ),
        (
            "Come into pigeon, with your right knee bent in front of you and your left leg long "
            "behind you.",
            "From pigeon, turn your chest toward your front knee.",
            False,
        ),
        (
            "Stay on your back with your knees bent and your feet on the mat.",
            "Draw your legs toward your chest while both knees stay bent.",
            False,
        ),
        ("Close your eyes.", "Close your eyes and breathe.", False),
    ],
)
def test_a_how_line_restates_the_cue_when_most_words_of_each_are_the_others(
    line: str, cue: str, same: bool
) -> None:
    assert restates(line, cue) is same


# -- lines that stand apart -------------------------------------------------------------------


@pytest.mark.parametrize("level", LEVELS, ids=lambda n: n.value)
def test_no_two_sentences_of_more_than_one_word_are_closer_than_half_a_second(
    session: Routine, level: Narration
) -> None:
    said = said_in_order(planned(session, narration=level))
    assert len(said) > 5
    for (_, end, before), (start, _, after) in itertools.pairwise(said):
        if len(before.split()) == 1 and len(after.split()) == 1:
            continue  # a countdown: "Three." "Two." "One."
        assert start - end >= 500, (level, before, after, start - end)


def test_free_movement_says_its_length_in_its_invitation_and_a_flow_says_when_to_stop() -> None:
    routine = load_routine(ROOT / "routines" / "love-your-spine.yaml")
    index = next(k for k, s in enumerate(routine.steps) if s.pose == "Free Movement")
    lay = planned(routine)
    said = said_in_order(lay)
    [(start, _, _)] = [p for p in _periods(lay, "move") if p[2].step == index]
    [(k, cue)] = [(k, s) for k, s in enumerate(said) if s[2] == routine.steps[index].cue]
    assert said[k + 1][2] in {p.format(time="one minute") for p in WORDINGS["move_length"]}
    assert said[k + 1][0] - cue[1] == SENTENCE_GAP_MS and said[k + 1][1] == start

    spine = load_routine(ROOT / "routines" / "back-stiffness.yaml")
    flow = next(k for k, s in enumerate(spine.steps) if s.flow)
    for level in LEVELS:
        lay = planned(spine, narration=level)
        phases = _periods(lay, "breath")
        last = max(end for _, end, s in phases if s.step == flow)
        assert not [p for p in phases if p[2].step == flow][-1][2].cues, "the last round quiet"
        stop = [t for s, _, t in said_in_order(lay) if last <= s < last + 1000]
        assert stop and stop[0] in WORDINGS["flow_stop"], stop


# -- intervals like a timer app ---------------------------------------------------------------


@pytest.mark.parametrize("level", LEVELS, ids=lambda n: n.value)
def test_every_tabata_period_starts_on_a_sound(level: Narration) -> None:
    routine = load_routine(EXAMPLES / "tabata.yaml")
    lay = planned(routine, narration=level)
    assert lay.total_ms == 250_000
    starts = [0, *itertools.accumulate([10_000, *[20_000, 10_000] * 8])][:-1]
    sounds = _sounds(lay)
    for t in starts:
        assert any(t <= s <= t + 100 for s, _ in sounds), t
    works = {s for s, _ in _sounds(lay, "go")}
    assert works == set(starts[1::2]), "every work period on the go tone"
    rests = {s for s, _ in _sounds(lay, "rest")}
    assert rests == {0, *starts[2::2]}, "every rest, and the get-ready, on the rest tone"


@pytest.mark.parametrize("name", ["tabata", "circuit"])
def test_a_work_period_starts_with_at_most_one_word(name: str) -> None:
    routine = load_routine(EXAMPLES / f"{name}.yaml")
    for level in LEVELS:
        lay = planned(routine, narration=level)
        said = said_in_order(lay)
        for start, _, _ in _periods(lay, "hold"):
            opening = [t for s, _, t in said if start <= s < start + 3000]
            assert sum(len(t.split()) for t in opening) <= 1, opening
        texts = [t for _, _, t in said]
        for step in routine.steps:
            if step.cue:
                assert step.cue in texts, "the cue is said ahead, in the rest before"


def test_the_next_exercise_is_named_in_the_rest_or_period_before_it() -> None:
    routine = load_routine(EXAMPLES / "couch-to-5k-week-1.yaml")
    lay = planned(routine)
    said = said_in_order(lay)
    runs = [(s, e) for s, e, h in _periods(lay, "hold") if routine.steps[h.step or 0].pose == "Run"]
    assert len(runs) == 8
    for start, _ in runs:
        before = [t for s, _, t in said if start - 15_000 <= s < start]
        assert any("Next: Run." in t for t in before), before
        opening = [t for s, _, t in said if start <= s < start + 3000 and t != routine.halfway]
        assert opening == ["Run."]


def test_countdown_beeps_is_a_value_of_countdown_and_sounds_in_the_last_three_seconds() -> None:
    source = (
        "title: T\ndefaults: {countdown: beeps}\nsteps:\n"
        "  - pose: Plank\n    hold: 20s\n  - pose: Squat\n    hold: 6s\n"
    )
    routine = parse_routine(source, "t.yaml")
    assert (routine.defaults.countdown_ms, routine.defaults.countdown_beeps) == (3000, True)
    options = resolve_options(routine)
    assert options.countdown_beeps and options.countdown_ms == 3000
    lay = planned(routine)
    plank, squat = holds(lay)
    beeps = _sounds(lay, "beeps")
    assert beeps == [(plank[0] + plank[1], plank[0] + plank[1] + 3000)]  # ends the 20 s hold
    assert plank[1] == 17_000 and squat[1] == 6000  # a 6 s hold is too short to count
    assert not {"Three.", "Two.", "One."} & set(_texts(lay))
    # The command line's countdown wins over the routine's beeps, and --countdown beeps over
    # a routine's seconds.
    assert not resolve_options(routine, countdown_ms=5000).countdown_beeps
    assert options_for(routine, {"countdown": "beeps"}).countdown_beeps
    spoken = parse_routine(source.replace("beeps", "5s"), "t.yaml")
    assert options_for(spoken, {"countdown": "beeps"}).countdown_ms == 3000
    with pytest.raises(RoutineError, match=r"t\.yaml:2:23: 'beep' is not a countdown;.* or beeps"):
        parse_routine(source.replace("beeps", "beep"), "t.yaml")


# -- endings ----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["tabata", "circuit", "couch-to-5k-week-1", "box-breathing"])
@pytest.mark.parametrize("level", LEVELS, ids=lambda n: n.value)
def test_clock_and_breathing_sessions_end_on_a_sound_after_a_closing_sentence(
    name: str, level: Narration
) -> None:
    lay = planned(load_routine(EXAMPLES / f"{name}.yaml"), narration=level)
    start, end = _sounds(lay)[-1]
    assert end > lay.total_ms - 3000 and end <= lay.total_ms, "a sound in the last 3 s"
    said = said_in_order(lay)
    last = max(said, key=lambda s: s[0])
    assert last[2] in CLOSINGS and last[1] < start, last


def test_a_workout_with_an_end_sound_closes_after_its_last_period_and_rings_it_after() -> None:
    routine = parse_routine(
        "title: T\ntiming: clock\nsounds: {start: none, transition: none, end: bowl}\nsteps:\n"
        "  - pose: Squats\n    hold: 30s\n",
        "t.yaml",
    )
    lay = planned(routine)
    assert _sounds(lay, "finish") == []
    [(bowl, _)] = _sounds(lay, "bowl")
    start, end, closing = max(said_in_order(lay))
    assert closing in CLOSINGS and start >= 30_000  # not over the work: after it
    assert periods_end(lay) == 30_000 and end < bowl and lay.total_ms == bowl + 6000 + 1000


def test_the_tones_last_as_planned_so_a_rendered_tabata_is_exact(tmp_path: Path) -> None:
    routine = load_routine(EXAMPLES / "tabata.yaml")
    lay = render_routine(routine, fake_voice(tmp_path / "cache")).layout
    assert lay.total_ms == 250_000
    assert [s for s, _ in _sounds(lay, "go")] == [10_000 + 30_000 * k for k in range(8)]
    assert [s for s, _ in _sounds(lay, "finish")] == [250_000 - 2500]
    assert not [i for i in lay.items if isinstance(i.event, Speak)]


@pytest.mark.slow
@pytest.mark.parametrize("path", SESSIONS[:-1], ids=lambda p: p.stem)  # Spanish needs its voice
@pytest.mark.parametrize("level", LEVELS, ids=lambda n: n.value)
def test_with_the_real_voice_holds_are_heard_lines_stand_apart_and_nothing_is_left_out(
    path: Path, level: Narration, piper_voice: Voice
) -> None:
    routine = load_routine(path)
    lay = render_routine(routine, piper_voice.for_routine(routine), narration=level).layout
    assert not lay.dropped_cues, [d.text for d in lay.dropped_cues]
    heard = sounding(lay)
    for start, _, _ in _periods(lay, "hold", "move", "breathe"):
        assert any(s <= start + 1000 and e >= start for s, e in heard), start
    for (_, end, before), (start, _, after) in itertools.pairwise(said_in_order(lay)):
        if len(before.split()) > 1 or len(after.split()) > 1:
            assert start - end >= 500, (before, after)
