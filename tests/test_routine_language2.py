"""The routine language, second round: the defects found translating real routines again, and
what they still could not say (anchors, count-ins, pauses between breathing cycles, computed
values, own wordings, sounds and sections on the clock, pace per section)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from guidecast.cli import cli
from guidecast.compiler.fit import crowded_cues
from guidecast.compiler.timeline import Layout
from guidecast.errors import RoutineError
from guidecast.model import Narration
from guidecast.routine.load import parse_routine
from render_fixtures import periods_end, planned, said_in_order

LEVELS = list(Narration)


def _texts(lay: Layout) -> list[str]:
    return [text for _, _, text in said_in_order(lay)]


CLOCK = """\
title: Clock
timing: clock
sounds: {start: none, transition: none, end: none}
steps:
  - pose: Squats
    hold: 30s
  - pose: Lunges
    hold: 30s
"""


@pytest.mark.parametrize("level", LEVELS, ids=lambda n: n.value)
def test_countdown_zero_switches_the_clocks_count_off(level: Narration) -> None:
    routine = parse_routine(CLOCK)
    assert "Three." in _texts(planned(routine, narration=level))  # on by default on the clock
    for off in (planned(routine, narration=level, countdown_ms=0),
                planned(parse_routine(CLOCK.replace("steps:", "defaults: {countdown: 0}\nsteps:")),
                        narration=level)):  # fmt: skip
        said = _texts(off)
        assert not {"Three.", "Two.", "One."} & set(said)


def test_countdown_zero_on_the_command_line_wins_over_the_routines(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(CLOCK.replace("steps:", "defaults: {countdown: 5s}\nsteps:"), "utf-8")
    result = CliRunner().invoke(cli, ["plan", str(path), "--countdown", "0"])
    assert result.exit_code == 0, result.output
    assert "“Three.”" not in result.output
    assert "“Three.”" in CliRunner().invoke(cli, ["plan", str(path)]).output


BOX = """\
title: Box
defaults: {rate: RATE}
steps:
  - pose: Box breathing
    breathe: {pattern: 4-4-4-4, cycles: 2, count: true}
"""


@pytest.mark.parametrize("rate", ["0.8", "0.85", "0.9", "1", "1.5"])
@pytest.mark.parametrize("level", LEVELS, ids=lambda n: n.value)
def test_a_count_keeps_its_second_at_slow_rates(rate: str, level: Narration) -> None:
    routine = parse_routine(BOX.replace("RATE", rate))
    said = _texts(planned(routine, narration=level))
    assert said.count("Four.") == 8
    assert not crowded_cues(routine)


def test_a_count_with_no_room_is_warned_about_at_the_files_level_and_rate() -> None:
    [*problems] = crowded_cues(parse_routine(BOX.replace("RATE", "0.55")))
    assert problems
    message = problems[0].message
    assert "at standard narration and rate 0.55" in message
    assert "a faster rate, or count: false" in message
    assert "lengthen the hold" not in message


WARNED = """\
title: W
timing: clock
get_ready: 4s
steps:
  - block: Circuit
    rounds: 3
    between: 4s
    steps:
      - pose: Squats
        cue: Sit back as if into a chair, with your chest up and your weight in your heels.
        hold: 20s
      - pose: Lunges
        cue: Step long, and lower the back knee straight down toward the floor below you.
        hold: 20s
  - pose: Plank
    hold: 30s
    reminders: [Keep a long line from your head to your heels.]
