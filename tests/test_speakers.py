"""Rate, voice and language per step, block or section: each sentence carries who says it and
how fast from the compiler to the speech engine, the cache, the layout and the plan."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from guidecast.compiler.fit import compile_routine
from guidecast.compiler.options import resolve_options
from guidecast.compiler.timeline import Layout, Speak, layout
from guidecast.errors import RoutineError
from guidecast.lang.said import heard, said
from guidecast.lang.speech import Estimate
from guidecast.model import Narration, Speaker
from guidecast.routine.load import parse_routine
from guidecast.sound.mix import Mix
from guidecast.sound.render import AudioFormat, Voice, render
from guidecast.tts import Clip, ClipCache, Engine, FakeEngine
from render_fixtures import planned, run_main, write_routine

LEVELS = list(Narration)
FMT = AudioFormat(sample_rate=22050)


class Recording(FakeEngine):
    """The fake voice, remembering the rate each sentence was asked for at."""

    def __init__(self, voice: str | None = None, language: str | None = None) -> None:
        super().__init__(voice, language)
        self.asked: list[tuple[str, float]] = []

    def synthesize(self, text: str, *, rate: float) -> Clip:
        self.asked.append((text, rate))
        return super().synthesize(text, rate=rate)


class Engines:
    """An `Engines` that keeps every engine it made, by (voice, language)."""

    def __init__(self) -> None:
        self.made: dict[tuple[str | None, str], Recording] = {}

    def __call__(self, voice: str | None, language: str) -> Engine:
        return self.made.setdefault((voice, language), Recording(voice, language))


def _render(text: str, tmp_path: Path, *, rate: float = 1.0, **options: object) -> tuple[
    Recording, Engines, Voice, Layout
]:  # fmt: skip
    routine = parse_routine(text)
    engine, engines = Recording(), Engines()
    voice = Voice(
        engine, ClipCache(tmp_path / "cache"), rate=rate, sample_rate=FMT.sample_rate,
        engines=engines, language=routine.language,
    )  # fmt: skip
    opts = resolve_options(routine, rate=rate, **options)  # type: ignore[arg-type]
    done = render(routine, opts, voice=voice.for_routine(routine), fmt=FMT, mix=Mix())
    return engine, engines, voice, done.layout


def _spoken(lay: Layout) -> list[tuple[str, Speaker | None, int]]:
    """(text, speaker, length) of each sentence said, sentences and cues alike."""
    out = [(i.event.text, i.event.speaker, i.ms) for i in lay.items if isinstance(i.event, Speak)]
    return out + [(c.text, c.speaker, ms) for i in lay.items for _, ms, c in i.cues]


RATES = """\
title: Rates
sounds: {start: none, transition: none, end: none}
steps:
  - pose: Mountain
    cue: Breathe here.
    hold: 10s
  - section: Closing
    rate: 0.8
    steps:
      - pose: Fold
        cue: Breathe here.
        hold: 10s
