"""The language layer: catalogs complete and in step, and each language said as a native would."""

from __future__ import annotations

import fnmatch
import gettext
import os
import string
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from guidecast.errors import GuidecastError
from guidecast.lang.i18n import (
    Language,
    LanguageError,
    catalog_languages,
    id3_language,
    known_language,
    language_for,
    language_problem,
)
from guidecast.lang.messages import MESSAGES, WORDINGS

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "guidecast"
LOCALE = PACKAGE / "locale"
TRANSLATED = ("es", "de", "fr")
SAMPLE = {"time": "T", "side": "S", "items": "I", "name": "N", "pose": "P", "n": 3, "count": 5}


def _po(code: str) -> Catalog:
    with (LOCALE / code / "LC_MESSAGES" / "guidecast.po").open("rb") as f:
        return read_po(f)


def _fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name is not None}


# The catalogs: complete, in step with the source, compiled, shipped.


def test_languages_are_english_and_every_catalog() -> None:
    assert catalog_languages() == ("de", "en", "es", "fr")


def test_message_ids_are_unique() -> None:
    assert len(MESSAGES) == len(set(MESSAGES))


def test_the_template_holds_every_message_marked_in_the_source() -> None:
    extracted = {
        msgid
        for _, _, msgid, _, _ in extract_from_dir(
            str(PACKAGE), keywords={"N_": None}, comment_tags=("TRANSLATORS:",)
        )
    }
    assert extracted == set(MESSAGES)
    with (LOCALE / "guidecast.pot").open("rb") as f:
        template = {m.id for m in read_po(f) if m.id}
    assert template == set(MESSAGES), "run scripts/catalogs.sh"


@pytest.mark.parametrize("code", TRANSLATED)
def test_every_message_is_translated_with_the_same_fields(code: str) -> None:
    catalog = _po(code)
    entries = {m.id: m for m in catalog if m.id}
    assert set(entries) == set(MESSAGES), "run scripts/catalogs.sh"
    for msgid in MESSAGES:
        entry = entries[msgid]
        assert entry.string, f"{code}: {msgid!r} is not translated"
        assert not entry.fuzzy, f"{code}: {msgid!r} is fuzzy"
        assert _fields(str(entry.string)) == _fields(msgid), f"{code}: {msgid!r}"


@pytest.mark.parametrize("code", TRANSLATED)
def test_every_translation_fills_in(code: str) -> None:
    lang = language_for(code)
    for msgid in MESSAGES:
        said = lang.say(msgid, **{k: v for k, v in SAMPLE.items() if k in _fields(msgid)})
        assert "{" not in said and "}" not in said, said


@pytest.mark.parametrize("code", TRANSLATED)
def test_compiled_catalogs_match_their_po_files(code: str) -> None:
    with (LOCALE / code / "LC_MESSAGES" / "guidecast.mo").open("rb") as f:
        compiled = gettext.GNUTranslations(f)
    source = {m.id: m.string for m in _po(code) if m.id and m.string and not m.fuzzy}
    compiled_now = {msgid: compiled.gettext(msgid) for msgid in source}
    assert compiled_now == source, "run scripts/catalogs.sh (pybabel compile)"


def test_the_package_data_ships_every_compiled_catalog() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    patterns = config["tool"]["setuptools"]["package-data"]["guidecast"]
    for code in TRANSLATED:
        name = f"locale/{code}/LC_MESSAGES/guidecast.mo"
        assert any(fnmatch.fnmatch(name, p) for p in patterns), name


@pytest.mark.slow
def test_catalogs_load_from_a_built_wheel(tmp_path: Path) -> None:
    """Build the wheel and import guidecast from it, zipped: the catalogs come along."""
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(tmp_path), str(ROOT)],
        check=True,
        capture_output=True,
    )
    (wheel,) = tmp_path.glob("guidecast-*.whl")
    code = (
        "import guidecast.lang.i18n as i; "
        "assert '.whl' in i.__file__, i.__file__; "
        "print(i.language_for('de').say('Breathe in.'), i.catalog_languages())"
    )
    env = {**os.environ, "PYTHONPATH": str(wheel)}
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=tmp_path, capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "Einatmen. ('de', 'en', 'es', 'fr')"


# English: exactly what guidecast says today.

EN = language_for("en")


