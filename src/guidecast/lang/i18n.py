"""The language a session speaks: its phrases, numbers, lists, sides, lengths of time and codes.

    lang = language_for("es")
    lang.say("Repetition {n} of {count}.", n=2, count=3)   # 'Segunda repetición de tres.'
    lang.spoken_time(120_000)                               # 'dos minutos'
    lang.join(["una manta", "un bloque"])                   # 'una manta y un bloque'
    id3_language("es-MX")                                   # 'spa'

Phrases come from gettext catalogs in `guidecast/locale/<lang>/LC_MESSAGES/guidecast.mo`,
compiled from the `.po` files beside them with `pybabel compile` and shipped in the wheel, so an
installed guidecast needs no build step and reads them with the standard library's `gettext`.
English is the message id itself (`messages.py`). Numbers are spelled by num2words, lists joined
by Babel's CLDR patterns, language tags read by langcodes.
"""

from __future__ import annotations

import functools
import gettext
import re
import string
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from importlib import resources
from typing import Any

from ..errors import GuidecastError
from .messages import MESSAGES, PHRASES, WORDINGS
from .speech import number_words

__all__ = [
    "DOMAIN",
    "Language",
    "LanguageError",
    "catalog_languages",
    "id3_language",
    "known_language",
    "language_for",
    "language_problem",
    "worded",
]

DOMAIN = "guidecast"
SOURCE_LANGUAGE = "en"
_SIDES = {"right", "left"}
_MSGIDS = frozenset(MESSAGES)
_PRIVATE_USE = re.compile(r"q[a-t][a-z]")


class LanguageError(GuidecastError):
    """A routine names a language guidecast cannot speak (a mistake in the routine)."""

    exit_code = 2


@dataclass(frozen=True)
class Language:
    """How one language says guidecast's phrases; make it with `language_for(tag)`."""

    tag: str
    """The routine's tag, normalised (BCP 47): 'es', 'es-MX', 'de-CH'."""
    code: str
    """The language of the catalog, e.g. 'es' for 'es-MX'."""
    catalog: gettext.NullTranslations = field(repr=False, compare=False)

    def say(self, msgid: str, /, **fields: object) -> str:
        """The phrase `msgid` (from `messages.py`) in this language, fields filled.

        An int field is spelled in words ('dos'); a str is used as it is. A phrase that is not
        in `messages.py` is a mistake (it could never be translated): ValueError.
        """
        if msgid not in _MSGIDS:
            raise ValueError(f"{msgid!r} is not a message id: add it to guidecast/messages.py")
        return self._fill(self.catalog.gettext(msgid), fields)

    def wordings(self, moment: str) -> tuple[str, ...]:
        """The wordings of a moment of guidance (`messages.WORDINGS`), fields not yet filled."""
        said = (self.catalog.gettext(msgid) for msgid in WORDINGS[moment])
        return tuple(dict.fromkeys(said))  # a translator may reuse a wording to have fewer

    def wording(self, moment: str, turn: int, /, **fields: object) -> str:
        """The wording for this `turn` of a moment (they rotate), fields filled like `say`."""
        bank = self.wordings(moment)
        return self._fill(bank[turn % len(bank)], fields)

    def number(self, n: int, form: str = "") -> str:
        """`n` in words, lower case: 'dos', 'zwei', 'deux'.

        `form` is a translator's format spec: 'm' / 'f' before a masculine / feminine noun
        ('veintiún', 'vingt et une'), 'o' an ordinal ('om', 'of' by gender).
        """
        return _spell(self.code, n, form)

    def ordinal(self, n: int, gender: str = "") -> str:
        """`n` as an ordinal in words: 'segunda' (gender 'f'), 'zweite', 'deuxième'."""
        return self.number(n, "o" + gender)

    def countdown(self, n: int) -> str:
        """A countdown number as its own sentence: 'Five.', 'Cinco.', 'Fünf.', 'Cinq.'."""
        words = self.number(n)
        return words[:1].upper() + words[1:] + "."

    def join(self, items: Sequence[str]) -> str:
        """Join a list the way the language says it: 'a, b y c', 'a, b und c', 'a, b et c'."""
        items = list(items)
        if len(items) <= 1:
            return "".join(items)
        if self.code == SOURCE_LANGUAGE:
            # guidecast's English has always said 'a, b and c' (no serial comma, unlike CLDR).
            return ", ".join(items[:-1]) + " and " + items[-1]
        from babel.lists import format_list  # loads CLDR data: on first use

        joined: str = format_list(items, locale=self.code)
        if self.code == "es" and _SPANISH_I_SOUND.match(items[-1]):
            # "y" becomes "e" before an /i/ sound: "aguja e hilo" (CLDR does not know it).
            joined = joined[: -len(items[-1]) - 2] + "e " + items[-1]
        return joined

    def side(self, name: str) -> str:
        """A side for the side sentences: 'derecho', 'rechts', 'gauche'; other names as they are."""
        key = name.lower()
        said = self.catalog.gettext(key) if key in _SIDES else key
        return name if said == key else said  # English, and sides of the routine's own

    def spoken_time(self, ms: int) -> str:
        """A length the way a teacher says it: 'about two and a half minutes', '45 seconds'."""
        n = max(5, round(ms / 5000) * 5)
        if n < 60:  # to the nearest five seconds, "about" when that is a second off (a 53 s
            # hold is not "fifty-five seconds"); under five seconds, "five seconds" as ever
            said = self._part("{n} seconds", n=n)
            about = ms >= 5000 and abs(ms - n * 1000) >= 1000
            return self._part("about {time}", time=said) if about else said
        halves = round(ms / 30_000)
        minutes, half = divmod(halves, 2)
        about = abs(ms - halves * 30_000) >= 1000
        if minutes == 1:
            if half:
                return self._part("about a minute and a half" if about else "a minute and a half")
            return self._part("about a minute" if about else "one minute")
        unit = self._part("{n} and a half minutes" if half else "{n} minutes", n=minutes)
        return self._part("about {time}", time=unit) if about else unit

    def chapter_title(
        self, pose: str, *, side: str | None = None, round_no: int | None = None
    ) -> str:
        """A chapter's title: 'Pigeon (round 2, right side)', 'Paloma (ronda 2, lado derecho)'."""
        marks = [self._part("round {n}", n=str(round_no))] if round_no else []
        marks += [self._part("{side} side", side=self.side(side))] if side else []
        return f"{pose} ({', '.join(marks)})" if marks else pose

    @property
    def id3(self) -> str:
        """The ISO 639-2 code for ID3 frames (COMM, USLT): 'spa', 'deu', 'fra', 'eng'."""
        return id3_language(self.tag)

    def _fill(self, template: str, fields: Mapping[str, object]) -> str:
        """Fill a translated sentence; one that begins with a field begins with a capital."""
        text = _filled(self, template, tuple(fields.items()))
        return text[:1].upper() + text[1:] if template.startswith("{") else text

    def _part(self, msgid: str, **fields: object) -> str:
        """A phrase used inside another one: never capitalised."""
        return _filled(self, self.catalog.gettext(msgid), tuple(fields.items()))


