"""Derived data kept on disk by key: each entry carries its own checksum.

Like the speech cache, a store is a convenience: an entry that is damaged reads as missing and
is made again, and a store that cannot be written is used without keeping anything (with one
warning). Entries are written whole or not at all.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import struct
from pathlib import Path

from .atomic import atomic_file

__all__ = ["BlobStore", "blob_key"]

log = logging.getLogger(__name__)

_HEAD = struct.Struct(">8s32s")  # kind tag, sha256 of the body


def blob_key(parts: object) -> str:
    """A stable key for JSON-able parts (the inputs an entry is made from)."""
    blob = json.dumps(parts, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


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

    def get(self, key: str) -> bytes | None:
        path = self.path(key)
        if path is None:
            return None
        try:
            data = path.read_bytes()
            kind, digest = _HEAD.unpack_from(data)
            body = data[_HEAD.size :]
            if kind != self.kind or hashlib.sha256(body).digest() != digest:
                raise ValueError("its checksum does not match")
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
        with contextlib.suppress(OSError):
            path.unlink()

    def put(self, key: str, body: bytes) -> None:
        path = self.path(key)
        if path is None:
            return
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with atomic_file(path, sync=False) as f:
                f.write(_HEAD.pack(self.kind, hashlib.sha256(body).digest()) + body)
        except OSError as e:
            if not self.warned:
                self.warned = True
                log.warning(
                    "cannot keep derived audio data in %s (%s); rendering without it",
                    self.root,
                    e.strerror or e,
                )