def test_english_says_the_message_id_itself() -> None:
    for msgid in MESSAGES:
        if not _fields(msgid):
            assert EN.say(msgid) == msgid


def test_english_fills_fields_as_before() -> None:
    first = "Begin on the {side} side, the first of {count} repetitions."
    assert EN.say(first, side=EN.side("right"), count=3) == (
        "Begin on the right side, the first of three repetitions."
    )
    assert EN.say("Repetition {n} of {count}.", n=2, count=12) == "Repetition two of twelve."
    assert EN.say("Props for this session: {items}.", items=EN.join(["a mat", "a block"])) == (
        "Props for this session: a mat and a block."
    )
    assert EN.say("{time} left.", time=EN.spoken_time(60_000)) == "One minute left."
    assert EN.chapter_title("Pigeon", side="right") == "Pigeon (right side)"
    assert EN.chapter_title("Pigeon", side="left", round_no=2) == "Pigeon (round 2, left side)"
    assert EN.chapter_title("Pigeon") == "Pigeon"
    assert EN.countdown(5) == "Five."
    assert EN.side("Right") == "Right"  # a routine's own spelling stays


def test_english_numbers_and_lists_are_as_before() -> None:
    assert [EN.number(n) for n in (0, 7, 21, 100, 105, 999)] == [
        "zero", "seven", "twenty-one", "one hundred", "one hundred and five",
        "nine hundred and ninety-nine",
    ]  # fmt: skip
    assert EN.join([]) == ""
    assert EN.join(["a"]) == "a"
    assert EN.join(["a", "b"]) == "a and b"
    assert EN.join(("a", "b", "c")) == "a, b and c"


def test_english_wordings_are_the_message_ids() -> None:
    assert all(EN.wordings(moment) == bank for moment, bank in WORDINGS.items())


@pytest.mark.parametrize(
    ("ms", "said"),
    [
        (2000, "five seconds"),
        (45_000, "forty-five seconds"),
        (45_900, "forty-five seconds"),
        (53_000, "about fifty-five seconds"),
        (19_000, "about twenty seconds"),
        (59_000, "about a minute"),
        (60_000, "one minute"),
        (70_000, "about a minute"),
        (90_000, "a minute and a half"),
        (100_000, "about a minute and a half"),
        (120_000, "two minutes"),
        (150_000, "two and a half minutes"),
        (160_000, "about two and a half minutes"),
    ],
)
def test_english_times(ms: int, said: str) -> None:
    assert EN.spoken_time(ms) == said


def test_a_phrase_outside_the_catalog_is_refused() -> None:
    with pytest.raises(ValueError, match=r"messages\.py"):
        EN.say("Not a message.")


# Spanish, German, French: numbers, lists, times, sides, phrases.

ES, DE, FR = language_for("es"), language_for("de"), language_for("fr")


@pytest.mark.parametrize(
    ("lang", "numbers"),
    [
        (ES, ["uno", "dos", "dieciséis", "veintiuno", "cuarenta y cinco", "cien"]),
        (DE, ["eins", "zwei", "sechzehn", "einundzwanzig", "fünfundvierzig", "einhundert"]),
        (FR, ["un", "deux", "seize", "vingt et un", "quarante-cinq", "cent"]),
    ],
)
def test_numbers(lang: Language, numbers: list[str]) -> None:
    assert [lang.number(n) for n in (1, 2, 16, 21, 45, 100)] == numbers


def test_numbers_agree_with_the_noun_after_them() -> None:
    assert ES.number(21, "m") == "veintiún"  # veintiún minutos
    assert ES.number(31, "m") == "treinta y un"
    assert ES.number(21, "f") == "veintiuna"  # veintiuna repeticiones
    assert ES.number(200, "f") == "doscientas"
    assert FR.number(21, "f") == "vingt et une"  # vingt et une minutes
    assert FR.number(1, "f") == "une"
    assert DE.number(1, "f") == "eine"
    assert [ES.ordinal(2, "f"), DE.ordinal(2), FR.ordinal(1, "f"), FR.ordinal(1)] == [
        "segunda", "zweite", "première", "premier",
    ]  # fmt: skip
    assert ES.ordinal(1, "m") == "primer"


