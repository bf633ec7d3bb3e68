"""The routine language beyond poses: blocks and rounds, clock timing, rests and announcements,
breathwork, meditation steps; the examples' totals are pinned to what their sources imply."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from guidecast.cli import cli
from guidecast.compiler.fit import compile_routine, crowded_cues
from guidecast.compiler.options import resolve_options
from guidecast.compiler.timeline import Layout, Silence, Speak
from guidecast.errors import RoutineError
from guidecast.model import Narration
from guidecast.routine.load import load_routine, parse_routine
from render_fixtures import periods_end, planned, said_in_order

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"


_lay = planned


def _said(lay: Layout) -> list[tuple[int, str]]:
    return [(start, text) for start, _, text in said_in_order(lay)]


@pytest.mark.parametrize("level", list(Narration), ids=lambda n: n.value)
@pytest.mark.parametrize(
    ("name", "total_ms"),
    [
        ("tabata", 10_000 + 8 * (20_000 + 10_000)),
        ("circuit", 10_000 + 4 * (4 * 30_000 + 3 * 10_000) + 3 * 60_000),
        ("couch-to-5k-week-1", 30 * 60_000),
    ],
)
def test_clock_timed_examples_last_exactly_what_their_sources_say(
    name: str, total_ms: int, level: Narration
) -> None:
    routine = load_routine(EXAMPLES / f"{name}.yaml")
    lay = _lay(routine, narration=level)
    assert periods_end(lay) == total_ms  # then the closing, when the last period is work
    assert total_ms <= lay.total_ms <= total_ms + 10_000
    assert not crowded_cues(routine)


def test_the_body_scan_fits_ten_minutes_to_the_second() -> None:
    lay = _lay(load_routine(EXAMPLES / "body-scan.yaml"))
    assert abs(lay.total_ms - 10 * 60_000) < 1000


def test_box_breathing_is_exact_to_the_clock() -> None:
    lay = _lay(load_routine(EXAMPLES / "box-breathing.yaml"))
    phases = [i for i in lay.items if isinstance(i.event, Silence) and i.event.kind == "breathe"]
    assert [i.ms for i in phases] == [4000] * 32
    assert phases[-1].start_ms + 4000 - phases[0].start_ms == 8 * 16_000
    counts = [c.text for _, _, c in phases[0].cues]
    assert counts == ["In.", "Two.", "Three.", "Four."]
    assert next(c.text for _, _, c in phases[8].cues) == "In."  # shorter after two cycles


def test_the_couch_to_5k_says_halfway_at_fifteen_minutes() -> None:
    said = _said(_lay(load_routine(EXAMPLES / "couch-to-5k-week-1.yaml")))
    [(at, _)] = [(at, t) for at, t in said if t.startswith("You are halfway")]
    assert 15 * 60_000 <= at <= 15 * 60_000 + 10_000  # after the period's own instructions


def test_blocks_announce_rounds_and_what_comes_next() -> None:
    lay = _lay(load_routine(EXAMPLES / "circuit.yaml"))
    texts = [t for _, t in _said(lay)]
    # Round one is opened by the get-ready's "First: Squats.", each next round by its rest.
    assert [t for t in texts if t.startswith("Round ")] == [
        "Round two of four.", "Round three of four.", "Round four of four."
    ]  # fmt: skip
    assert texts.index("First: Squats.") < texts.index("Round two of four.")
    assert texts.count("Next: Push-ups.") == 4
    assert texts.count("Next: Squats.") == 3  # before each next round
    titles = [c.title for c in lay.chapters]
    assert titles[:3] == ["Get ready", "Squats (round 1)", "Push-ups (round 1)"]
    assert "Rest" in titles and "Plank (round 4)" in titles


def test_a_clock_period_too_short_for_its_speech_is_a_located_error(tmp_path: Path) -> None:
    path = tmp_path / "short.yaml"
    path.write_text(
        "title: T\ntiming: clock\nsteps:\n  - pose: Mountain Climbers\n    hold: 5s\n"
        "    cue: Drive your knees toward your chest, one after the other, as fast as you can.\n",
        encoding="utf-8",
    )
    problems = crowded_cues(load_routine(path))
    assert problems and all(str(p.loc) == f"{path}:4:5" for p in problems)
    assert "period is too short to say" in problems[0].message
    result = CliRunner().invoke(cli, ["check", str(path)])
    assert result.exit_code == 2
    assert f"{path}:4:5: step 1 (Mountain Climbers): its 5s period is too short" in result.output


@pytest.mark.parametrize(
    ("entry", "where", "message"),
    [
        ("  - block: B\n    steps: []\n", (6, 12), "'steps' is empty"),
        (
            "  - block: B\n    rounds: 0\n    steps: [{pose: A, hold: 1m}]\n",
            (6, 13),
            "out of range",
        ),
        ("  - pose: A\n    breathe: {pattern: 4-0-8}\n", (6, 24), "1 to 30 seconds"),
        ("  - pose: A\n    breathe: {pattern: 4-7-8-4-4}\n", (6, 24), "2 to 4 whole seconds"),
        (
            "  - block: B\n    timing: sometimes\n    steps: [{pose: A, hold: 1m}]\n",
            (6, 13),
            "timing",
        ),
        ("  - pause: 0s\n", (5, 12), "zero"),
        ("  - pose: A\n    hold: 1m\n    side_rest: 5s\n", (7, 16), "'side_rest' needs 'sides'"),
    ],
)
def test_malformed_constructs_are_located_errors(
    entry: str, where: tuple[int, int], message: str
) -> None:
    source = "title: T\nsteps:\n  - pose: Start\n    hold: 1m\n" + entry
    with pytest.raises(RoutineError) as e:
        parse_routine(source, "r.yaml")
    found = [(p.loc.line, p.loc.col, p.message) for p in e.value.problems]
    assert any((line, col) == where and message in text for line, col, text in found), found


def test_blocks_nest_at_most_three_deep() -> None:
    inner = "{pose: A, hold: 10s}"
    for _ in range(4):
        inner = f"{{block: B, rounds: 2, steps: [{inner}]}}"
    with pytest.raises(RoutineError, match="blocks nest at most 3 deep"):
        parse_routine(f"title: T\nsteps: [{inner}]\n", "r.yaml")
    nested = parse_routine(
        f"title: T\nsteps: [{inner[len('{block: B, rounds: 2, steps: [') : -2]}]\n", "r.yaml"
    )
    assert len(nested.steps) == 8  # 2 x 2 x 2 rounds of one step


def test_meditation_titles_are_chapters_but_never_spoken() -> None:
    lay = _lay(load_routine(ROOT / "tests" / "cases" / "meditation.yaml"))
    said = [t for _, t in _said(lay)]
    assert "Arriving." not in said and "Silence." not in said
    assert [c.title for c in lay.chapters] == ["Start", "Arriving", "Silence", "Returning"]


def test_per_side_text_and_rest_between_sides() -> None:
    routine = parse_routine(
        "title: T\nsteps:\n  - pose: Lunge\n    hold: 20s\n    sides: true\n    side_rest: 8s\n"
        "    side_cues: {right: Right foot forward., left: Left foot forward.}\n",
        "r.yaml",
    )
    lay = _lay(routine)
    texts = [t for _, t in _said(lay)]
    assert texts.index("Right foot forward.") < texts.index("Left foot forward.")
    rests = [i.ms for i in lay.items if isinstance(i.event, Silence) and i.event.kind == "rest"]
    assert rests == [8000]


def test_check_warns_about_a_sentence_split_at_a_comma(tmp_path: Path) -> None:
    path = tmp_path / "comma.yaml"
    path.write_text(
        "title: T\nsteps:\n  - pose: Heel\n"
        "    flow: {breaths: 2, cues: [Left heel down, hold five., Right heel down.]}\n",
        encoding="utf-8",
    )
    [warning] = load_routine(path).warnings
    assert str(warning.loc) == f"{path}:4:47"
    assert "'hold five.' looks like the end of the sentence before it" in warning.message
    result = CliRunner().invoke(cli, ["check", str(path)])
    assert result.exit_code == 0 and f"{path}:4:47: warning: 'hold five.'" in result.output
    quoted = "    flow: {breaths: 2, cues: ['Left heel down, hold five.', Right heel down.]}\n"
    path.write_text("title: T\nsteps:\n  - pose: Heel\n" + quoted, encoding="utf-8")
    assert not load_routine(path).warnings


def test_a_spanish_session_says_every_added_phrase_in_spanish() -> None:
    from guidecast.lang.messages import MESSAGES

    routine = load_routine(EXAMPLES / "espalda-suave.yaml")
    for level in Narration:
        lay = _lay(routine, narration=level)
        said = {t for _, t in _said(lay)}
        english = {m for m in MESSAGES if "{" not in m and m.endswith(".")}
        assert not said & english, said & english
        assert not [t for t in said if " side" in t or "Repetition" in t]
        titles = [c.title for c in lay.chapters]
        assert "Introducción" in titles and "Torsión tumbada (lado izquierdo)" in titles
    texts = compile_routine(routine, resolve_options(routine)).texts()
    assert "Primera repetición de tres." in texts and "Tres." in texts


def test_the_builtin_lexicon_is_for_english_voices_only(tmp_path: Path) -> None:
    from guidecast.sound.render import Voice
    from guidecast.tts import ClipCache, FakeEngine

    engine = FakeEngine()
    engine.phonemes = True
    voice = Voice(engine, ClipCache(tmp_path), rate=1.0, sample_rate=22050)
    spanish = parse_routine("title: T\nlanguage: es\nsteps:\n  - pose: A\n    hold: 1m\n", "r.yaml")
    assert voice.for_routine(spanish).spoken("Savasana.") == "Savasana."
    assert voice.spoken("Savasana.").startswith("[[")


def test_an_unknown_language_is_an_error_and_one_without_phrases_a_warning() -> None:
    with pytest.raises(RoutineError, match=r"r\.yaml:2:11: unknown language"):
        parse_routine(
            "title: T\nlanguage: xx-nope-q\nsteps:\n  - pose: A\n    hold: 1m\n", "r.yaml"
        )
    routine = parse_routine("title: T\nlanguage: no\nsteps:\n  - pose: A\n    hold: 1m\n", "r.yaml")
    [warning] = routine.warnings
    assert "said in English" in warning.message
    assert "Stay here for one minute." in compile_routine(routine).texts()


def test_sections_group_chapters_in_the_id3_table_and_stay_flat_for_simple_players(
    tmp_path: Path,
) -> None:
    from mutagen.id3 import ID3

    from render_fixtures import export_to, fake_voice, ffmetadata, render_routine

    routine = load_routine(ROOT / "tests" / "cases" / "sections.yaml")
    voice = fake_voice(tmp_path / "cache")
    rendered = render_routine(routine, voice)
    mp3 = export_to(tmp_path / "out", routine, rendered, voice).files.mp3

    titles = [c.title for c in ffmetadata(mp3).chapters]  # a reader that ignores CTOC frames
    assert titles == [
        "Start", "Warm-up: Cat-Cow", "Child's Pose", "Main: Lunge (round 1)", "Lunge (round 2)",
        "Savasana",
    ]  # fmt: skip
    tags = ID3(mp3)
    tocs = {frame.element_id: frame for frame in tags.getall("CTOC")}
    # Every chapter for flat readers, then the section tables for nested ones.
    assert tocs["toc"].child_element_ids == [f"chp{i}" for i in range(6)] + ["sec0", "sec1"]
    sections = [
        (str(tocs[k].sub_frames["TIT2"]), tocs[k].child_element_ids) for k in ("sec0", "sec1")
    ]
    assert sections == [("Warm-up", ["chp1", "chp2"]), ("Main", ["chp3", "chp4"])]
    assert all(not (tocs[k].flags & 2) for k in ("sec0", "sec1")), "only one top-level table"


def test_sections_do_not_nest() -> None:
    source = (
        "title: T\nsteps:\n  - section: A\n    steps:\n      - section: B\n"
        "        steps: [{pose: P, hold: 1m}]\n"
    )
    with pytest.raises(RoutineError, match="sections do not nest"):
        parse_routine(source, "r.yaml")


def test_breathing_with_tones_says_nothing_and_stays_exact(tmp_path: Path) -> None:
    from guidecast.compiler.timeline import Sound
    from render_fixtures import fake_voice, render_routine

    source = (
        "title: T\nsteps:\n  - pose: Box\n"
        "    breathe: {pattern: 4-4-4-4, cycles: 3, count: tones}\n"
    )
    routine = parse_routine(source, "r.yaml")
    lay = render_routine(routine, fake_voice(tmp_path / "cache")).layout  # real sound lengths
    breath_tones = ("rise", "steady", "fall")
    played = [
        (i.start_ms, i.event.sound.name)
        for i in lay.items
        if isinstance(i.event, Sound) and i.event.sound.name in breath_tones
    ]
    start = played[0][0]
    # every phase exactly 4 s; a rising tone to breathe in, falling out, steady to hold
    assert [at for at, _ in played] == [start + k * 4000 for k in range(12)]
    assert [name for _, name in played] == ["rise", "steady", "fall", "steady"] * 3
    breathing = [i for i in lay.items if start <= i.start_ms < start + 48_000]
    assert not [i for i in breathing if isinstance(i.event, Speak) or i.cues]
    with pytest.raises(RoutineError, match="count is true"):
        parse_routine(source.replace("tones", "beeps"), "r.yaml")
