"""Kinds of value a routine key holds: how the loader reads one, how the schema and docs show it.

Each kind pairs a parser (from `fields` and `values`) with its JSON Schema and the words the docs'
key tables use for it, so a limit such as `integer 1–100` is written once and read, checked and
documented from there. The schema's shared definitions (`DEFS`) live here too.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from yaml.nodes import Node, ScalarNode

from ..model import BedChoice, Guidance, Hold, Narration, Pronunciation, SoundRef
from . import fields, values
from .durations import MAX_SESSION_MS, format_duration
from .fields import Reader
from .sounds import BUILTIN_BEDS, BUILTIN_SOUNDS, READ_SUFFIXES, SOUND_SUFFIXES

__all__ = [
    "BED",
    "BOOLEAN",
    "COVER",
    "DEFS",
    "DURATION",
    "HOLD",
    "TEXT",
    "TEXT_LIST",
    "Kind",
    "Schema",
    "choice",
    "integer",
    "mapping",
    "number",
    "ref",
    "up_to",
]

T = TypeVar("T")
Schema = dict[str, Any]
"""A JSON Schema, or a part of one."""
Parse = Callable[[Reader, Node], T]


def _same(value: Any) -> Any:
    return value


@dataclass(frozen=True)
class Kind(Generic[T]):
    """A kind of value: how it is read, and how the schema and the docs describe it."""

    label: str
    """What the docs' key tables call it: `duration`, `integer 1–100`."""
    schema: Schema
    """Its JSON Schema, often a `$ref` to one of `DEFS`."""
    parse: Parse[T] | None
    """Reads a node (raising `fields.Bad`); None for a mapping its reader reads by its table."""
    show: Callable[[T], Any] = field(default=_same)
    """A value of this kind as a routine writes it (a default of 5000 ms is `5s`)."""
    limits: str = ""
    """Its range in words (`1 to 100`), for the editor's hover."""


def ref(name: str) -> Schema:
    """A reference to one of the schema's shared definitions."""
    return {"$ref": f"#/$defs/{name}"}


def plain(parse: Callable[[Node], T]) -> Parse[T]:
    """A parser that needs only the node, as a kind's parser."""
    return lambda _reader, node: parse(node)


def _any_case(text: str) -> str:
    """A regular expression matching `text` in any case: `wav` is `[wW][aA][vV]`."""
    return "".join(f"[{c.lower()}{c.upper()}]" if c.isalpha() else c for c in text)


def suffix_pattern(suffixes: tuple[str, ...]) -> str:
    """A pattern for a file name ending in one of `suffixes` (any case)."""
    return r"\.(" + "|".join(_any_case(s.lstrip(".")) for s in suffixes) + r")\s*$"


# -- shared definitions ---------------------------------------------------------------------------

_NUMBER = r"[0-9]+(\.[0-9]+)?"
_DURATION = (
    rf"({_NUMBER}|(?=[0-9])({_NUMBER}\s*[hH]\s*)?({_NUMBER}\s*[mM]\s*)?({_NUMBER}\s*[sS]\s*)?"
    rf"({_NUMBER}\s*[mM][sS]\s*)?)"
)
"""What `durations.parse_duration` reads: a bare number of seconds or units largest first."""
_ZERO = r"[0.\shHmMsS]*"
_NONE = {"type": "string", "pattern": rf"^\s*{_any_case('none')}\s*$"}
_MOST_S = MAX_SESSION_MS // 1000

DEFS: dict[str, Schema] = {
    "text": {
        "description": "Text. Whatever is typed is kept as text: `no` stays the word no.",
        "anyOf": [{"type": "string", "pattern": r"\S"}, {"type": ["number", "boolean"]}],
    },
    "textList": {
        "description": "A list of text, or one text (read as a list of one).",
        "anyOf": [ref("text"), {"type": "array", "minItems": 1, "items": ref("text")}],
    },
    "duration": {
        "description": "A duration: 45s, 2m, 1m30s, 1.5m, 1h, or a number of seconds. Must be "
        "more than zero and at most 12 hours.",
        "anyOf": [
            {"type": "number", "exclusiveMinimum": 0, "maximum": _MOST_S},
            {
                "type": "string",
                "pattern": rf"^\s*{_DURATION}\s*$",
                "not": {"pattern": f"^{_ZERO}$"},
            },
        ],
    },
    "durationOrZero": {
        "description": "A duration (45s, 2m, 5) or 0 for off.",
        "anyOf": [
            {"type": "number", "minimum": 0, "maximum": _MOST_S},
            {"type": "string", "pattern": rf"^\s*{_DURATION}\s*$"},
        ],
    },
    "hold": {
        "description": "A fixed duration (45s, 2m, 1m30s, 90) or a range (2-4m, 20-30s, 1m-90s: "
        "a bare first number takes the unit of the second). --length picks a value inside each "
        "range.",
        "anyOf": [
            ref("duration"),
            {
                "type": "string",
                "pattern": rf"^\s*{_DURATION}\s*-\s*{_DURATION}\s*$",
                "not": {"anyOf": [{"pattern": f"^{_ZERO}-"}, {"pattern": f"-{_ZERO}$"}]},
            },
        ],
    },
    "sound": {
        "description": f"A built-in sound ({', '.join(BUILTIN_SOUNDS)}), none for silence, or a "
        f"path to an audio file ({', '.join(READ_SUFFIXES)}) relative to the routine file.",
        "anyOf": [
            {"enum": [*BUILTIN_SOUNDS, "none"]},
            _NONE,
            {"type": "string", "pattern": suffix_pattern(SOUND_SUFFIXES)},
        ],
    },
    "bed": {
        "description": f"A built-in bed ({', '.join(BUILTIN_BEDS)}), none, a path to an audio "
        f"file ({', '.join(READ_SUFFIXES)}) relative to the routine file, looped, or a folder "
        "of them (its path ending in /), played in name order.",
        "anyOf": [
            {"enum": [*BUILTIN_BEDS, "none"]},
            _NONE,
            {"type": "string", "pattern": suffix_pattern(SOUND_SUFFIXES)},
            {"type": "string", "pattern": r"[/\\]\s*$"},
        ],
    },
}
"""The schema's shared definitions of values; the tables of keys add theirs (see `schema`)."""