def test_countdowns() -> None:
    assert [ES.countdown(n) for n in (3, 2, 1)] == ["Tres.", "Dos.", "Uno."]
    assert [DE.countdown(n) for n in (3, 2, 1)] == ["Drei.", "Zwei.", "Eins."]
    assert [FR.countdown(n) for n in (3, 2, 1)] == ["Trois.", "Deux.", "Un."]


def test_lists() -> None:
    assert ES.join(["una manta", "un bloque", "una correa"]) == "una manta, un bloque y una correa"
    assert DE.join(["eine Decke", "ein Block", "ein Gurt"]) == "eine Decke, ein Block und ein Gurt"
    assert FR.join(["une couverture", "un bloc", "une sangle"]) == (
        "une couverture, un bloc et une sangle"
    )
    assert ES.join(["aguja", "hilo"]) == "aguja e hilo"  # "y" before an /i/ sound
    assert ES.join(["agua", "hielo"]) == "agua y hielo"  # ... but not before a diphthong
    assert ES.join(["una manta"]) == "una manta"


@pytest.mark.parametrize(
    ("lang", "times"),
    [
        (ES, ["cuarenta y cinco segundos", "un minuto", "más o menos un minuto",
              "un minuto y medio", "dos minutos", "unos dos minutos y medio",
              "veintiún minutos"]),
        (DE, ["fünfundvierzig Sekunden", "eine Minute", "etwa eine Minute",
              "eineinhalb Minuten", "zwei Minuten", "etwa zweieinhalb Minuten",
              "einundzwanzig Minuten"]),
        (FR, ["quarante-cinq secondes", "une minute", "environ une minute",
              "une minute et demie", "deux minutes", "environ deux minutes et demie",
              "vingt et une minutes"]),
    ],
)  # fmt: skip
def test_times(lang: Language, times: list[str]) -> None:
    lengths = (45_000, 60_000, 70_000, 90_000, 120_000, 160_000, 21 * 60_000)
    assert [lang.spoken_time(ms) for ms in lengths] == times


def test_about_two_minutes() -> None:
    ms = 125_000
    assert EN.spoken_time(ms) == "about two minutes"
    assert ES.spoken_time(ms) == "unos dos minutos"
    assert DE.spoken_time(ms) == "etwa zwei Minuten"
    assert FR.spoken_time(ms) == "environ deux minutes"


@pytest.mark.parametrize(
    ("lang", "begin", "switch", "title"),
    [
        (ES, "Empieza por el lado derecho.", "Suelta con suavidad y cambia al lado izquierdo.",
         "Paloma (ronda 2, lado izquierdo)"),
        (DE, "Beginne rechts.", "Komm sanft heraus und wechsle nach links.",
         "Paloma (Runde 2, links)"),
        (FR, "Commence du côté droit.", "Relâche doucement et passe du côté gauche.",
         "Paloma (tour 2, côté gauche)"),
    ],
)  # fmt: skip
def test_sides(lang: Language, begin: str, switch: str, title: str) -> None:
    assert lang.say("Begin on the {side} side.", side=lang.side("right")) == begin
    assert lang.say("Gently release, and switch to the {side} side.", side=lang.side("left")) == (
        switch
    )
    assert lang.chapter_title("Paloma", side="left", round_no=2) == title


def test_phrases_with_numbers() -> None:
    first = "Begin on the {side} side, the first of {count} repetitions."
    assert ES.say(first, side=ES.side("right"), count=3) == (
        "Empieza por el lado derecho: es la primera de tres repeticiones."
    )
    assert ES.say("Repetition {n} of {count}.", n=2, count=21) == (
        "Segunda repetición de veintiuna."
    )
    assert DE.say("Repetition {n} of {count}.", n=2, count=3) == "Wiederholung zwei von drei."
    assert FR.say("Repetition {n} of {count}.", n=1, count=3) == "Première répétition sur trois."
    assert FR.say("Round {n} of {count}.", n=1, count=8) == "Premier tour sur huit."
    assert ES.say("{time} left.", time=ES.spoken_time(60_000)) == "Un minuto más."
    assert DE.say("{time} left.", time=DE.spoken_time(30_000)) == "Noch dreißig Sekunden."
    assert FR.say("{time} left.", time=FR.spoken_time(60_000)) == "Encore une minute."


