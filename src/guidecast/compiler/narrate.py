"""Narrate a routine for one set of hold lengths: the events a teacher would say and leave quiet.

This is the heart of the compiler (`compiler.py` chooses the hold lengths and calls `narrate`).
Pacing lives here: the pause between sentences and between instructions, the time to move into
a pose before its hold, guidance inside long holds, flows that go quiet after the first rounds.
"""

from __future__ import annotations

import math
import re

from ..lang.i18n import Language, LanguageError, language_for
from ..lang.speech import sentences
from ..model import Flow, Guidance, Narration, Routine, SoundRef, Step
from ..routine.keys import PAUSE_AFTER_MS, SETTLE_MS, SWITCH_SETTLE_MS
from . import timed
from .guidance import HoldPlan, Phrases, guide_cues, wanted
from .options import Options, first
from .timeline import Chapter, Cue, Event, Silence, SilenceKind, Sound, Speak

__all__ = ["BELL_GAP_MS", "BIG_SETTLE_MS", "END_MS", "ITEM_GAP_MS", "SENTENCE_GAP_MS", "narrate"]

SENTENCE_GAP_MS = 700
"""Quiet between two sentences of one instruction."""
ITEM_GAP_MS = 1200
"""Quiet between two instructions (a cue, each how-to line), so each can land."""
BELL_GAP_MS = 1200
"""Quiet after a bell before the voice comes in."""
BIG_SETTLE_MS = 10_000
"""... or this long when the instructions move the body to another level: down to the floor,
onto the back or belly, onto hands and knees, up to standing."""
_BIG_MOVE = re.compile(
    r"\b(lie|lying|lay yourself|on(to)? your (back|belly|stomach|side)|hands and knees"
    r"|all fours|kneel(ing)?|(down|up) (to|onto|from) the (floor|mat)|to stand(ing)?|stand up"
    r"|roll (onto|over)|come (up )?to sit|sit down)\b",
    re.IGNORECASE,
)
END_MS = 3000
"""Quiet after the final bell, so the session does not stop abruptly."""
REMINDER_EVERY_MS = 45_000
LONG_HOLD_MS = 60_000
BREATH_CUE_HOLD_MS = 20_000
BREATH_CUES = ((0, "Breathe in."), (4000, "Breathe out."), (8000, "In again."), (12000, "And out."))
"""(when, message id)"""
"""--breath-cues: the first two breaths of a hold, guided at these times."""
FLOW_FULL_ROUNDS = 2
FLOW_QUIET_SHARE = 0.5
"""Share of a flow's rounds (of four or more) left without cues."""


def speaking(tag: str) -> Language:
    """The routine's language; English phrases for a language guidecast has none in yet (check
    warns about it)."""
    try:
        return language_for(tag)
    except LanguageError:
        return language_for("en")


def _plain(text: str) -> str:
    return re.sub(r"[^\w ]+", "", text.lower()).strip()


