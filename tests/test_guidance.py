"""Listening standards on the laid-out sessions: time to move, pace, guidance in long holds,
flows with room to breathe, free movement, no sentence twice in a row, and pronunciation.

Checked on the seed routines with the planning estimate (no audio), and on small routines.
"""

from __future__ import annotations

import itertools
import re
from pathlib import Path

import pytest

from guidecast.cli import main
from guidecast.compiler.fit import compile_routine, crowded_cues, length_bounds
from guidecast.compiler.narrate import BIG_SETTLE_MS, ITEM_GAP_MS, SENTENCE_GAP_MS
from guidecast.compiler.options import Options
from guidecast.compiler.timeline import GUIDE_GAP_MS, Layout, Silence, Speak, layout
from guidecast.errors import RoutineError
from guidecast.lang.i18n import language_for
from guidecast.lang.messages import WORDINGS
from guidecast.lang.speech import Estimate
from guidecast.model import Narration, Routine
from guidecast.routine.keys import SETTLE_MS, SWITCH_SETTLE_MS
from guidecast.routine.load import load_routine, parse_routine
from guidecast.routine.pronounce import Lexicon, builtin_lexicon, phoneme_symbols
from guidecast.sound.render import Voice
from guidecast.tts import ClipCache, FakeEngine
from render_fixtures import planned, said_in_order

ROOT = Path(__file__).resolve().parents[1]
ROUTINES = sorted((ROOT / "routines").glob("*.yaml"))
LEVELS = list(Narration)


@pytest.fixture(params=ROUTINES, ids=lambda p: p.stem)
def routine(request: pytest.FixtureRequest) -> Routine:
    return load_routine(request.param)


_lay = planned
_said_in_order = said_in_order


def _hold_items(lay: Layout, kind: str = "hold") -> list[int]:
    return [
        k for k, i in enumerate(lay.items) if isinstance(i.event, Silence) and i.event.kind == kind
    ]


# -- time to move -----------------------------------------------------------------------------


@pytest.mark.parametrize("level", LEVELS, ids=lambda n: n.value)
def test_every_hold_is_entered_after_a_settle_time(routine: Routine, level: Narration) -> None:
    lay = _lay(routine, narration=level)
    for k in _hold_items(lay):
        before = lay.items[k - 1]
        assert isinstance(before.event, Silence) and before.event.kind == "settle"
        assert before.ms >= 3000
        assert lay.items[k].start_ms == before.start_ms + before.ms


def test_settle_times_follow_step_then_defaults_then_guidecast(tmp_path: Path) -> None:
    routine = parse_routine(
        "title: T\ndefaults: {settle: 7s}\nsteps:\n"
        "  - pose: A\n    hold: 20s\n    sides: true\n"
        "  - pose: B\n    hold: 20s\n    settle: 12s\n    switch_settle: 6s\n    sides: true\n",
        "t.yaml",
    )
    lay = _lay(routine)
    settles = [lay.items[k - 1].ms for k in _hold_items(lay)]
    assert settles == [7000, SWITCH_SETTLE_MS, 12000, 6000]
    assert SETTLE_MS >= 4000 and SWITCH_SETTLE_MS >= 3000


def test_big_transitions_get_more_time_by_default() -> None:
    routine = parse_routine(
        "title: T\nsteps:\n  - pose: Mountain\n    cue: Stand tall.\n    hold: 20s\n"
        "  - pose: Sphinx\n    how: Lie on your belly and prop yourself on your forearms.\n"
        "    hold: 20s\n"
        "  - pose: Child\n    how: Come onto your hands and knees.\n    hold: 20s\n"
        "    settle: 6s\n",
        "t.yaml",
    )
    lay = _lay(routine)
    assert [lay.items[k - 1].ms for k in _hold_items(lay)] == [SETTLE_MS, BIG_SETTLE_MS, 6000]


