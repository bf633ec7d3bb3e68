"""The routine model: frozen dataclasses produced by the loader, each node with its location."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from .errors import Loc

__all__ = [
    "Defaults",
    "Flow",
    "Hold",
    "Narration",
    "Routine",
    "SoundRef",
    "Sounds",
    "Step",
]


class Narration(StrEnum):
    """How much is said: each level adds to the one before."""

    BRIEF = "brief"
    STANDARD = "standard"
    FULL = "full"

    @property
    def rank(self) -> int:
        return list(Narration).index(self)


@dataclass(frozen=True)
class Hold:
    """A hold length in milliseconds: fixed when `min_ms == max_ms`, else a range to fit."""

    min_ms: int
    max_ms: int
    loc: Loc

    @property
    def is_range(self) -> bool:
        return self.min_ms != self.max_ms

    @property
    def mid_ms(self) -> int:
        return (self.min_ms + self.max_ms) // 2


@dataclass(frozen=True)
class SoundRef:
    """A built-in sound name or a path to an audio file (resolved against the routine's folder)."""

    name: str
    """Built-in name (`bowl`) or the path as written; empty means silence (`none`)."""
    path: str | None
    """Absolute path for a file sound; None for a built-in sound or `none`."""
    loc: Loc

    @property
    def is_none(self) -> bool:
        return self.name == ""


@dataclass(frozen=True)
class Sounds:
    """The routine's start, transition and end sounds."""

    start: SoundRef | None = None
    transition: SoundRef | None = None
    end: SoundRef | None = None


@dataclass(frozen=True)
class Flow:
    """A breath-paced movement: `breaths` cycles of `cues` spoken on successive phases."""

    breaths: int
    cues: tuple[str, ...]
    breath_ms: int
    """Length of one whole breath (all phases)."""
    loc: Loc


@dataclass(frozen=True)
class Step:
    """One pose or exercise."""

    pose: str
    loc: Loc
    sanskrit: str | None = None
    cue: str | None = None
    how: tuple[str, ...] = ()
    why: str | None = None
    props: tuple[str, ...] = ()
    reminders: tuple[str, ...] = ()
    hold: Hold | None = None
    sides: tuple[str, ...] = ()
    """Empty for a two-sided (symmetric) pose; otherwise the sides in order, e.g. (right, left)."""
    switch: str | None = None
    reps: int = 1
    rest_ms: int = 0
    flow: Flow | None = None
    sound: SoundRef | None = None


@dataclass(frozen=True)
class Defaults:
    """Option defaults a routine declares; the command line overrides each."""

    narration: Narration | None = None
    length_ms: int | None = None
    rate: float | None = None
    countdown_ms: int | None = None
    breath_cues: bool | None = None
    bed: SoundRef | None = None
    """An ambience bed under the session: a built-in name or a sound file."""
    bed_level: float | None = None
    """Bed loudness in LU relative to the speech."""


@dataclass(frozen=True)
class Routine:
    """A whole guided session as written in its file."""

    title: str
    steps: tuple[Step, ...]
    path: str
    description: str = ""
    author: str = "guidecast"
    series: str = ""
    genre: str = "Health & Fitness"
    year: int | None = None
    track: int | None = None
    language: str = "en"
    cover: str | None = None
    engine: str | None = None
    voice: str | None = None
    props: tuple[str, ...] = ()
    safety: str | None = None
    intro: str | None = None
    outro: str | None = None
    reminders: tuple[str, ...] = ()
    sounds: Sounds = field(default_factory=Sounds)
    defaults: Defaults = field(default_factory=Defaults)
