"""Narrate a pose the way a teacher leads one: the set-up first and the key cue last, time to
move into the pose, a hold you can hear start on every side and repetition, guidance inside
long holds, and flows that go quiet after the first rounds and then say when to stop.
"""

from __future__ import annotations

import math
import re

from ..lang.speech import sentences
from ..model import Flow, Narration, Step
from .guidance import HoldPlan, guide_cues, wanted
from .timed import Narrator, after, count_in, countdown_ms, period, rest, sound_ms, time_left
from .timeline import Cue, Silence, Sound

__all__ = [
    "LONG_HOLD_MS",
    "flow_rounds",
    "fresh_reminders",
    "hold_cues",
    "instructions",
    "paced_pose",
    "restates",
    "setup_lines",
]

REMINDER_EVERY_MS = 45_000
LONG_HOLD_MS = 60_000
BREATH_CUE_HOLD_MS = 20_000
BREATH_CUES = ((0, "Breathe in."), (4000, "Breathe out."), (8000, "In again."), (12000, "And out."))
"""--breath-cues: the first two breaths of a hold, guided at these times (when, message id)."""
FLOW_FULL_ROUNDS = 2
FLOW_QUIET_SHARE = 0.5
"""Share of a flow's rounds (of four or more) left without cues."""
_STOP_WORDS = frozenset(
    ("the", "and", "your", "you", "with", "for", "from", "into", "onto", "over", "that",
     "this", "then", "them", "they", "its", "are", "can", "let", "through", "toward",
     "towards", "about", "both", "there", "while", "each")
)  # fmt: skip
"""Words too common to tell what an English instruction asks for."""


def plain(text: str) -> str:
    """A sentence without case or punctuation, to tell when two say the same."""
    return re.sub(r"[^\w ]+", "", text.lower()).strip()


def _content(text: str) -> set[str]:
    """The words that carry an instruction, crudely singular ('elbows' is 'elbow')."""
    words = re.findall(r"[^\W\d_]+", text.lower())
    return {w[:-1] if w.endswith("s") and len(w) > 3 else w for w in words}.difference(
        _STOP_WORDS
    ) - {w for w in words if len(w) < 3}


def restates(line: str, cue: str) -> bool:
    """A how-to line that says what the cue says in other words: most of each one's words are
    the other's ("Cross your forearms, hold each elbow, and let your whole upper body hang." and
    "Hold your elbows and let your upper body hang heavy.")."""
    a, b = _content(line), _content(cue)
    shared = len(a & b)
    if shared < 3:
        return False
    of_line, of_cue = shared / len(a), shared / len(b)
    return min(of_line, of_cue) >= 0.5 and of_line + of_cue >= 1.05


def setup_lines(step: Step) -> list[str]:
    """The how-to lines said before the cue: each, unless it restates the cue."""
    return [line for line in step.how if not (step.cue and restates(line, step.cue))]


def instructions(n: Narrator, index: int, step: Step, *, cue: bool = True) -> None:
    """The pose's name and what comes with it by level, then the set-up, then (with `cue`)
    the key cue, said once, as the last thing before moving into the pose."""
    if step.say_name:
        n.say(step.pose, index)  # a full stop is added only when the title has no end mark
    if step.sanskrit and n.at(Narration.FULL):
        n.say(n.lang.say("In Sanskrit, {name}.", name=step.sanskrit), index)
    if step.props and n.at(Narration.STANDARD) and not _same_props(n, index):
        items = n.lang.join(step.props)
        n.say(n.lang.say("For this pose, use {items}.", items=items), index)
    if n.at(Narration.FULL):
        n.say(step.why, index)
    if n.at(Narration.STANDARD):
        for line in setup_lines(step):
            n.say(line, index)
    if cue:
        n.say(step.cue, index)


def _same_props(n: Narrator, index: int) -> bool:
    """The step before uses the same props (they are in the listener's hands already)."""
    steps = n.routine.steps
    return index > 0 and steps[index - 1].props == steps[index].props