def _filled(language: Language, template: str, fields: tuple[tuple[str, object], ...]) -> str:
    """A template with its fields filled (remembered: a session fills the same ones often)."""
    try:
        return _filled_kept(language, template, fields)
    except TypeError:  # a field that cannot be a key
        return _Filler(language).vformat(template, (), dict(fields))


@functools.lru_cache(maxsize=4096)
def _filled_kept(language: Language, template: str, fields: tuple[tuple[str, object], ...]) -> str:
    return _Filler(language).vformat(template, (), dict(fields))


class _Filler(string.Formatter):
    """Fills a phrase's fields: ints spelled in the language, with the translator's spec."""

    def __init__(self, language: Language) -> None:
        self.language = language

    def format_field(self, value: Any, format_spec: str) -> str:
        if isinstance(value, int) and not isinstance(value, bool):
            return self.language.number(value, format_spec)
        return str(value)  # grammar specs mean nothing to text given as it is


_SPANISH_I_SOUND = re.compile(r"h?[iíIÍ](?![aeouáéóú])")
"""A word starting with the sound /i/ ("hilo", "Iyengar"), not a diphthong ("hielo", "yoga")."""


@functools.lru_cache(maxsize=1024)
def _spell(code: str, n: int, form: str) -> str:
    """A number in words (cached: countdowns say the same few numbers again and again)."""
    if code == SOURCE_LANGUAGE and not form and 0 <= n < 1000:
        # The counts a session says, spelled as num2words spells them (a test compares all
        # of them) without importing it: its import takes a fifth of a warm re-render.
        return number_words(n)
    from num2words import num2words  # type: ignore[import-untyped]  # slow import: on use

    ordinal = "o" in form
    try:
        words: str = num2words(n, lang=code, to="ordinal" if ordinal else "cardinal")
    except (OverflowError, NotImplementedError):
        return str(n)  # beyond what the language's speller knows: the voice reads digits
    gender = "f" if "f" in form else "m" if "m" in form else ""
    return _agree(code, words.lower(), gender, ordinal=ordinal)


def _agree(code: str, words: str, gender: str, *, ordinal: bool) -> str:
    """Make a spelled number agree with the noun after it (num2words gives the counting form)."""
    if not gender:
        return words
    if code == "es":
        if ordinal:
            if gender == "f":
                return re.sub(r"o\b", "a", words)  # 'vigésimo primero' -> 'vigésima primera'
            return re.sub(r"\b(prim|terc)ero$", r"\1er", words)  # 'primer tour', 'tercer'
        if gender == "f":
            return re.sub(r"ientos\b", "ientas", re.sub(r"uno$", "una", words))
        return re.sub(r"veintiuno$", "veintiún", re.sub(r"\buno$", "un", words))
    if code == "fr" and gender == "f":
        return re.sub(r"\bpremier$", "première", re.sub(r"\bun$", "une", words))
    if code == "de" and not ordinal:
        return re.sub(r"eins$", "eine" if gender == "f" else "ein", words)
    return words


