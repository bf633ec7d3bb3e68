"""Duration text (`45s`, `1m30s`, `2-4m`) to milliseconds, and milliseconds back to text."""

from __future__ import annotations

import math
import re

__all__ = [
    "MAX_SESSION_MS",
    "TooLong",
    "format_clock",
    "format_duration",
    "is_bare_number",
    "parse_duration",
    "parse_range",
]

MAX_SESSION_MS = 12 * 3600 * 1000
"""Longest session guidecast will make; longer values are almost certainly typos."""


class TooLong(ValueError):
    """A duration over `MAX_SESSION_MS`: well written, but almost certainly a typo."""


_UNIT_MS = {"h": 3_600_000, "m": 60_000, "s": 1000, "ms": 1}
_ALIASES = {"hr": "h", "hrs": "h", "min": "m", "mins": "m", "sec": "s", "secs": "s"}
"""Spelled-out units people type (`14min`, `1 hr`), read as the one-letter unit."""
_NUMBER = r"\d+(?:\.\d+)?"
_UNIT = r"(?:hrs|hr|h|mins|min|ms|m|secs|sec|s)(?![a-z])"
_PART = re.compile(rf"({_NUMBER})\s*({_UNIT})")
_COMPOUND = re.compile(rf"(?:{_NUMBER}\s*{_UNIT}\s*)+")
_BARE = re.compile(_NUMBER)


def parse_duration(text: str) -> int:
    """Parse `45s`, `2m`, `14min`, `1m30s`, `1.5m`, `1h` or a bare number of seconds to ms.

    Raises ValueError with a message fit for the user.
    """
    t = text.strip().lower()
    if t.startswith("-"):
        raise ValueError(f"'{text}' is negative: a duration must be positive")
    if _BARE.fullmatch(t):
        return _whole_ms(float(t) * 1000, text)
    if _COMPOUND.fullmatch(t):
        parts = [(n, _ALIASES.get(u, u)) for n, u in _PART.findall(t)]
        units = [u for _, u in parts]
        if len(set(units)) != len(units):
            raise ValueError(f"'{text}' repeats a unit; write e.g. 1m30s")
        order = [list(_UNIT_MS).index(u) for u in units]
        if order != sorted(order):
            raise ValueError(f"'{text}' has its units out of order; write e.g. 1h30m or 1m30s")
        return _whole_ms(sum(float(n) * _UNIT_MS[u] for n, u in parts), text)
    shown = text if len(text) <= 40 else text[:40] + "…"
    raise ValueError(f"'{shown}' is not a duration; write e.g. 45s, 2m, 1m30s or 90 (seconds)")


def is_bare_number(text: str) -> bool:
    """Whether `text` is a number without a unit (`45`, `1.5`)."""
    return _BARE.fullmatch(text.strip()) is not None


def _whole_ms(ms: float, text: str) -> int:
    """Milliseconds as a whole number; absurdly long values are refused, not overflowed."""
    if not math.isfinite(ms) or ms > 1000 * MAX_SESSION_MS:
        shown = text if len(text) <= 40 else text[:40] + "…"
        raise TooLong(f"'{shown}' is longer than 12 hours; guidecast refuses sessions that long")
    return round(ms)


def parse_range(text: str) -> tuple[int, int]:
    """Parse a duration or a range (`2-4m`, `20-30s`, `1m-90s`) to (min_ms, max_ms).

    A bare first number takes the unit of the second part: `2-4m` means 2m to 4m.
    """
    t = text.strip().lower()
    if "-" not in t or t.startswith("-"):
        ms = parse_duration(t)
        return ms, ms
    low, _, high = t.partition("-")
    if not low.strip() or not high.strip() or "-" in high:
        raise ValueError(f"'{text}' is not a range; write e.g. 2-4m or 20-30s")
    high_ms = parse_duration(high)
    low = low.strip()
    if _BARE.fullmatch(low):
        unit = _PART.findall(high.strip())
        if unit:
            low = low + unit[-1][1]
    return parse_duration(low), high_ms


def format_duration(ms: int) -> str:
    """Format milliseconds the way routines write them: `45s`, `2m`, `1m30s`, `1h5m`."""
    if ms % 1000:
        return f"{ms / 1000:.1f}s"
    s = ms // 1000
    h, rem = divmod(s, 3600)
    m, sec = divmod(rem, 60)
    parts = [f"{h}h" if h else "", f"{m}m" if m else "", f"{sec}s" if sec else ""]
    return "".join(parts) or "0s"


def format_clock(ms: int) -> str:
    """Format milliseconds as a clock: `4:05` or `1:02:03`."""
    s = round(ms / 1000)
    h, rem = divmod(s, 3600)
    m, sec = divmod(rem, 60)
    return f"{h}:{m:02d}:{sec:02d}" if h else f"{m}:{sec:02d}"
