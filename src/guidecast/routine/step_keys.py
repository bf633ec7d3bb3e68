"""The keys of what a `steps:` list holds: poses (their `flow:` and `breathe:` in `breath_keys`),
speech, pauses, rests, blocks and sections; the other half of the field table begun in `keys`."""

from __future__ import annotations

from . import kinds
from .breath_keys import BREATHE, BREATHE_KEYS, FLOW, FLOW_KEYS
from .keys import (
    BED_LEVELS,
    COUNT_IN,
    GUIDANCE,
    MAX_PAUSE_MS,
    PACE,
    PAUSE_AFTER,
    SETTLE,
    SWITCH_SETTLE,
    TIMINGS,
)
from .kinds import BED, BOOLEAN, DURATION, TEXT, TEXT_LIST, integer, mapping, number, up_to
from .speaker_keys import SPEAKER_KEYS
from .table import Table, key

__all__ = [
    "BLOCK",
    "BREATHE",
    "BREATHE_KEYS",
    "ENTRIES",
    "FLOW",
    "FLOW_KEYS",
    "PAUSE_STEP",
    "REST_STEP",
    "SAY_STEP",
    "SECTION",
    "STEP",
]

MAX_BLOCK_DEPTH = 3
"""Blocks inside blocks inside blocks, and no deeper: a deeper routine is almost surely a slip."""
STEP_KINDS = ("hold", "flow", "move", "breathe")
"""A pose step has exactly one of these."""

# -- a pose or exercise -------------------------------------------------------------------------

