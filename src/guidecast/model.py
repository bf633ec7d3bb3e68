"""The routine model: frozen dataclasses produced by the loader, each node with its location."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Literal

from .errors import Loc, Problem

__all__ = [
    "GUIDANCE_MOMENTS",
    "BedChoice",
    "Breathing",
    "Defaults",
    "Flow",
    "Guidance",
    "Hold",
    "Narration",
    "Pronunciation",
    "Routine",
    "SoundRef",
    "Sounds",
    "Speaker",
    "Step",
    "StepKind",
]


class Narration(StrEnum):
    """How much is said: each level adds to the one before."""

    BRIEF = "brief"
    STANDARD = "standard"
    FULL = "full"

    @property
    def rank(self) -> int:
        return _RANKS[self]


_RANKS = {level: i for i, level in enumerate(Narration)}


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
class BedChoice:
    """What a `bed:` names: one bed throughout, or one in the work periods and one in rests."""

    work: SoundRef
    """The bed (in the work periods, when `rest` is given)."""
    rest: SoundRef | None = None
    """The bed in the rests; None: `work` throughout."""


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
    short: tuple[str, ...] = ()
    """Shorter cues for the middle rounds, one per phase; empty: derived from `cues`."""
    quiet: bool = True
    """Leave the later rounds quiet (False: cue every round)."""
    phases_ms: tuple[int, ...] = ()
    """Each cue's own phase length (unequal phases); empty: `breath_ms` shared equally."""
    sounds: tuple[SoundRef, ...] = ()
    """The sound that starts each phase, inside it, one per cue (`none`: no sound); empty:
    none at all."""
    timed: bool = field(default=False, compare=False)
    """The routine gives the breath's length or its phases (a cue that stretches a phase
    is then worth a warning)."""


GUIDANCE_MOMENTS = ("length", "halfway", "ending", "release")
"""What guidance says in and after a long hold: how long it lasts, halfway, the last breaths,
and how to come out of it."""


@dataclass(frozen=True)
class Guidance:
    """Per moment: None follows the routine (or guidecast), False is off, a text replaces ours."""

    length: bool | str | None = None
    halfway: bool | str | None = None
    ending: bool | str | None = None
    release: bool | str | None = None

    def get(self, moment: str) -> bool | str | None:
        value: bool | str | None = getattr(self, moment)
        return value

    def over(self, base: Guidance) -> Guidance:
        """These choices, falling back to `base` where unset."""
        return Guidance(
            **{m: self.get(m) if self.get(m) is not None else base.get(m) for m in GUIDANCE_MOMENTS}
        )


@dataclass(frozen=True)
class Pronunciation:
    """How to say a word: a respelling the voice reads, or phonemes written `[[...]]`."""

    word: str
    say: str
    loc: Loc

    @property
    def phonemes(self) -> str | None:
        """The phonemes inside `[[...]]`, or None for a respelling."""
        text = self.say.strip()
        if text.startswith("[[") and text.endswith("]]"):
            return text[2:-2].strip()
        return None


PHASES = {2: ("in", "out"), 3: ("in", "hold", "out"), 4: ("in", "hold", "out", "hold")}
"""The breathing phases a pattern of 2, 3 or 4 counts names."""


@dataclass(frozen=True)
class Breathing:
    """A breathing pattern (4-7-8, box 4-4-4-4) for a number of cycles, exact to the clock."""

    phases_ms: tuple[int, ...]
    cycles: int
    counted: bool
    """Count each second aloud ("In, two, three, four"), or say only the phase words."""
    loc: Loc
    tones: bool = False
    """A soft tone starts each phase instead of words: nothing is said while breathing."""
    pause_ms: int = 0
    """Quiet between two cycles."""
    again: bool | str = False
    """Said at the end of each pause: True for "Again.", or the author's text."""

    @property
    def names(self) -> tuple[str, ...]:
        return PHASES[len(self.phases_ms)]

    @property
    def cycle_ms(self) -> int:
        return sum(self.phases_ms)


@dataclass(frozen=True)
class Speaker:
    """Who says a step and how fast: its own, else its block's or section's, else the session's."""

    rate: float | None = None
    """Multiplies the session's speaking rate (0.85: slower); None: 1."""
    voice: str | None = None
    """A voice name as `--voice` takes; None: the session's voice."""
    language: str | None = None
    """The language of its phrases, numbers and voice; None: the routine's."""
    voice_loc: Loc | None = field(default=None, compare=False)
    language_loc: Loc | None = field(default=None, compare=False)

    def over(self, base: Speaker) -> Speaker:
        """These choices, falling back to `base` where unset."""
        voice = self.voice is not None
        language = self.language is not None
        return Speaker(
            self.rate if self.rate is not None else base.rate,
            self.voice if voice else base.voice,
            self.language if language else base.language,
            self.voice_loc if voice else base.voice_loc,
            self.language_loc if language else base.language_loc,
        )


