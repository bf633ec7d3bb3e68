"""A built catalog's manifest (`manifest.json`): every variant's key, files, length and loudness,
and what it was built from; the next build compares keys with it."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path

__all__ = ["MANIFEST", "MANIFEST_FORMAT", "Manifest", "ManifestEntry", "read_manifest"]

log = logging.getLogger(__name__)
MANIFEST = "manifest.json"
MANIFEST_FORMAT = "guidecast-manifest/1"


@dataclass(frozen=True)
class ManifestEntry:
    """One variant as built."""

    name: str
    key: str
    routine: str
    """The routine file, relative to the project file."""
    title: str
    language: str
    narration: str
    length_ms: int | str | None
    rate: float
    bed: str
    voice: str
    files: tuple[str, ...] = ()
    duration_ms: int = 0
    lufs: float = 0.0
    chapters: int = 0
    skipped: str = ""
    """Why the variant was left out (a length its routine cannot reach); no files then."""


@dataclass(frozen=True)
class Manifest:
    format: str
    site: str
    """A digest of the project file and every variant's key: unchanged means nothing to do."""
    variants: tuple[ManifestEntry, ...]


def read_manifest(output: Path) -> Manifest | None:
    """The site's manifest, or None when there is none (or it is damaged: then all is built)."""
    path = output / MANIFEST
    try:
        data = json.loads(path.read_text("utf-8"))
        if data.get("format") != MANIFEST_FORMAT:
            return None
        entries = tuple(
            ManifestEntry(**{**v, "files": tuple(v.get("files", ()))}) for v in data["variants"]
        )
        return Manifest(data["format"], str(data["site"]), entries)
    except FileNotFoundError:
        return None
    except (OSError, ValueError, TypeError, KeyError, AttributeError) as e:
        log.warning("%s: unreadable (%s); every variant is built again", path, e)
        return None