def paced_pose(n: Narrator, index: int, step: Step, *, lead_in: bool) -> None:
    """A pose on its own time: instructions, time to settle, then each side's holds."""
    sides = step.sides or (None,)
    reps = step.reps > 1 and step.flow is None and not step.move
    for side_no, side in enumerate(sides):
        n.chapter(n.chapter_title(step, side), index, step)
        if side_no == 0:
            if lead_in:
                n.sound(step.sound or n.routine.sounds.transition)
            n.say(n.round_line(step), index)
            instructions(n, index, step, cue=not reps)
            if step.move:
                _move_length(n, index, step)
                after(n, step.cue_sound)
            elif reps:  # into position first; then count the repetition, then its movement
                n.quiet(n.settle(step), "settle", index)
                n.say(n.first_line(side, step), index)
                n.say(n.side_cue(step, side), index)
                n.say(step.cue, index)
                after(n, step.cue_sound)
                n.quiet(n.switch_settle(step), "settle", index)
            else:
                n.say(n.first_line(side, step), index)
                n.say(n.side_cue(step, side), index)
                after(n, step.cue_sound)
                n.quiet(n.settle(step), "settle", index)
        else:
            n.say(n.switch_line(step, side), index)
            n.say(n.side_cue(step, side), index)
            n.quiet(n.switch_settle(step), "settle", index)
        count_in(n, index, step, again=side_no > 0)
        _body(n, index, step)
        if step.side_rest_ms and side_no < len(sides) - 1:
            rest(n, index, step.side_rest_ms)
    _release(n, index, step)
    n.quiet(n.pause_after(step), "pause", index)


def _move_length(n: Narrator, index: int, step: Step) -> None:
    """How long free movement lasts, said as part of its invitation."""
    hold_ms = n.holds[index]
    plan = n.guidance(step)
    if hold_ms and wanted("length", n.options.narration, hold_ms, plan):
        time = n.lang.spoken_time(hold_ms)
        n.say(n.phrases.say("move_length", plan.length, time=time), index, joined=True)


def _release(n: Narrator, index: int, step: Step) -> None:
    """After the last hold, how to come out: for long holds, and after every last repetition
    (not before an outro, which says its own, unless repetitions need it)."""
    hold_ms = n.holds[index]
    if step.flow is not None or step.move or not hold_ms:
        return
    plan = n.guidance(step)
    before_outro = index == len(n.routine.steps) - 1 and bool(n.routine.outro)
    repeated = step.reps > 1 and plan.release is not False
    if repeated or (wanted("release", n.options.narration, hold_ms, plan) and not before_outro):
        n.say(n.phrases.say("release", plan.release), index)


def _body(n: Narrator, index: int, step: Step) -> None:
    if step.flow is not None:
        _flow(n, index, step.flow)
        return
    hold_ms = n.holds[index]
    assert hold_ms is not None
    if step.move:
        plan = HoldPlan(hold_ms, n.options.narration, n.guidance(step), False, True)
        n.cues(Silence(hold_ms, "move", index, tuple(guide_cues(plan, n.phrases))))
        return
    for rep in range(step.reps):
        if rep > 0:
            if step.rest_ms:
                n.say(n.lang.say("Release and rest."), index)
                rest(n, index, step.rest_ms, said=False)
            n.say(n.rep_line(rep, step.reps), index)
            n.quiet(n.switch_settle(step), "settle", index)
            count_in(n, index, step, again=True)
        after(n, step.rep_sound)  # each repetition's hold starts as its sound ends
        cues = hold_cues(n, index, step, hold_ms, first=rep == 0)
        counted = countdown_ms(n, hold_ms, clock=False, margin=5000)
        period(n, index, "hold", hold_ms, cues, counted=counted)