StepKind = Literal["pose", "say", "pause", "rest", "breathe"]
"""A pose or exercise; plain speech (meditation); a pause; a rest in a block; breathwork."""


@dataclass(frozen=True)
class Step:
    """One pose or exercise (or, by `kind`, a stretch of speech, a pause, a rest, breathwork)."""

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
    cue_sound: SoundRef | None = None
    """Played right after the step's announcement (its instructions, or its `say` lines)."""
    rep_sound: SoundRef | None = None
    """Played as each repetition's hold starts (paced timing)."""
    move: bool = False
    """A free-movement step: `hold` is how long the listener moves as they like."""
    settle_ms: int | None = None
    """Time to move into the pose after its instructions, before the hold; None: the default."""
    switch_settle_ms: int | None = None
    """Time to change sides (or start the next repetition) before the hold; None: the default."""
    pause_after_ms: int | None = None
    """Quiet after the step, before the next one; None: the default."""
    guidance: Guidance = field(default_factory=Guidance)
    kind: StepKind = "pose"
    say: tuple[str, ...] = ()
    """Plain speech (a `say` step): said as written; the title (`pose`) is not spoken."""
    chapter: bool = True
    """Starts a chapter titled `pose`; False for untitled speech, pauses and rests."""
    round: tuple[int, int] | None = None
    """(round, rounds) for a step unrolled from a block; the first step of a round says so."""
    round_start: bool = False
    clock: bool = False
    """Clock timing: instructions are said inside the hold, so the period is exact."""
    next_up: str | None = None
    """For a rest: the name of what comes next, announced during the rest."""
    time_left_ms: tuple[int, ...] = ()
    """Say how much is left at these times before the end of each hold ("One minute left.")."""
    side_rest_ms: int = 0
    """A rest between the sides."""
    side_cues: tuple[tuple[str, str], ...] = ()
    """(side, text) said after the side is announced."""
    breathing: Breathing | None = None
    section: str | None = None
    """The section (warm-up, main, cool-down, or any name) the step belongs to."""
    count_in_ms: int | None = None
    """A count-in just before the step starts; None: the routine's default."""
    count_in_each: bool = False
    """Its own count-in comes before every side and repetition, not only the first."""
    say_name: bool = True
    """Say the name (False: it is the chapter title only)."""
    pace: float | None = None
    """How unhurried the narration is (its own, else its section's): the quiet between
    sentences and instructions, and to settle, divided by it; None: 1."""
    speaker: Speaker = field(default_factory=Speaker)
    """Its own speaking rate, voice and language (else its block's, its section's)."""
    starts_at_ms: int | None = None
    """Pinned: the step starts at this time of the session (the first of a section `at`)."""
    number: int = 0
    """The step's number as its file counts steps (in the order written, a block's steps once
    however many rounds); 0 for a rest a block adds between its steps or rounds."""
    bed: BedChoice | None = None
    """The bed under this step (its own, else its block's or section's); None: the session's."""
    bed_level: float | None = None
    """That bed's loudness in LU relative to the speech; None: the session's level."""


@dataclass(frozen=True)
class Defaults:
    """Option defaults a routine declares; the command line overrides each."""

    narration: Narration | None = None
    length_ms: int | None = None
    rate: float | None = None
    countdown_ms: int | None = None
    countdown_beeps: bool | None = None
    """`countdown: beeps`: the last seconds are beeps rather than numbers (True), else None."""
    breath_cues: bool | None = None
    settle_ms: int | None = None
    switch_settle_ms: int | None = None
    pause_after_ms: int | None = None
    guidance: Guidance = field(default_factory=Guidance)
    bed: SoundRef | None = None
    """An ambience bed under the session: a built-in name, a sound file or a folder of them
    (in the work periods, when `bed_rest` is given)."""
    bed_rest: SoundRef | None = None
    """`bed: {work: ..., rest: ...}`: the bed in the rests; None: `bed` throughout."""
    bed_level: float | None = None
    """Bed loudness in LU relative to the speech."""
    count_in_ms: int | None = None
    """A count-in before every step that has none of its own."""
    count_in_each: bool = False
    """That count-in comes before every side and repetition too."""
    length_loc: Loc | None = field(default=None, compare=False)
    """Where `length` is written, to point at a length the routine cannot make."""


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
    pronounce: tuple[Pronunciation, ...] = ()
    get_ready_ms: int = 0
    """A "get ready" lead-in before the first step, counted down at its end."""
    get_ready_loc: Loc | None = None
    """Where `get_ready` is written, to locate what `check` says about it."""
    clock: bool = False
    """`timing: clock`: every period is exact, instructions said inside it."""
    halfway: str | None = None
    """Said at the middle of the session, in the quiet period that spans it."""
    phrases: tuple[tuple[str, str], ...] = ()
    """(name, text): built-in phrases in the routine's own words (`messages.PHRASES`)."""
    warnings: tuple[Problem, ...] = ()
    """What `check` warns about: likely slips that still make a routine."""
