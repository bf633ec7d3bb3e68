"""Read the mappings of breath-led steps, `flow:` and `breathe:`, and the reading by tables
that every reader of a routine's mappings shares."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TypeVar

from yaml.nodes import Node

from ..lang.speech import NOMINAL_SOUND_MS
from ..model import Breathing, Flow, SoundRef
from . import step_keys as sk
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
        found = self.table(node, "breathe", sk.BREATHE)
        if found is None:
            raise Reported
        phases = self.value(found, sk.PATTERN)
        cycles = self.value(found, sk.CYCLES)
        lasting = self.value(found, sk.FOR)
        counted, tones = sk.COUNT.or_default(self.value(found, sk.COUNT))
        if phases is None:
            raise Reported
        if cycles is not None and lasting is not None:
            self.problem(found[sk.FOR.name], "give 'cycles' or 'for', not both", "conflicting-keys")
        pause_ms = self.value(found, sk.BREATHE_PAUSE) or 0
        again = self.value(found, sk.AGAIN) or False
        if lasting is not None:
            cycles = (lasting + pause_ms) // (sum(phases) + pause_ms)
            if cycles < 1:
                self.problem(found[sk.FOR.name], "shorter than one breathing cycle", "bad-value")
                raise Reported
        cycles = sk.CYCLES.or_default(cycles)
        return Breathing(phases, cycles, counted, self.loc(node), tones, pause_ms, again)

    def flow(self, node: Node) -> Flow:
        found = self.table(node, "flow", sk.FLOW)
        if found is None:
            raise Reported
        breaths = self.value(found, sk.BREATHS)
        cues = self.value(found, sk.CUES)
        breath_ms = sk.BREATH.or_default(self.value(found, sk.BREATH))
        phases = self.value(found, sk.PHASES) or ()
        if breaths is None or cues is None:
            raise Reported
        if phases:
            self.phases(found, phases, cues)
            breath_ms = sum(phases)
        elif breath_ms < 1000 * len(cues):
            self.problem(
                found.get(sk.BREATH.name) or found[sk.CUES.name],
                "a breath this short leaves under 1s for each cue",
                "bad-value",
            )
        short = self.value(found, sk.SHORT) or ()
        if short and len(short) != len(cues):
            self.problem(
                found[sk.SHORT.name],
                f"'short' needs one cue per phase: {len(cues)} like 'cues', found {len(short)}",
                "bad-value",
            )
        quiet = sk.QUIET.or_default(self.value(found, sk.QUIET))
        sound = self.value(found, sk.FLOW_SOUND)
        if sound is not None and not sound.is_none:
            self.breath_sound(sound, phases[0] if phases else breath_ms // len(cues))
        return Flow(breaths, cues, breath_ms, self.loc(node), short, quiet, phases, sound)

    def breath_sound(self, sound: SoundRef, phase_ms: int) -> None:
        """A sound that starts every breath lies inside its first phase: its length must be
        known, and a second shorter than the phase."""
        if sound.path is not None:
            self.problem(
                sound.loc,
                "a flow's sound starts every breath, inside it: use one of guidecast's sounds "
                f"({', '.join(BUILTIN_SOUNDS)}), whose length is known, so each breath keeps "
                "its length",
                "bad-value",
            )
        elif phase_ms < NOMINAL_SOUND_MS[sound.name] + 1000:
            self.problem(
                sound.loc,
                f"'{sound.name}' lasts {format_duration(NOMINAL_SOUND_MS[sound.name])}: too "
                f"long to start a breath whose first phase lasts {format_duration(phase_ms)}; "
                "choose a shorter sound (woodblock, rise, fall, steady, go)",
                "bad-value",
            )

    def phases(self, found: Found, phases: tuple[int, ...], cues: tuple[str, ...]) -> None:
        """`phases: [2s, 1s]`: one length per cue, each long enough to be a movement."""
        node = found[sk.PHASES.name]
        if sk.BREATH.name in found:
            self.problem(node, "give 'breath' or 'phases', not both", "conflicting-keys")
        elif len(phases) != len(cues):
            self.problem(
                node,
                f"'phases' needs one length per cue: {len(cues)} like 'cues', found {len(phases)}",
                "bad-value",
            )
        elif min(phases) < sk.MIN_PHASE_MS:
            self.problem(node, "a phase lasts at least 500ms", "bad-value")