def test_length_fitting_never_eats_the_settle_time(routine: Routine) -> None:
    estimate = Estimate(1.0)
    bounds = length_bounds(routine, Options(), estimate)
    for target in (bounds.shortest_ms, bounds.longest_ms):
        opts = Options(length_ms=target)
        lay = layout(compile_routine(routine, opts, estimate), estimate)
        settles = [
            i.ms for i in lay.items if isinstance(i.event, Silence) and i.event.kind == "settle"
        ]
        baseline = [
            i.ms
            for i in _lay(routine).items
            if isinstance(i.event, Silence) and i.event.kind == "settle"
        ]
        assert settles == baseline


# -- pace -------------------------------------------------------------------------------------


@pytest.mark.parametrize("level", LEVELS, ids=lambda n: n.value)
def test_sentences_have_room_between_them(routine: Routine, level: Narration) -> None:
    items = _lay(routine, narration=level).items
    for before, gap, after in zip(items, items[1:], items[2:], strict=False):
        if isinstance(before.event, Speak) and isinstance(after.event, Speak):
            assert isinstance(gap.event, Silence) and gap.ms >= 600, (before.event, after.event)
    for before, after in itertools.pairwise(items):
        assert not (isinstance(before.event, Speak) and isinstance(after.event, Speak))
    assert ITEM_GAP_MS > SENTENCE_GAP_MS >= 600


# -- guidance in holds ------------------------------------------------------------------------


def test_every_long_hold_is_guided_at_standard(routine: Routine) -> None:
    lay = _lay(routine, narration=Narration.STANDARD)
    endings = set(WORDINGS["ending"])
    checked = 0
    for k in _hold_items(lay):
        item = lay.items[k]
        if item.ms < 60_000:
            continue
        texts = [c.text for _, _, c in item.cues]
        assert texts, f"a {item.ms} ms hold with nothing said"
        assert any(t in endings for t in texts), texts
        last_start, last_ms, _ = item.cues[-1]
        assert last_start + last_ms <= item.start_ms + item.ms - GUIDE_GAP_MS
        checked += 1
    midpoints = [s.hold.mid_ms for s in routine.steps if s.hold and not s.move]
    assert checked >= sum(1 for ms in midpoints if ms >= 60_000)


def test_guidance_says_how_long_and_comes_out_gently() -> None:
    routine = parse_routine(
        "title: T\nsounds: {start: none, transition: chime, end: none}\nsteps:\n"
        "  - pose: Sphinx\n    hold: 2m\n  - pose: Child\n    hold: 2m30s\n"
        "  - pose: Rest\n    hold: 1m\n",
        "t.yaml",
    )
    said = [t for _, _, t in _said_in_order(_lay(routine))]
    assert "Stay here for two minutes." in said
    assert "Rest in this shape for two and a half minutes." in said
    assert said.count("Slowly and gently, come out of the pose.") == 1
    halfway = [t for t in said if t in WORDINGS["halfway"]]
    assert len(halfway) == 2 and halfway[0] != halfway[1]
    release = [t for t in said if t in WORDINGS["release"]]
    assert len(release) == 3 and len(set(release)) == 3


@pytest.mark.parametrize(
    ("ms", "said"),
    [
        (30_000, "thirty seconds"),
        (45_000, "forty-five seconds"),
        (60_000, "one minute"),
        (67_000, "about a minute"),
        (90_000, "a minute and a half"),
        (125_000, "about two minutes"),
        (300_000, "five minutes"),
        (400_000, "about six and a half minutes"),
    ],
)
def test_spoken_time(ms: int, said: str) -> None:
    assert language_for("en").spoken_time(ms) == said


def test_a_routine_turns_guidance_off_or_says_its_own() -> None:
    routine = parse_routine(
        "title: T\ndefaults:\n  guidance: {halfway: false}\nsteps:\n"
        "  - pose: A\n    hold: 3m\n    guidance:\n      length: Rest here for {time}, or less.\n"
        "      release: Roll onto your right side.\n"
        "  - pose: B\n    hold: 3m\n    guidance: {ending: false, length: false}\n",
        "t.yaml",
    )
    said = [t for _, _, t in _said_in_order(_lay(routine, narration=Narration.FULL))]
    assert not [t for t in said if t in WORDINGS["halfway"]]
    assert "Rest here for three minutes, or less." in said
    assert "Roll onto your right side." in said
    assert len([t for t in said if t in WORDINGS["ending"]]) == 1
    assert not [t for t in said if t.startswith(("Stay here for", "Rest in this shape for"))][1:]


