"""The routine loader: every mistake reported at once, each at its line and column.

Like yamllint's tests, each case is inline YAML and the problems expected in it, as
(line, column, a fragment of the message), 1-based as editors show them.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from PIL import Image

from guidecast.errors import Loc, RoutineError
from guidecast.model import Defaults, Flow, Hold, Narration, Routine, SoundRef, Sounds, Step
from guidecast.routine.load import load_routine, parse_routine

ROOT = Path(__file__).resolve().parents[1]
BOWL = ROOT / "assets" / "sounds" / "bowl.wav"

Expected = tuple[int, int, str]

# A valid routine whose only step ends at line 4; tests append the step's remaining keys.
STEP = "title: T\nsteps:\n  - pose: P\n"


def problems(source: str, base: Path | None = None) -> list[Expected]:
    """The (line, col, message) of every problem the loader reports, in its order."""
    try:
        parse_routine(source, "r.yaml", base)
    except RoutineError as e:
        return [(p.loc.line, p.loc.col, p.message) for p in e.problems]
    return []


def check(source: str, *expected: Expected, base: Path | None = None) -> None:
    """Assert the loader reports exactly these problems, at these positions."""
    found = problems(source, base)
    assert [(line, col) for line, col, _ in found] == [(line, col) for line, col, _ in expected], (
        found
    )
    for (_, _, message), (_, _, fragment) in zip(found, expected, strict=True):
        assert fragment in message, found


def load(source: str, base: Path | None = None) -> Routine:
    return parse_routine(source, "r.yaml", base)


# -- YAML syntax ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        (STEP + "   hold: 1m\n", (4, 4, "YAML syntax error")),
        ("title: a: b\nsteps: []\n", (1, 9, "mapping values are not allowed here")),
        ("title: 'T\nsteps: []\n", (3, 1, "found unexpected end of stream")),
        ("title: T\nsteps:\n\t- pose: P\n", (3, 1, "cannot start any token")),
        ("title: [T\nsteps: []\n", (2, 6, "YAML syntax error")),
    ],
)
def test_yaml_syntax_error_is_located(source: str, expected: Expected) -> None:
    check(source, expected)


def test_control_character_is_located() -> None:
    check("title: T\nsteps:\n  - pose: P\x07\n    hold: 1m\n", (3, 12, "U+0007"))


def test_syntax_error_message_is_one_line() -> None:
    ((_, _, message),) = problems("title: 'T\nsteps: []\n")
    assert "\n" not in message


# -- unknown and duplicate keys ---------------------------------------------------------------


def test_unknown_step_key_suggests_the_known_one() -> None:
    check(
        STEP + "    hodl: 3m\n",
        (4, 5, "unknown key 'hodl' in step 1; did you mean 'hold'?"),
    )


def test_unknown_top_level_key_suggests_the_known_one() -> None:
    check(
        "titel: T\nsteps:\n  - pose: P\n    hold: 1m\n",
        (1, 1, "unknown key 'titel' in the routine; did you mean 'title'?"),
    )


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        (
            "title: T\ndefaults: {naration: full}\nsteps:\n  - pose: P\n    hold: 1m\n",
            (2, 12, "did you mean 'narration'?"),
        ),
        (
            "title: T\nsounds: {transit: gong}\nsteps:\n  - pose: P\n    hold: 1m\n",
            (2, 10, "did you mean 'transition'?"),
        ),
        (STEP + "    flow: {breaths: 2, queues: [a]}\n", (4, 24, "did you mean 'cues'?")),
    ],
)
def test_unknown_nested_keys(source: str, expected: Expected) -> None:
    found = problems(source)
    assert (expected[0], expected[1]) in [(line, col) for line, col, _ in found], found
    assert any(expected[2] in message for _, _, message in found), found


def test_unknown_key_without_a_close_match_lists_the_choices() -> None:
    ((line, col, message),) = problems(STEP + "    hold: 1m\n    colour: red\n")
    assert (line, col) == (5, 5)
    assert "unknown key 'colour' in step 1" in message
    assert "expected one of: pose, sanskrit, cue, how" in message


def test_top_level_key_misplaced_in_a_step() -> None:
    check(STEP + "    hold: 1m\n    title: x\n", (5, 5, "unknown key 'title' in step 1"))


def test_duplicate_keys_are_refused() -> None:
    check(
        "title: T\ntitle: U\nsteps:\n  - pose: P\n    hold: 1m\n", (2, 1, "duplicate key 'title'")
    )
    check(STEP + "    hold: 1m\n    pose: Q\n", (5, 5, "duplicate key 'pose' in step 1"))


# -- durations --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ("5x", "'5x' is not a duration"),
        ("five", "is not a duration"),
        ("0", "'0' is zero"),
        ("0s", "'0s' is zero"),
        ("-5s", "'-5s' is negative"),
        ("-5", "'-5' is negative"),
        ("30s1m", "out of order"),
        ("''", "expected a duration, found nothing"),
        ("[1m]", "expected a duration, found a list"),
    ],
)
def test_bad_hold(value: str, fragment: str) -> None:
    check(STEP + f"    hold: {value}\n", (4, 11, fragment))


def test_empty_hold_points_after_the_colon() -> None:
    check(STEP + "    hold:\n", (4, 10, "expected a duration, found nothing"))


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        ("    hold: 1m\n    reps: 2\n    rest: 0s\n", (6, 11, "zero")),
        ("    hold: 1m\n    reps: 2\n    rest: -10s\n", (6, 11, "negative")),
        ("    flow: {breaths: 2, cues: [a], breath: 0}\n", (4, 43, "zero")),
    ],
)
def test_bad_rest_and_breath(lines: str, expected: Expected) -> None:
    check(STEP + lines, expected)


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        ("    hold: 13h\n", (4, 11, "'13h' is longer than 12 hours")),
        ("    hold: 2-13h\n", (4, 11, "longer than 12 hours")),
        ("    hold: 50000\n", (4, 11, "longer than 12 hours")),
        ("    hold: 1m\n    reps: 2\n    rest: 12h1s\n", (6, 11, "longer than 12 hours")),
    ],
)
def test_absurd_duration(lines: str, expected: Expected) -> None:
    check(STEP + lines, expected)


@pytest.mark.parametrize(
    "steps",
    [
        "  - pose: A\n    hold: 5h\n  - pose: B\n    hold: 4h\n    sides: true\n",
        "  - pose: A\n    hold: 30m-1h\n    reps: 10\n    rest: 20m\n",
        "  - pose: A\n    sides: true\n    flow: {breaths: 100, cues: [a], breath: 4m}\n",
    ],
)
def test_session_over_twelve_hours(steps: str) -> None:
    ((line, col, message),) = problems("title: T\nsteps:\n" + steps)
    assert (line, col) == (3, 3)
    assert "guidecast refuses sessions over 12 hours" in message


def test_session_of_exactly_twelve_hours_is_allowed() -> None:
    routine = load(STEP + "    hold: 6h\n    sides: true\n")
    assert routine.steps[0].hold == Hold(6 * 3_600_000, 6 * 3_600_000, Loc("r.yaml", 4, 11))


def test_range_whose_minimum_exceeds_its_maximum() -> None:
    check(STEP + "    hold: 4-2m\n", (4, 11, "range '4-2m' runs backwards: 4m is more than 2m"))
    check(STEP + "    hold: 2m-90s\n", (4, 11, "2m is more than 1m30s"))


def test_range_keeps_the_unit_of_its_second_part() -> None:
    routine = load(STEP + "    hold: 2-4m\n")
    assert routine.steps[0].hold == Hold(120_000, 240_000, Loc("r.yaml", 4, 11))
    assert routine.steps[0].hold.is_range


# -- wrong types ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        (
            "title: [a, b]\nsteps:\n  - pose: P\n    hold: 1m\n",
            (1, 8, "expected text, found a list"),
        ),
        (STEP + "    hold: 1m\n    cue: {a: b}\n", (5, 10, "expected text, found a mapping")),
        (STEP + "    hold: 1m\n    cue: ~\n", (5, 10, "expected text, found nothing")),
        (STEP + "    hold: 1m\n    how: [a, [b]]\n", (5, 10, "expected text, found a list")),
        (STEP + "    hold: 1m\n    how: []\n", (5, 10, "the list is empty")),
        (
            STEP + "    hold: 1m\n    reps: three\n",
            (5, 11, "expected a whole number, found 'three'"),
        ),
        (STEP + "    hold: 1m\n    reps: 2.5\n", (5, 11, "expected a whole number")),
        (STEP + "    hold: 1m\n    reps: 0\n", (5, 11, "0 is out of range: expected 1 to 100")),
        (STEP + "    hold: 1m\n    reps: 101\n", (5, 11, "out of range")),
        (STEP + "    flow: 3\n", (4, 11, "flow must be a mapping")),
        (
            STEP + "    flow: {breaths: many, cues: [a]}\n",
            (4, 21, "expected a whole number, found 'many'"),
        ),
        ("title: T\nsteps:\n  - Child's pose\n", (3, 5, "step 1 must be a mapping")),
        ("title: T\nsteps: {pose: P}\n", (2, 8, "'steps' must be a list of steps")),
        ("title: T\nsteps:\n", (2, 7, "'steps' must be a list of steps")),
        ("[title, steps]\n", (1, 1, "the routine must be a mapping")),
        ("title: T\nyear: '2024'\n" + STEP[9:] + "    hold: 1m\n", (2, 7, "found '2024'")),
        ("title: T\ntrack: 0\n" + STEP[9:] + "    hold: 1m\n", (2, 8, "expected 1 to 9999")),
        ("title: T\nengine: pipr\n" + STEP[9:] + "    hold: 1m\n", (2, 9, "did you mean 'piper'")),
        ("title: T\nsounds: bowl\n" + STEP[9:] + "    hold: 1m\n", (2, 9, "sounds must be a")),
        ("title: T\ndefaults: [a]\n" + STEP[9:] + "    hold: 1m\n", (2, 11, "defaults must be")),
        (
            "title: T\ndefaults: {rate: fast}\n" + STEP[9:] + "    hold: 1m\n",
            (2, 18, "expected a number, found 'fast'"),
        ),
        (
            "title: T\ndefaults: {rate: 3}\n" + STEP[9:] + "    hold: 1m\n",
            (2, 18, "out of range: expected 0.5 to 2.0"),
        ),
        (
            "title: T\ndefaults: {narration: ful}\n" + STEP[9:] + "    hold: 1m\n",
            (2, 23, "unknown narration level 'ful'; did you mean 'full'?"),
        ),
    ],
)
def test_wrong_type(source: str, expected: Expected) -> None:
    check(source, expected)


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ("[left]", "sides must be true or a list of two different sides"),
        ("[left, Left]", "two different sides"),
        ("[a, b, c]", "two different sides"),
        ("left", "two different sides"),
        ("yes", "write true or false, not 'yes'"),
    ],
)
def test_bad_sides(value: str, fragment: str) -> None:
    check(STEP + f"    hold: 1m\n    sides: {value}\n", (5, 12, fragment))


@pytest.mark.parametrize(
    ("value", "sides"),
    [("true", ("right", "left")), ("false", ()), ("[left, right]", ("left", "right"))],
)
def test_sides(value: str, sides: tuple[str, ...]) -> None:
    assert load(STEP + f"    hold: 1m\n    sides: {value}\n").steps[0].sides == sides


# -- empty and missing ------------------------------------------------------------------------


def test_empty_steps() -> None:
    check("title: T\nsteps: []\n", (2, 8, "'steps' is empty: add at least one step"))


def test_missing_title_pose_and_hold() -> None:
    check(
        "description: x\nsteps:\n  - cue: hi\n",
        (1, 1, "the routine is missing 'title'"),
        (3, 5, "step 1 is missing 'pose'"),
        (
            3,
            5,
            "step 1 needs a 'hold' (e.g. hold: 1m), a 'flow', a 'move' (free movement) "
            "or 'breathe' (a breathing pattern)",
        ),
    )


def test_missing_steps() -> None:
    check("title: T\n", (1, 1, "the routine is missing 'steps'"))


def test_step_numbers_count_from_one() -> None:
    check(
        "title: T\nsteps:\n  - pose: A\n    hold: 1m\n  - pose: B\n",
        (5, 5, "step 2 needs a 'hold'"),
    )


@pytest.mark.parametrize("source", ["", "\n", "# only a comment\n"])
def test_empty_file(source: str) -> None:
    check(source, (1, 1, "the file is empty"))


def test_hold_and_flow_together() -> None:
    check(
        STEP + "    hold: 1m\n    flow: {breaths: 2, cues: [a]}\n",
        (5, 11, "step 1 has both 'hold' and 'flow'; keep one"),
    )


def test_rest_without_reps() -> None:
    check(STEP + "    hold: 1m\n    rest: 5s\n", (5, 11, "'rest' only applies between repetitions"))


def test_flow_breath_too_short_for_its_cues() -> None:
    check(
        STEP + "    flow: {breaths: 3, cues: [a, b, c], breath: 2s}\n",
        (4, 49, "a breath this short leaves under 1s for each cue"),
    )


# -- sounds -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ("gongg", "unknown sound 'gongg'; did you mean 'gong'?"),
        ("Bowl", "did you mean 'bowl'?"),
        (
            "trumpet",
            "unknown sound 'trumpet' (expected one of: bowl, chime, gong, woodblock, go, rest, "
            "beeps, finish, rise, fall, steady, none)",
        ),
        ("bells/ding.wav", "sound file 'bells/ding.wav' not found"),
        ("ding.mp3", "sound file 'ding.mp3' not found"),
        ("bells/ding", "must be one of: .wav"),
    ],
)
def test_bad_step_sound(value: str, fragment: str, tmp_path: Path) -> None:
    check(STEP + f"    hold: 1m\n    sound: {value}\n", (5, 12, fragment), base=tmp_path)


def test_missing_sound_file_names_where_it_looked(tmp_path: Path) -> None:
    ((_, _, message),) = problems(STEP + "    hold: 1m\n    sound: ding.wav\n", tmp_path)
    assert str(tmp_path / "ding.wav") in message


def test_bad_routine_sounds_are_each_located() -> None:
    check(
        "title: T\nsounds: {start: Bowl, end: trumpet}\n" + STEP[9:] + "    hold: 1m\n",
        (2, 17, "did you mean 'bowl'?"),
        (2, 28, "unknown sound 'trumpet'"),
    )


def test_sound_file_is_resolved_against_the_routine_folder(tmp_path: Path) -> None:
    (tmp_path / "bells").mkdir()
    shutil.copy(BOWL, tmp_path / "bells" / "ding.wav")
    routine = load(STEP + "    hold: 1m\n    sound: bells/ding.wav\n", tmp_path)
    sound = routine.steps[0].sound
    path = str(tmp_path / "bells" / "ding.wav")
    assert sound == SoundRef("bells/ding.wav", path, Loc("r.yaml", 5, 12))


@pytest.mark.parametrize("value", ["none", "None", "NONE"])
def test_sound_none_is_silence(value: str) -> None:
    sound = load(STEP + f"    hold: 1m\n    sound: {value}\n").steps[0].sound
    assert sound is not None and sound.is_none


# -- YAML 1.1 traps ---------------------------------------------------------------------------


def test_sexagesimal_hold_is_refused_with_the_intended_duration() -> None:
    check(STEP + "    hold: 1:30\n", (4, 11, "'1:30' reads as a YAML 1.1 sexagesimal number"))
    ((_, _, message),) = problems(STEP + "    hold: 1:30\n")
    assert message.endswith("write 1m30s")


def test_sexagesimal_hold_with_hours() -> None:
    ((_, _, message),) = problems(STEP + "    hold: 1:02:03\n")
    assert message.endswith("write 1h02m03s")


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        ("    hold: 1m\n    reps: 1:30\n", (5, 11, "sexagesimal")),
        ("    hold: 1m\n    reps: 2\n    rest: 2:30\n", (6, 11, "write 2m30s")),
    ],
)
def test_sexagesimal_elsewhere(lines: str, expected: Expected) -> None:
    check(STEP + lines, expected)


@pytest.mark.parametrize("value", ["'1:30'", "0:30"])
def test_colon_text_that_yaml_keeps_as_text_is_not_a_duration(value: str) -> None:
    # quoted, or not a YAML 1.1 number (a leading 0): text, refused by the duration grammar
    check(STEP + f"    hold: {value}\n", (4, 11, "is not a duration"))


@pytest.mark.parametrize("word", ["no", "yes", "on", "off", "No", "y", "n", "true", "null!"])
def test_text_keeps_the_word_typed(word: str) -> None:
    assert load(STEP + f"    hold: 1m\n    cue: {word}\n").steps[0].cue == word


def test_language_no_stays_norwegian() -> None:
    routine = load("title: T\nlanguage: no\n" + STEP[9:] + "    hold: 1m\n")
    assert routine.language == "no"


def test_numbers_and_colons_in_text_stay_as_written() -> None:
    routine = load("title: 2024\n" + STEP[9:] + "    hold: 1m\n    cue: 1:30\n    why: 1.50\n")
    assert routine.title == "2024"
    assert routine.steps[0].cue == "1:30"
    assert routine.steps[0].why == "1.50"


@pytest.mark.parametrize("word", ["yes", "no", "on", "off", "Yes"])
def test_breath_cues_refuses_yaml_11_booleans(word: str) -> None:
    check(
        f"title: T\ndefaults:\n  breath_cues: {word}\n" + STEP[9:] + "    hold: 1m\n",
        (3, 16, f"write true or false, not '{word}'"),
    )


def test_breath_cues_refuses_other_words() -> None:
    check(
        "title: T\ndefaults:\n  breath_cues: maybe\n" + STEP[9:] + "    hold: 1m\n",
        (3, 16, "expected true or false, found 'maybe'"),
    )


def test_rate_refuses_sexagesimal() -> None:
    check(
        "title: T\ndefaults: {rate: 1:30}\n" + STEP[9:] + "    hold: 1m\n",
        (2, 18, "expected a number, found '1:30'"),
    )


# -- files ------------------------------------------------------------------------------------


def test_non_utf8_file_points_at_the_bad_byte(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes(b"title: T\nsteps:\n  - pose: Caf\xe9\n    hold: 1m\n")
    with pytest.raises(RoutineError) as info:
        load_routine(path)
    (problem,) = info.value.problems
    assert problem.loc == Loc(str(path), 3, 14)
    assert "not UTF-8" in problem.message and "0xe9" in problem.message


def test_non_utf8_column_counts_characters_not_bytes(tmp_path: Path) -> None:
    path = tmp_path / "mixed.yaml"
    path.write_bytes("title: Über\nsteps:\n  - pose: Ünï ".encode() + b"\xff\n")
    with pytest.raises(RoutineError) as info:
        load_routine(path)
    assert info.value.problems[0].loc == Loc(str(path), 3, 15)


def test_utf8_with_byte_order_mark_loads(tmp_path: Path) -> None:
    path = tmp_path / "bom.yaml"
    path.write_bytes(b"\xef\xbb\xbf" + (STEP + "    hold: 1m\n").encode())
    assert load_routine(path).title == "T"


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nope.yaml"
    with pytest.raises(RoutineError) as info:
        load_routine(path)
    assert str(info.value) == f"{path}:1:1: file not found"


def test_folder_instead_of_a_file(tmp_path: Path) -> None:
    with pytest.raises(RoutineError) as info:
        load_routine(tmp_path)
    assert str(info.value) == f"{tmp_path}:1:1: is a folder, not a routine file"


def test_problems_carry_the_path_as_given(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(STEP + "    hodl: 1m\n", encoding="utf-8")
    with pytest.raises(RoutineError) as info:
        load_routine(path)
    assert str(info.value).splitlines() == [
        f"{path}:4:5: unknown key 'hodl' in step 1; did you mean 'hold'?",
    ]


def test_sound_paths_are_relative_to_the_routine_file(tmp_path: Path) -> None:
    shutil.copy(BOWL, tmp_path / "ding.wav")
    path = tmp_path / "r.yaml"
    path.write_text(STEP + "    hold: 1m\n    sound: ding.wav\n", encoding="utf-8")
    sound = load_routine(path).steps[0].sound
    assert sound is not None and sound.path == str(tmp_path / "ding.wav")


def test_multi_document_file() -> None:
    check(
        STEP + "    hold: 1m\n---\ntitle: U\n",
        (6, 1, "one routine per file: remove the second '---' document"),
    )


def test_leading_document_marker_is_fine() -> None:
    assert load("---\n" + STEP + "    hold: 1m\n").title == "T"


# -- many problems at once --------------------------------------------------------------------


def test_every_problem_is_reported_sorted_by_position() -> None:
    source = (
        "title: [T]\n"  # 1: wrong type
        "defaults:\n"
        "  narration: loud\n"  # 3: unknown level
        "steps:\n"
        "  - pose: A\n"
        "    hold: 4-2m\n"  # 6: backwards range
        "  - pose: B\n"
        "    hodl: 1m\n"  # 8: unknown key (reported once, not also as a missing hold)
        "    sound: gongg\n"  # 9: unknown sound
    )
    found = problems(source)
    assert [(line, col) for line, col, _ in found] == [
        (1, 8),
        (3, 14),
        (6, 11),
        (8, 5),
        (9, 12),
    ]
    assert found == sorted(found)


def test_every_problem_is_found_in_every_step() -> None:
    source = "title: T\nsteps:\n" + "".join(
        f"  - pose: P{i}\n    hold: {i}x\n" for i in range(1, 6)
    )
    assert [line for line, _, _ in problems(source)] == [4, 6, 8, 10, 12]


# -- never a traceback ------------------------------------------------------------------------

ODD_VALUES = ["", "[]", "{}", "no", "1:30", "-1", "~", "0", "'x'", "[a, [b]]", "13h", "{a: 1}"]


def test_odd_values_anywhere_give_located_problems_not_tracebacks() -> None:
    lines = (ROOT / "tests" / "cases" / "all-features.yaml").read_text().splitlines()
    tried = 0
    for i, line in enumerate(lines):
        if ":" not in line or line.lstrip().startswith("#"):
            continue
        key = line.split(":", 1)[0]
        before, after = lines[:i], lines[i + 1 :]
        variants = [[*before, *after], [*before, line, line, *after]]
        variants += [[*before, f"{key}: {odd}", *after] for odd in ODD_VALUES]
        for variant in variants:
            source = "\n".join(variant) + "\n"
            tried += 1
            try:
                load(source, ROOT)
            except RoutineError as e:
                assert e.problems, source
                for p in e.problems:
                    assert p.loc.line >= 1 and p.loc.col >= 1, (source, p)
                    assert p.message and "\n" not in p.message, (source, p)
    assert tried > 200


# -- a full routine ---------------------------------------------------------------------------

FULL = """\
title: Full Routine
description: >-
  Every key,
  folded.
