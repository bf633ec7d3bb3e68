"""Typed values from PyYAML nodes: each parser raises `Bad`, the reader records it with its place.

The loader composes the YAML into nodes (never constructing Python objects), so every value
keeps its line and column, and YAML 1.1's surprises (`no` as false, `1:30` as 90) are seen
before they change a routine's meaning.
"""

from __future__ import annotations

import difflib
import itertools
import re
import unicodedata
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from ..errors import Loc, Problem, Rule
from .anchors import EXTENSION_PREFIX
from .durations import MAX_SESSION_MS, TooLong, parse_duration

__all__ = [
    "Bad", "Reader", "Reported", "bad_duration", "boolean", "check_span", "choice", "duration",
    "duration_or_zero", "duration_text", "integer", "misspelt", "number", "suggest", "text",
    "text_list", "unknown",
]  # fmt: skip

T = TypeVar("T")


class Reader:
    """Walks the YAML node tree, collecting problems instead of stopping at the first."""

    def __init__(self, path: str, base: Path | None = None) -> None:
        self.path = path
        self.base = base or Path.cwd()
        """The routine's folder: sound and cover files are found relative to it."""
        self.problems: list[Problem] = []
        self.warnings: list[Problem] = []

    def loc(self, node: Node) -> Loc:
        return Loc(self.path, node.start_mark.line + 1, node.start_mark.column + 1)

    def problem(self, node: Node | Loc, message: str, rule: Rule) -> None:
        loc = node if isinstance(node, Loc) else self.loc(node)
        self.problems.append(Problem(loc, message, rule))

    def warn(self, node: Node, message: str, rule: Rule) -> None:
        self.warnings.append(Problem(self.loc(node), f"warning: {message}", rule))

    def mapping(
        self,
        node: Node,
        what: str,
        keys: tuple[str, ...],
        required: tuple[str, ...] = (),
        *,
        extensible: bool = False,
    ) -> dict[str, Node] | None:
        """Return a mapping's value nodes by key, reporting unknown, duplicate and missing keys;
        an `extensible` mapping ignores the author's own `x-` keys."""
        if not isinstance(node, MappingNode):
            self.problem(node, f"{what} must be a mapping of keys to values", "wrong-type")
            return None
        found: dict[str, Node] = {}
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, ScalarNode) else None
            if not isinstance(key, str):
                self.problem(key_node, f"{what} keys must be plain names", "bad-key")
            elif extensible and key.startswith(EXTENSION_PREFIX):
                continue
            elif key in found:
                self.problem(key_node, f"duplicate key '{key}' in {what}", "duplicate-key")
            elif key not in keys:
                self.problem(key_node, unknown(f"key '{key}' in {what}", key, keys), "unknown-key")
            else:
                found[key] = value_node
        for key in required:
            if key not in found and not misspelt(node, key, keys):
                self.problem(node, f"{what} is missing '{key}'", "missing-key")
        return found

    def field(self, found: dict[str, Node], key: str, parse: Callable[[Node], T]) -> T | None:
        """Parse one optional value; a problem leaves it None."""
        node = found.get(key)
        if node is None:
            return None
        try:
            value = parse(node)
        except Reported:
            return None
        except Bad as bad:
            self.problem(node, bad.message, bad.rule)
            return None
        if isinstance(node, SequenceNode) and node.flow_style:
            self.split_sentences(node)
        return value

    def split_sentences(self, node: SequenceNode) -> None:
        """Warn where `[Left heel down, hold 5., ...]` split one sentence at its comma."""
        items = [item for item in node.value if isinstance(item, ScalarNode)]
        if not any(str(i.value).rstrip().endswith((".", "!", "?")) for i in items):
            return  # a list of names or words (props, sides), not of sentences
        for before, after in itertools.pairwise(items):
            ended = str(before.value).rstrip().endswith((".", "!", "?", "…", ":", ";"))
            if not after.style and str(after.value)[:1].islower() and not ended:
                self.warn(
                    after,
                    f"'{_shown(str(after.value))}' looks like the end of the sentence before "
                    "it, split at a comma; put the whole sentence in quotes",
                    "split-sentence",
                )