POSE = key(
    "pose",
    TEXT,
    "Pose or exercise name: spoken at every level, and the chapter title.",
    "Child's Pose",
    "Reclined Twist",
    required=True,
)
SANSKRIT = key(
    "sanskrit", TEXT, 'Sanskrit name, spoken at full narration ("In Sanskrit, ...").', "Balasana"
)
CUE = key(
    "cue",
    TEXT,
    "The one key instruction, spoken at every narration level.",
    "Sink your hips toward your heels.",
)
HOW = key(
    "how",
    TEXT_LIST,
    "How to get into the pose, one line each: spoken at standard and full.",
    ["Kneel and bring your big toes together.", "Fold forward."],
)
WHY = key(
    "why",
    TEXT,
    "Why the pose helps: spoken at full.",
    "It gently lengthens the muscles along your spine.",
)
PROPS = key(
    "props",
    TEXT_LIST,
    'Props for this step, announced at standard and full ("For this pose, use ..."), unless '
    "the step before used the same.",
    ["a block"],
)
REMINDERS = key(
    "reminders",
    TEXT_LIST,
    "Said during holds of 60s or more at full narration, at most one per 45s, never one that "
    "repeats the cue; replaces the routine's reminders for this step.",
    ["Let your forehead rest.", "Breathe into your back."],
)
HOLD = key(
    "hold",
    kinds.HOLD,
    "Time in the pose, counted from the end of the settle time after the instructions: a "
    "duration, or a range that --length fits.",
    "1m",
    "45s",
    "2-4m",
    "1m30s",
)
MOVE = key(
    "move",
    kinds.HOLD,
    "Free movement instead of a hold: the `cue` invites, then the listener moves as they like "
    "for this long, with no scripted cues.",
    "1m",
    "30-60s",
)
SIDES = key(
    "sides",
    kinds.SIDES,
    "Repeat the hold on each side, each side its own chapter: true for [right, left], or two "
    "different side names in order.",
    True,
    ["left", "right"],
    default_doc="false",
)
SWITCH = key(
    "switch",
    TEXT,
    "Said before the second side.",
    "Come back to center, then twist the other way.",
    default_doc='"Gently release, and switch to the left side." (with the second side\'s name)',
)
REPS = key("reps", integer(1, 100), "Repetitions of the hold (per side).", 3, default=1)
REST = key("rest", DURATION, "Rest between repetitions (needs reps).", "10s")
FLOW_KEY = key("flow", mapping("flow"), "Breath-paced movement instead of a hold.", *FLOW.examples)
BREATHE_KEY = key(
    "breathe",
    mapping("breathe"),
    "Breathwork instead of a hold: every phase lasts exactly its count.",
    *BREATHE.examples,
)
SOUND = key(
    "sound",
    kinds.SOUND,
    "The sound that leads into this step (not played before a first step that has no "
    "introduction before it: the start sound leads in).",
    "gong",
    "sounds/drum.wav",
    "none",
    default_doc="the routine's transition sound",
)
CUE_SOUND = key(
    "cue_sound",
    kinds.SOUND,
    "A sound right after the step's announcement, to mark its start: after its instructions "
    "(paced), or after what is said ahead of it in the rest or get-ready before it, ending "
    "0.6s before the countdown (on the clock, one of guidecast's sounds).",
    "go",
    "woodblock",
    default_doc="none",
)
REP_SOUND = key(
    "rep_sound",
    kinds.SOUND,
    "A sound as each repetition's hold starts, on every side (paced timing; on the clock "
    "`sound` starts every repetition).",
    "woodblock",
    "go",
    default_doc="none",
)
TIME_LEFT = key(
    "time_left",
    kinds.TIME_LEFT,
    'Say how much is left at these times before each hold ends ("One minute left.").',
    ["1m", "10s"],
    "30s",
)
SIDE_REST = key(
    "side_rest", DURATION, 'A rest between the two sides ("Rest.", then the switch).', "10s"
)
SIDE_CUES = key(
    "side_cues",
    kinds.SIDE_CUES,
    "Text said for each side after it is announced.",
    {"right": "Step your right foot forward.", "left": "Step your left foot forward."},
)
SAY_NAME = key(
    "say_name",
    BOOLEAN,
    'Say the step\'s name (as its instructions start, and in "Next: ..."); false keeps it for '
    "the chapter title only.",
    False,
    default=True,
)
SPAN_BED = key(
    "bed",
    BED,
    "The bed here, instead of the session's, crossfaded in and out where it starts and ends: "
    "a built-in bed, none (quiet here), a sound file, a folder of them, or {work: ..., "
    "rest: ...} for one in the work periods and another in the rests.",
    "rain",
    "none",
    {"work": "drone", "rest": "ocean"},
    default_doc="the enclosing block's or section's, else the session's",
)
SPAN_BED_LEVEL = key(
    "bed_level",
    number(*BED_LEVELS),
    "The bed's loudness here, in LU relative to the speech.",
    -15,
    default_doc="the enclosing block's or section's, else the session's",
)
STEP = Table(
    "step",
    "One pose or exercise: a `hold` (time in the pose), a `flow` (breath-paced movement), a "
    "`move` (free movement) or `breathe` (a breathing pattern).",
    ({"pose": "Child's Pose", "cue": "Sink your hips toward your heels.", "hold": "1-2m"},),
    (POSE, SANSKRIT, CUE, HOW, WHY, PROPS, REMINDERS, HOLD, MOVE, SIDES, SWITCH, REPS, REST,
     FLOW_KEY, BREATHE_KEY, SOUND, CUE_SOUND, REP_SOUND, SETTLE, SWITCH_SETTLE, PAUSE_AFTER,
     GUIDANCE, TIME_LEFT, SIDE_REST, SIDE_CUES, COUNT_IN, SAY_NAME, PACE, *SPEAKER_KEYS,
     SPAN_BED, SPAN_BED_LEVEL),
    one_of=STEP_KINDS,
    excludes=(("flow", ("reps",)), ("move", ("reps", "sides")), ("breathe", ("reps", "sides"))),
    needs=(("rest", "reps"), ("side_rest", "sides"), ("rep_sound", "reps")),
    snippets=(
        {"label": "hold", "description": "A pose held for a time",
         "body": {"pose": "$1", "cue": "$2", "hold": "${3:1m}"}},
        {"label": "flow", "description": "A breath-paced movement",
         "body": {"pose": "$1", "flow": {"breaths": 6, "cues": ["$2", "$3"]}}},
    ),
    extensible=True,
)  # fmt: skip

# -- other kinds of step ------------------------------------------------------------------------

