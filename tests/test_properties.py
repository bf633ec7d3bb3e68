"""Property tests (hypothesis): durations, ranges and the routine loader never fail in any way
but the one they promise. More examples: GUIDECAST_PROPERTY_EXAMPLES=5000 pytest ..."""

from __future__ import annotations

import os
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from guidecast.errors import RoutineError, printable
from guidecast.model import Routine
from guidecast.routine.durations import MAX_SESSION_MS, format_duration, parse_duration, parse_range
from guidecast.routine.keys import DEFAULT_KEYS, ROUTINE_KEYS
from guidecast.routine.load import parse_routine
from guidecast.routine.step_keys import (
    BLOCK_KEYS,
    BREATHE_KEYS,
    FLOW_KEYS,
    PAUSE_KEYS,
    SAY_KEYS,
    STEP_KEYS,
)

EXAMPLES = int(os.environ.get("GUIDECAST_PROPERTY_EXAMPLES", "200"))
SETTINGS = settings(
    max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)

# Text that looks like durations, so that the interesting branches are reached, not only errors.
duration_like = st.from_regex(
    r"\A\s?-?[0-9]{0,400}(\.[0-9]{0,3})?\s?(ms|h|m|s|H|M|S|x|²)?([0-9]{1,3}(ms|h|m|s))?\s?\Z"
)
range_like = st.builds(
    lambda a, sep, b: f"{a}{sep}{b}",
    duration_like,
    st.sampled_from(["-", "--", " - ", ""]),
    duration_like,
)
any_text = st.text(max_size=60) | duration_like | range_like


@SETTINGS
@given(any_text)
def test_parse_duration_returns_milliseconds_or_raises_value_error(text: str) -> None:
    try:
        ms = parse_duration(text)
    except ValueError as e:
        assert str(e) and len(str(e)) < 200
    else:
        assert isinstance(ms, int) and 0 <= ms <= 1000 * MAX_SESSION_MS


@SETTINGS
@given(any_text)
def test_parse_range_returns_two_durations_or_raises_value_error(text: str) -> None:
    try:
        low, high = parse_range(text)
    except ValueError as e:
        assert str(e) and len(str(e)) < 200
    else:
        assert all(isinstance(ms, int) and ms >= 0 for ms in (low, high))


@SETTINGS
@given(st.integers(0, MAX_SESSION_MS // 100))
def test_format_duration_round_trips(tenths: int) -> None:
    ms = tenths * 100
    assert parse_duration(format_duration(ms)) == ms
    assert parse_range(format_duration(ms)) == (ms, ms)


@SETTINGS
@given(st.integers(0, 3600), st.integers(0, 3600), st.sampled_from(["s", "m"]))
def test_a_bare_first_number_takes_the_unit_of_the_second(low: int, high: int, unit: str) -> None:
    scale = {"s": 1000, "m": 60_000}[unit]
    assert parse_range(f"{low}-{high}{unit}") == (low * scale, high * scale)


def _check_loader(source: str) -> None:
    try:
        routine = parse_routine(source, "r.yaml")
    except RoutineError as e:
        assert e.problems
        for problem in e.problems:
            shown = str(problem)
            assert shown.startswith("r.yaml:") and shown == printable(shown)
    else:
        assert isinstance(routine, Routine) and routine.steps


@SETTINGS
@given(st.text(max_size=300))
def test_the_loader_never_raises_anything_but_routine_error_on_any_text(source: str) -> None:
    _check_loader(source)


scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(10**20), 10**20)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=20)
    | duration_like
    | range_like
    | st.sampled_from(["on", "no", "1:30", "2-4m", "0s", "1e400", "~", "right", "full", "brief"])
)
values: st.SearchStrategy[Any] = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)


def _mapping(keys: tuple[str, ...]) -> st.SearchStrategy[dict[str, Any]]:
    known = st.dictionaries(st.sampled_from(keys), values, max_size=len(keys))
    return st.one_of(known, st.dictionaries(st.sampled_from(keys) | st.text(max_size=8), values))


pose_steps = st.builds(
    lambda step, flow, breathe, pose: {
        **step,
        "pose": pose,
        **({"flow": flow} if flow else {}),
        **({"breathe": breathe} if breathe else {}),
    },
    _mapping(STEP_KEYS),
    st.none() | _mapping(FLOW_KEYS),
    st.none() | _mapping(BREATHE_KEYS),
    st.text(min_size=1, max_size=12),
)
entries = (
    pose_steps
    | st.builds(lambda m, say: {**m, "say": say}, _mapping(SAY_KEYS), values)
    | st.builds(lambda m, pause: {**m, "pause": pause}, _mapping(PAUSE_KEYS), values)
)
steps = st.lists(
    entries
    | st.builds(
        lambda m, inner: {**m, "steps": inner},
        _mapping(BLOCK_KEYS),
        st.lists(entries, max_size=3),
    ),
    max_size=4,
)
routines = st.builds(
    lambda top, steps, defaults: {**top, "title": "T", "steps": steps, "defaults": defaults},
    _mapping(ROUTINE_KEYS),
    steps,
    _mapping(DEFAULT_KEYS),
)


@settings(SETTINGS, max_examples=max(20, EXAMPLES // 4))  # costly to generate, not to check
@given(routines)
def test_the_loader_never_raises_anything_but_routine_error_on_routine_shaped_yaml(
    data: dict[str, Any],
) -> None:
    _check_loader(yaml.safe_dump(data, allow_unicode=True))
