"""How much disk sessions on demand may use: kept variants, other variants, the speech cache.

A server that renders what phones ask for must not fill its disk: the variants listeners keep
in the feed are limited in number and bytes (`KEPT_LIMIT`, `KEPT_BYTES`; past them keeping is
refused with the reason), the others are removed oldest first past `UNKEPT_LIMIT` or
`UNKEPT_BYTES`, and the speech cache (clips, encoded runs, measures) is pruned least recently
used first past `CACHE_BYTES`. Every cache entry is something a render makes again when it is
missing, so pruning costs time, never a session.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import time
from collections.abc import Iterable, Iterator
from pathlib import Path

from ...errors import GuidecastError
from ...mp3.export import SessionFiles

__all__ = [
    "CACHE_BYTES",
    "CACHE_GRACE_S",
    "KEPT_BYTES",
    "KEPT_LIMIT",
    "QuotaFull",
    "check_quota",
    "files_bytes",
    "prune_cache",
]

log = logging.getLogger(__name__)

KEPT_LIMIT = 50
"""Variants listeners may keep in the feed at once."""
KEPT_BYTES = 1 << 30
"""Bytes the kept variants (MP3s and sidecars) may take together: 1 GiB."""
CACHE_BYTES = 2 << 30
"""Bytes the speech cache may take before the least recently used entries go: 2 GiB."""
CACHE_GRACE_S = 600.0
"""Cache entries used this recently are never pruned (a render under way may need them)."""
_ENTRY = re.compile(r"[0-9a-f]{64}\.[a-z]{2,5}")
"""A cache entry's file name: a sha256 key and a suffix; nothing else is ever removed."""


class QuotaFull(GuidecastError):
    """Keeping one more variant would pass the quota: the message says which and what to do."""


def files_bytes(mp3: Path) -> int:
    """Bytes an MP3 and its sidecars take on disk (0 for those that are gone)."""
    total = 0
    for path in SessionFiles(mp3).all:
        with contextlib.suppress(OSError):
            total += path.stat().st_size
    return total


def check_quota(folder: Path, kept: Iterable[str], adding: str) -> None:
    """Raise QuotaFull when keeping `adding` beside the `kept` variants passes a limit."""
    names = set(kept) - {adding}
    if len(names) >= KEPT_LIMIT:
        raise QuotaFull(
            f"the feed already keeps {len(names)} sessions made here (the most it keeps); "
            "take one out of the feed first"
        )
    used = sum(files_bytes(folder / f"{name}.mp3") for name in names)
    size = files_bytes(folder / f"{adding}.mp3")
    if used + size > KEPT_BYTES:
        raise QuotaFull(
            f"keeping this session would take the kept sessions to {_mib(used + size)} "
            f"(the most is {_mib(KEPT_BYTES)}); take one out of the feed first"
        )


def prune_cache(root: Path, budget: int | None = None, *, now: float | None = None) -> int:
    """Remove the least recently used cache entries until the cache fits; return bytes freed.

    Only files named like cache entries, two folders deep at most, are looked at or removed
    (never symbolic links, never anything else a user keeps there); entries used in the last
    `CACHE_GRACE_S` seconds stay, whatever the size.
    """
    budget = CACHE_BYTES if budget is None else budget
    now = time.time() if now is None else now
    by_key: dict[str, list[tuple[float, int, str]]] = {}
    total = 0
    for entry in _entries(root, depth=3):
        stat = entry.stat(follow_symlinks=False)
        used = max(stat.st_mtime, stat.st_atime)
        key = os.path.join(os.path.dirname(entry.path), entry.name.partition(".")[0])
        by_key.setdefault(key, []).append((used, stat.st_size, entry.path))
        total += stat.st_size
    if total <= budget:
        return 0
    # A clip and what was measured on it (KEY.wav, KEY.json) go together.
    entries = sorted(
        (max(u for u, _, _ in files), sum(n for _, n, _ in files), [p for _, _, p in files])
        for files in by_key.values()
    )
    freed = 0
    for used, size, paths in entries:
        if total - freed <= budget or now - used < CACHE_GRACE_S:
            break
        for path in paths:
            with contextlib.suppress(OSError):
                os.unlink(path)
        freed += size
    log.info("speech cache over %s: removed %s of old entries", _mib(budget), _mib(freed))
    return freed


def _entries(folder: Path | str, *, depth: int) -> Iterator[os.DirEntry[str]]:
    """Regular files named like cache entries, in folder and its subfolders (`depth` levels)."""
    try:
        with os.scandir(folder) as found:
            items = list(found)
    except OSError:
        return
    for item in items:
        try:
            if item.is_symlink():
                continue
            if item.is_dir() and depth > 1 and not item.name.startswith("."):
                yield from _entries(item.path, depth=depth - 1)
            elif item.is_file() and _ENTRY.fullmatch(item.name):
                yield item
        except OSError:
            continue


def _mib(size: int) -> str:
    return f"{size / (1 << 20):.0f} MiB" if size < 1 << 30 else f"{size / (1 << 30):.1f} GiB"
