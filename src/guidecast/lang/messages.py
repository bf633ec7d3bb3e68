"""Every sentence guidecast adds to a session, in English: the message ids of the catalogs.

The English text is the message id itself (gettext's usual way), so an English session says
exactly what is written here. `N_` only marks a string for `pybabel extract` (see babel.cfg);
`Language.say` translates it. Fields in braces are filled by `Language.say`: an `int` is spelled
in words in the session's language, a `str` is used as it is.

Translators: each language may add grammar to a field with a format spec, the field's name
staying the same: `{n:m}` / `{n:f}` spell a number before a masculine / feminine noun
("veintiún minutos", "vingt et une minutes"), `{n:o}` (`{n:om}`, `{n:of}`) spells an ordinal
("segunda ronda", "deuxième répétition").
"""

from __future__ import annotations

__all__ = ["MESSAGES", "N_", "PHRASES", "TIME_MESSAGES", "WORDINGS"]


def N_(msgid: str) -> str:
    """Mark a message id for extraction; translation happens later, in `Language.say`."""
    return msgid


# TRANSLATORS: The several wordings of each moment of guidance are said in turn, so a session
# never says the same sentence twice in a row. Keep every wording a different sentence.
WORDINGS: dict[str, tuple[str, ...]] = {
    "length": (
        # TRANSLATORS: Said as a long hold starts; {time} is a length such as "about two minutes".
        N_("Stay here for {time}."),
        N_("Rest in this shape for {time}."),
        N_("We will stay here for {time}."),
        N_("Let yourself settle here for {time}."),
    ),
    "halfway": (
        # TRANSLATORS: Said halfway through a long hold.
        N_("You are halfway through this one."),
        N_("Halfway there. Let your breath stay slow."),
        N_("This is the halfway point. Soften a little more if you can."),
        N_("Halfway. Notice where you can let go."),
    ),
    "ending": (
        # TRANSLATORS: Said a few breaths before a long hold ends.
        N_("Take a few last breaths here."),
        N_("Just a few more breaths in this shape."),
        N_("Stay for your last few breaths."),
        N_("A few more slow breaths, and then we move on."),
    ),
    "release": (
        # TRANSLATORS: Said when a hold is over, before the next pose.
        N_("Slowly and gently, come out of the pose."),
        N_("Gently release the pose, and take a moment."),
        N_("Ease your way out of the shape, nice and slowly."),
        N_("Carefully come out of the pose, and pause for a breath."),
    ),
    "hold": (
        # TRANSLATORS: Said as a short hold starts (under half a minute); {time} is a length
        # such as "fifteen seconds".
        N_("Hold here for {time}."),
        N_("And hold for {time}."),
        N_("Stay with it for {time}."),
    ),
    "hold_again": (
        # TRANSLATORS: Said as the next repetition of a hold starts, or a hold whose length is
        # not said: a word or two that tells the listener the hold has begun.
        N_("And hold."),
        N_("Hold it there."),
        N_("And stay."),
    ),
    "move_length": (
        # TRANSLATORS: Said as a period of free movement starts; {time} is its length.
        N_("Take {time} for this."),
        N_("You have {time} to move as you like."),
    ),
    "move_ending": (
        # TRANSLATORS: Said as a period of free movement ends.
        N_("Let the movement slowly come to rest."),
        N_("Begin to let your movements grow smaller and still."),
    ),
    "flow_quiet": (
        # TRANSLATORS: Said in a flow (one movement per breath) when the cues stop.
        N_("Keep going on your own, with your own breath."),
        N_("Carry on at your own pace, moving with your breath."),
    ),
    "flow_stop": (
        # TRANSLATORS: Said when the quiet rounds of a flow are over: time to stop moving.
        N_("Let the movement come to a stop."),
        N_("Slowly come back to stillness."),
    ),
}

TIME_MESSAGES: tuple[str, ...] = (
    # TRANSLATORS: Parts of a spoken length of time, used inside other sentences ("Stay here for
    # {time}.", "{time} left."). {n} is a number of seconds (a multiple of five) or minutes.
    N_("{n} seconds"),
    N_("one minute"),
    N_("about a minute"),
    N_("a minute and a half"),
    N_("about a minute and a half"),
    N_("{n} minutes"),
    N_("{n} and a half minutes"),
    # TRANSLATORS: {time} is "{n} minutes" or "{n} and a half minutes".
    N_("about {time}"),
)

