"""The keys of breath-led steps: `flow:` (breath-paced movement, its cues on the phases of each
breath) and `breathe:` (a breathing pattern, every phase exact); part of the field table
`step_keys` holds."""

from __future__ import annotations

from . import kinds
from .keys import MAX_PAUSE_MS
from .kinds import BOOLEAN, DURATION, TEXT_LIST, integer, up_to
from .table import Table, key

__all__ = ["BREATHE", "BREATHE_KEYS", "FLOW", "FLOW_KEYS"]

DEFAULT_BREATH_MS = 6000
"""One whole breath of a flow when the routine gives none."""
DEFAULT_CYCLES = 5

# -- flow: ----------------------------------------------------------------------------------------

BREATHS = key("breaths", integer(1, 100), "How many whole breaths.", 6, required=True)
CUES = key(
    "cues",
    TEXT_LIST,
    "Said in turn on each breath: one cue per phase (usually an inhale cue, then an exhale cue).",
    ["Inhale and arch.", "Exhale and round."],
    required=True,
)
BREATH = key(
    "breath",
    DURATION,
    "Length of one whole breath (all phases), at least 1s per cue.",
    "6s",
    "8s",
    default=DEFAULT_BREATH_MS,
)
SHORT = key(
    "short",
    TEXT_LIST,
    "Shorter cues for the middle rounds, one per phase like `cues`; later rounds are left quiet.",
    ["Inhale.", "Exhale."],
    default_doc="the first sentence of each cue that has several",
)
MIN_PHASE_MS = 500
PHASES = key(
    "phases",
    kinds.DURATIONS,
    "Unequal phases: each cue's own length, one per cue (e.g. [2s, 1s]: 2 s up, 1 s down), "
    "each at least 500ms; instead of `breath`. A phase shorter than its cue takes as long as "
    "the cue needs.",
    ["2s", "1s"],
)
QUIET = key(
    "quiet",
    BOOLEAN,
    "Leave the later rounds quiet, to move with the breath on your own; false cues every round "
    "(counted repetitions, a flow led all the way).",
    False,
    default=True,
)
FLOW_SOUND = key(
    "sound",
    kinds.SOUNDS,
    "A sound at the start of every breath, or a list, one per cue, that starts each phase "
    "(`none`: no sound); inside the phase, before its cue, so each keeps its length: one of "
    "guidecast's sounds, a second shorter than its phase.",
    "woodblock",
    ["rise", "fall"],
    default_doc="none",
)
FLOW = Table(
    "flow",
    "Breath-paced movement (cat-cow style): for each breath, the cues are said on successive "
    "phases of that breath.",
    ({"breaths": 6, "cues": ["Inhale, lift your chest.", "Exhale, round your back."]},),
    (BREATHS, CUES, BREATH, SHORT, QUIET, PHASES, FLOW_SOUND),
)

# -- breathe: -------------------------------------------------------------------------------------

PATTERN = key(
    "pattern",
    kinds.BREATH_PATTERN,
    "Seconds per phase, 1-30 each: in-out (4-6), in-hold-out (4-7-8), in-hold-out-hold "
    "(4-4-4-4), or a list.",
    "4-7-8",
    [4, 4, 4, 4],
    required=True,
)
CYCLES = key("cycles", integer(1, 500), "How many cycles.", 8, default=DEFAULT_CYCLES)
FOR = key("for", DURATION, "Instead of `cycles`: as many whole cycles as fit this long.", "2m")
COUNT = key(
    "count",
    kinds.BREATH_COUNT,
    "true: count every second aloud; false: say only the phase words; tones: a soft tone "
    "starts each phase (rising to breathe in, falling to breathe out, steady to hold) and "
    "nothing is said.",
    False,
    "tones",
    default=(True, False),
)
BREATHE_PAUSE = key(
    "pause",
    up_to(MAX_PAUSE_MS, "a pause"),
    "Quiet between two cycles, to breathe freely before the pattern starts again.",
    "5s",
    default=0,
    default_doc="none",
)
AGAIN = key(
    "again",
    kinds.SAID_OR_OWN,
    'Say "Again." at the end of each pause between cycles, or your own text.',
    True,
    "Once more.",
    default=False,
)
BREATHE = Table(
    "breathe",
    "A breathing pattern, each phase exact to the clock: in-out, in-hold-out or "
    "in-hold-out-hold seconds.",
    ({"pattern": "4-7-8", "cycles": 4}, {"pattern": "4-4-4-4", "for": "2m"}),
    (PATTERN, CYCLES, FOR, COUNT, BREATHE_PAUSE, AGAIN),
)

FLOW_KEYS = FLOW.names
BREATHE_KEYS = BREATHE.names
