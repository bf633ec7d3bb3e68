"""Read the mappings of breath-led steps, `flow:` and `breathe:`, and the reading by tables
that every reader of a routine's mappings shares."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TypeVar

from yaml.nodes import Node

from ..lang.speech import NOMINAL_SOUND_MS
from ..model import Breathing, Flow, SoundRef
from . import breath_keys as bk
from .durations import format_duration
from .fields import Reader, Reported
from .sounds import BUILTIN_SOUNDS
from .table import Key, Table

__all__ = ["BreathReader", "Found", "TableReader"]

T = TypeVar("T")
Found = dict[str, Node]


class TableReader(Reader):
    """Reads a mapping by the `Table` of its keys."""

    def table(self, node: Node, what: str, table: Table) -> Found | None:
        """A mapping's value nodes by key, as `table` knows them (see `Reader.mapping`)."""
        return self.mapping(node, what, table.names, table.required, extensible=table.extensible)

    def value(
        self, found: Found, key: Key[T], parse: Callable[[Node], T] | None = None
    ) -> T | None:
        """One optional value, read by its key's kind (or by `parse`, for a mapping of its
        own); a problem is recorded and leaves it None."""
        if parse is None:
            read = key.kind.parse
            assert read is not None, f"'{key.name}' is a mapping its reader reads"
            parse = functools.partial(read, self)
        return self.field(found, key.name, parse)


class BreathReader(TableReader):
    """Reads `flow:` and `breathe:` mappings."""

    def breathe(self, node: Node) -> Breathing:
        """`breathe: {pattern: 4-7-8, cycles: 8}` or `{pattern: 4-4-4-4, for: 2m}`."""
        found = self.table(node, "breathe", bk.BREATHE)
        if found is None:
            raise Reported
        phases = self.value(found, bk.PATTERN)
        cycles = self.value(found, bk.CYCLES)
        lasting = self.value(found, bk.FOR)
        counted, tones = bk.COUNT.or_default(self.value(found, bk.COUNT))
        if phases is None:
            raise Reported
        if cycles is not None and lasting is not None:
            self.problem(found[bk.FOR.name], "give 'cycles' or 'for', not both", "conflicting-keys")
        pause_ms = self.value(found, bk.BREATHE_PAUSE) or 0
        again = self.value(found, bk.AGAIN) or False
        if lasting is not None:
            cycles = (lasting + pause_ms) // (sum(phases) + pause_ms)
            if cycles < 1:
                self.problem(found[bk.FOR.name], "shorter than one breathing cycle", "bad-value")
                raise Reported
        cycles = bk.CYCLES.or_default(cycles)
        return Breathing(phases, cycles, counted, self.loc(node), tones, pause_ms, again)

    def flow(self, node: Node) -> Flow:
        found = self.table(node, "flow", bk.FLOW)
        if found is None:
            raise Reported
        breaths = self.value(found, bk.BREATHS)
        cues = self.value(found, bk.CUES)
        breath_ms = bk.BREATH.or_default(self.value(found, bk.BREATH))
        phases = self.value(found, bk.PHASES) or ()
        if breaths is None or cues is None:
            raise Reported
        if phases:
            self.phases(found, phases, cues)
            breath_ms = sum(phases)
        elif breath_ms < 1000 * len(cues):
            self.problem(
                found.get(bk.BREATH.name) or found[bk.CUES.name],
                "a breath this short leaves under 1s for each cue",
                "bad-value",
            )
        short = self.value(found, bk.SHORT) or ()
        if short and len(short) != len(cues):
            self.problem(
                found[bk.SHORT.name],
                f"'short' needs one cue per phase: {len(cues)} like 'cues', found {len(short)}",
                "bad-value",
            )
        quiet = bk.QUIET.or_default(self.value(found, bk.QUIET))
        phases_ms = phases or (breath_ms // len(cues),) * len(cues)
        sounds = self.breath_sounds(found, phases_ms)
        timed = bool(phases) or bk.BREATH.name in found
        return Flow(breaths, cues, breath_ms, self.loc(node), short, quiet, phases, sounds, timed)

    def breath_sounds(self, found: Found, phases_ms: tuple[int, ...]) -> tuple[SoundRef, ...]:
        """A flow's sounds, one per phase: one sound starts every breath (its first phase),
        a list gives each phase its own (`none`: none)."""
        sounds = self.value(found, bk.FLOW_SOUND) or ()
        if len(sounds) == 1:
            quiet = SoundRef("", None, sounds[0].loc)
            sounds = (sounds[0], *(quiet,) * (len(phases_ms) - 1))
        elif sounds and len(sounds) != len(phases_ms):
            self.problem(
                found[bk.FLOW_SOUND.name],
                f"'sound' needs one sound, or one per phase: {len(phases_ms)} like 'cues', "
                f"found {len(sounds)}",
                "bad-value",
            )
            return ()
        for sound, phase_ms in zip(sounds, phases_ms, strict=False):
            if not sound.is_none:
                self.breath_sound(sound, phase_ms)
        return sounds if any(not s.is_none for s in sounds) else ()

    def breath_sound(self, sound: SoundRef, phase_ms: int) -> None:
        """A sound that starts a phase lies inside it: its length must be known, and leave at
        least `MIN_PHASE_MS` of the phase after it."""
        if sound.path is not None:
            self.problem(
                sound.loc,
                "a flow's sound starts its phase, inside it: use one of guidecast's sounds "
                f"({', '.join(BUILTIN_SOUNDS)}), whose length is known, so each breath keeps "
                "its length",
                "bad-value",
            )
            return
        length = NOMINAL_SOUND_MS[sound.name]
        if phase_ms >= length + bk.MIN_PHASE_MS:
            return
        fits = [n for n in BUILTIN_SOUNDS if NOMINAL_SOUND_MS[n] + bk.MIN_PHASE_MS <= phase_ms]
        advice = f"choose a shorter one ({', '.join(fits)})" if fits else "lengthen the phase"
        self.problem(
            sound.loc,
            f"'{sound.name}' lasts {format_duration(length)}: too long to start a phase of "
            f"{format_duration(phase_ms)}; {advice}",
            "bad-value",
        )

    def phases(self, found: Found, phases: tuple[int, ...], cues: tuple[str, ...]) -> None:
        """`phases: [2s, 1s]`: one length per cue, each long enough to be a movement."""
        node = found[bk.PHASES.name]
        if bk.BREATH.name in found:
            self.problem(node, "give 'breath' or 'phases', not both", "conflicting-keys")
        elif len(phases) != len(cues):
            self.problem(
                node,
                f"'phases' needs one length per cue: {len(cues)} like 'cues', found {len(phases)}",
                "bad-value",
            )
        elif min(phases) < bk.MIN_PHASE_MS:
            self.problem(node, "a phase lasts at least 500ms", "bad-value")
