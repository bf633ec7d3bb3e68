"""Derived data kept on disk by key: each entry carries a checksum of its key and its body.

Like the speech cache, a store is a convenience: an entry that is damaged, or was copied or
moved under another key, reads as missing and is made again; a store that cannot be written
is used without keeping anything (with one warning). Entries are written whole or not at all.
Cache files are read only as regular files: a symbolic link, a device or a pipe in the place
of an entry is never followed or opened for reading (it is removed and the entry remade).
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import logging
import os
import stat
import struct
from pathlib import Path

from .atomic import atomic_file

__all__ = [
    "MAX_ENTRY_BYTES",
    "BlobStore",
    "blob_key",
    "entry_digest",
    "entry_folder",
    "read_entry",
    "remove_entry",
]

log = logging.getLogger(__name__)

_HEAD = struct.Struct(">8s32s")  # kind tag, sha256 of the key and the body

MAX_ENTRY_BYTES = 256 * 1024 * 1024
"""The largest cache entry read: more is damage (an hour of 48 kHz speech is 346 MB, but a
clip is one sentence and a run a few of them)."""

_FLAGS = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
_FLAGS |= getattr(os, "O_BINARY", 0)


def blob_key(parts: object) -> str:
    """A stable key for JSON-able parts (the inputs an entry is made from)."""
    blob = json.dumps(parts, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def entry_digest(key: str, body: bytes) -> bytes:
    """The checksum of an entry: its key and its body, so an entry under another key fails."""
    return hashlib.sha256(key.encode("ascii", "replace") + b"\0" + body).digest()


def read_entry(path: Path, limit: int = MAX_ENTRY_BYTES) -> bytes:
    """The bytes of the regular file at `path`, neither it nor its folder a symbolic link.

    Raises FileNotFoundError when there is nothing there (or its folder is missing or is a
    file), ValueError for anything else in its place, OSError when it cannot be read.
    """
    try:
        if stat.S_ISLNK(os.lstat(path.parent).st_mode):
            raise ValueError("its folder is a symbolic link, not followed")
        fd = os.open(path, _FLAGS)
    except NotADirectoryError as e:
        raise FileNotFoundError(str(e)) from e
    except OSError as e:
        if e.errno == errno.ELOOP:
            raise ValueError("a symbolic link, not followed") from e
        raise
    with os.fdopen(fd, "rb") as f:
        info = os.fstat(f.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise ValueError("not a regular file")
        if info.st_size > limit:
            raise ValueError(f"{info.st_size} bytes, more than an entry may hold")
        # Ask for what the file holds (asking for `limit` makes Python set aside that much
        # first): only a file still growing is read on, up to the limit.
        data = f.read(info.st_size + 1)
        if len(data) > info.st_size:
            data += f.read(limit + 1 - len(data))
    if len(data) > limit:
        raise ValueError(f"more than {limit} bytes")
    return data


def entry_folder(path: Path) -> None:
    """Make the folder an entry is written in; a symbolic link in its place is removed first,
    so writes never land where a link points."""
    folder = path.parent
    with contextlib.suppress(OSError):
        if stat.S_ISLNK(os.lstat(folder).st_mode):
            folder.unlink()
    folder.mkdir(parents=True, exist_ok=True)


def remove_entry(path: Path) -> None:
    """Remove what is at `path` (a file, a link itself, a device node); never a link's target."""
    with contextlib.suppress(OSError):
        path.unlink()


class BlobStore:
    """Checksummed byte strings in `root`, one file per key; `root` None keeps nothing."""

    def __init__(self, root: Path | None, kind: bytes, suffix: str) -> None:
        assert len(kind) <= 8
        self.root = root
        self.kind = kind.ljust(8, b"\0")
        self.suffix = suffix
        self.warned = False

    def path(self, key: str) -> Path | None:
        return None if self.root is None else self.root / key[:2] / f"{key}{self.suffix}"

    def has(self, key: str) -> bool:
        """Whether an entry is kept for `key` (not checked until it is read)."""
        path = self.path(key)
        try:
            return path is not None and stat.S_ISREG(os.lstat(path).st_mode)
        except OSError:
            return False

    def get(self, key: str) -> bytes | None:
        path = self.path(key)
        if path is None:
            return None
        try:
            data = read_entry(path)
            kind, digest = _HEAD.unpack_from(data)
            body = data[_HEAD.size :]
            if kind != self.kind:
                raise ValueError("not an entry of this kind")
            if entry_digest(key, body) != digest:
                if hashlib.sha256(body).digest() == digest:  # made before keys were covered
                    log.info("%s was made by an earlier version; making it again", path.name)
                    remove_entry(path)
                    return None
                raise ValueError("its checksum does not match its key and contents")
        except FileNotFoundError:
            return None
        except (OSError, ValueError, struct.error) as e:
            self.discard(key, str(e))
            return None
        return body

    def discard(self, key: str, why: str) -> None:
        """Drop a damaged entry so that it is made again."""
        path = self.path(key)
        if path is None:
            return
        log.warning("%s is damaged (%s); making it again", path.name, why)
        remove_entry(path)

    def put(self, key: str, body: bytes) -> None:
        path = self.path(key)
        if path is None:
            return
        try:
            entry_folder(path)
            with atomic_file(path, sync=False) as f:
                f.write(_HEAD.pack(self.kind, entry_digest(key, body)) + body)
        except OSError as e:
            if not self.warned:
                self.warned = True
                log.warning(
                    "cannot keep derived audio data in %s (%s); rendering without it",
                    self.root,
                    e.strerror or e,
                )
