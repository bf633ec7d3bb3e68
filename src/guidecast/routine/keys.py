"""Every routine key, declared once: its name, kind (parser, limits), default, doc and examples.

In the spirit of mkdocs' `config_options`: the loader reads each mapping by its `Table` (known
keys, did-you-mean, required keys, parsers, ranges), `guidecast schema` writes the JSON Schema
from the tables, and the key tables of docs/routines.md are generated from them. A key that
means the same in two places (`settle` in `defaults:` and in a step) is one `Key` listed in
both tables. This module holds the top level, `defaults:`, `sounds:` and `guidance:`, and the
defaults the compiler falls back on; `step_keys` holds what a `steps:` list holds.
"""

from __future__ import annotations

from ..errors import Loc
from ..model import Narration, Routine, SoundRef
from . import kinds
from .kinds import BOOLEAN, DURATION, SOUND, TEXT, TEXT_LIST, mapping, number, up_to
from .sounds import BUILTIN_BEDS
from .table import Table, key

__all__ = [
    "BED_LEVEL",
    "BED_LEVELS",
    "CLOCK_BED_LEVEL",
    "DEFAULTS",
    "DEFAULT_BED",
    "DEFAULT_BED_LEVEL",
    "DEFAULT_RATE",
    "GUIDANCE_TABLE",
    "MAX_COUNTDOWN_MS",
    "PAUSE_AFTER_MS",
    "RATE_RANGE",
    "ROUTINE",
    "SETTLE_MS",
    "SOUNDS",
    "SWITCH_SETTLE_MS",
]

# -- shared facts -------------------------------------------------------------------------------

RATE_RANGE = (0.5, 2.0)
"""Speaking rates a routine or the command line may ask for."""
DEFAULT_RATE = 1.0
SETTLE_MS = 5000
"""Time to move into a pose after its instructions, before the hold starts."""
SWITCH_SETTLE_MS = 4000
"""Time to change sides, or to start the next repetition, before the hold."""
PAUSE_AFTER_MS = 2000
"""Quiet after a step, before the next one begins."""
MAX_SETTLE_MS = 120_000
MAX_PAUSE_MS = 600_000
MAX_COUNTDOWN_MS = 60_000
BED_LEVEL = -20.0
"""Bed loudness in LU relative to the speech."""
DEFAULT_BED = "air"
"""The bed a session gets when neither the routine nor the command line names one: a soft,
dark room tone, so that a hold never sounds like a stopped player."""
DEFAULT_BED_LEVEL = -24.0
"""The default bed's loudness (LU relative to the speech) when no level is given: faint."""
CLOCK_BED_LEVEL = -28.0
"""...and on the clock, where the tones carry the session: fainter still."""
BED_LEVELS = (-40.0, -6.0)
TIMINGS = ("paced", "clock")
ROUTINE_ENGINES = ("piper", "gtts")
"""Engines a routine may name (the fake one is for tests, on the command line only)."""


# -- keys of more than one place ----------------------------------------------------------------

SETTLE = key(
    "settle",
    up_to(MAX_SETTLE_MS, "a settle time"),
    "Time after the instructions to move into the pose before its hold starts; not part of "
    "the hold, and --length never changes it.",
    "10s",
    default=SETTLE_MS,
    default_doc="5s, or 10s into lying, kneeling or standing",
)
PACE_RANGE = (0.5, 2.0)
PACE = key(
    "pace",
    number(*PACE_RANGE),
    "How unhurried the narration is here: 0.8 leaves a quarter more quiet between sentences "
    "and instructions, and to settle into each pose; 1.25 less. The voice keeps its rate.",
    0.8,
    default=1.0,
)
MAX_COUNT_IN_MS = 10_000
COUNT_IN = key(
    "count_in",
    kinds.count_in(MAX_COUNT_IN_MS),
    'A count-in just before the step starts: its last seconds counted, "Three. Two. One.", '
    'with "Get ready." first when it lasts 5s or more; 0 turns a default off. '
    "`{length: 5s, each: true}` counts in every side and every repetition too.",
    "3s",
    "5s",
    {"length": "5s", "each": True},
    default=(0, False),
    default_doc="0 (none)",
)
SWITCH_SETTLE = key(
    "switch_settle",
    up_to(MAX_SETTLE_MS, "a settle time"),
    "Time to change sides, or to start the next repetition, before the hold.",
    "8s",
    default=SWITCH_SETTLE_MS,
)
PAUSE_AFTER = key(
    "pause_after",
    up_to(MAX_PAUSE_MS, "a pause"),
    "Quiet after the step, before the next one begins.",
    "10s",
    default=PAUSE_AFTER_MS,
)
_GUIDANCE = {"halfway": False, "release": "Roll slowly onto your right side."}

# -- guidance: ----------------------------------------------------------------------------------