def test_guidance_never_collides_with_a_countdown_or_breath_cues(routine: Routine) -> None:
    lay = _lay(routine, narration=Narration.FULL, countdown_ms=5000, breath_cues=True)
    for item in lay.items:
        spans = sorted((s, s + ms) for s, ms, _ in item.cues)
        for (_, end), (start, _) in itertools.pairwise(spans):
            assert start >= end, "cues overlap"
        if item.cues:
            assert spans[-1][1] <= item.start_ms + item.ms


@pytest.mark.parametrize("level", LEVELS, ids=lambda n: n.value)
@pytest.mark.parametrize(
    "extras", [{}, {"countdown_ms": 5000, "breath_cues": True}], ids=["plain", "cues"]
)
def test_no_sentence_is_said_twice_in_a_row(
    routine: Routine, level: Narration, extras: dict[str, object]
) -> None:
    said = [t for _, _, t in _said_in_order(_lay(routine, narration=level, **extras))]
    for before, after in itertools.pairwise(said):
        assert before != after or re.fullmatch(r"[A-Z][a-z-]+\.", before), before


def test_reminders_never_repeat_the_cue() -> None:
    routine = parse_routine(
        "title: T\nsteps:\n  - pose: A\n    cue: Soften your jaw.\n    hold: 3m\n"
        "    reminders: [Soften your jaw., Breathe into your back.]\n",
        "t.yaml",
    )
    said = [t for _, _, t in _said_in_order(_lay(routine, narration=Narration.FULL))]
    assert said.count("Soften your jaw.") == 1
    assert "Breathe into your back." in said


def test_side_and_repetition_lines_are_one_sentence() -> None:
    routine = parse_routine(
        "title: T\nsteps:\n  - pose: Lunge\n    hold: 10s\n    reps: 2\n    sides: true\n", "t.yaml"
    )
    said = [t for _, _, t in _said_in_order(_lay(routine))]
    assert "Begin on the right side, the first of two repetitions." in said
    assert "Repetition one of two." not in said


def test_props_are_not_announced_again_for_the_next_step() -> None:
    routine = parse_routine(
        "title: T\nsteps:\n  - pose: A\n    hold: 10s\n    props: a clear wall\n"
        "  - pose: B\n    hold: 10s\n    props: a clear wall\n",
        "t.yaml",
    )
    said = [t for _, _, t in _said_in_order(_lay(routine))]
    assert said.count("For this pose, use a clear wall.") == 1


# -- flows and free movement ------------------------------------------------------------------


def test_long_flows_leave_room_to_breathe(routine: Routine) -> None:
    for level in LEVELS:
        lay = _lay(routine, narration=level)
        for index, step in enumerate(routine.steps):
            if step.flow is None or step.flow.breaths < 4:
                continue
            phases = [
                i for i in lay.items
                if isinstance(i.event, Silence) and i.event.kind == "breath"
                and i.event.step == index
            ]  # fmt: skip
            quiet = sum(i.ms for i in phases if not i.cues)
            assert quiet >= 0.4 * sum(i.ms for i in phases), (step.pose, level)
            first = [c.text for i in phases[: len(step.flow.cues)] for _, _, c in i.cues]
            assert first == list(step.flow.cues), "the first round is fully cued"


def test_a_free_movement_step_invites_and_then_leaves_room() -> None:
    routine = parse_routine(
        "title: T\nsteps:\n  - pose: Free Movement\n    cue: Move however feels good.\n"
        "    move: 1-2m\n",
        "t.yaml",
    )
    lay = _lay(routine)
    [move] = [i for i in lay.items if isinstance(i.event, Silence) and i.event.kind == "move"]
    assert move.ms == 90_000
    texts = [c.text for _, _, c in move.cues]
    assert len(texts) == 1 and texts[0] in WORDINGS["move_ending"]
    # How long it lasts is part of the invitation: its second sentence, a sentence's pause
    # after it, and the movement starts as it ends.
    said = _said_in_order(lay)
    [k] = [k for k, (_, _, t) in enumerate(said) if t == "Move however feels good."]
    assert said[k + 1][2] in {p.format(time="a minute and a half") for p in WORDINGS["move_length"]}
    assert said[k + 1][0] - said[k][1] == SENTENCE_GAP_MS
    assert said[k + 1][1] == move.start_ms


