"""Errors a person can act on: every failure the CLI shows is a `GuidecastError`."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "AudioError",
    "EngineError",
    "ExportError",
    "FeedError",
    "GuidecastError",
    "LengthError",
    "Loc",
    "Problem",
    "RoutineError",
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


@dataclass(frozen=True, order=True)
class Problem:
    """One located mistake in a routine, shown as `path:line:col: message`."""

    loc: Loc
    message: str

    def __str__(self) -> str:
        return printable(f"{self.loc}: {self.message}")


class RoutineError(GuidecastError):
    """A routine file has one or more located problems."""

    exit_code = 2

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems = tuple(sorted(problems))
        super().__init__("\n".join(str(p) for p in self.problems))

    @classmethod
    def at(cls, loc: Loc, message: str) -> RoutineError:
        """Build an error with a single problem."""
        return cls([Problem(loc, message)])


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