def test_chapter_titles() -> None:
    assert [lang.say("Introduction") for lang in (ES, DE, FR)] == [
        "Introducción", "Einleitung", "Introduction",
    ]  # fmt: skip
    assert [lang.say("Closing") for lang in (ES, DE, FR)] == [
        "Cierre",
        "Abschluss",
        "Fin de séance",
    ]


@pytest.mark.parametrize("code", TRANSLATED)
def test_each_moment_has_several_different_wordings(code: str) -> None:
    lang = language_for(code)
    for moment in WORDINGS:
        wordings = lang.wordings(moment)
        assert len(wordings) >= 2, (code, moment)
        assert all(w != msgid for w, msgid in zip(wordings, WORDINGS[moment], strict=False))


# Language tags: known or not, normalised, ISO 639-2 for ID3.


@pytest.mark.parametrize(
    ("tag", "code"),
    [("en", "en"), ("es", "es"), ("de", "de"), ("fr", "fr"), ("es-MX", "es"), ("es_MX", "es"),
     ("de-CH", "de"), ("EN-us", "en"), ("spa", "es"), ("ger", "de")],
)  # fmt: skip
def test_tags_guidecast_speaks(tag: str, code: str) -> None:
    assert known_language(tag)
    assert language_problem(tag) is None
    assert language_for(tag).code == code


def test_tags_are_normalised() -> None:
    assert language_for("es_MX").tag == "es-MX"
    assert language_for("spa").tag == "es"
    assert language_for("es-MX").say("Breathe in.") == "Inhala."


@pytest.mark.parametrize("tag", ["xx", "espanol", "", "und", "qaa", "123", "en_"])
def test_unknown_languages_are_reported(tag: str) -> None:
    assert not known_language(tag)
    problem = language_problem(tag)
    assert problem is not None and problem.startswith("unknown language") and "es" in problem
    with pytest.raises(LanguageError) as caught:
        language_for(tag)
    assert isinstance(caught.value, GuidecastError) and caught.value.exit_code == 2


def test_a_real_language_without_phrases_is_named() -> None:
    assert known_language("it")
    assert language_problem("it") == (
        "guidecast has no phrases in Italian (it) yet: use de, en, es, fr"
    )
    with pytest.raises(LanguageError, match="Italian"):
        language_for("it")


def test_id3_codes_match_the_old_table_and_go_beyond_it() -> None:
    old = {
        "en": "eng", "de": "deu", "fr": "fra", "es": "spa", "it": "ita", "nl": "nld",
        "pt": "por", "no": "nor", "sv": "swe", "da": "dan", "fi": "fin", "pl": "pol",
    }  # fmt: skip
    assert {tag: id3_language(tag) for tag in old} == old
    assert id3_language("es-MX") == "spa"
    assert id3_language("ja") == "jpn"
    assert id3_language("xx") == "und"
    assert [language_for(t).id3 for t in ("en", "es", "de", "fr")] == ["eng", "spa", "deu", "fra"]


def test_wordings_rotate_and_fill() -> None:
    bank = WORDINGS["length"]
    said = [EN.wording("length", turn, time="two minutes") for turn in range(len(bank) + 1)]
    assert said[0] == "Stay here for two minutes." == said[-1]
    assert said[:-1] == [w.format(time="two minutes") for w in bank]
    assert DE.wording("length", 0, time=DE.spoken_time(120_000)) == "Bleib hier zwei Minuten lang."


def test_a_number_beyond_the_speller_is_read_as_digits() -> None:
    assert ES.number(10**30) == str(10**30)


def test_bare_tags_read_without_langcodes_agree_with_it() -> None:
    import langcodes

    from guidecast.lang.i18n import PLAIN_TAGS, catalog_languages

    assert set(PLAIN_TAGS) == set(catalog_languages())  # every catalog is a fast tag
    for tag, alpha3 in PLAIN_TAGS.items():
        parsed = langcodes.Language.get(tag)
        assert (str(parsed), parsed.language, parsed.to_alpha3()) == (tag, tag, alpha3)
        assert id3_language(tag) == alpha3


def test_english_counts_are_spelled_as_num2words_spells_them() -> None:
    from num2words import num2words  # type: ignore[import-untyped]

    from guidecast.lang.speech import number_words

    assert [number_words(n) for n in range(1000)] == [num2words(n, lang="en") for n in range(1000)]