def hold_cues(
    n: Narrator, index: int, step: Step, hold_ms: int, *, first: bool, opening: bool = True
) -> list[Cue]:
    """What is said inside a hold, its countdown aside: breath cues, time left, guidance (with
    something said at its start, when `opening`) and reminders."""
    o = n.options
    cues: list[Cue] = []
    breath_cues = o.breath_cues and hold_ms >= BREATH_CUE_HOLD_MS
    if breath_cues:
        cues += [Cue(at, n.lang.say(text)) for at, text in BREATH_CUES]
    counted = countdown_ms(n, hold_ms, clock=step.clock, margin=5000)
    plan = HoldPlan(
        hold_ms,
        o.narration,
        n.guidance(step),
        first,
        countdown_ms=counted,
        opening=opening and not breath_cues,  # else "Breathe in." opens it
    )
    cues += time_left(n, step, hold_ms)
    cues += guide_cues(plan, n.phrases)
    reminders = fresh_reminders(step, step.reminders or n.routine.reminders)
    if n.at(Narration.FULL) and reminders and hold_ms >= LONG_HOLD_MS:
        count = min(len(reminders), hold_ms // REMINDER_EVERY_MS)
        for k in range(count):
            at = hold_ms * (k + 1) // (count + 1)
            cues.append(Cue(at, reminders[k], flexible=True))
    return cues


def fresh_reminders(step: Step, reminders: tuple[str, ...]) -> list[str]:
    """The reminders that do not repeat the step's cue or one of its how-to lines."""
    said = {plain(t) for t in (step.cue or "", *step.how) for t in sentences(t) if t}
    return [r for r in reminders if not all(plain(s) in said for s in sentences(r))]


def _flow(n: Narrator, index: int, flow: Flow) -> None:
    """The first rounds fully cued, then short cues, then quiet rounds to breathe in, and a cue
    to stop when the quiet rounds are over."""
    equal = flow.breath_ms // len(flow.cues)
    phases_ms = flow.phases_ms or (equal,) * len(flow.cues)
    full, short, quiet = flow_rounds(flow)
    brief = flow.short or _short_cues(flow.cues)
    for round_no in range(flow.breaths):
        if round_no < full:
            said: tuple[str | None, ...] = flow.cues
        elif round_no < full + short:
            said = brief
        elif round_no == full + short and quiet > 2 and n.at(Narration.STANDARD):
            said = (n.phrases.say("flow_quiet", None),)
        else:
            said = ()
        for phase in range(len(flow.cues)):
            text = said[phase] if phase < len(said) else None
            cues = (Cue(0, text),) if text else ()
            ms = phases_ms[phase]
            sound = flow.sounds[phase] if flow.sounds else None
            if sound is not None and not sound.is_none:
                # The phase starts on its sound, inside it: the breath keeps its length.
                n.events.append(Sound(sound))
                ms -= sound_ms(sound)
            n.cues(Silence(ms, "breath", index, cues))
    if quiet >= 2:
        n.say(n.phrases.say("flow_stop", None), index)


def _short_cues(cues: tuple[str, ...]) -> tuple[str | None, ...]:
    """Each cue's first sentence when it has several, else the cue if it is short."""
    out: list[str | None] = []
    for cue in cues:
        parts = sentences(cue)
        out.append(parts[0] if len(parts) > 1 else cue if len(cue.split()) <= 3 else None)
    return tuple(out) if all(out) else ()


def flow_rounds(flow: Flow) -> tuple[int, int, int]:
    """(fully cued, shortly cued, quiet) rounds: short flows are cued throughout."""
    n = flow.breaths
    if n < 4:
        return n, 0, 0
    if not flow.quiet:
        has_short = bool(flow.short or _short_cues(flow.cues))
        full = min(FLOW_FULL_ROUNDS, n) if has_short else n
        return full, n - full, 0
    quiet = math.ceil(n * FLOW_QUIET_SHARE) + 1  # one quiet round says to keep going
    full = min(FLOW_FULL_ROUNDS, n - quiet) if n >= 6 else 1
    has_short = bool(flow.short or _short_cues(flow.cues))
    short = n - quiet - full if has_short else 0
    return full, short, n - full - short