"""


def test_warnings_number_steps_as_the_file_does_on_the_line_that_causes_them(
    tmp_path: Path,
) -> None:
    path = tmp_path / "w.yaml"
    path.write_text(WARNED, encoding="utf-8")
    result = CliRunner().invoke(cli, ["check", str(path)])
    assert result.exit_code == 0, result.output
    lines = [line for line in result.output.splitlines() if "warning:" in line]
    assert [line.split(": warning: ")[0] for line in lines] == [
        f"{path}:3:12", f"{path}:7:14", f"{path}:15:5"
    ]  # fmt: skip
    assert ": get_ready: no room for “Sit back" in lines[0]
    assert "lengthen get_ready" in lines[0]
    assert "the rest this block adds: no room for “Step long" in lines[1]
    assert "step 3 (Plank)" in lines[2]


def test_check_warns_about_a_reminder_no_hold_has_room_for_on_the_clock() -> None:
    routine = parse_routine(WARNED)
    [reminder] = [p for p in crowded_cues(routine) if "reminder" in p.message]
    assert "“Keep a long line from your head to your heels.”" in reminder.message
    assert (reminder.loc.line, reminder.loc.col) == (15, 5)


def test_warnings_are_sorted_by_line_not_as_text() -> None:
    steps = "".join(
        f"  - pose: P{k}\n    hold: 30s\n    reminders: [Stay with it for number {k}.]\n"
        for k in range(1, 12)
    )
    problems = crowded_cues(parse_routine(f"title: T\ntiming: clock\nsteps:\n{steps}"))
    assert [p.loc.line for p in problems] == sorted(p.loc.line for p in problems)
    assert [p.message.split(":")[1].strip() for p in problems][-3:] == [
        "step 9 (P9)", "step 10 (P10)", "step 11 (P11)"
    ]  # fmt: skip


@pytest.mark.parametrize("level", LEVELS, ids=lambda n: n.value)
def test_time_at_the_start_of_a_sentence_starts_with_a_capital(level: Narration) -> None:
    routine = parse_routine(
        "title: T\ndefaults: {guidance: {length: '{time} remaining. Breathe for {time}.'}}\n"
        "steps:\n  - pose: Lizard\n    hold: 2m\n"
    )
    said = _texts(planned(routine, narration=level))
    assert "Two minutes remaining. Breathe for two minutes." in said


class _OddSpeech:
    """Real clips are rarely whole seconds long: every sentence here lasts 1.237 s."""

    def speech_ms(self, text: str) -> int:
        return 1237

    def sound_ms(self, sound: object) -> int:
        from guidecast.lang.speech import Estimate

        return Estimate().sound_ms(sound)  # type: ignore[arg-type]


INTRO_CLOCK = """\
title: Intro clock
timing: clock
intro: Welcome to this short workout. Find some space around you and stand tall.
steps:
  - pose: Squats
    hold: 20s
  - rest: 10s
  - pose: Lunges
    hold: 20s
