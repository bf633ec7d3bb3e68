"""Duration text to milliseconds and back: the grammar routines and `--length` share."""

from __future__ import annotations

import pytest

from guidecast.routine.durations import (
    MAX_SESSION_MS,
    format_clock,
    format_duration,
    parse_duration,
    parse_range,
)

S = 1000
M = 60 * S
H = 60 * M


@pytest.mark.parametrize(
    ("text", "ms"),
    [
        ("45s", 45 * S),
        ("2m", 2 * M),
        ("1m30s", 90 * S),
        ("1.5m", 90 * S),
        ("1h", H),
        ("1h5m", 65 * M),
        ("1h2m3s", H + 2 * M + 3 * S),
        ("500ms", 500),
        ("1s250ms", 1250),
        ("90", 90 * S),
        ("2.5", 2500),
        ("0", 0),
        (" 45s ", 45 * S),
        ("1m 30s", 90 * S),
        ("45 s", 45 * S),
        ("1M30S", 90 * S),
    ],
)
def test_parse_duration(text: str, ms: int) -> None:
    assert parse_duration(text) == ms


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("", "is not a duration"),
        ("abc", "is not a duration"),
        ("m", "is not a duration"),
        ("s30", "is not a duration"),
        ("3x", "is not a duration"),
        ("1.", "is not a duration"),
        (".5m", "is not a duration"),
        ("1e3", "is not a duration"),
        ("1:30", "is not a duration"),
        ("2-4m", "is not a duration"),
        ("1m1m", "repeats a unit"),
        ("30s1m", "out of order"),
        ("1m1h", "out of order"),
        ("-5s", "negative"),
        ("-5", "negative"),
    ],
)
def test_parse_duration_refuses(text: str, fragment: str) -> None:
    with pytest.raises(ValueError, match=fragment):
        parse_duration(text)


def test_parse_duration_message_suggests_the_syntax() -> None:
    with pytest.raises(ValueError) as info:
        parse_duration("five minutes")
    assert "'five minutes'" in str(info.value)
    assert "1m30s" in str(info.value)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2m", (2 * M, 2 * M)),
        ("90", (90 * S, 90 * S)),
        ("20-30s", (20 * S, 30 * S)),
        ("1m-90s", (60 * S, 90 * S)),
        ("1.5-2.5m", (90 * S, 150 * S)),
        ("2 - 4m", (2 * M, 4 * M)),
        ("1h-90m", (H, 90 * M)),
        # backwards ranges parse; the loader refuses them with their location
        ("4-2m", (4 * M, 2 * M)),
    ],
)
def test_parse_range(text: str, expected: tuple[int, int]) -> None:
    assert parse_range(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # a bare first number takes the unit written after the second
        ("2-4m", (2 * M, 4 * M)),
        ("2-4h", (2 * H, 4 * H)),
        ("20-30s", (20 * S, 30 * S)),
        # ... the last unit of the second part, even when it is compound
        ("30-1m30s", (30 * S, 90 * S)),
        # both bare: both seconds
        ("20-30", (20 * S, 30 * S)),
        # a first part with its own unit keeps it
        ("30s-2m", (30 * S, 2 * M)),
    ],
)
def test_range_unit_carries_to_a_bare_first_number(text: str, expected: tuple[int, int]) -> None:
    assert parse_range(text) == expected


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("2-", "is not a range"),
        ("-", "negative"),
        ("-2m", "negative"),
        ("-2-4m", "negative"),
        ("1-2-3m", "is not a range"),
        ("2-4x", "is not a duration"),
        ("a-4m", "is not a duration"),
        ("30s1m-2m", "out of order"),
    ],
)
def test_parse_range_refuses(text: str, fragment: str) -> None:
    with pytest.raises(ValueError, match=fragment):
        parse_range(text)


@pytest.mark.parametrize(
    ("ms", "text"),
    [
        (0, "0s"),
        (45 * S, "45s"),
        (2 * M, "2m"),
        (90 * S, "1m30s"),
        (H, "1h"),
        (65 * M, "1h5m"),
        (H + 3 * S, "1h3s"),
        (1500, "1.5s"),
        (600, "0.6s"),
    ],
)
def test_format_duration(ms: int, text: str) -> None:
    assert format_duration(ms) == text


@pytest.mark.parametrize("ms", [S, 45 * S, 90 * S, 2 * M, H, 65 * M, H + 2 * M + 3 * S, 1500])
def test_format_duration_round_trips(ms: int) -> None:
    assert parse_duration(format_duration(ms)) == ms


@pytest.mark.parametrize(
    ("ms", "clock"),
    [
        (0, "0:00"),
        (5 * S, "0:05"),
        (4 * M + 5 * S, "4:05"),
        (30 * M, "30:00"),
        (H + 2 * M + 3 * S, "1:02:03"),
        (59_499, "0:59"),
        (59_500, "1:00"),
    ],
)
def test_format_clock(ms: int, clock: str) -> None:
    assert format_clock(ms) == clock


def test_max_session_is_twelve_hours() -> None:
    assert parse_duration("12h") == MAX_SESSION_MS