MESSAGES: tuple[str, ...] = (
    # TRANSLATORS: Chapter titles (shown in podcast apps, not spoken).
    N_("Start"),
    N_("Introduction"),
    N_("Closing"),
    N_("Get ready"),
    N_("Rest"),
    # TRANSLATORS: Marks in a chapter title, e.g. "Pigeon (round 2, right side)"; {side} is the
    # word for "right" or "left" below, {n} is a number in digits.
    N_("{side} side"),
    N_("round {n}"),
    # TRANSLATORS: The sides of a one-sided pose. The word is put in the sentences with {side}
    # ("Begin on the {side} side."): phrase those so one form of it fits all of them.
    N_("right"),
    N_("left"),
    # TRANSLATORS: Said at the start of a session; {items} is a list such as "a blanket and a
    # block", in the routine's own words.
    N_("Props for this session: {items}."),
    N_("For this pose, use {items}."),
    # TRANSLATORS: {name} is the pose's Sanskrit name.
    N_("In Sanskrit, {name}."),
    N_("Begin on the {side} side."),
    # TRANSLATORS: {count} is a number of repetitions (two or more).
    N_("Begin on the {side} side, the first of {count} repetitions."),
    N_("Gently release, and switch to the {side} side."),
    N_("Repetition {n} of {count}."),
    N_("Round {n} of {count}."),
    N_("Begin."),
    N_("Again."),
    N_("Release and rest."),
    N_("Last round."),
    N_("Well done."),
    # TRANSLATORS: Breath cues: the whole words for the first breaths, the short ones after.
    N_("Breathe in."),
    N_("Breathe out."),
    N_("In again."),
    N_("And out."),
    N_("Hold."),
    N_("In."),
    N_("Out."),
    # TRANSLATORS: Announcements in timed sessions (circuits, intervals); {name} is an exercise.
    N_("Get ready."),
    N_("First: {name}."),
    N_("Next: {name}."),
    N_("Rest."),
    N_("Halfway."),
    # TRANSLATORS: The closing sentence of a session on the clock (intervals, circuits, a
    # pomodoro, a timed walk), before the finish tone: not only workouts, so keep it neutral.
    N_("Well done, that is the end of the session."),
    # TRANSLATORS: The closing sentence of a breathing session, before the final sound.
    N_("Let your breath return to its own rhythm."),
    # TRANSLATORS: Said at the middle of a whole session.
    N_("You are halfway through the session."),
    # TRANSLATORS: {time} is a length such as "one minute" or "thirty seconds".
    N_("{time} left."),
    *TIME_MESSAGES,
    *(wording for bank in WORDINGS.values() for wording in bank),
)
"""Every message id, for tests and tools."""


PHRASES: dict[str, tuple[str, ...]] = {
    "get_ready": (N_("Get ready."),),
    "first": (N_("First: {name}."),),
    "next": (N_("Next: {name}."),),
    "rest": (N_("Rest."),),
    "time_left": (N_("{time} left."),),
    "round": (N_("Round {n} of {count}."),),
    "last_round": (N_("Last round."),),
    "repetition": (N_("Repetition {n} of {count}."),),
    "begin": (N_("Begin."),),
    "again": (N_("Again."),),
    "begin_side": (N_("Begin on the {side} side."),),
    "begin_side_reps": (N_("Begin on the {side} side, the first of {count} repetitions."),),
    "switch": (N_("Gently release, and switch to the {side} side."),),
    "release_rest": (N_("Release and rest."),),
    "breathe_in": (N_("Breathe in."),),
    "breathe_out": (N_("Breathe out."),),
    "in": (N_("In."),),
    "out": (N_("Out."),),
    "hold": (N_("Hold."),),
    "closing": (N_("Well done, that is the end of the session."),),
    "closing_breath": (N_("Let your breath return to its own rhythm."),),
    "halfway_session": (N_("You are halfway through the session."),),
    "flow_quiet": WORDINGS["flow_quiet"],
    "flow_stop": WORDINGS["flow_stop"],
}
"""The built-in phrases a routine may word its own way (`phrases:`), by name: the message ids
each name replaces (a moment with several wordings is replaced by one)."""
