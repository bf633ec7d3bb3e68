"""How many threads a process's audio work may keep busy.

A render has the machine to itself and uses every core: sentences synthesized side by side,
pieces measured through the limiter, runs encoded, PCM made ahead of the encoder. A catalog
build runs one task per core in each of its processes (`--jobs`), so each of those uses one:
`--jobs 1` is then one core, as it says, and a pool's processes do not crowd each other.
"""

from __future__ import annotations

import os

__all__ = ["limit_threads", "work_threads"]

_limit: int | None = None


def work_threads(most: int = 4) -> int:
    """Threads to run side by side here: the cores (at most `most`), or the process's limit."""
    return max(1, min(most, _limit or os.cpu_count() or 1))


def limit_threads(count: int | None) -> None:
    """Keep this process's audio work to `count` threads (None: every core)."""
    global _limit
    _limit = count