# -- kinds ----------------------------------------------------------------------------------------

TEXT = Kind("text", ref("text"), plain(fields.text))
TEXT_LIST = Kind("list of text", ref("textList"), plain(fields.text_list))
DURATION = Kind("duration", ref("duration"), plain(fields.duration), format_duration)
HOLD: Kind[Hold] = Kind("duration or range", ref("hold"), values.hold)
SOUND: Kind[SoundRef] = Kind("sound", ref("sound"), values.sound, lambda s: s.name or "none")
SOUNDS: Kind[tuple[SoundRef, ...]] = Kind(
    "sound or list of sounds",
    {"anyOf": [ref("sound"), {"type": "array", "items": ref("sound")}]},
    values.sounds,
)
BOOLEAN = Kind("`true` or `false`", {"type": "boolean"}, plain(fields.boolean))
TRUE_OR_TEXT: Kind[bool | str] = Kind(
    "`true`, `false` or text", {"anyOf": [{"type": "boolean"}, ref("text")]}, None
)
"""A guidance moment (read with the whole `guidance` mapping)."""


def _true_or_text(node: Node) -> bool | str:
    if isinstance(node, ScalarNode) and node.tag.endswith(":bool"):
        return fields.boolean(node)
    return fields.text(node)


SAID_OR_OWN: Kind[bool | str] = Kind(
    "`true`, `false` or text",
    {"anyOf": [{"type": "boolean"}, ref("text")]},
    plain(_true_or_text),
)
"""A phrase guidecast says when true, not when false, or the author's own text instead."""
HALFWAY: Kind[str | None] = Kind(
    "`true`, `false` or text", {"anyOf": [{"type": "boolean"}, ref("text")]}, plain(values.halfway)
)
COVER = Kind(
    "path",
    {"type": "string", "pattern": suffix_pattern(values.COVER_SUFFIXES)},
    values.cover,
)
LANGUAGE = Kind("text", ref("text"), values.language)
BED: Kind[BedChoice] = Kind(
    "bed, or `{work: bed, rest: bed}`",
    {
        "anyOf": [
            ref("bed"),
            {
                "type": "object",
                "properties": {
                    "work": {
                        **ref("bed"),
                        "description": "The bed in the work periods.",
                        "examples": ["drone"],
                    },
                    "rest": {
                        **ref("bed"),
                        "description": "The bed in the rests.",
                        "examples": ["ocean"],
                    },
                },
                "required": ["work", "rest"],
                "additionalProperties": False,
            },
        ]
    },
    values.bed_choice,
    lambda c: (
        SOUND.show(c.work)
        if c.rest is None
        else {"work": SOUND.show(c.work), "rest": SOUND.show(c.rest)}
    ),
)
SIDES = Kind(
    "`true`, or two side names",
    {
        "anyOf": [
            {"type": "boolean"},
            {
                "type": "array",
                "minItems": 2,
                "maxItems": 2,
                "uniqueItems": True,
                "items": ref("text"),
            },
        ]
    },
    plain(values.sides),
)
SIDE_CUES = Kind(
    "mapping of side to text",
    {"type": "object", "additionalProperties": ref("text")},
    plain(values.side_cues),
)
DURATIONS = Kind(
    "list of durations",
    {"anyOf": [ref("duration"), {"type": "array", "items": ref("duration")}]},
    plain(values.durations),
)
TIME_LEFT = Kind(
    "duration or list of durations",
    {"anyOf": [ref("duration"), {"type": "array", "items": ref("duration")}]},
    plain(values.time_left),
)
PHRASES: Kind[tuple[tuple[str, str], ...]] = Kind(
    "mapping of phrase to text",
    {"type": "object", "additionalProperties": ref("text")},
    values.phrases,
)
PRONOUNCE: Kind[tuple[Pronunciation, ...]] = Kind(
    "mapping of word to text",
    {
        "type": "object",
        "additionalProperties": ref("text"),
        "propertyNames": {"pattern": r"^[^\s\-]+$"},
    },
    values.pronounce,
)
BREATH_PATTERN = Kind(
    "pattern",
    {
        "anyOf": [
            {"type": "string", "pattern": r"^\s*\d{1,2}(\s*-\s*\d{1,2}){1,3}\s*$"},
            {
                "type": "array",
                "minItems": 2,
                "maxItems": 4,
                "items": {"type": "integer", "minimum": 1, "maximum": 30},
            },
        ]
    },
    plain(values.breath_pattern),
)
BREATH_COUNT = Kind(
    "`true`, `false` or `tones`",
    {"anyOf": [{"type": "boolean"}, {"const": "tones"}]},
    plain(values.breath_count),
    lambda counted: counted[0],
)
_LEVELS = tuple(n.value for n in Narration)
NARRATION = Kind(
    " \\| ".join(f"`{n.value}`" for n in Narration),
    {"enum": [n.value for n in Narration]},
    plain(lambda node: Narration(fields.choice("narration level", _LEVELS)(node))),
    lambda level: level.value,
)
STEPS: Kind[Any] = Kind(
    "list of steps", {"type": "array", "minItems": 1, "items": ref("entry")}, None
)