class Narrator:
    """Builds the event list for one set of hold lengths."""

    def __init__(self, routine: Routine, options: Options, holds: list[int | None]) -> None:
        self.routine = routine
        self.options = options
        self.holds = holds
        self.events: list[Event] = []
        self.lang = speaking(routine.language)
        self.phrases = Phrases(self.lang)
        self.section: str | None = None
        self.last_said = ""

    def at(self, level: Narration) -> bool:
        return self.options.narration.rank >= level.rank

    def say(self, text: str | None, step: int | None = None) -> None:
        """Say an instruction, a sentence at a time; never the sentence just said."""
        if not text:
            return
        said = sentences(text)
        if said and _plain(said[0]) == _plain(self.last_said):
            said = said[1:]
        for k, sentence in enumerate(said):
            if self.events and isinstance(self.events[-1], Speak):
                self.events.append(Silence(SENTENCE_GAP_MS if k else ITEM_GAP_MS))
            self.events.append(Speak(sentence, step))
            self.last_said = sentence

    def quiet(self, ms: int, kind: SilenceKind = "pause", step: int | None = None) -> None:
        if ms > 0:
            self.events.append(Silence(ms, kind, step))

    def cues(self, silence: Silence) -> None:
        """Add a silence with cues, remembering the last cue said."""
        self.events.append(silence)
        if silence.cues:
            self.last_said = max(silence.cues, key=lambda c: c.at_ms).text

    def sound(self, ref: SoundRef | None) -> None:
        if ref is not None and not ref.is_none:
            self.events.append(Sound(ref))
            self.events.append(Silence(BELL_GAP_MS))

    def run(self) -> tuple[Event, ...]:
        r = self.routine
        opening = r.intro or r.safety or (r.props and self.at(Narration.STANDARD))
        self.events.append(Chapter(self.lang.say("Start")))  # gives way to a chapter at 0:00
        if opening:
            self.events.append(Chapter(self.lang.say("Introduction")))
        self.sound(r.sounds.start)
        self.say(r.intro)
        if r.props and self.at(Narration.STANDARD):
            self.say(
                self.lang.say("Props for this session: {items}.", items=self.lang.join(r.props))
            )
        self.say(r.safety)
        if opening:
            self.quiet(self.pause_after(None))
        if r.get_ready_ms:
            timed.get_ready(self)
        for index, step in enumerate(r.steps):
            self.step(index, step, lead_in=index > 0 or bool(opening) or bool(r.get_ready_ms))
        if r.outro:
            self.quiet(ITEM_GAP_MS)
            self.events.append(Chapter(self.lang.say("Closing")))
            self.say(r.outro)
            self.quiet(ITEM_GAP_MS)
        self.sound(r.sounds.end)
        if not r.clock or (r.sounds.end and not r.sounds.end.is_none):
            self.quiet(END_MS)  # a clock-timed session ends when its last period does
        return tuple(self.events)

    # Each timing is the step's own, else the routine's default, else guidecast's.

    def settle(self, step: Step) -> int:
        """Time to move into the pose: the step's own, else longer for a big transition."""
        if step.settle_ms is not None:
            return step.settle_ms
        usual = first(self.routine.defaults.settle_ms, SETTLE_MS)
        said = " ".join(filter(None, (step.cue, *step.how)))
        return max(usual, BIG_SETTLE_MS) if _BIG_MOVE.search(said) else usual

    def switch_settle(self, step: Step) -> int:
        """Time to change sides, or to start the next repetition."""
        return first(
            step.switch_settle_ms, self.routine.defaults.switch_settle_ms, SWITCH_SETTLE_MS
        )

    def pause_after(self, step: Step | None, *, usual: int = PAUSE_AFTER_MS) -> int:
        """Quiet after a step (None: after the introduction); `usual` when no one sets it."""
        own = step.pause_after_ms if step is not None else None
        return first(own, self.routine.defaults.pause_after_ms, usual)

    def guidance(self, step: Step) -> Guidance:
        chosen = step.guidance.over(self.routine.defaults.guidance)
        if step.clock:  # on the clock, countdowns and time-left cues guide; the rest if asked
            return chosen.over(Guidance(False, False, False, False))
        return chosen

    def step(self, index: int, step: Step, *, lead_in: bool) -> None:
        if step.kind != "pose" or step.clock:
            timed.narrate_step(self, index, step, lead_in=lead_in)
            return
        sides = step.sides or (None,)
        for side_no, side in enumerate(sides):
            self.chapter(self.chapter_title(step, side), index, step)
            if side_no == 0:
                if lead_in:
                    self.sound(step.sound or self.routine.sounds.transition)
                self.say(self.round_line(step), index)
                self.introduce(index, step)
                self.say(self.first_line(side, step), index)
                self.say(self.side_cue(step, side), index)
                if not step.move:
                    self.quiet(self.settle(step), "settle", index)
            else:
                self.say(self.switch_line(step, side), index)
                self.say(self.side_cue(step, side), index)
                self.quiet(self.switch_settle(step), "settle", index)
            self.body(index, step, first=side_no == 0)
            if step.side_rest_ms and side_no < len(sides) - 1:
                timed.rest(self, index, step.side_rest_ms)
        last = index == len(self.routine.steps) - 1
        hold_ms = self.holds[index]
        if step.flow is None and not step.move and hold_ms and not (last and self.routine.outro):
            plan = self.guidance(step)
            if wanted("release", self.options.narration, hold_ms, plan):
                self.say(self.phrases.say("release", plan.release), index)
        self.quiet(self.pause_after(step), "pause", index)

    def chapter(self, title: str, index: int, step: Step) -> None:
        """A step's chapter; the first of a section says the section: 'Warm-up: Cat-Cow'."""
        if step.section and step.section != self.section:
            title = f"{step.section}: {title}"
        self.section = step.section
        self.events.append(Chapter(title, index, step.section))

    def chapter_title(self, step: Step, side: str | None = None) -> str:
        """'Pigeon (right side)', 'Burpees (round 2)', 'Lunge (round 2, left side)'."""
        round_no = step.round[0] if step.round else None
        return self.lang.chapter_title(step.pose, side=side, round_no=round_no)

    def round_line(self, step: Step) -> str | None:
        """'Round two of four.' at the start of each round of a block."""
        if step.round is None or not step.round_start:
            return None
        k, n = step.round
        return self.lang.say("Round {n} of {count}.", n=k, count=n)

    def switch_line(self, step: Step, side: str | None) -> str:
        said = self.lang.side(side or "")
        return step.switch or self.lang.say(
            "Gently release, and switch to the {side} side.", side=said
        )

    def side_cue(self, step: Step, side: str | None) -> str | None:
        return dict(step.side_cues).get(side or "")

    def first_line(self, side: str | None, step: Step) -> str | None:
        """'Begin on the right side.', with the repetitions in the same sentence."""
        if side is None:
            return self.rep_line(0, step.reps) if step.reps > 1 else None
        said = self.lang.side(side)
        if step.reps > 1 and self.at(Narration.STANDARD):
            return self.lang.say(
                "Begin on the {side} side, the first of {count} repetitions.",
                side=said,
                count=step.reps,
            )
        return self.lang.say("Begin on the {side} side.", side=said)

    def introduce(self, index: int, step: Step) -> None:
        self.say(step.pose, index)  # a full stop is added only when the title has no end mark
        if step.sanskrit and self.at(Narration.FULL):
            self.say(self.lang.say("In Sanskrit, {name}.", name=step.sanskrit), index)
        if step.props and self.at(Narration.STANDARD) and not self.same_props(index):
            items = self.lang.join(step.props)
            self.say(self.lang.say("For this pose, use {items}.", items=items), index)
        self.say(step.cue, index)
        if self.at(Narration.STANDARD):
            for line in step.how:
                self.say(line, index)
        if self.at(Narration.FULL):
            self.say(step.why, index)

    def same_props(self, index: int) -> bool:
        """The step before uses the same props (they are in the listener's hands already)."""
        return index > 0 and self.routine.steps[index - 1].props == self.routine.steps[index].props

    def body(self, index: int, step: Step, *, first: bool) -> None:
        if step.flow is not None:
            self.flow(index, step.flow)
            return
        hold_ms = self.holds[index]
        assert hold_ms is not None
        if step.move:
            plan = HoldPlan(hold_ms, self.options.narration, self.guidance(step), first, True)
            self.cues(Silence(hold_ms, "move", index, tuple(guide_cues(plan, self.phrases))))
            return
        for rep in range(step.reps):
            if rep > 0:
                if step.rest_ms:
                    self.say(self.lang.say("Release and rest."), index)
                    timed.rest(self, index, step.rest_ms, said=False)
                self.say(self.rep_line(rep, step.reps), index)
                self.quiet(self.switch_settle(step), "settle", index)
            cues = self.hold_cues(index, step, hold_ms, first=first and rep == 0)
            self.cues(Silence(hold_ms, "hold", index, cues))

    def rep_line(self, rep: int, reps: int) -> str:
        if not self.at(Narration.STANDARD):
            return self.lang.say("Begin." if rep == 0 else "Again.")
        return self.lang.say("Repetition {n} of {count}.", n=rep + 1, count=reps)

    def flow(self, index: int, flow: Flow) -> None:
        """The first rounds fully cued, then short cues, then quiet rounds to breathe in."""
        phase_ms = flow.breath_ms // len(flow.cues)
        full, short, quiet = flow_rounds(flow)
        brief = flow.short or _short_cues(flow.cues)
        for round_no in range(flow.breaths):
            if round_no < full:
                said: tuple[str | None, ...] = flow.cues
            elif round_no < full + short:
                said = brief
            elif round_no == full + short and quiet > 2 and self.at(Narration.STANDARD):
                said = (self.phrases.say("flow_quiet", None),)
            else:
                said = ()
            for phase in range(len(flow.cues)):
                text = said[phase] if phase < len(said) else None
                cues = (Cue(0, text),) if text else ()
                self.cues(Silence(phase_ms, "breath", index, cues))

    def hold_cues(self, index: int, step: Step, hold_ms: int, *, first: bool) -> tuple[Cue, ...]:
        o = self.options
        cues: list[Cue] = []
        if o.breath_cues and hold_ms >= BREATH_CUE_HOLD_MS:
            cues += [Cue(at, self.lang.say(text)) for at, text in BREATH_CUES]
        countdown_ms = o.countdown_ms or (timed.CLOCK_COUNTDOWN_MS if step.clock else 0)
        counted = bool(countdown_ms // 1000) and hold_ms >= countdown_ms + 5000
        if counted:
            for n in range(countdown_ms // 1000, 0, -1):
                cues.append(Cue(hold_ms - n * 1000, self.lang.countdown(n)))
        plan = HoldPlan(
            hold_ms, o.narration, self.guidance(step), first, countdown_ms=countdown_ms * counted
        )
        cues += timed.time_left(self, step, hold_ms)
        cues += guide_cues(plan, self.phrases)
        reminders = [r for r in (step.reminders or self.routine.reminders) if _fresh(r, step)]
        if self.at(Narration.FULL) and reminders and hold_ms >= LONG_HOLD_MS:
            count = min(len(reminders), hold_ms // REMINDER_EVERY_MS)
            for k in range(count):
                at = hold_ms * (k + 1) // (count + 1)
                cues.append(Cue(at, reminders[k], flexible=True))
        return tuple(cues)


def _fresh(reminder: str, step: Step) -> bool:
    """A reminder that does not repeat the step's cue or one of its how-to lines."""
    said = {_plain(t) for t in (step.cue or "", *step.how) for t in sentences(t) if t}
    return not all(_plain(s) in said for s in sentences(reminder))


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
    quiet = math.ceil(n * FLOW_QUIET_SHARE) + 1  # one quiet round says to keep going
    full = min(FLOW_FULL_ROUNDS, n - quiet) if n >= 6 else 1
    has_short = bool(flow.short or _short_cues(flow.cues))
    short = n - quiet - full if has_short else 0
    return full, short, n - full - short


def narrate(routine: Routine, options: Options, holds: list[int | None]) -> tuple[Event, ...]:
    """The events of a session with these hold lengths."""
    return Narrator(routine, options, holds).run()