"""


def test_a_sentence_key_keeps_its_speaker_and_a_plain_one_is_its_text() -> None:
    slow = Speaker(0.8, "amy", "es")
    assert heard(said("Hola.", slow)) == (slow, "Hola.")
    assert said("Hola.", None) == said("Hola.", Speaker()) == "Hola."
    assert said("Hola.", Speaker(1.0)) == "Hola."  # the session's own rate
    assert heard("Hola.") == (Speaker(), "Hola.")
    assert said("Hola.", Speaker(0.8)) != said("Hola.", Speaker(0.9))
    assert heard("\x1fnot a header\x1fHola.") == (Speaker(), "\x1fnot a header\x1fHola.")


def test_a_sections_rate_reaches_the_engine_the_cache_and_the_length(tmp_path: Path) -> None:
    engine, _, voice, lay = _render(RATES, tmp_path, rate=1.25)
    # The same text at two rates is two clips, each asked for at its own rate.
    assert ("Breathe here.", 1.25) in engine.asked
    assert ("Breathe here.", 1.0) in engine.asked  # 1.25 x 0.8
    slow = said("Breathe here.", Speaker(0.8))
    assert voice.clip_key(slow) == ClipCache.key("fake:tone", 1.0, "Breathe here.")
    assert voice.clip_key("Breathe here.") == ClipCache.key("fake:tone", 1.25, "Breathe here.")
    for key in (slow, "Breathe here."):
        assert voice.cache.path(voice.clip_key(key)).is_file()
    # Laid out with the real clips: the slow one lasts 1.25 times as long.
    lengths = {s: ms for text, s, ms in _spoken(lay) if text == "Breathe here."}
    assert lengths == {None: 560, Speaker(0.8): 700}  # the fake's 700 ms at rates 1.25 and 1


@pytest.mark.parametrize("level", LEVELS, ids=lambda n: n.value)
def test_the_plan_counts_each_sentence_at_its_own_rate(level: Narration) -> None:
    lay = planned(parse_routine(RATES), narration=level, rate=1.25)
    lengths = {s: ms for text, s, ms in _spoken(lay) if text == "Breathe here."}
    assert lengths[None] == Estimate(1.25).speech_ms("Breathe here.")
    assert lengths[Speaker(0.8)] == Estimate(1.0).speech_ms("Breathe here.")
    faster = planned(parse_routine(RATES.replace("rate: 0.8", "rate: 1.6")), narration=level)
    assert faster.total_ms < planned(parse_routine(RATES), narration=level).total_ms


def test_the_fit_counts_the_slower_sentences() -> None:
    """At a fixed length, a slower closing leaves less time for the ranged hold before it."""
    text = RATES.replace("hold: 10s\n  - section", "hold: 10s-2m\n  - section")
    holds = []
    for rate in ("1.0", "0.5"):
        routine = parse_routine(text.replace("rate: 0.8", f"rate: {rate}"))
        opts = resolve_options(routine, length_ms=90_000)
        timeline = compile_routine(routine, opts, Estimate())
        assert abs(layout(timeline, Estimate()).total_ms - 90_000) < 1000
        holds.append(timeline.holds_ms[0])
    assert holds[1] < holds[0]


VOICES = """\
title: Two Voices
sounds: {start: none, transition: none, end: none}
steps:
  - pose: Mountain
    cue: Stand tall.
    hold: 10s
  - block: Twists
    voice: amy
    rounds: 2
    rest: 5s
    steps:
      - pose: Twist
        cue: Turn from the belly.
        hold: 10s
"""


def test_two_voices_in_one_session_each_say_their_own_sentences(tmp_path: Path) -> None:
    engine, engines, voice, lay = _render(VOICES, tmp_path)
    amy = engines.made[("amy", "en")]
    assert set(engines.made) == {("amy", "en")}
    assert "Turn from the belly." in amy.calls and "Rest." in amy.calls  # its rest too
    assert "Turn from the belly." not in engine.calls
    assert "Stand tall." in engine.calls and "Stand tall." not in amy.calls
    assert not set(amy.calls) & set(engine.calls)
    key = said("Turn from the belly.", Speaker(voice="amy"))
    assert voice.clip_key(key) == ClipCache.key("fake:amy", 1.0, "Turn from the belly.")
    assert {s for text, s, _ in _spoken(lay) if text == "Twist."} == {Speaker(voice="amy")}


SPANISH = """\
title: Closing in Spanish
sounds: {start: none, transition: none, end: none}
steps:
  - pose: Pigeon
    cue: Let your hips sink.
    hold: 1m
    sides: [right, left]
  - pose: Paloma
    language: es
    cue: Deja que las caderas se hundan.
    hold: 1m
    sides: [right, left]