"""


@pytest.mark.parametrize("level", LEVELS, ids=lambda n: n.value)
@pytest.mark.parametrize("get_ready", ["", "get_ready: 10s\n"])
def test_after_an_intro_every_period_on_the_clock_starts_on_a_whole_second(
    level: Narration, get_ready: str
) -> None:
    from guidecast.compiler.fit import compile_routine
    from guidecast.compiler.options import resolve_options
    from guidecast.compiler.timeline import Sound, layout

    routine = parse_routine(INTRO_CLOCK.replace("steps:", get_ready + "steps:"))
    options = resolve_options(routine, narration=level)
    lay = layout(compile_routine(routine, options, _OddSpeech()), _OddSpeech())
    tones = [i.start_ms for i in lay.items if isinstance(i.event, Sound) and i.event.sound.name
             in ("go", "rest")]  # fmt: skip
    assert len(tones) == 3 + bool(get_ready)
    assert all(start % 1000 == 0 for start in tones), tones
    assert tones[0] > 7_000  # after the bell and the intro


DOCS = Path(__file__).resolve().parents[1] / "docs" / "routines.md"


def _doc_routines() -> list[tuple[int, str]]:
    """(line, text) of each whole routine docs/routines.md shows (a ```yaml block with a title)."""
    text = DOCS.read_text(encoding="utf-8")
    found = []
    for match in re.finditer(r"^```yaml\n(.*?)^```", text, re.MULTILINE | re.DOTALL):
        body = match.group(1)
        if re.search(r"^title:", body, re.MULTILINE):
            found.append((text[: match.start()].count("\n") + 2, body))
    return found


@pytest.mark.parametrize("level", LEVELS, ids=lambda n: n.value)
@pytest.mark.parametrize(("line", "body"), _doc_routines(), ids=lambda v: str(v)[:6])
def test_every_routine_in_the_docs_plans_at_every_level(
    line: int, body: str, level: Narration
) -> None:
    routine = parse_routine(body, f"docs/routines.md+{line}")
    assert planned(routine, narration=level).total_ms > 0


LED = """\
title: Led
steps:
  - pose: Cat-Cow
    flow:
      breaths: 8
      cues: [Inhale and arch. Look up., Exhale and round. Tuck your chin.]
"""


@pytest.mark.parametrize("level", LEVELS, ids=lambda n: n.value)
def test_a_flow_with_quiet_false_cues_every_round(level: Narration) -> None:
    quiet = _texts(planned(parse_routine(LED), narration=level))
    assert len([t for t in quiet if t.startswith("Inhale")]) < 7  # later rounds quiet
    led = _texts(
        planned(parse_routine(LED.replace("      breaths", "      quiet: false\n      breaths")),
                narration=level)
    )  # fmt: skip
    assert len([t for t in led if t.startswith("Inhale and arch.")]) == 8
    assert led.count("Inhale and arch. Look up.") == 2
    assert not [t for t in led if "on your own" in t or "to a stop" in t]


ANCHORS = """\
title: Squats Three Ways
x-squat: &squat
  pose: Squats
  cue: Sit back as if into a chair.
  hold: 30s
x-slow: &slow
  settle: 8s
steps:
  - <<: *squat
  - <<: [*squat, *slow]
    hold: 45s
    x-note: the slower round
  - pose: Wall Sit
    hold: 20s
    <<: *slow
"""


def test_merge_keys_copy_an_anchor_and_own_keys_win() -> None:
    routine = parse_routine(ANCHORS, "a.yaml")
    first, second, third = routine.steps
    assert (first.pose, first.cue, first.hold and first.hold.max_ms) == (
        "Squats", "Sit back as if into a chair.", 30_000
    )  # fmt: skip
    assert (second.pose, second.hold and second.hold.max_ms, second.settle_ms) == (
        "Squats", 45_000, 8000
    )  # fmt: skip
    assert (third.pose, third.settle_ms) == ("Wall Sit", 8000)
    assert (second.loc.line, second.loc.col) == (10, 5)
    assert [s.number for s in routine.steps] == [1, 2, 3]


@pytest.mark.parametrize("level", LEVELS, ids=lambda n: n.value)
def test_anchored_steps_are_said_like_written_ones(level: Narration) -> None:
    written = ANCHORS.split("steps:")[0] + (
        "steps:\n  - pose: Squats\n    cue: Sit back as if into a chair.\n    hold: 30s\n"
        "  - pose: Squats\n    cue: Sit back as if into a chair.\n    hold: 45s\n    settle: 8s\n"
        "  - pose: Wall Sit\n    hold: 20s\n    settle: 8s\n"
    )
    anchored = planned(parse_routine(ANCHORS), narration=level)
    assert said_in_order(anchored) == said_in_order(
        planned(parse_routine(written), narration=level)
    )


@pytest.mark.parametrize(
    ("text", "where", "message"),
    [
        (
            "title: A\nx-b: &b 5\nsteps:\n  - <<: *b\n    hold: 5s\n",
            (4, 5),
            "'<<' merges a mapping",
        ),
        ("title: A\nx-s: &s {pose: Squats, hold: 5x}\nsteps:\n  - <<: *s\n", (2, 30), "'5x'"),
        ("title: A\nsteps:\n  - <<: {pose: A, hold: 5s}\n    holdd: 5s\n", (4, 5), "holdd"),
        ("title: A\ny-s: 1\nsteps:\n  - pose: A\n    hold: 5s\n", (2, 1), "unknown key 'y-s'"),
    ],
)
def test_anchor_mistakes_are_located(text: str, where: tuple[int, int], message: str) -> None:
    with pytest.raises(RoutineError) as e:
        parse_routine(text, "a.yaml")
    [problem] = [p for p in e.value.problems if message in p.message]
    assert (problem.loc.line, problem.loc.col) == where


def test_x_keys_are_ignored_at_the_top_and_in_steps_only() -> None:
    with pytest.raises(RoutineError) as e:
        parse_routine(
            "title: A\nsteps:\n  - pose: A\n    flow: {breaths: 2, cues: [In.], x-a: 1}\n"
        )
    assert "unknown key 'x-a'" in str(e.value)


COUNT_IN = """\
title: Count-ins
defaults: {count_in: 3s}
steps:
  - pose: Squats
    hold: 20s
  - pose: Plank
    hold: 20s
    count_in: 5s
  - pose: Child's Pose
    hold: 30s
    count_in: 0
"""


@pytest.mark.parametrize("level", LEVELS, ids=lambda n: n.value)
def test_a_count_in_comes_before_any_step_and_ends_as_it_starts(level: Narration) -> None:
    from guidecast.compiler.timeline import Silence

    lay = planned(parse_routine(COUNT_IN), narration=level)
    counts = [i for i in lay.items if isinstance(i.event, Silence) and i.event.kind == "count"]
    assert [i.ms for i in counts] == [3000, 5000]
    for item in counts:
        after = lay.items[lay.items.index(item) + 1]
        assert isinstance(after.event, Silence) and after.event.kind == "hold"
        said = [(at - item.start_ms, cue.text) for at, _, cue in item.cues]
        end = item.ms
        assert said[-3:] == [(end - 3000, "Three."), (end - 2000, "Two."), (end - 1000, "One.")]
    assert next(c.text for _, _, c in counts[1].cues) == "Get ready."
    assert "Get ready." not in [c.text for _, _, c in counts[0].cues]


PAUSES = """\
title: Pauses
steps:
  - pose: Resonant breathing
    breathe: {pattern: 4-6, cycles: 3, pause: 5s, again: AGAIN, count: false}
"""


@pytest.mark.parametrize("level", LEVELS, ids=lambda n: n.value)
@pytest.mark.parametrize(("again", "said"), [("true", "Again."), ("false", None),
                                             ("'Once more.'", "Once more.")])  # fmt: skip
def test_a_pause_between_breathing_cycles_ends_on_again(
    level: Narration, again: str, said: str | None
) -> None:
    from guidecast.compiler.timeline import Silence

    lay = planned(parse_routine(PAUSES.replace("AGAIN", again)), narration=level)
    kinds = [i.event.kind for i in lay.items if isinstance(i.event, Silence) and i.event.step == 0]
    assert kinds[1:-1] == ["breathe", "breathe", "pause"] * 2 + ["breathe", "breathe"]
    pauses = [i for i in lay.items if isinstance(i.event, Silence) and i.event.kind == "pause"
              and i.event.step == 0 and i.ms == 5000]  # fmt: skip
    assert len(pauses) == 2
    for pause in pauses:
        assert [c.text for _, _, c in pause.cues] == ([said] if said else [])
        for at, ms, _ in pause.cues:
            assert at + ms <= pause.start_ms + pause.ms - 1000  # ends before the next cycle


def test_breathing_for_a_time_counts_the_pauses_in() -> None:
    routine = parse_routine(
        "title: T\nsteps:\n  - pose: Sighs\n    breathe: {pattern: 2-6, for: 36s, pause: 6s}\n"
    )
    breathing = routine.steps[0].breathing
    assert breathing is not None and breathing.cycles == 3  # 3 x 8 s + 2 x 6 s = 36 s


COMPUTED = """\
title: Computed
timing: clock
get_ready: 15s
intro: Welcome. {exercises} exercises, {total} in all. First up, {next} for {next_time}.
steps:
  - block: Circuit
    rounds: 2
    rest: 20s
    steps:
      - pose: Squats
        hold: 30s
        cue: Round {round} of {rounds}. {time} of squats, then {next}.
      - pose: Push-ups
        hold: 45s
outro: That was {total}. Well done.
"""


@pytest.mark.parametrize("level", LEVELS, ids=lambda n: n.value)
def test_computed_values_are_filled_in_from_the_session(level: Narration) -> None:
    from guidecast.lang.i18n import language_for

    lay = planned(parse_routine(COMPUTED), narration=level)
    said = _texts(lay)
    total = language_for("en").spoken_time(lay.total_ms)
    assert f"{total[:1].upper()}{total[1:]}" not in said  # said inside its sentence
    assert f"Two exercises, {total} in all." in said
    assert "First up, Squats for thirty seconds." in said
    assert "Round one of two." in said and "Round two of two." in said
    assert "Thirty seconds of squats, then Push-ups." in said  # a capital at the start
    assert f"That was {total}." in said
    assert not [t for t in said if "{" in t or "}" in t]


def test_an_unknown_computed_value_is_a_located_error() -> None:
    with pytest.raises(RoutineError) as e:
        parse_routine("title: T\nsteps:\n  - pose: A\n    hold: 5s\n    cue: Go for {totl}.\n")
    [problem] = e.value.problems
    assert (problem.loc.line, problem.loc.col) == (3, 5)
    assert "'{totl}' is not a value guidecast computes" in problem.message
    assert "{total}" in problem.message


def test_every_computed_value_is_documented() -> None:
    from guidecast.routine.placeholders import PLACEHOLDERS

    docs = DOCS.read_text(encoding="utf-8")
    assert all(f"`{{{name}}}`" in docs for name in PLACEHOLDERS)


PHRASED = """\
title: Own words
timing: clock
get_ready: 10s
phrases:
  get_ready: Here we go.
  first: "Up first: {name}."
  next: "Coming up: {name}."
  rest: Shake it out.
  round: Round {n}, {count} in all.
  time_left: "{time} to go!"
  closing: That's a wrap.
steps:
  - block: Circuit
    rounds: 2
    rest: 25s
    steps:
      - pose: Squats
        hold: 40s
        time_left: 20s
      - pose: Secret move
        say_name: false
        cue: Now hop on the spot.
        hold: 30s
"""


@pytest.mark.parametrize("level", LEVELS, ids=lambda n: n.value)
def test_own_words_replace_the_built_in_phrases(level: Narration) -> None:
    said = _texts(planned(parse_routine(PHRASED), narration=level))
    for own in ("Up first: Squats.", "Coming up: Squats.", "Shake it out.",
                "Round two, two in all.", "Twenty seconds to go!", "That's a wrap."):  # fmt: skip
        assert own in said, own
    for ours in ("First: Squats.", "Next: Squats.", "Rest.", "Round two of two.",
                 "Twenty seconds left.", "Well done, that is the end of the workout."):  # fmt: skip
        assert ours not in said, ours


@pytest.mark.parametrize("level", LEVELS, ids=lambda n: n.value)
def test_a_step_whose_name_is_not_said_keeps_its_chapter(level: Narration) -> None:
    lay = planned(parse_routine(PHRASED), narration=level)
    assert not [t for t in _texts(lay) if "Secret" in t]
    assert "Now hop on the spot." in _texts(lay)
    assert "Secret move (round 1)" in [c.title for c in lay.chapters]


def test_a_paced_step_whose_name_is_not_said() -> None:
    routine = parse_routine(
        "title: T\nsteps:\n  - pose: Body scan\n    say_name: false\n"
        "    cue: Let your eyes close.\n    hold: 1m\n  - pose: Rest\n    hold: 30s\n"
    )
    for level in LEVELS:
        said = _texts(planned(routine, narration=level))
        assert "Body scan." not in said and "Let your eyes close." in said
        assert "Rest." in said


@pytest.mark.parametrize(
    ("entry", "where", "message"),
    [
        ("  nxt: Hi.\n", (3, 3), "unknown phrase 'nxt'; did you mean 'next'?"),
        ('  next: "Then {nme}."\n', (3, 9), "phrase 'next' has '{nme}'; it may use {name}"),
        ("  rest: Rest {now}.\n", (3, 9), "phrase 'rest' has '{now}'; it may use no {...}"),
    ],
)
def test_phrase_mistakes_are_located(entry: str, where: tuple[int, int], message: str) -> None:
    with pytest.raises(RoutineError) as e:
        parse_routine(f"title: T\nphrases:\n{entry}steps:\n  - pose: A\n    hold: 5s\n")
    [problem] = e.value.problems
    assert (problem.loc.line, problem.loc.col) == where
    assert message in problem.message


def test_every_phrase_name_is_documented() -> None:
    from guidecast.lang.messages import PHRASES

    docs = DOCS.read_text(encoding="utf-8")
    assert all(f"`{name}`" in docs for name in PHRASES)


CLOCK_SOUNDS = """\
title: Sounds on the clock
timing: clock
sounds: {start: none, transition: none, end: none}
steps:
  - pose: Squats
    hold: 20s
    reps: 2
    rest: 10s
    sound: chime
  - pose: Plank
    hold: 20s
    sound: none
  - pose: Lunges
    hold: 20s
"""


@pytest.mark.parametrize("level", LEVELS, ids=lambda n: n.value)
def test_a_steps_sound_starts_each_of_its_periods_on_the_clock(level: Narration) -> None:
    from guidecast.compiler.timeline import Sound

    lay = planned(parse_routine(CLOCK_SOUNDS), narration=level)
    tones = [(i.start_ms, i.event.sound.name) for i in lay.items if isinstance(i.event, Sound)]
    assert tones[:-1] == [(0, "chime"), (20_000, "rest"), (30_000, "chime"), (70_000, "go")]
    assert periods_end(lay) == 90_000  # every period keeps its length
    assert tones[-1][1] == "finish" and tones[-1][0] > 90_000  # after the closing


@pytest.mark.parametrize(
    ("sound", "message"),
    [("bowl", "'bowl' lasts 6s: too long to start a period of 5s"),
     ("bells/ding.wav", "on the clock a step's sound starts each of its periods")],
)  # fmt: skip
def test_a_sound_a_clock_period_cannot_hold_is_a_located_error(
    tmp_path: Path, sound: str, message: str
) -> None:
    (tmp_path / "bells").mkdir()
    sounds = Path(__file__).resolve().parents[1] / "src" / "guidecast" / "data" / "sounds"
    shutil.copy(sounds / "chime.wav", tmp_path / "bells" / "ding.wav")
    text = f"title: T\ntiming: clock\nsteps:\n  - pose: A\n    hold: 5s\n    sound: {sound}\n"
    with pytest.raises(RoutineError) as e:
        parse_routine(text, "s.yaml", tmp_path)
    [problem] = e.value.problems
    assert (problem.loc.line, problem.loc.col) == (6, 12)
    assert message in problem.message


PINNED = """\
title: Pinned
timing: clock
intro: A short workout, with a cool-down on the half minute.
steps:
  - section: Work
    steps:
      - pose: Squats
        hold: 1m
      - pose: Plank
        hold: 1m
  - section: Cool-down
    at: AT
    steps:
      - pose: Walk
        hold: 1m
"""


@pytest.mark.parametrize("level", LEVELS, ids=lambda n: n.value)
def test_a_section_pinned_to_a_time_starts_exactly_then(level: Narration) -> None:
    lay = planned(parse_routine(PINNED.replace("AT", "3m30s")), narration=level)
    [walk] = [c for c in lay.chapters if c.title == "Cool-down: Walk"]
    assert walk.start_ms == 210_000
    said = [t for s, _, t in said_in_order(lay) if 120_000 < s < 210_000]
    assert not {"Three.", "Two.", "One."} & set(said)  # no countdown into the quiet
    assert not crowded_cues(parse_routine(PINNED.replace("AT", "3m30s")))


def test_a_section_pinned_before_the_steps_before_it_end_is_a_located_error(
    tmp_path: Path,
) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(PINNED.replace("AT", "1m30s"), encoding="utf-8")
    result = CliRunner().invoke(cli, ["check", str(path)])
    assert result.exit_code == 2
    assert f"{path}:14:9: section 'Cool-down' is pinned to start at 1:30, but" in result.output


def _gaps(lay: Layout, step: int) -> list[int]:
    """The quiet between two sentences said in a row, in step `step`."""
    from guidecast.compiler.timeline import Silence, Speak

    items = lay.items
    return [
        b.ms
        for a, b, c in zip(items, items[1:], items[2:], strict=False)
        if isinstance(a.event, Speak) and isinstance(c.event, Speak)
        and isinstance(b.event, Silence) and a.event.step == step == c.event.step
    ]  # fmt: skip


@pytest.mark.parametrize("level", LEVELS, ids=lambda n: n.value)
def test_a_slower_section_leaves_more_quiet_between_what_is_said(level: Narration) -> None:
    routine = parse_routine((Path(__file__).parents[1] / "tests/cases/pace.yaml").read_text())
    lay = planned(routine, narration=level)
    assert set(_gaps(lay, 0)) <= {700, 1200} and _gaps(lay, 0)
    assert set(_gaps(lay, 1)) <= {round(700 / 0.6), round(1200 / 0.6)} and _gaps(lay, 1)
    assert set(_gaps(lay, 2)) <= {round(700 / 1.25), round(1200 / 1.25)}  # its own pace
    assert [s.pace for s in routine.steps] == [None, 0.6, 1.25, 0.6]


def test_the_yoga_nidra_slows_down_section_by_section() -> None:
    routine = parse_routine((Path(__file__).parents[1] / "examples/yoga-nidra.yaml").read_text())
    assert [s.pace for s in routine.steps] == [None, None, 0.8, 0.8, 0.8, 0.6, 0.6]
    lay = planned(routine)
    assert abs(lay.total_ms - 12 * 60_000) < 5000
    assert min(_gaps(lay, 6)) > min(_gaps(lay, 2)) > min(_gaps(lay, 0))


@pytest.mark.parametrize("level", LEVELS, ids=lambda n: n.value)
def test_unequal_phases_give_each_cue_its_own_length(level: Narration) -> None:
    from guidecast.compiler.timeline import Silence

    routine = parse_routine(
        "title: T\nsteps:\n  - pose: Calf Raises\n    flow:\n      breaths: 6\n"
        "      quiet: false\n      phases: [2s, 1200ms]\n      cues: [Up., Down.]\n"
    )
    lay = planned(routine, narration=level)
    phases = [i for i in lay.items if isinstance(i.event, Silence) and i.event.kind == "breath"]
    assert [i.ms for i in phases] == [2000, 1200] * 6
    assert [c.text for i in phases for _, _, c in i.cues] == ["Up.", "Down."] * 6


@pytest.mark.parametrize(
    ("flow", "message"),
    [
        ("phases: [2s, 1s, 1s]", "'phases' needs one length per cue: 2 like 'cues', found 3"),
        ("phases: [2s, 400ms]", "a phase lasts at least 500ms"),
        ("phases: [2s, 1s]\n      breath: 3s", "give 'breath' or 'phases', not both"),
    ],
)
def test_phase_mistakes_are_located(flow: str, message: str) -> None:
    with pytest.raises(RoutineError) as e:
        parse_routine(
            "title: T\nsteps:\n  - pose: A\n    flow:\n      breaths: 4\n      cues: [Up., Down.]\n"
            f"      {flow}\n"
        )
    [problem] = e.value.problems
    assert problem.loc.line == 7 and message in problem.message


def test_the_sun_salutation_flows_with_unequal_phases() -> None:
    routine = parse_routine(
        (Path(__file__).parents[1] / "examples/sun-salutation.yaml").read_text(), "s.yaml"
    )
    flow = routine.steps[0].flow
    assert flow is not None and flow.phases_ms == (4000, 3000, 4000, 3000, 4000, 3000)
    for level in LEVELS:
        lay = planned(routine, narration=level)
        from guidecast.compiler.timeline import Silence

        phases = [
            i.ms for i in lay.items if isinstance(i.event, Silence) and i.event.kind == "breath"
        ]
        assert phases == [4000, 3000] * 12  # every cue fits its phase
    assert not crowded_cues(routine)


def test_a_warning_in_a_block_is_given_once_for_all_its_rounds() -> None:
    problems = crowded_cues(parse_routine(WARNED))
    assert len(problems) == len({(p.loc, p.message) for p in problems}) == 3