author: A. Teacher
series: Tests
genre: Yoga
year: 2025
track: 7
language: en-GB
cover: cover.png
engine: gtts
voice: en-uk
props: [a block, a strap]
safety: Stop on sharp pain.
sounds:
  start: gong
  transition: none
  end: bells/end.wav
reminders: Keep breathing.
defaults:
  narration: full
  length: 20m
  rate: 0.9
  countdown: 5s
  breath_cues: true
intro: Welcome.
outro: Well done.
steps:
  - pose: Pigeon
    sanskrit: Kapotasana
    cue: Square your hips.
    how:
      - Bring one knee forward.
      - Slide the other leg back.
    why: It opens the hips.
    props: a block
    reminders: [Soften., Stay.]
    hold: 2-4m
    sides: [left, right]
    switch: Other side now.
    sound: woodblock
  - pose: Bridge
    hold: 20s
    reps: 3
    rest: 10s
  - pose: Cat-Cow
    flow:
      breaths: 5
      cues: [Inhale and arch., Exhale and round.]
      breath: 8s
"""


def test_full_featured_routine_loads_into_dataclasses(tmp_path: Path) -> None:
    (tmp_path / "bells").mkdir()
    shutil.copy(BOWL, tmp_path / "bells" / "end.wav")
    Image.new("RGB", (16, 16)).save(tmp_path / "cover.png")
    routine = parse_routine(FULL, "full.yaml", tmp_path)

    def at(line: int, col: int) -> Loc:
        return Loc("full.yaml", line, col)

    assert routine == Routine(
        title="Full Routine",
        path="full.yaml",
        description="Every key, folded.",
        author="A. Teacher",
        series="Tests",
        genre="Yoga",
        year=2025,
        track=7,
        language="en-GB",
        cover=str(tmp_path / "cover.png"),
        engine="gtts",
        voice="en-uk",
        props=("a block", "a strap"),
        safety="Stop on sharp pain.",
        sounds=Sounds(
            start=SoundRef("gong", None, at(17, 10)),
            transition=SoundRef("", None, at(18, 15)),
            end=SoundRef("bells/end.wav", str(tmp_path / "bells" / "end.wav"), at(19, 8)),
        ),
        reminders=("Keep breathing.",),
        defaults=Defaults(
            narration=Narration.FULL,
            length_ms=20 * 60_000,
            rate=0.9,
            countdown_ms=5000,
            breath_cues=True,
        ),
        intro="Welcome.",
        outro="Well done.",
        steps=(
            Step(
                pose="Pigeon",
                loc=at(30, 5),
                sanskrit="Kapotasana",
                cue="Square your hips.",
                how=("Bring one knee forward.", "Slide the other leg back."),
                why="It opens the hips.",
                props=("a block",),
                reminders=("Soften.", "Stay."),
                hold=Hold(120_000, 240_000, at(39, 11)),
                sides=("left", "right"),
                switch="Other side now.",
                sound=SoundRef("woodblock", None, at(42, 12)),
                number=1,
            ),
            Step(
                pose="Bridge",
                loc=at(43, 5),
                hold=Hold(20_000, 20_000, at(44, 11)),
                reps=3,
                rest_ms=10_000,
                number=2,
            ),
            Step(
                pose="Cat-Cow",
                loc=at(47, 5),
                flow=Flow(5, ("Inhale and arch.", "Exhale and round."), 8000, at(49, 7)),
                number=3,
            ),
        ),
    )


def test_minimal_routine_gets_the_documented_defaults() -> None:
    routine = load(STEP + "    hold: 90\n")
    assert routine.author == "guidecast"
    assert routine.genre == "Health & Fitness"
    assert routine.language == "en"
    assert routine.defaults == Defaults()
    assert (routine.sounds.start, routine.sounds.transition, routine.sounds.end) == (
        SoundRef("bowl", None, Loc("r.yaml")),
        SoundRef("chime", None, Loc("r.yaml")),
        SoundRef("bowl", None, Loc("r.yaml")),
    )
    (step,) = routine.steps
    assert step.hold == Hold(90_000, 90_000, Loc("r.yaml", 4, 11))
    assert (step.reps, step.rest_ms, step.sides, step.flow) == (1, 0, (), None)


def test_flow_breath_defaults_to_six_seconds() -> None:
    flow = load(STEP + "    flow: {breaths: 4, cues: Breathe.}\n").steps[0].flow
    assert flow == Flow(4, ("Breathe.",), 6000, Loc("r.yaml", 4, 11))


def test_countdown_zero_means_off() -> None:
    routine = load("title: T\ndefaults: {countdown: 0}\n" + STEP[9:] + "    hold: 1m\n")
    assert routine.defaults.countdown_ms == 0


@pytest.mark.parametrize("path", sorted((ROOT / "routines").glob("*.yaml")), ids=lambda p: p.name)
def test_seed_routines_load(path: Path) -> None:
    routine = load_routine(path)
    assert routine.title and routine.steps and routine.safety
    assert all(step.loc.path == str(path) for step in routine.steps)


def test_a_range_starting_at_zero_names_its_shortest_hold() -> None:
    check(STEP + "    hold: 0-2m\n", (4, 11, "the shortest hold in '0-2m' is zero"))


def test_reps_on_a_flow_is_refused_rather_than_ignored() -> None:
    check(
        STEP + "    flow: {breaths: 3, cues: [In., Out.]}\n    reps: 2\n",
        (5, 11, "'reps' applies to holds; a flow sets 'breaths' instead"),
    )


def test_a_misspelt_required_key_is_reported_once() -> None:
    check("title: T\nstesp:\n  - pose: P\n    hold: 1m\n", (2, 1, "did you mean 'steps'?"))


@pytest.mark.parametrize(("value", "ok"), [("5s", True), ("1m", True), ("0", True), ("61s", False)])
def test_countdown_is_at_most_a_minute(value: str, ok: bool) -> None:
    source = f"title: T\ndefaults:\n  countdown: {value}\nsteps:\n  - pose: P\n    hold: 1m\n"
    if ok:
        check(source)
    else:
        check(source, (3, 14, "too long: at most 60s"))