def test_move_is_refused_with_reps_or_beside_a_hold() -> None:
    with pytest.raises(RoutineError) as e:
        parse_routine(
            "title: T\nsteps:\n  - pose: A\n    move: 1m\n    hold: 1m\n    reps: 2\n", "t.yaml"
        )
    text = str(e.value)
    assert "t.yaml:4:11: step 1 has both 'hold' and 'move'; keep one" in text
    assert "t.yaml:6:11: 'reps' applies to holds, not to free movement" in text


# -- check warns about cues with no room ------------------------------------------------------


CROWDED = (
    "title: T\nsteps:\n  - pose: Lizard\n    hold: 20s\n    guidance:\n      length: >-\n"
    "        Stay right here in this low lunge with your back knee down and your hands inside\n"
    "        your front foot for {time}, letting the hips sink a little more with each breath\n"
    "        that you take, and if the front knee or the back knee complains at all, ease the\n"
    "        hips back a little, place a folded blanket under the knee, and let the breath be\n"
    "        slow, soft and easy, so that the whole body can rest in the shape for a while.\n"
)


def test_a_cue_with_no_room_is_a_located_warning(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "crowded.yaml"
    path.write_text(CROWDED, encoding="utf-8")
    [problem] = crowded_cues(load_routine(path))
    assert str(problem.loc) == f"{path}:3:5"
    assert "warning: step 1 (Lizard): no room for “Stay right here" in problem.message
    with pytest.raises(SystemExit) as done:
        main_args(["check", str(path)])
    assert done.value.code == 0
    out = capsys.readouterr().out
    assert f"{path}:3:5: warning: step 1 (Lizard)" in out


def main_args(args: list[str]) -> None:
    import sys

    sys.argv = ["guidecast", *args]
    main()


# -- pronunciation ----------------------------------------------------------------------------


def test_builtin_lexicon_covers_common_names_with_known_phonemes() -> None:
    entries = builtin_lexicon()
    words = {e.word.lower() for e in entries}
    assert len(entries) >= 40
    assert {"savasana", "sukhasana", "namaste", "adho", "mukha", "svanasana"} <= words
    known = phoneme_symbols()
    assert known is not None
    for entry in entries:
        assert entry.phonemes, entry.word
        assert set(entry.phonemes) - {" "} <= known, entry.word
        assert "ˈ" in entry.phonemes, f"{entry.word} has no primary stress"


def test_seed_routines_sanskrit_names_are_all_in_the_lexicon(routine: Routine) -> None:
    words = {e.word.lower() for e in builtin_lexicon()}
    for step in routine.steps:
        for word in re.findall(r"[^\W\d_]+", step.sanskrit or ""):
            assert word.lower() in words, word


def test_spoken_text_keeps_punctuation_and_splits_compounds() -> None:
    lexicon = Lexicon()
    said = lexicon.spoken("Rest in Savasana, and breathe.", phonemes=True)
    assert re.fullmatch(r"Rest in \[\[[^\]]+,\]\] and breathe\.", said), said
    compound = lexicon.spoken("Marjaryasana-Bitilasana.", phonemes=True)
    assert compound.count("[[") == 1 and " " in compound.strip("[].") and compound.endswith(".]]")
    assert lexicon.spoken("Savasana.", phonemes=False) == "Savasana."


def test_a_routine_pronounce_map_reaches_the_voice_and_not_the_transcript(tmp_path: Path) -> None:
    routine = parse_routine(
        "title: T\npronounce: {Gomukhasana: go-moo-KAH-suh-nuh}\nsteps:\n"
        "  - pose: Gomukhasana\n    hold: 10s\n",
        "t.yaml",
    )
    engine = FakeEngine()
    voice = Voice(engine, ClipCache(tmp_path), rate=1.0, sample_rate=22050).for_routine(routine)
    voice.clip("Gomukhasana.")
    assert engine.calls == ["go-moo-KAH-suh-nuh."]
    assert "Gomukhasana." in compile_routine(routine).texts()


@pytest.mark.parametrize(
    ("entry", "where", "message"),
    [
        ("Om: '[[ˈoʊm§]]'", (2, 17), "unknown phoneme '§' (U+00A7) for 'Om'"),
        ("Adho Mukha: ah-doh", (2, 13), "'Adho Mukha' is not one word"),
        ("Om: '[[ ]]'", (2, 17), "no phonemes inside [[ ]] for 'Om'"),
    ],
)
def test_a_bad_pronounce_entry_is_located(entry: str, where: tuple[int, int], message: str) -> None:
    with pytest.raises(RoutineError) as e:
        parse_routine(
            f"title: T\npronounce: {{{entry}}}\nsteps:\n  - pose: A\n    hold: 1m\n", "t.yaml"
        )
    [problem] = e.value.problems
    assert (problem.loc.line, problem.loc.col) == where
    assert message in problem.message


def test_say_previews_the_spoken_form_and_writes_a_wav(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from guidecast.cli import cli

    routine = tmp_path / "r.yaml"
    routine.write_text(
        "title: T\npronounce: {Gomukhasana: go-moo-KAH-suh-nuh}\n"
        "steps:\n  - pose: A\n    hold: 1m\n",
        encoding="utf-8",
    )
    out = tmp_path / "say.wav"
    args = ["say", "Sit in Gomukhasana.", "--engine", "fake", "--routine", str(routine)]
    result = CliRunner().invoke(cli, [*args, "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "voice reads: Sit in go-moo-KAH-suh-nuh." in result.output
    import wave

    with wave.open(str(out)) as w:
        assert w.getnframes() > 0 and w.getnchannels() == 1
    refused = CliRunner().invoke(cli, [*args, "--phonemes", "-o", str(out)])
    assert refused.exit_code == 2 and "Piper voices only" in refused.output


DOCS_STEP = """\
title: T
steps:
  - pose: Child's Pose
    sanskrit: Balasana
    cue: Sink your hips toward your heels.
    how: [Kneel and bring your big toes together., Fold forward and rest your forehead down.]
    why: It gently lengthens your back.
    hold: 2m
"""


@pytest.mark.parametrize(
    ("level", "adds"),
    [
        (Narration.BRIEF, []),
        (
            Narration.STANDARD,
            ["Kneel and bring your big toes together.", "You are halfway through this one."],
        ),
        (Narration.FULL, ["In Sanskrit, Balasana.", "It gently lengthens your back."]),
    ],
    ids=lambda v: v.value if isinstance(v, Narration) else "",
)
def test_the_documented_example_says_what_docs_routines_md_says(
    level: Narration, adds: list[str]
) -> None:
    said = [
        t for _, _, t in _said_in_order(_lay(parse_routine(DOCS_STEP, "t.yaml"), narration=level))
    ]
    for text in [
        "Child's Pose.",
        "Sink your hips toward your heels.",
        "Stay here for two minutes.",
        "Take a few last breaths here.",
        "Slowly and gently, come out of the pose.",
        *adds,
    ]:
        assert text in said, (level, text, said)
    if level is Narration.BRIEF:
        assert "Kneel and bring your big toes together." not in said
        assert not [t for t in said if t in WORDINGS["halfway"]]
    docs = (ROOT / "docs" / "routines.md").read_text(encoding="utf-8")
    assert all(text in docs for text in adds)
    lay = _lay(parse_routine(DOCS_STEP, "t.yaml"), narration=level)
    settles = [i.ms for i in lay.items if isinstance(i.event, Silence) and i.event.kind == "settle"]
    assert settles == [BIG_SETTLE_MS] and "*10 s to settle" in docs