class Bad(Exception):
    """A value is wrong; the message says how to fix it, the rule what kind of mistake it is."""

    def __init__(self, message: str, rule: Rule = "bad-value") -> None:
        super().__init__(message)
        self.message = message
        self.rule: Rule = rule


class Reported(Exception):
    """A value is wrong and its problems are already recorded."""


def misspelt(node: Node, key: str, known: tuple[str, ...] = ()) -> bool:
    """Whether a mapping has an unknown key close to `key`: reported once, as a misspelling.

    A key that is itself `known` (`breath` beside a missing `breaths`) is no misspelling.
    """
    if not isinstance(node, MappingNode):
        return False
    names = [k.value for k, _ in node.value if isinstance(k, ScalarNode) and k.value not in known]
    return any(n != key and _close(str(n), (key,)) for n in names)


MEANINGFUL = frozenset(
    [
        "steps",
        "step",
        "reps",
        "rest",
        "hold",
        "flow",
        "move",
        "sides",
        "title",
        "pose",
        "repeat",
        "repeats",
        "round",
        "rounds",
        "set",
        "sets",
        "block",
        "blocks",
        "section",
        "sections",
        "work",
        "exercise",
        "exercises",
        "duration",
        "time",
        "name",
        "text",
        "say",
        "pause",
        "sound",
        "sounds",
        "breath",
        "breaths",
        "cue",
        "cues",
    ]
)
"""Words that mean something of their own to a routine's author: a key written as one of these
is never "corrected" to a similar key with another meaning (`steps` is not `reps`)."""


def _close(word: str, choices: tuple[str, ...]) -> list[str]:
    """Choices that `word` is a slip of the keyboard for: a near spelling or swapped letters."""
    if word.lower() in MEANINGFUL and word not in choices:
        return []
    near = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    return near or [c for c in choices if sorted(c) == sorted(word)][:1]


def suggest(word: str, choices: tuple[str, ...]) -> str | None:
    """The choice `word` is most likely a slip for, if any."""
    close = _close(word, choices)
    return close[0] if close else None


def unknown(what: str, word: str, choices: tuple[str, ...]) -> str:
    close = suggest(word, choices)
    hint = f"; did you mean '{close}'?" if close else f" (expected one of: {', '.join(choices)})"
    return f"unknown {what}{hint}"


# -- scalar parsers ---------------------------------------------------------------------------


def scalar(node: Node, expected: str) -> ScalarNode:
    if not isinstance(node, ScalarNode):
        kind = "a list" if isinstance(node, SequenceNode) else "a mapping"
        raise Bad(f"expected {expected}, found {kind}", "wrong-type")
    return node


def text(node: Node) -> str:
    """Any scalar as the text written: `no` stays the word "no" (YAML 1.1 would say False)."""
    found = scalar(node, "text")
    value = str(found.value).strip()
    if not value or (found.tag.endswith(":null") and not found.style):
        raise Bad("expected text, found nothing", "empty-value")
    odd = next((c for c in value if _unprintable(c)), None)
    if odd is not None:
        raise Bad(
            f"the text contains U+{ord(odd):04X}, a character that cannot be said; remove it",
            "bad-character",
        )
    return " ".join(value.split())


def _unprintable(c: str) -> bool:
    """Control characters (other than line breaks and tabs), lone surrogates, non-characters."""
    category = unicodedata.category(c)
    return (category == "Cc" and c not in "\t\n\r") or category in ("Cs", "Co", "Cn")


def text_list(node: Node) -> tuple[str, ...]:
    """A list of text, or one text as a list of one."""
    if isinstance(node, SequenceNode):
        if not node.value:
            raise Bad("the list is empty", "empty-value")
        return tuple(text(item) for item in node.value)
    return (text(node),)


def _shown(raw: str, most: int = 40) -> str:
    """A value as echoed in a message: cut short when long."""
    return raw if len(raw) <= most else raw[:most] + "…"


