"""Narrate a routine for one set of hold lengths: the events a teacher would say and leave quiet.

This is the heart of the compiler (`fit.py` chooses the hold lengths and calls `narrate`). The
`Narrator` holds the pacing: the pause between sentences and between instructions, the bells,
the opening and the ending of a session. Each kind of step is narrated by its own module:
`poses.py` (poses, holds, flows), `clock.py` (exercises on the clock), `breathwork.py` and
`timed.py` (rests, speech and pauses).
"""

from __future__ import annotations

import re
from dataclasses import replace

from ..lang.i18n import Language, LanguageError, language_for, worded
from ..lang.speech import sentences
from ..model import Guidance, Narration, Routine, SoundRef, Speaker, Step
from ..routine.keys import PAUSE_AFTER_MS, SETTLE_MS, SWITCH_SETTLE_MS
from . import breathwork, clock, poses, timed
from .guidance import Phrases
from .options import Options, first
from .timeline import Chapter, Event, Silence, SilenceKind, Sound, Speak

__all__ = [
    "BELL_GAP_MS",
    "BIG_SETTLE_MS",
    "END_MS",
    "FINISH_END_MS",
    "ITEM_GAP_MS",
    "SENTENCE_GAP_MS",
    "narrate",
]

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
FINISH_END_MS = 1000
"""... after the final sound of a workout or a breathing session, which ends on it."""
CLOCK_ALIGN_MS = 1000
"""A session on the clock starts its first period on a whole second of the file."""
CUE_AT_END_MS = 1500
"""A cue this close to the end of its silence (a countdown's "One.") needs a sentence's pause
before the next instruction."""


def speaking(tag: str) -> Language:
    """The routine's language; English phrases for a language guidecast has none in yet (check
    warns about it)."""
    try:
        return language_for(tag)
    except LanguageError:
        return language_for("en")