"""


@pytest.mark.parametrize("level", LEVELS, ids=lambda n: n.value)
def test_a_spanish_step_in_an_english_routine_says_its_phrases_in_spanish(
    level: Narration,
) -> None:
    said_by = _spoken(planned(parse_routine(SPANISH), narration=level))
    english = [t for t, s, _ in said_by if s is None]
    spanish = [t for t, s, _ in said_by if s == Speaker(language="es")]
    assert "Begin on the right side." in english
    assert "Empieza por el lado derecho." in spanish
    assert "Suelta con suavidad y cambia al lado izquierdo." in spanish
    assert any(re.search(r"\bun minuto\b", t) for t in spanish)  # numbers in Spanish
    assert not any("minute" in t or "side" in t for t in spanish)
    assert not any("lado" in t for t in english)


def test_a_spanish_step_is_said_by_a_voice_of_spanish(tmp_path: Path) -> None:
    engine, engines, _, _ = _render(SPANISH, tmp_path)
    spanish = engines.made[(None, "es")]
    assert "Empieza por el lado derecho." in spanish.calls
    assert "Empieza por el lado derecho." not in engine.calls
    assert "Begin on the right side." in engine.calls
    assert spanish.identity() == "fake:tone:es"


def test_a_steps_language_like_the_routines_is_the_sessions_own() -> None:
    routine = parse_routine(SPANISH.replace("language: es", "language: en"))
    assert all(s is None for _, s, _ in _spoken(planned(routine)))


def test_a_steps_own_choice_wins_over_its_blocks_and_sections() -> None:
    routine = parse_routine(
        "title: T\nsteps:\n  - section: S\n    rate: 0.8\n    voice: amy\n    steps:\n"
        "      - block: B\n        rate: 1.1\n        steps:\n"
        "          - {pose: A, hold: 10s, language: es}\n"
        "          - {pose: C, hold: 10s, rate: 0.9, voice: joe}\n"
    )
    assert [(s.speaker.rate, s.speaker.voice, s.speaker.language) for s in routine.steps] == [
        (1.1, "amy", "es"),
        (0.9, "joe", None),
    ]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("3", "3 is out of range: expected 0.5 to 2.0"),
        ("0.1", "0.1 is out of range: expected 0.5 to 2.0"),
        (".nan", "expected a number, found '.nan'"),
        (".inf", "expected a number, found '.inf'"),
        ("slow", "expected a number, found 'slow'"),
    ],
)
def test_a_bad_rate_is_located(value: str, message: str) -> None:
    with pytest.raises(RoutineError) as e:
        parse_routine(f"title: T\nsteps:\n  - section: S\n    rate: {value}\n    steps:\n"
                      "      - {pose: A, hold: 10s}\n")  # fmt: skip
    assert str(e.value) == f"<routine>:4:11: {message}"


def test_an_unknown_language_is_located() -> None:
    with pytest.raises(RoutineError) as e:
        parse_routine("title: T\nsteps:\n  - pose: A\n    hold: 10s\n    language: xx-nope-\n")
    assert str(e.value).startswith("<routine>:5:15: unknown language 'xx-nope-'")


def test_an_unknown_voice_is_located_with_a_did_you_mean(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_routine(tmp_path, VOICES.replace("voice: amy", "voice: jo"))
    code, _, err = run_main(["render", path, "-o", tmp_path / "out"], monkeypatch, capsys)
    assert code == 2
    assert err.startswith(f"{path}:8:12: unknown Piper voice 'jo'.")
    assert err.rstrip().endswith("; did you mean 'joe'?")
    assert not (tmp_path / "out").exists()


def test_a_language_with_no_voice_offline_says_what_the_routines_would(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Only English is bundled: a Spanish step, like a Spanish routine, needs a voice."""
    whole = write_routine(tmp_path, "title: T\nlanguage: es\nsteps:\n  - {pose: A, hold: 10s}\n",
                          "whole")  # fmt: skip
    part = write_routine(tmp_path, SPANISH, "part")
    out = tmp_path / "out"
    code, _, routine_level = run_main(["render", whole, "-o", out], monkeypatch, capsys)
    assert code == 1
    message = routine_level.strip().removeprefix("error: ")
    assert message.startswith("no Piper voice for language 'es' is installed")
    code, _, step_level = run_main(["render", part, "-o", out], monkeypatch, capsys)
    assert code == 2
    assert step_level.strip() == f"{part}:9:15: {message}"


DOCS = Path(__file__).resolve().parents[1] / "docs" / "routines.md"


def test_the_docs_example_closes_slower_and_in_spanish() -> None:
    text = DOCS.read_text(encoding="utf-8")
    section = text.split("### Rate, voice and language of a part", 1)[1]
    body = re.search(r"^```yaml\n(.*?)^```", section, re.MULTILINE | re.DOTALL)
    assert body is not None
    lay = planned(parse_routine(body.group(1)))
    speakers = {s for _, s, _ in _spoken(lay)}
    assert speakers == {None, Speaker(0.85), Speaker(0.85, None, "es")}
    assert any("minutos" in t for t, s, _ in _spoken(lay) if s == Speaker(0.85, None, "es"))


