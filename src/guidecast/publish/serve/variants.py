"""Sessions on demand: the routines a listener may render, and the choices each allows.

A `Choice` is one variant of a routine (length, narration, pace, bed), read from a query
and checked against what the routine allows before anything is rendered or written.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from urllib.parse import quote, urlencode

from ...compiler.fit import LENGTH_TOLERANCE_MS, compile_routine, length_bounds
from ...compiler.options import Options, resolve_options
from ...compiler.timeline import layout
from ...errors import GuidecastError
from ...lang.speech import Estimate
from ...media.beds import BUILTIN_BEDS
from ...model import Narration, Routine
from ...routine.keys import DEFAULT_BED
from ...routine.load import load_routine

__all__ = [
    "BEDS",
    "RATES",
    "Catalog",
    "Choice",
    "ChoiceError",
    "allowed_minutes",
    "default_choice",
    "estimated_lengths",
    "parse_choice",
]

log = logging.getLogger(__name__)

RATES = (0.8, 0.9, 1.0, 1.1, 1.25)
"""The paces a listener can pick: slower than the voice's own, its own, or brisker."""
PACE_NAMES = {0.8: "slower", 0.9: "slow", 1.0: "natural", 1.1: "brisk", 1.25: "faster"}
BEDS = ("none", *BUILTIN_BEDS)
MINUTE_MS = 60_000


class ChoiceError(ValueError):
    """A query names something the routine does not allow; the message is one line."""


@dataclass(frozen=True)
class Choice:
    """One variant of a routine: what the listener picked."""

    routine: str
    """The routine file's stem (`love-your-spine`)."""
    minutes: int | None
    """The target length; None for a routine whose length is fixed as written."""
    narration: Narration
    rate: float
    bed: str
    """A built-in bed name, or `none`."""

    @property
    def name(self) -> str:
        """The variant's file stem: the same choices always give the same name."""
        length = f"{self.minutes}m" if self.minutes is not None else "as-written"
        return f"{self.routine}--{length}-{self.narration.value}-{self.rate:g}x-{self.bed}"

    def label(self, routine: Routine) -> str:
        """The variant's title for the feed and the player, e.g. `Flow · 20 min, brief`."""
        parts = [f"{self.minutes} min" if self.minutes is not None else "", self.narration.value]
        if self.rate != 1.0:
            parts.append(f"{PACE_NAMES.get(self.rate, f'{self.rate:g}×')} pace")
        if self.bed != "none":
            parts.append(self.bed)
        return f"{routine.title} · {', '.join(p for p in parts if p)}"

    def options(self, routine: Routine) -> Options:
        """The compiler options of this variant (the routine's own for the rest)."""
        return resolve_options(
            routine,
            narration=self.narration,
            length_ms=None if self.minutes is None else self.minutes * MINUTE_MS,
            rate=self.rate,
        )

    def query(self) -> str:
        """The query string that asks for this variant."""
        length = "" if self.minutes is None else str(self.minutes)
        values = {
            "routine": self.routine,
            "length": length,
            "narration": self.narration.value,
            "rate": f"{self.rate:g}",
            "bed": self.bed,
        }
        return urlencode(values, quote_via=quote)


class Catalog:
    """The routines of a folder, reloaded when a file changes; broken ones are left out."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._reported: set[tuple[Path, int]] = set()

    def routines(self) -> dict[str, Routine]:
        """Every routine that loads, by file stem, in name order."""
        found: dict[str, Routine] = {}
        paths = sorted([*self.folder.glob("*.yaml"), *self.folder.glob("*.yml")])
        for path in paths:
            if path.name.startswith(".") or path.stem in found:
                continue
            try:
                mtime = path.stat().st_mtime_ns
                found[path.stem] = _load(path, mtime)
            except OSError as e:
                log.warning("%s: left off the page: %s", path, e.strerror)
            except GuidecastError as e:
                if (path, mtime) not in self._reported:  # once per version of the file
                    self._reported.add((path, mtime))
                    log.warning("left off the page: %s", str(e).splitlines()[0])
        return found

    def modified_ns(self, stem: str) -> int:
        """When the routine's file last changed (0 when it is gone)."""
        for suffix in (".yaml", ".yml"):
            try:
                return (self.folder / f"{stem}{suffix}").stat().st_mtime_ns
            except OSError:
                continue
        return 0


@lru_cache(maxsize=64)
def _load(path: Path, mtime_ns: int) -> Routine:
    """A routine, loaded once per version of its file (mtime_ns is in the key)."""
    return load_routine(path)