_MOMENT = kinds.TRUE_OR_TEXT
GUIDANCE_TABLE = Table(
    "guidance",
    "Guidance in and after long holds, per moment: true (on), false (off) or a text that "
    "replaces guidecast's wordings. `length` text may contain {time} (e.g. 'about two minutes').",
    (_GUIDANCE,),
    (
        key(
            "length",
            _MOMENT,
            'Say how long the hold lasts at its start ("Stay here for about two minutes.").',
            False,
            "Stay in this shape for {time}.",
        ),
        key(
            "halfway",
            _MOMENT,
            "A cue at the halfway point of long holds.",
            False,
            "Halfway. Keep breathing.",
        ),
        key(
            "ending",
            _MOMENT,
            "A cue for the last few breaths before the hold ends.",
            False,
            "Three more breaths.",
        ),
        key(
            "release",
            _MOMENT,
            "After the hold, a cue to come out of the pose gently.",
            False,
            "Roll slowly onto your side.",
        ),
    ),
)

GUIDANCE = key(
    "guidance",
    kinds.guidance(GUIDANCE_TABLE.names),
    "Guidance in and after long holds: each of length, halfway, ending, release true, false "
    "or your own text.",
    _GUIDANCE,
)

# -- defaults: ----------------------------------------------------------------------------------

NARRATION = key(
    "narration",
    kinds.NARRATION,
    "How much is said: brief (pose and cue), standard (+ props and how-to), full (+ Sanskrit, "
    "why, reminders).",
    "standard",
    default=Narration.STANDARD,
)
LENGTH = key(
    "length",
    DURATION,
    "Target session length: holds given as ranges stretch or shrink to fit.",
    "20m",
    "1h5m",
    default_doc="every range at its midpoint",
)
RATE = key(
    "rate",
    number(*RATE_RANGE),
    "Speaking rate: 1.0 is the voice's natural pace, 0.8 slower, 1.2 faster.",
    1.0,
    0.9,
    default=DEFAULT_RATE,
)
COUNTDOWN = key(
    "countdown",
    kinds.countdown(MAX_COUNTDOWN_MS, "60s"),
    "Count down the last seconds of every hold, e.g. 5s; 0 turns it off; beeps sounds three "
    "short beeps in the last three seconds instead of saying numbers.",
    "5s",
    "beeps",
    0,
    default=(0, False),
    default_doc="0 (off)",
)
BREATH_CUES = key(
    "breath_cues",
    BOOLEAN,
    "Guide the first breaths of every hold of 20s or more.",
    True,
    default=False,
)
BED = key(
    "bed",
    kinds.BED,
    f"An ambience bed under the whole session, ducked under speech: a built-in bed "
    f"({', '.join(BUILTIN_BEDS)}), none, a sound file relative to the routine file (looped), "
    "a folder of sound files (music/: played in name order, crossfaded, round again), or "
    "{work: ..., rest: ...} for one bed in the work periods and another in the rests.",
    "ocean",
    "sounds/stream.flac",
    "music/",
    {"work": "drone", "rest": "ocean"},
    default_doc=f"{DEFAULT_BED}, faint",
)
BED_LEVEL_KEY = key(
    "bed_level",
    number(*BED_LEVELS),
    f"Bed loudness in LU relative to the speech: -15 is a present bed, -25 a faint one. "
    f"The default bed, when no bed is named, plays at {DEFAULT_BED_LEVEL:g} "
    f"({CLOCK_BED_LEVEL:g} with timing: clock).",
    -20,
    -25,
    default=BED_LEVEL,
)
DEFAULTS = Table(
    "defaults",
    "Default command-line options for this routine; options given on the command line win.",
    ({"narration": "full", "length": "20m"},),
    (NARRATION, LENGTH, RATE, COUNTDOWN, BREATH_CUES, SETTLE, SWITCH_SETTLE, PAUSE_AFTER,
     GUIDANCE, BED, BED_LEVEL_KEY, COUNT_IN),
)  # fmt: skip

# -- sounds: ------------------------------------------------------------------------------------

_GUIDECAST = Loc("guidecast")
START = key("start", SOUND, "Played first.", "bowl", default=SoundRef("bowl", None, _GUIDECAST))
TRANSITION = key(
    "transition",
    SOUND,
    "Leads into every step after the first.",
    "chime",
    default=SoundRef("chime", None, _GUIDECAST),
)
END = key("end", SOUND, "Played last.", "bowl", default=SoundRef("bowl", None, _GUIDECAST))
SOUNDS = Table(
    "sounds",
    "Bells: at the start, between steps, and at the end.",
    ({"start": "bowl", "transition": "chime", "end": "bowl"},),
    (START, TRANSITION, END),
    inline=True,
)

# -- the top level ------------------------------------------------------------------------------