CHAPTER = key(
    "chapter",
    TEXT,
    "A chapter title, not spoken; without it the step continues the chapter before.",
    "Silence",
)
SAY = key("say", TEXT_LIST, "What is said, as written.", ["Let your breath settle."], required=True)
SAY_HOLD = key("hold", kinds.HOLD, "Quiet after the speech (a range fits --length).", "30s", "1-2m")
SAY_PAUSE_AFTER = key(
    "pause_after",
    up_to(MAX_PAUSE_MS, "a pause"),
    "More quiet before the next step.",
    "5s",
    default_doc="the routine's `defaults.pause_after`, else none",
)
SAY_SOUND = key("sound", kinds.SOUND, "A sound before the speech.", "bowl", default_doc="none")
SAY_CUE_SOUND = key(
    "cue_sound",
    kinds.SOUND,
    "A sound right after the speech, before the quiet (`hold`).",
    "chime",
    default_doc="none",
)
SAY_STEP = Table(
    "sayStep",
    "Plain speech, for meditation: said as written; `chapter` titles it without being spoken; "
    "`hold` is quiet after it.",
    ({"chapter": "Feet", "say": ["Bring your attention to your feet."], "hold": "30s"},),
    (SAY, CHAPTER, SAY_HOLD, SAY_PAUSE_AFTER, SAY_SOUND, SAY_CUE_SOUND, PACE, *SPEAKER_KEYS),
    extensible=True,
)
PAUSE = key(
    "pause",
    kinds.HOLD,
    "How long the quiet lasts (a range fits --length).",
    "1m",
    "2-3m",
    required=True,
)
PAUSE_SOUND = key(
    "sound",
    kinds.SOUND,
    "A bell struck as the pause starts, inside it: the pause keeps its length (an interval "
    "bell in a silent sitting).",
    "bowl",
    default_doc="none",
)
PAUSE_STEP = Table(
    "pauseStep",
    "A quiet pause, with an optional chapter title and a bell at its start.",
    ({"pause": "1m", "chapter": "Silence"}, {"pause": "5m", "sound": "bowl"}),
    (PAUSE, CHAPTER, PAUSE_SOUND),
    extensible=True,
)
REST_ALONE = key("rest", DURATION, "How long the rest lasts.", "10s", required=True)
REST_STEP = Table(
    "restStep",
    'A rest between exercises: "Rest.", then what comes next, counted down on the clock.',
    ({"rest": "10s"},),
    (REST_ALONE,),
    extensible=True,
)

_SQUATS = [{"pose": "Squats", "hold": "30s"}]
BLOCK_NAME = key(
    "block", TEXT, "The block's name, for whoever reads the routine.", "Circuit", required=True
)
ROUNDS = key(
    "rounds",
    integer(1, 100),
    'How many times the steps repeat ("Round two of four.").',
    4,
    default=1,
)
ROUND_REST = key(
    "rest",
    DURATION,
    "Rest between rounds (none after the last; add a `rest:` step for one).",
    "60s",
)
BETWEEN = key(
    "between", DURATION, "Rest between the steps of a round, announcing the next one.", "10s"
)
BLOCK_TIMING = key(
    "timing",
    kinds.choice("timing", TIMINGS),
    "clock: every period exact, instructions said inside it.",
    "clock",
    default_doc="the routine's",
)
BLOCK_STEPS = key("steps", kinds.STEPS, "The steps of one round.", _SQUATS, required=True)
BLOCK = Table(
    "block",
    "Steps repeated in rounds, with rests between rounds and between steps; blocks nest up to "
    f"{MAX_BLOCK_DEPTH} deep.",
    ({"block": "Circuit", "rounds": 4, "rest": "60s", "between": "10s", "steps": _SQUATS},),
    (
        BLOCK_NAME,
        ROUNDS,
        ROUND_REST,
        BETWEEN,
        BLOCK_TIMING,
        BLOCK_STEPS,
        *SPEAKER_KEYS,
        SPAN_BED,
        SPAN_BED_LEVEL,
    ),
    extensible=True,
)

_CAT_COW = [{"pose": "Cat-Cow", "hold": "1m"}]
SECTION_NAME = key("section", TEXT, "The section's name.", "Warm-up", required=True)
SECTION_STEPS = key(
    "steps",
    kinds.STEPS,
    "The section's steps (blocks allowed; sections do not nest).",
    _CAT_COW,
    required=True,
)
SECTION_AT = key(
    "at",
    DURATION,
    "Start the section at this time of the session: quiet fills the time before it (exact on "
    "the clock; a section that cannot start by then is an error).",
    "3m30s",
)
SECTION = Table(
    "section",
    "Steps grouped under a name (warm-up, main, cool-down...): the first chapter says it, and "
    "the ID3 table of contents groups the section's chapters.",
    ({"section": "Warm-up", "steps": _CAT_COW},),
    (SECTION_NAME, SECTION_STEPS, SECTION_AT, PACE, *SPEAKER_KEYS, SPAN_BED, SPAN_BED_LEVEL),
    extensible=True,
)

ENTRIES = (STEP, SAY_STEP, PAUSE_STEP, REST_STEP, BLOCK, SECTION)
"""What a `steps:` list holds, told apart by their keys (`say`, `pause`, `block`...)."""

STEP_KEYS = STEP.names
SAY_KEYS = SAY_STEP.names
PAUSE_KEYS = PAUSE_STEP.names
BLOCK_KEYS = BLOCK.names
