"""Parsers of the values that need more than a scalar: holds, files beside the routine, sides,
guidance, breathing patterns, pronunciations. Each raises `Bad` with a rule, like `fields`."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable

from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from ..errors import Rule
from ..lang.i18n import known_language, language_problem
from ..lang.messages import PHRASES
from ..model import BedChoice, Guidance, Hold, Pronunciation, SoundRef
from ..store.paths import found_file, shown_name
from .durations import format_duration, parse_range
from .fields import (
    Bad,
    Reader,
    Reported,
    bad_duration,
    boolean,
    check_span,
    duration,
    duration_or_zero,
    duration_text,
    text,
    text_list,
    unknown,
)
from .pronounce import check_pronunciation, check_word
from .sounds import SoundError, bed_ref, sound_ref

__all__ = [
    "DEFAULT_SIDES",
    "at_most",
    "bed",
    "bed_choice",
    "breath_count",
    "breath_pattern",
    "cover",
    "guidance",
    "halfway",
    "hold",
    "language",
    "pronounce",
    "side_cues",
    "sides",
    "sound",
    "time_left",
]

DEFAULT_SIDES = ("right", "left")
HALFWAY = "You are halfway through the session."
COVER_SUFFIXES = (".jpg", ".jpeg", ".png")


def at_most(most_ms: int, what: str, most: str = "") -> Callable[[Node], int]:
    """A duration from 0 up to `most_ms` (`most`, when it reads better written otherwise):
    `what` names it in the complaint ("a settle time")."""
    most = most or format_duration(most_ms)

    def parse(node: Node) -> int:
        ms = duration_or_zero(node)
        if ms > most_ms:
            raise Bad(
                f"{what} of {format_duration(ms)} is too long: at most {most}", "out-of-range"
            )
        return ms

    return parse


BEEPS_MS = 3000
"""`countdown: beeps` beeps the last three seconds (the `beeps` tone lasts exactly that)."""


def countdown(most_ms: int, most: str) -> Callable[[Node], tuple[int, bool]]:
    """`5s` (count the last five seconds aloud), `0` (off) or `beeps`: (ms, beeps)."""
    seconds = at_most(most_ms, "a countdown", most)

    def parse(node: Node) -> tuple[int, bool]:
        if isinstance(node, ScalarNode) and str(node.value).strip().lower() == "beeps":
            return BEEPS_MS, True
        try:
            return seconds(node), False
        except Bad as bad:
            if bad.rule != "bad-duration" or not isinstance(node, ScalarNode):
                raise
            raise Bad(
                f"'{node.value}' is not a countdown; write a duration such as 5s, 0 for off, "
                "or beeps",
                "bad-duration",
            ) from None

    return parse


COUNT_IN_KEYS = ("length", "each")
"""`count_in: {length: 5s, each: true}`: counted in before every side and repetition too."""


def count_in(most_ms: int) -> Callable[[Reader, Node], tuple[int, bool]]:
    """`3s` (before the step's first side or repetition), or `{length: 3s, each: true}`
    (before every side and every repetition): (ms, each)."""
    seconds = at_most(most_ms, "a count-in")

    def parse(reader: Reader, node: Node) -> tuple[int, bool]:
        if not isinstance(node, MappingNode):
            return seconds(node), False
        found = reader.mapping(node, "count_in", COUNT_IN_KEYS, ("length",))
        if found is None:
            raise Reported
        ms = reader.field(found, "length", seconds)
        each = reader.field(found, "each", boolean) if "each" in found else False
        if ms is None or each is None:
            raise Reported
        return ms, each

    return parse


def hold(reader: Reader, node: Node) -> Hold:
    """`1m`, `45s` or a range such as `2-4m`, which `--length` fits."""
    raw = duration_text(node)
    try:
        low, high = parse_range(raw)
    except ValueError as e:
        raise bad_duration(e) from e
    if low <= 0 and "-" in raw:
        raise Bad(
            f"the shortest hold in '{raw}' is zero: a range must start above 0", "bad-duration"
        )
    check_span(low, raw)
    check_span(high, raw)
    if low > high:
        raise Bad(
            f"range '{raw}' runs backwards: {format_duration(low)} is more than "
            f"{format_duration(high)}",
            "bad-duration",
        )
    return Hold(low, high, reader.loc(node))


def sound(reader: Reader, node: Node) -> SoundRef:
    """A built-in bell, `none`, or a sound file beside the routine."""
    try:
        return sound_ref(text(node), base=reader.base, loc=reader.loc(node))
    except SoundError as e:
        raise Bad(str(e), e.rule) from None


def sounds(reader: Reader, node: Node) -> tuple[SoundRef, ...]:
    """A sound, or a list of sounds in the order written."""
    items = node.value if isinstance(node, SequenceNode) else [node]
    return tuple(sound(reader, item) for item in items)


def bed(reader: Reader, node: Node) -> SoundRef:
    """A built-in bed, `none`, or a sound file beside the routine that decodes to some sound."""
    try:
        return bed_ref(text(node), base=reader.base, loc=reader.loc(node))
    except SoundError as e:
        raise Bad(str(e), e.rule) from None


BED_PERIODS = ("work", "rest")
"""`bed: {work: ..., rest: ...}`: one bed in the work periods, another in the rests."""


def bed_choice(reader: Reader, node: Node) -> BedChoice:
    """A bed (see `bed`), or `{work: ..., rest: ...}`: one in the work periods, one in rests."""
    if not isinstance(node, MappingNode):
        return BedChoice(bed(reader, node))
    found = reader.mapping(node, "bed", BED_PERIODS, BED_PERIODS)
    if found is None or set(found) != set(BED_PERIODS):
        raise Reported
    work, rest = (reader.field(found, name, functools.partial(bed, reader)) for name in BED_PERIODS)
    if work is None or rest is None:
        raise Reported
    return BedChoice(work, rest)


def cover(reader: Reader, node: Node) -> str:
    """A square JPEG or PNG beside the routine; its absolute path."""
    name = text(node)
    path = reader.base / name
    shown = shown_name(name)
    path, problem = found_file(path)
    if problem:
        raise Bad(f"cover image '{shown}' {problem}", "bad-file")
    if path.suffix.lower() not in COVER_SUFFIXES:
        raise Bad(f"cover image '{name}' must be a JPEG or PNG file", "bad-file")
    from ..media.cover import cover_problem  # Pillow loads only for routines with a cover

    problem = cover_problem(path)
    if problem:
        raise Bad(f"cover image '{name}' {problem}", "bad-file")
    return str(path)


def language(reader: Reader, node: Node) -> str:
    """A language tag: unknown is an error; one guidecast has no phrases in, a warning."""
    tag = text(node)
    if not known_language(tag):
        raise Bad(language_problem(tag) or f"unknown language {tag!r}", "unknown-value")
    problem = language_problem(tag)
    if problem:
        reader.warn(node, f"{problem}; its phrases are said in English", "unsupported-language")
    return tag


def pronounce(reader: Reader, node: Node) -> tuple[Pronunciation, ...]:
    """`pronounce: {Savasana: shuh-VAH-suh-nuh, Om: "[[ˈoʊm]]"}`, each entry checked."""
    if not isinstance(node, MappingNode):
        raise Bad("pronounce must be a mapping of words to how to say them", "wrong-type")
    out: list[Pronunciation] = []
    seen: set[str] = set()
    for key_node, value_node in node.value:
        try:
            word = text(key_node)
            say = text(value_node)
        except Bad as bad:
            reader.problem(key_node, f"pronounce: {bad.message}", bad.rule)
            continue
        entry = Pronunciation(word, say, reader.loc(value_node))
        word_problem = check_word(word)
        if word.lower() in seen:
            reader.problem(key_node, f"'{word}' is given twice in pronounce", "duplicate-key")
        elif word_problem:
            reader.problem(key_node, word_problem, "bad-pronunciation")
        elif say_problem := check_pronunciation(entry):
            reader.problem(value_node, say_problem, "bad-pronunciation")
        else:
            out.append(entry)
        seen.add(word.lower())
    return tuple(out)


def sides(node: Node) -> tuple[str, ...]:
    """`true` for right then left, `false` for none, or two different side names."""
    if isinstance(node, ScalarNode) and node.tag.endswith(":bool"):
        return DEFAULT_SIDES if boolean(node) else ()
    names = text_list(node)
    if len(names) != 2 or names[0].lower() == names[1].lower():
        raise Bad("sides must be true or a list of two different sides, e.g. [right, left]")
    return names


def side_cues(node: Node) -> tuple[tuple[str, str], ...]:
    """`side_cues: {right: Step your right foot forward., left: ...}`."""
    if not isinstance(node, MappingNode):
        raise Bad(
            "side_cues must map each side to what to say, e.g. {right: ..., left: ...}",
            "wrong-type",
        )
    return tuple((text(k), text(v)) for k, v in node.value)


def durations(node: Node) -> tuple[int, ...]:
    """A list of durations, in the order written (one alone is a list of one)."""
    items = node.value if isinstance(node, SequenceNode) else [node]
    return tuple(duration(item) for item in items)


def time_left(node: Node) -> tuple[int, ...]:
    """`time_left: [1m, 10s]`: say how much is left at these times before a hold ends."""
    items = node.value if isinstance(node, SequenceNode) else [node]
    return tuple(sorted({duration(item) for item in items}, reverse=True))


def guidance(moments: tuple[str, ...]) -> Callable[[Node], Guidance]:
    """`{length: false, release: Slowly roll to your side.}`: each moment true, false or a text."""

    def parse(node: Node) -> Guidance:
        if not isinstance(node, MappingNode):
            raise Bad(
                "guidance must be a mapping, e.g. {halfway: false, release: Roll to your side.}",
                "wrong-type",
            )
        found: dict[str, bool | str] = {}
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, ScalarNode) else ""
            if key not in moments:
                raise Bad(unknown(f"guidance moment '{key}'", str(key), moments), "unknown-key")
            if key in found:
                raise Bad(f"duplicate guidance moment '{key}'", "duplicate-key")
            if isinstance(value_node, ScalarNode) and value_node.tag.endswith(":bool"):
                found[key] = boolean(value_node)
                continue
            said = text(value_node)
            found_holes = re.findall(r"{([^{}]*)}", said)
            holes = set(found_holes)
            if (
                holes - {"time"}
                or (holes and key != "length")
                or said.count("{") != len(found_holes)
                or said.count("}") != len(found_holes)
            ):
                raise Bad(
                    f"guidance '{key}' text may not contain braces"
                    + (" other than {time}" if key == "length" else "")
                )
            found[key] = said
        return Guidance(**found)

    return parse


def breath_count(node: Node) -> tuple[bool, bool]:
    """`count: true` (aloud), `false` (phase words only) or `tones`: (counted, tones)."""
    if isinstance(node, ScalarNode) and str(node.value).strip().lower() == "tones":
        return False, True
    try:
        return boolean(node), False
    except Bad as bad:
        rule: Rule = "yaml-boolean" if bad.rule == "yaml-boolean" else "bad-value"
        raise Bad("count is true (aloud), false (phase words only) or tones", rule) from None


def breath_pattern(node: Node) -> tuple[int, ...]:
    """`4-7-8`, `4-4-4-4` or `[4, 7, 8]`: seconds per phase (in, hold, out, hold)."""
    if isinstance(node, SequenceNode):
        raw = [str(scalar.value) for scalar in node.value if isinstance(scalar, ScalarNode)]
    else:
        raw = str(text(node)).split("-")
    if not 2 <= len(raw) <= 4 or not all(re.fullmatch(r"\d{1,2}", r.strip()) for r in raw):
        raise Bad(
            "a breathing pattern is 2 to 4 whole seconds: in-out (4-6), in-hold-out (4-7-8) "
            "or in-hold-out-hold (4-4-4-4)"
        )
    seconds = [int(r) for r in raw]
    if any(not 1 <= n <= 30 for n in seconds):
        raise Bad("each breathing phase lasts 1 to 30 seconds", "out-of-range")
    return tuple(n * 1000 for n in seconds)


def halfway(node: Node) -> str | None:
    """`halfway: true` (our words), `false`, or the words to say."""
    if isinstance(node, ScalarNode) and node.tag.endswith(":bool"):
        return HALFWAY if boolean(node) else None
    return text(node)


def phrases(reader: Reader, node: Node) -> tuple[tuple[str, str], ...]:
    """`phrases: {rest: Breathe easy., next: "Coming up: {name}."}`, each entry checked: a
    phrase guidecast has, in words that fill only the fields the phrase has."""
    if not isinstance(node, MappingNode):
        raise Bad("phrases must map a phrase's name to your words, e.g. {rest: Recover.}")
    out: dict[str, str] = {}
    names = tuple(PHRASES)
    for key_node, value_node in node.value:
        try:
            name = text(key_node)
            said = text(value_node)
        except Bad as bad:
            reader.problem(key_node, f"phrases: {bad.message}", bad.rule)
            continue
        if name not in PHRASES:
            reader.problem(key_node, unknown(f"phrase '{name}'", name, names), "unknown-key")
            continue
        if name in out:
            reader.problem(key_node, f"phrase '{name}' is given twice", "duplicate-key")
            continue
        fields = set(re.findall(r"{(\w*)}", PHRASES[name][0]))
        holes = re.findall(r"{([^{}]*)}", said)
        wrong = [h for h in holes if h not in fields]
        if wrong or said.count("{") != len(holes) or said.count("}") != len(holes):
            offer = " or ".join(f"{{{f}}}" for f in sorted(fields)) or "no {...}"
            shown = f"'{{{wrong[0]}}}'" if wrong else "a stray brace"
            reader.problem(
                value_node, f"phrase '{name}' has {shown}; it may use {offer}", "bad-value"
            )
            continue
        out[name] = said
    return tuple(out.items())
