"""Cue layout does work in proportion to the cues, and places each where the plain search of
every candidate start would."""

from __future__ import annotations

import sys
from pathlib import Path
from types import FrameType
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from guidecast.compiler.fit import compile_routine
from guidecast.compiler.options import resolve_options
from guidecast.compiler.timeline import GUIDE_GAP_MS, layout
from guidecast.lang.speech import Estimate
from guidecast.model import Narration
from render_fixtures import routine_from


def _calls_to_lay_out(reminders: int, tmp_path: Path) -> int:
    """Python function calls made while laying out a 12-hour hold with this many reminders."""
    lines = ["title: Long", "steps:", "  - pose: Seated Meditation", "    hold: 12h"]
    lines += ["    reminders:"] + [f"      - Reminder {i} says soften." for i in range(reminders)]
    routine = routine_from(tmp_path, "\n".join(lines) + "\n", f"r{reminders}")
    options = resolve_options(routine, narration=Narration.FULL)
    speech = Estimate(1.0)
    timeline = compile_routine(routine, options, speech)
    count = 0

    def profile(frame: FrameType, event: str, arg: Any) -> None:
        nonlocal count
        count += event in ("call", "c_call")

    sys.setprofile(profile)
    try:
        laid = layout(timeline, speech)
    finally:
        sys.setprofile(None)
    said = sum(len(p.cues) for p in laid.items)
    assert said >= reminders  # every reminder found a place (the hold has room for them)
    return count


def test_laying_out_reminders_grows_in_proportion_to_them(tmp_path: Path) -> None:
    small, large = _calls_to_lay_out(25, tmp_path), _calls_to_lay_out(100, tmp_path)
    # Four times the reminders: about four times the calls (it was 64 times: cubic).
    assert large <= 6 * small, (small, large)


def _reference(ms: int, spans: list[tuple[int, int]], want: int, length: int) -> int | None:
    """Every candidate start checked against every span: the plain search."""
    latest = ms - GUIDE_GAP_MS - length
    candidates = [want, 0, latest]
    for a, b in spans:
        candidates += [b + GUIDE_GAP_MS, a - GUIDE_GAP_MS - length]
    fits = [
        c
        for c in candidates
        if 0 <= c <= latest
        and all(c + length + GUIDE_GAP_MS <= a or b + GUIDE_GAP_MS <= c for a, b in spans)
    ]
    return min(fits, key=lambda c: (abs(c - want), c)) if fits else None


@settings(max_examples=300, deadline=None)
@given(
    ms=st.integers(0, 120_000),
    cues=st.lists(st.tuples(st.integers(-5_000, 125_000), st.integers(1, 8_000)), max_size=25),
)
def test_each_cue_goes_where_the_plain_search_puts_it(ms: int, cues: list[tuple[int, int]]) -> None:
    from guidecast.compiler.timeline import _Taken

    taken = _Taken(ms, [])
    spans: list[tuple[int, int]] = []
    for want, length in cues:
        expected = _reference(ms, spans, want, length)
        assert taken.nearest(want, length) == expected
        if expected is not None:
            taken.add(expected, expected + length)
            spans.append((expected, expected + length))