def integer(low: int, high: int) -> Callable[[Node], int]:
    def parse(node: Node) -> int:
        raw = scalar(node, "a whole number").value
        if node.tag.endswith(":int") and ":" in raw:
            raise Bad(
                f"'{raw}' reads as a YAML 1.1 sexagesimal number; write a plain number",
                "yaml-sexagesimal",
            )
        if not node.tag.endswith(":int") or not re.fullmatch(r"[+-]?[0-9]+", raw):
            raise Bad(f"expected a whole number, found '{_shown(raw)}'", "wrong-type")
        if len(raw) > 12:
            raise Bad(f"{_shown(raw)} is out of range: expected {low} to {high}", "out-of-range")
        value = int(raw)
        if not low <= value <= high:
            raise Bad(f"{value} is out of range: expected {low} to {high}", "out-of-range")
        return value

    return parse


def number(low: float, high: float) -> Callable[[Node], float]:
    def parse(node: Node) -> float:
        raw = scalar(node, "a number").value
        try:
            if ":" in raw:
                raise ValueError
            value = float(raw)
        except ValueError:
            rule: Rule = "yaml-sexagesimal" if ":" in raw else "wrong-type"
            raise Bad(f"expected a number, found '{raw}'", rule) from None
        if not low <= value <= high:
            raise Bad(f"{raw} is out of range: expected {low} to {high}", "out-of-range")
        return value

    return parse


def boolean(node: Node) -> bool:
    raw = str(scalar(node, "true or false").value)
    if raw.lower() in ("true", "false") and node.tag.endswith(":bool"):
        return raw.lower() == "true"
    if raw.lower() in ("yes", "no", "on", "off", "y", "n"):
        raise Bad(
            f"write true or false, not '{raw}' (YAML readers disagree on what '{raw}' means)",
            "yaml-boolean",
        )
    raise Bad(f"expected true or false, found '{raw}'", "wrong-type")


def duration_text(node: Node) -> str:
    raw = str(scalar(node, "a duration").value).strip()
    if node.tag.endswith((":int", ":float")) and ":" in raw:
        # 1:30 means 1m30s, 1:02:03 means 1h2m3s
        parts = raw.split(":")
        if len(parts) > 3:
            raise Bad(
                f"'{raw}' reads as a YAML 1.1 sexagesimal number; write e.g. 1h2m3s",
                "yaml-sexagesimal",
            )
        pairs = list(zip(parts, ("h", "m", "s")[-len(parts) :], strict=True))
        said = " ".join(f"{n} {'min' if u == 'm' else u}" for n, u in pairs)
        meant = "".join(f"{n}{u}" for n, u in pairs)
        raise Bad(
            f"'{raw}' reads as a YAML 1.1 sexagesimal number, not {said}; write {meant}",
            "yaml-sexagesimal",
        )
    if not raw:
        raise Bad("expected a duration, found nothing", "empty-value")
    return raw


def check_span(ms: int, raw: str, *, zero_ok: bool = False) -> int:
    if ms <= 0 and not (zero_ok and ms == 0):
        raise Bad(
            f"'{raw}' is {'negative' if ms < 0 else 'zero'}: a duration must be positive",
            "bad-duration",
        )
    if ms > MAX_SESSION_MS:
        raise Bad(
            f"'{raw}' is longer than 12 hours; guidecast refuses sessions that long",
            "out-of-range",
        )
    return ms


def duration(node: Node) -> int:
    raw = duration_text(node)
    try:
        return check_span(parse_duration(raw), raw)
    except ValueError as e:
        raise bad_duration(e) from e


def duration_or_zero(node: Node) -> int:
    raw = duration_text(node)
    try:
        return check_span(parse_duration(raw), raw, zero_ok=True)
    except ValueError as e:
        raise bad_duration(e) from e


def bad_duration(error: ValueError) -> Bad:
    """The parser's complaint about a duration: its syntax, or over 12 hours."""
    return Bad(str(error), "out-of-range" if isinstance(error, TooLong) else "bad-duration")


def choice(what: str, choices: tuple[str, ...]) -> Callable[[Node], str]:
    def parse(node: Node) -> str:
        value: str = text(node)
        if value not in choices:
            raise Bad(unknown(f"{what} '{value}'", value, choices), "unknown-value")
        return value

    return parse