TITLE = key(
    "title",
    TEXT,
    "Session title: the ID3 title and the podcast episode title.",
    "Love Your Spine",
    required=True,
)
DESCRIPTION = key(
    "description",
    TEXT,
    "One or two sentences about the session (ID3 comment, episode description).",
    "A slow yin sequence that moves your spine in every direction.",
)
AUTHOR = key("author", TEXT, "ID3 artist and podcast author.", "guidecast", default=Routine.author)
SERIES = key("series", TEXT, "ID3 album and podcast grouping.", "Back Care")
GENRE = key("genre", TEXT, "ID3 genre.", "Health & Fitness", default=Routine.genre)
YEAR = key(
    "year", kinds.integer(1900, 2999), "ID3 year.", 2025, default_doc="the year of rendering"
)
TRACK = key("track", kinds.integer(1, 9999), "ID3 track number.", 1)
LANGUAGE = key(
    "language",
    kinds.LANGUAGE,
    "BCP 47 language tag, always read as text (`no` is Norwegian): the language of the "
    "phrases guidecast adds, of the voice and of the ID3 tags.",
    "en",
    "en-GB",
    "no",
    default=Routine.language,
)
COVER = key(
    "cover",
    kinds.COVER,
    "Square JPEG or PNG cover image, 1400-3000 px, relative to the routine file.",
    "cover.jpg",
    "../assets/spine.png",
    default_doc="made from the title",
)
ENGINE = key(
    "engine",
    kinds.choice("engine", ROUTINE_ENGINES),
    "Default speech engine (the --engine option wins): piper (offline) or gtts (online).",
    "piper",
    default_doc="piper",
)
VOICE = key(
    "voice",
    TEXT,
    "Engine-specific voice name, or a path to a Piper .onnx voice file.",
    "en_US-joe-medium",
    "voices/my-voice.onnx",
    default_doc="an installed voice of the routine's language",
)
PROPS = key(
    "props",
    TEXT_LIST,
    "Props for the whole session, announced in the introduction at standard and full "
    'narration ("Props for this session: ...").',
    ["a yoga block", "a blanket"],
)
SAFETY = key(
    "safety",
    TEXT,
    "Safety note, spoken after the introduction (and the props) at every narration level.",
    "If anything hurts sharply, ease out and rest.",
)
SOUNDS_KEY = key("sounds", mapping("sounds"), SOUNDS.doc, *SOUNDS.examples)
REMINDERS = key(
    "reminders",
    TEXT_LIST,
    "Generic reminders said during holds of 60s or more at full narration, for steps that "
    "have no reminders of their own.",
    ["Let your jaw soften.", "Keep breathing slowly."],
)
DEFAULTS_KEY = key("defaults", mapping("defaults"), DEFAULTS.doc, *DEFAULTS.examples)
INTRO = key(
    "intro",
    TEXT,
    "Spoken first (after the start sound), at every narration level.",
    "Welcome. Find a quiet place and settle in.",
)
OUTRO = key(
    "outro",
    TEXT,
    "Spoken last (before the end sound), at every narration level.",
    "Take a moment to notice how you feel. Well done.",
)
PRONOUNCE = key(
    "pronounce",
    kinds.PRONOUNCE,
    "How the voice says words: a respelling, or phonemes written [[...]] in espeak IPA (see "
    "`guidecast say WORD --phonemes`); overrides the built-in lexicon.",
    {"Gomukhasana": "go-moo-KAH-suh-nuh", "Om": "[[ˈoʊm]]"},
)
TIMING = key(
    "timing",
    kinds.choice("timing", TIMINGS),
    "paced: instructions first, then time to settle, then the hold. clock: every period lasts "
    "exactly its time, instructions said inside it (intervals, HIIT).",
    "clock",
    default="paced",
)
GET_READY = key(
    "get_ready",
    DURATION,
    'A lead-in before the first step: "Get ready.", what comes first, and a countdown.',
    "10s",
)
HALFWAY = key(
    "halfway",
    kinds.HALFWAY,
    'Say "You are halfway through the session." (true) or your own words at the middle of '
    "the session, in the quiet that spans it.",
    True,
    "Halfway. Keep it easy.",
)
PHRASES_KEY = key(
    "phrases",
    kinds.PHRASES,
    "Your own words for guidecast's phrases, by name: get_ready, first, next, rest, time_left, "
    "round, last_round, repetition, begin, again, begin_side, begin_side_reps, switch, "
    "release_rest, breathe_in, breathe_out, in, out, hold, closing, closing_breath, "
    "halfway_session, flow_quiet, flow_stop. Fields such as {name} or {time} as in ours.",
    {"rest": "Shake it out.", "next": "Coming up: {name}.", "time_left": "{time} to go!"},
)
STEPS = key(
    "steps",
    kinds.STEPS,
    "The poses, exercises, speech, pauses, rests, blocks and sections, in order.",
    [{"pose": "Child's Pose", "hold": "1-2m"}],
    required=True,
)
ROUTINE = Table(
    "routine",
    "A guided session (yoga, stretching, meditation) that guidecast turns into narrated audio.",
    (),
    (TITLE, DESCRIPTION, AUTHOR, SERIES, GENRE, YEAR, TRACK, LANGUAGE, COVER, ENGINE, VOICE,
     PROPS, SAFETY, SOUNDS_KEY, REMINDERS, DEFAULTS_KEY, INTRO, OUTRO, PRONOUNCE, TIMING,
     GET_READY, HALFWAY, PHRASES_KEY, STEPS),
    extensible=True,
)  # fmt: skip

ROUTINE_KEYS = ROUTINE.names
DEFAULT_KEYS = DEFAULTS.names
SOUND_KEYS = SOUNDS.names
