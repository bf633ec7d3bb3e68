"""Errors a person can act on: every failure the CLI shows is a `GuidecastError`."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

__all__ = [
    "RULES",
    "AudioError",
    "EngineError",
    "ExportError",
    "FeedError",
    "GuidecastError",
    "LengthError",
    "Loc",
    "Problem",
    "RoutineError",
    "Rule",
    "printable",
]

_UNPRINTABLE = re.compile(
    "[\x00-\x1f\x7f-\x9f\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]"
)
"""Control characters (escape sequences, newlines), bidi overrides, line separators, surrogates."""


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(text: str) -> str:
    """Show `text` on one terminal line as typed: control characters become `\\x1b`, `\\n`...

    A value from a file (a title, a file name) must not start a new line that looks like
    another message, move the cursor or set the terminal's title.
    """
    return _UNPRINTABLE.sub(_escape, text)


class GuidecastError(Exception):
    """A failure with a one-line message meant for the user.

    `hint` names what the user can do about it (a key of the command line's advice, with
    `details` to fill it in); the advice itself is worded where the options live, in cli/app.py.
    """

    exit_code = 1
    hint: str | None = None
    details: dict[str, str] = {}  # noqa: RUF012 - read-only default, replaced per instance

    def with_hint(self, hint: str, **details: str) -> GuidecastError:
        """This error, carrying a hint for the command line."""
        self.hint = hint
        self.details = details
        return self


@dataclass(frozen=True, order=True)
class Loc:
    """A position in a source file, 1-based like editors show it."""

    path: str
    line: int = 1
    col: int = 1

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.col}"


Rule = Literal[
    "yaml-syntax", "bad-character", "bad-encoding", "unreadable", "empty-file",
    "multiple-documents", "unknown-key", "duplicate-key", "missing-key", "bad-key",
    "wrong-type", "empty-value", "yaml-boolean", "yaml-sexagesimal", "bad-duration",
    "out-of-range", "unknown-value", "bad-file", "conflicting-keys", "bad-value", "bad-nesting",
    "bad-pronunciation", "session-too-long", "period-too-short", "unsupported-language",
    "split-sentence", "no-room", "section-too-late", "stretched-phase", "",
]  # fmt: skip
"""The short id of the kind of mistake a problem is (like yamllint's and ruff's rule ids);
`guidecast check` shows it in brackets, docs/routines.md says what each one means."""

RULES: dict[Rule, str] = {
    "yaml-syntax": "the file is not valid YAML (indentation, quotes, colons)",
    "bad-character": "a character YAML does not allow, or one that cannot be said",
    "bad-encoding": "the file is not UTF-8 text",
    "unreadable": "the file is missing, a folder, unreadable or too large",
    "empty-file": "the file holds no routine",
    "multiple-documents": "a second `---` document: one routine per file",
    "unknown-key": "a key guidecast does not know here (often a misspelling)",
    "duplicate-key": "a key given twice in one mapping",
    "missing-key": "a required key is missing",
    "bad-key": "a key that is not a plain name",
    "wrong-type": "a list where text is expected, text where a number is, and so on",
    "empty-value": "a key with nothing after it, or an empty list",
    "yaml-boolean": "`yes`, `no`, `on` or `off` where `true` or `false` is expected",
    "yaml-sexagesimal": "`1:30`, which YAML 1.1 reads as the number 90",
    "bad-duration": "not a duration or a range, zero, negative, or running backwards",
    "out-of-range": "a number or a duration outside its limits",
    "unknown-value": "a name that is not one of the choices (a level, a sound, a language...)",
    "bad-file": "a sound, bed or cover file that is missing or cannot be used",
    "conflicting-keys": "keys that do not go together, or one that needs another",
    "bad-value": "a value guidecast cannot use (sides, breathing pattern, cue texts...)",
    "bad-nesting": "blocks nested too deep, or sections inside sections",
    "bad-pronunciation": "a `pronounce:` entry the voice cannot use",
    "session-too-long": "the steps could run over 12 hours",
    "period-too-short": "a clock-timed period too short for what it must say",
    "unsupported-language": "warning: guidecast has no phrases in this language yet",
    "split-sentence": "warning: a comma in a flow list split one sentence in two",
    "no-room": "warning: a cue finds no room inside its hold and is left out",
    "section-too-late": "the steps before a section pinned to a time (`at`) run past it",
    "stretched-phase": "warning: a flow phase too short for its cue runs longer than written",
}
"""What each rule id means, for the docs."""


@dataclass(frozen=True, order=True)
class Problem:
    """One located mistake in a routine, shown as `path:line:col: message`."""

    loc: Loc
    message: str
    rule: Rule = field(default="", compare=False)
    """What kind of mistake it is, e.g. `unknown-key`; empty when unknown."""

    def __str__(self) -> str:
        return printable(f"{self.loc}: {self.message}")

    @property
    def shown(self) -> str:
        """`path:line:col: message [rule]`, as `guidecast check` prints it."""
        return f"{self} [{self.rule}]" if self.rule else str(self)


class RoutineError(GuidecastError):
    """A routine file has one or more located problems."""

    exit_code = 2

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems = tuple(sorted(problems))
        super().__init__("\n".join(str(p) for p in self.problems))

    @classmethod
    def at(cls, loc: Loc, message: str, rule: Rule = "") -> RoutineError:
        """Build an error with a single problem."""
        return cls([Problem(loc, message, rule)])


class LengthError(GuidecastError):
    """The requested session length cannot be met by the routine's ranges."""

    exit_code = 2


class EngineError(GuidecastError):
    """A speech engine failed: 'what failed. Probable cause: why'."""


class AudioError(GuidecastError):
    """A sound file could not be read or decoded."""


class ExportError(GuidecastError):
    """Writing the MP3 or its sidecars failed."""

    def __init__(self, path: Path | str, message: str) -> None:
        super().__init__(f"{path}: {message}")
        self.path = str(path)


class FeedError(GuidecastError):
    """A podcast feed could not be built or served."""