@lru_cache(maxsize=512)
def estimated_lengths(routine: Routine, narration: Narration, rate: float) -> tuple[int, int, int]:
    """Shortest, longest and as-written lengths at these choices, from estimated speech."""
    options = resolve_options(routine, narration=narration, rate=rate)
    speech = Estimate(rate)
    bounds = length_bounds(routine, options, speech)
    natural = layout(compile_routine(routine, options, speech), speech).total_ms
    return bounds.shortest_ms, bounds.longest_ms, natural


def allowed_minutes(routine: Routine, narration: Narration, rate: float) -> range:
    """The whole-minute lengths the routine can be fitted to; empty when none is, and for a
    routine without ranges (its length is what its speech takes: it plays as written)."""
    shortest, longest, _ = estimated_lengths(routine, narration, rate)
    if shortest == longest:
        return range(0)
    first = max(1, math.ceil((shortest - LENGTH_TOLERANCE_MS) / MINUTE_MS))
    last = math.floor((longest + LENGTH_TOLERANCE_MS) / MINUTE_MS)
    return range(first, max(first, last + 1))


def _nearest(minutes: range, ms: int) -> int | None:
    if not minutes:
        return None
    return min(max(round(ms / MINUTE_MS), minutes.start), minutes.stop - 1)


def default_choice(stem: str, routine: Routine) -> Choice:
    """What the page offers first: the routine's own defaults, at an allowed length."""
    d = routine.defaults
    narration = d.narration or Narration.STANDARD
    rate = min(RATES, key=lambda r: abs(r - (d.rate or 1.0)))
    # A routine that names no bed gets the default one, as a render does.
    named = DEFAULT_BED if d.bed is None else d.bed.name
    bed = named if named in BUILTIN_BEDS else "none"
    natural = estimated_lengths(routine, narration, rate)[2]
    minutes = _nearest(allowed_minutes(routine, narration, rate), d.length_ms or natural)
    return Choice(stem, minutes, narration, rate, bed)


def parse_choice(routines: Mapping[str, Routine], query: Mapping[str, str]) -> Choice:
    """Read a variant from query values; ChoiceError says in one line what is wrong.

    A value left out is the routine's default.
    """
    stem = query.get("routine", "")
    routine = routines.get(stem)
    if routine is None:
        known = ", ".join(routines) or "none"
        raise ChoiceError(f"unknown routine {_shown(stem)}; the routines here: {known}")
    default = default_choice(stem, routine)
    narration = _narration(query.get("narration"), default.narration)
    rate = _rate(query.get("rate"), default.rate)
    bed = query.get("bed") or default.bed
    if bed not in BEDS:
        raise ChoiceError(f"bed {_shown(bed)} is not one of {', '.join(BEDS)}")
    minutes = allowed_minutes(routine, narration, rate)
    text = query.get("length", "").strip().removesuffix("m")
    if not text:
        natural = estimated_lengths(routine, narration, rate)[2]
        chosen = _nearest(minutes, routine.defaults.length_ms or natural)
    elif not text.isascii() or not text.isdigit():
        raise ChoiceError(f"length {_shown(text)} is not a whole number of minutes")
    else:
        chosen = int(text) if len(text) <= 6 else 10**6  # past any session, and int() is cheap
        if chosen not in minutes:
            shown = text.lstrip("0")[:8] or "0"
            raise ChoiceError(_outside(routine, shown, minutes, narration, rate))
    return Choice(stem, chosen, narration, rate, bed)


def _outside(
    routine: Routine, chosen: str, minutes: range, narration: Narration, rate: float
) -> str:
    at = f"at {narration.value} narration and pace {rate:g}"
    if not minutes:
        return f"{routine.title} has a fixed length {at}; leave the length out"
    return (
        f"length {chosen} min is outside what {routine.title} allows {at}: "
        f"{minutes.start} to {minutes.stop - 1} min"
    )


def _narration(text: str | None, default: Narration) -> Narration:
    if not text:
        return default
    try:
        return Narration(text)
    except ValueError:
        levels = ", ".join(n.value for n in Narration)
        raise ChoiceError(f"narration {_shown(text)} is not one of {levels}") from None


def _rate(text: str | None, default: float) -> float:
    if not text:
        return default
    try:
        rate = float(text)
    except ValueError:
        raise ChoiceError(f"pace {_shown(text)} is not a number") from None
    if rate not in RATES:
        raise ChoiceError(f"pace {_shown(text)} is not one of {', '.join(f'{r:g}' for r in RATES)}")
    return rate


def _shown(text: str) -> str:
    """A value from a query as it may appear in a one-line message."""
    printable = "".join(c if c.isprintable() else "?" for c in text[:40])
    return repr(printable + ("…" if len(text) > 40 else ""))