class Narrator:
    """Builds the event list for one set of hold lengths."""

    def __init__(self, routine: Routine, options: Options, holds: list[int | None]) -> None:
        self.routine = routine
        self.options = options
        self.holds = holds
        self.events: list[Event] = []
        self.lang = worded(speaking(routine.language), routine.phrases)
        self.phrases = Phrases(self.lang)
        self.languages: dict[str | None, tuple[Language, Phrases]] = {
            None: (self.lang, self.phrases)
        }
        """The phrases of each language a step speaks (the routine's is None)."""
        self.section: str | None = None
        self.last_said = ""
        self.announced: int | None = None

    def at(self, level: Narration) -> bool:
        return self.options.narration.rank >= level.rank

    def say(self, text: str | None, step: int | None = None, *, joined: bool = False) -> None:
        """Say an instruction, a sentence at a time; never the sentence just said. `joined`
        makes it part of the instruction before (a sentence's pause, not an instruction's)."""
        if not text:
            return
        said = sentences(text)
        if said and poses.plain(said[0]) == poses.plain(self.last_said):
            said = said[1:]
        pace = self.pace(step)
        for k, sentence in enumerate(said):
            if self.events and isinstance(self.events[-1], Speak):
                gap = SENTENCE_GAP_MS if k or joined else ITEM_GAP_MS
                self.events.append(Silence(round(gap / pace)))
            elif self._cue_at_end():
                self.events.append(Silence(round(SENTENCE_GAP_MS / pace)))
            self.events.append(Speak(sentence, step))
            self.last_said = sentence

    def _cue_at_end(self) -> bool:
        """The silence just before ends on a cue (a countdown), too close for the next line."""
        last = next((e for e in reversed(self.events) if not isinstance(e, Chapter)), None)
        return isinstance(last, Silence) and any(
            not c.flexible and c.at_ms >= last.ms - CUE_AT_END_MS for c in last.cues
        )

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
        if r.steps and r.steps[0].clock and any(not isinstance(e, Chapter) for e in self.events):
            # Speech lengths are known only when rendered: this quiet ends on a whole second,
            # so the clock's periods start on whole seconds of the file.
            self.events.append(Silence(0, "pause", align_ms=CLOCK_ALIGN_MS))
        if r.get_ready_ms:
            on_clock = bool(r.steps) and r.steps[0].clock
            ahead = clock.announcement(self, 0, first=True) if on_clock else None
            then = clock.cue_sound(self, 0) if on_clock else None
            timed.get_ready(self, ahead, on_clock=on_clock, then=then)
        for index, step in enumerate(r.steps):
            self.lang, self.phrases = self.language(self.speaker(index))
            self.step(index, step, lead_in=index > 0 or bool(opening) or bool(r.get_ready_ms))
        self.lang, self.phrases = self.languages[None]
        self.ending()
        return tuple(self.spoken_by(e) for e in self.events)

    def speaker(self, index: int | None) -> Speaker | None:
        """Who says step `index`'s sentences and how fast: None for the session's own voice
        and rate (the routine's language is the session's, not a step's own)."""
        if index is None:
            return None
        own = self.routine.steps[index].speaker
        language = own.language
        if language is not None and language.lower() == self.routine.language.lower():
            language = None
        found = Speaker(own.rate if own.rate != 1.0 else None, own.voice, language)
        return None if found == Speaker() else found

    def language(self, speaker: Speaker | None) -> tuple[Language, Phrases]:
        """The phrases a step says: in its own language, else the routine's (the routine's
        own wordings where its language is the routine's, as `en-GB` in an `en` routine)."""
        tag = speaker.language if speaker is not None else None
        if tag not in self.languages:
            assert tag is not None  # the routine's own is there from the start
            own = _family(tag) == _family(self.routine.language)
            lang = worded(speaking(tag), self.routine.phrases if own else ())
            self.languages[tag] = (lang, Phrases(lang))
        return self.languages[tag]

    def spoken_by(self, event: Event) -> Event:
        """The event with its step's speaker on each sentence it says."""
        if isinstance(event, Speak) and event.step is not None:
            return replace(event, speaker=self.speaker(event.step))
        if isinstance(event, Silence) and event.cues and event.step is not None:
            speaker = self.speaker(event.step)
            if speaker is not None:
                return replace(event, cues=tuple(replace(c, speaker=speaker) for c in event.cues))
        return event

    def ending(self) -> None:
        """The outro and the end sound; a workout or a breathing session ends on a closing
        sentence and a sound (a workout's last period holds both, when it has no outro)."""
        r = self.routine
        finishing = self._finishing()
        # On the clock a last rest holds the closing; after a last work period it follows.
        after_work = finishing == "clock" and r.steps[-1].kind != "rest"
        if r.outro:
            self.quiet(ITEM_GAP_MS)
            self.events.append(Chapter(self.lang.say("Closing")))
            self.say(r.outro)
            self.quiet(ITEM_GAP_MS)
        elif finishing == "breath" or after_work:
            self.say(self.closing())
            self.quiet(ITEM_GAP_MS)
        end = r.sounds.end
        if not finishing:
            self.sound(end)
            self.quiet(END_MS)
            return
        if (r.outro or finishing == "breath" or after_work) and (end is None or end.is_none):
            end = timed.FINISH  # else the last period on the clock holds the finish tone
        if end is not None and not end.is_none:
            self.events.append(Sound(end))
            self.quiet(FINISH_END_MS)  # the session ends as its sound rings out

    def _finishing(self) -> str | None:
        """'clock' for a session ending on the clock, 'breath' for one ending in breathwork."""
        last = self.routine.steps[-1] if self.routine.steps else None
        if last is None:
            return None
        if last.clock:
            return "clock"
        return "breath" if last.kind == "breathe" else None

    def ends_here(self, index: int) -> bool:
        """Step `index` is a rest, the last of a session on the clock, and no outro follows it:
        the rest closes the session (and ends on the finish tone, when the routine has no end
        sound of its own to play after it). A last work period is not cut short: the closing
        follows it."""
        steps = self.routine.steps
        last = index == len(steps) - 1 and steps[index].kind == "rest"
        return last and self._finishing() == "clock" and not self.routine.outro

    def closing(self) -> str:
        """The closing sentence of a session on the clock or of a breathing session."""
        if self._finishing() == "breath":
            return self.lang.say("Let your breath return to its own rhythm.")
        return self.lang.say("Well done, that is the end of the session.")

    # Each timing is the step's own, else the routine's default, else guidecast's.

    def pace(self, index: int | None) -> float:
        """How unhurried the narration of step `index` is (1: the usual)."""
        step = self.routine.steps[index] if index is not None else None
        return step.pace if step is not None and step.pace is not None else 1.0

    def settle(self, step: Step) -> int:
        """Time to move into the pose: the step's own, else longer for a big transition (and
        longer at a slower pace)."""
        if step.settle_ms is not None:
            return step.settle_ms
        usual = first(self.routine.defaults.settle_ms, SETTLE_MS)
        said = " ".join(filter(None, (step.cue, *step.how)))
        ms = max(usual, BIG_SETTLE_MS) if _BIG_MOVE.search(said) else usual
        return round(ms / (step.pace or 1.0))

    def switch_settle(self, step: Step) -> int:
        """Time to change sides, or to start the next repetition."""
        return first(
            step.switch_settle_ms, self.routine.defaults.switch_settle_ms, SWITCH_SETTLE_MS
        )

    def count_in(self, step: Step, *, again: bool = False) -> int:
        """The count-in just before the step starts (0: none); `again`, before a later side
        or repetition (none unless the count-in says `each`)."""
        d = self.routine.defaults
        own = step.count_in_ms is not None
        each = step.count_in_each if own else d.count_in_each
        if again and not each:
            return 0
        return first(step.count_in_ms, d.count_in_ms, 0)

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
        if step.starts_at_ms is not None:  # quiet until the section's pinned start
            self.events.append(Silence(0, "pause", index, until_ms=step.starts_at_ms))
        if step.kind == "pose" and step.clock and step.flow is None:
            clock.clock_pose(self, index, step)
        elif step.kind == "pose":
            poses.paced_pose(self, index, step, lead_in=lead_in)
        elif step.kind == "breathe":
            breathwork.breathe(self, index, step, lead_in=lead_in)
        else:
            on_clock = step.kind == "rest" and step.clock
            ahead = clock.announcement(self, index + 1) if on_clock else None
            then = clock.cue_sound(self, index + 1) if on_clock else None
            timed.narrate_step(self, index, step, lead_in=lead_in, announce=ahead, then=then)

    def instructions(self, index: int, step: Step) -> None:
        poses.instructions(self, index, step)

    def chapter(self, title: str, index: int, step: Step) -> None:
        """A step's chapter; the first of a section says the section: 'Warm-up: Cat-Cow' (an
        empty title: the section's name alone)."""
        if step.section and step.section != self.section:
            title = f"{step.section}: {title}" if title else step.section
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

    def rep_line(self, rep: int, reps: int) -> str:
        if not self.at(Narration.STANDARD):
            return self.lang.say("Begin." if rep == 0 else "Again.")
        return self.lang.say("Repetition {n} of {count}.", n=rep + 1, count=reps)


def _family(tag: str) -> str:
    """`es` of `es-MX`."""
    return tag.replace("_", "-").split("-")[0].lower()


def narrate(routine: Routine, options: Options, holds: list[int | None]) -> tuple[Event, ...]:
    """The events of a session with these hold lengths."""
    return Narrator(routine, options, holds).run()