def test_the_yoga_nidra_returns_at_a_slower_rate() -> None:
    routine = parse_routine((Path(__file__).parents[1] / "examples/yoga-nidra.yaml").read_text())
    assert [s.speaker.rate for s in routine.steps] == [None] * 5 + [0.85, 0.85]
    lay = planned(routine)
    closing = [s for t, s, _ in _spoken(lay) if t.startswith("Become aware of your breath")]
    assert closing == [Speaker(0.85)]
    assert abs(lay.total_ms - 12 * 60_000) < 5000


def test_a_catalog_build_locates_an_unknown_voice_before_any_work(tmp_path: Path) -> None:
    from guidecast.build.plan import plan_catalog
    from guidecast.build.project import load_project

    routine = write_routine(tmp_path / "routines", VOICES.replace("voice: amy", "voice: jo"))
    project = tmp_path / "guidecast.yaml"
    project.write_text("title: C\nroutines: [routines/*.yaml]\n", encoding="utf-8")
    with pytest.raises(RoutineError) as e:
        plan_catalog(load_project(project), cache_dir=tmp_path / "cache")
    assert str(e.value).startswith(f"{routine}:8:12: unknown Piper voice 'jo'.")
    assert not (tmp_path / "cache").exists()


def test_the_plan_shows_who_says_what(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from guidecast.cli import cli

    path = write_routine(
        tmp_path, SPANISH.replace("    language: es", "    language: es\n    rate: 0.9")
    )
    table = CliRunner().invoke(cli, ["plan", str(path)], catch_exceptions=False).output
    assert "“Empieza por el lado derecho.” (rate ×0.9, es)" in table
    assert "“Begin on the right side.”\n" in table
    data = CliRunner().invoke(cli, ["plan", str(path), "--json"], catch_exceptions=False).output
    events = [e for e in json.loads(data)["events"] if e["type"] == "speak"]
    by = {e["text"]: e.get("speaker") for e in events}
    assert by["Empieza por el lado derecho."] == {"rate": 0.9, "language": "es"}
    assert by["Begin on the right side."] is None


def test_the_built_in_lexicon_is_for_english_parts_only(tmp_path: Path) -> None:
    """Its respellings are English phonemes: a Spanish part says the word as written, an
    English part of a Spanish routine gets them."""

    class Phonemes(FakeEngine):
        phonemes = True

    def make(voice: str | None, language: str) -> Engine:
        return Phonemes(voice, language)

    cache = ClipCache(tmp_path)
    english = Voice(Phonemes(), cache, rate=1.0, sample_rate=22050, engines=make)
    assert english.spoken("Savasana.") != "Savasana."
    assert english.spoken(said("Savasana.", Speaker(language="es"))) == "Savasana."
    spanish = english.for_routine(
        parse_routine("title: T\nlanguage: es\nsteps: [{pose: A, hold: 1m}]")
    )
    assert spanish.spoken("Savasana.") == "Savasana."
    assert spanish.spoken(said("Savasana.", Speaker(language="en"))) != "Savasana."


@pytest.mark.parametrize(
    ("language", "said_first"),
    [("en-GB", "Start with the right side now."), ("es", "Empieza por el lado derecho.")],
)
def test_a_routines_own_wordings_are_for_parts_in_its_language(
    language: str, said_first: str
) -> None:
    routine = parse_routine(
        "title: T\nphrases: {begin_side: 'Start with the {side} side now.'}\nsteps:\n"
        f"  - {{pose: A, hold: 1m, sides: [right, left], language: {language}}}\n"
    )
    assert said_first in [t for t, _, _ in _spoken(planned(routine))]


def test_a_catalog_worker_makes_a_parts_voice_once(tmp_path: Path) -> None:
    from guidecast.build.tasks import VoiceSpec

    spec = VoiceSpec("fake", None, "en", 1.0, 22050, str(tmp_path))
    routine = parse_routine(VOICES)
    amy = spec.make(routine).engine_for(Speaker(voice="amy"))
    assert amy.identity() == "fake:amy"
    assert spec.make(routine).engine_for(Speaker(voice="amy")) is amy
    assert spec.make(routine).engine_for(Speaker()) is not amy