def up_to(most_ms: int, what: str, most: str = "") -> Kind[int]:
    """A duration from 0 (off) to `most_ms` (or `most`, as written); `what` names it in the
    complaint."""
    most = most or format_duration(most_ms)
    return Kind(
        f"duration, 0 to {most}",
        ref("durationOrZero"),
        plain(values.at_most(most_ms, what, most)),
        format_duration,
        f"0 to {most}",
    )


def _show_count_in(value: tuple[int, bool]) -> Any:
    ms, each = value
    return {"length": format_duration(ms), "each": True} if each else format_duration(ms)


_COUNT_IN_EACH = {
    "type": "object", "required": ["length"], "additionalProperties": False,
    "properties": {
        "length": {**ref("durationOrZero"), "description": "How long the count-in lasts.",
                   "examples": ["5s"]},
        "each": {"type": "boolean", "examples": [True],
                 "description": "Count in every side and every repetition too."},
    },
}  # fmt: skip


def count_in(most_ms: int) -> Kind[tuple[int, bool]]:
    """A count-in: a duration from 0 (off) to `most_ms`, or `{length: ..., each: true}` to
    count in every side and repetition, read as (ms, each)."""
    most = format_duration(most_ms)
    return Kind(
        f"duration, 0 to {most}, or `{{length: duration, each: true}}`",
        {"anyOf": [ref("durationOrZero"), _COUNT_IN_EACH]},
        values.count_in(most_ms),
        _show_count_in,
        f"0 to {most}",
    )


def countdown(most_ms: int, most: str) -> Kind[tuple[int, bool]]:
    """A countdown: a duration from 0 (off) to `most_ms`, or `beeps`, read as (ms, beeps)."""
    return Kind(
        f"duration, 0 to {most}, or `beeps`",
        {"anyOf": [ref("durationOrZero"), {"const": "beeps"}]},
        plain(values.countdown(most_ms, most)),
        lambda c: "beeps" if c[1] else format_duration(c[0]),
        f"0 to {most}, or beeps",
    )


def integer(low: int, high: int) -> Kind[int]:
    """A whole number from `low` to `high`."""
    return Kind(
        f"integer {low} to {high}",
        {"type": "integer", "minimum": low, "maximum": high},
        plain(fields.integer(low, high)),
        limits=f"{low} to {high}",
    )


def number(low: float, high: float) -> Kind[float]:
    """A number from `low` to `high`."""
    return Kind(
        f"number {low:g} to {high:g}",
        {"type": "number", "minimum": low, "maximum": high},
        plain(fields.number(low, high)),
        limits=f"{low:g} to {high:g}",
    )


def choice(what: str, choices: tuple[str, ...]) -> Kind[str]:
    """One of `choices`; `what` names it in the complaint ("timing 'x'")."""
    return Kind(
        " \\| ".join(f"`{c}`" for c in choices),
        {"enum": list(choices)},
        plain(fields.choice(what, choices)),
    )


def mapping(name: str) -> Kind[Any]:
    """A mapping with keys of its own (the table `name`), read by its reader."""
    return Kind("mapping", ref(name), None)


def guidance(moments: tuple[str, ...]) -> Kind[Guidance]:
    """The `guidance` mapping: each of `moments` true, false or a text."""
    return Kind("mapping", ref("guidance"), plain(values.guidance(moments)))