@dataclass(frozen=True)
class _Plain:
    """A bare tag of a language with a catalog, known without loading langcodes' registry
    (a tenth of a second): what almost every routine says."""

    language: str
    alpha3: str

    def to_alpha3(self) -> str:
        return self.alpha3

    def __str__(self) -> str:
        return self.language


PLAIN_TAGS = {"en": "eng", "es": "spa", "de": "deu", "fr": "fra"}
"""Bare tags read without langcodes (a test checks that langcodes reads them the same)."""


@functools.lru_cache(maxsize=64)
def _parse(tag: str) -> Any:
    """The tag as a langcodes Language, or None when it names no real language."""
    if tag in PLAIN_TAGS:
        return _Plain(tag, PLAIN_TAGS[tag])
    # langcodes reads BCP 47 the way routines and podcast feeds write it ('es-MX', 'es_MX',
    # even 'spa' or 'ger'), knows the IANA registry and ISO 639-2/3, has no dependencies and is
    # well kept. Babel's locales lack three-letter codes and reject real languages without CLDR
    # data; pycountry has the codes but not BCP 47 tags, in a much larger wheel.
    import langcodes  # about 0.1 s to import: on first use

    try:
        parsed = langcodes.Language.get(tag.strip())
    except ValueError:  # langcodes.LanguageTagError: not a tag at all
        return None
    lang = parsed.language
    if not lang or lang == "und" or _PRIVATE_USE.fullmatch(lang) or not parsed.is_valid():
        return None
    try:
        parsed.to_alpha3()
    except LookupError:
        return None
    return parsed


def known_language(tag: str) -> bool:
    """Whether `tag` names a real language ('es', 'de-CH', 'spa'), catalog or not."""
    return _parse(tag) is not None


@functools.cache
def catalog_languages() -> tuple[str, ...]:
    """The languages guidecast speaks: English and every shipped catalog."""
    root = resources.files("guidecast") / "locale"
    found = {
        entry.name
        for entry in (root.iterdir() if root.is_dir() else ())
        if (entry / "LC_MESSAGES" / f"{DOMAIN}.mo").is_file()
    }
    return tuple(sorted(found | {SOURCE_LANGUAGE}))


def language_problem(tag: str) -> str | None:
    """What is wrong with a routine's `language:` (a message for `check`), or None."""
    parsed = _parse(tag)
    spoken = ", ".join(catalog_languages())
    if parsed is None:
        return f"unknown language {tag!r}: use a language code such as {spoken}"
    if parsed.language not in catalog_languages():
        return f"guidecast has no phrases in {_name(parsed.language)} ({tag}) yet: use {spoken}"
    return None


def language_for(tag: str) -> Language:
    """The language a routine's `language:` tag names; LanguageError when it cannot be spoken."""
    problem = language_problem(tag)
    if problem:
        raise LanguageError(problem)
    parsed = _parse(tag)
    return _language(str(parsed), parsed.language)


@functools.cache
def _language(tag: str, code: str) -> Language:
    return Language(tag, code, _catalog(code))


def _catalog(code: str) -> gettext.NullTranslations:
    if code == SOURCE_LANGUAGE:
        return gettext.NullTranslations()  # English is the message id
    mo = resources.files("guidecast") / "locale" / code / "LC_MESSAGES" / f"{DOMAIN}.mo"
    # Read through importlib.resources (not gettext.translation's folder search) so catalogs
    # load from any installed form of the package, a zipped wheel included.
    with mo.open("rb") as stream:
        return gettext.GNUTranslations(stream)


def id3_language(tag: str) -> str:
    """The ISO 639-2 code of a language tag for ID3 frames: 'spa', 'deu', 'fra', 'eng'.

    The terminology codes ('deu', 'fra'), as the old table gave; 'und' (undetermined) when the
    tag names no language, which `check` reports before any export.
    """
    parsed = _parse(tag)
    return str(parsed.to_alpha3()) if parsed is not None else "und"


def _name(code: str) -> str:
    """The English name of a language for messages ('Italian'), else its code."""
    from babel import Locale, UnknownLocaleError

    try:
        return str(Locale.parse(code).get_display_name(SOURCE_LANGUAGE))
    except (UnknownLocaleError, ValueError):
        return code


class _OwnWords(gettext.NullTranslations):
    """A catalog with some phrases in the routine's own words (`phrases:`), the rest its own."""

    def __init__(self, base: gettext.NullTranslations, own: dict[str, str]) -> None:
        super().__init__()
        self.base = base
        self.own = own

    def gettext(self, message: str) -> str:
        return self.own.get(message) or self.base.gettext(message)


def worded(language: Language, own: Sequence[tuple[str, str]]) -> Language:
    """`language` saying the named built-in phrases (`messages.PHRASES`) in `own` words."""
    if not own:
        return language
    ids = {msgid: text for name, text in own for msgid in PHRASES[name]}
    return replace(language, catalog=_OwnWords(language.catalog, ids))
