"""A built catalog's site: the manifest of what was built, and publishing a build into place.

The manifest (`manifest.json`) records each variant's key, files, length and loudness, and what
it was built from; the next build compares keys with it. Publishing swaps each new variant's
files in whole, removes the variants that left the matrix, then writes the feeds (one per
language), the page and the manifest, each atomically.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from ..errors import ExportError, FeedError
from ..mp3.export import SIDECARS
from ..publish.episodes import Session, load_sessions
from ..publish.feed import SHOW_COVER, build_feed, file_url, make_channel, show_cover
from ..publish.page import MANIFEST as PAGE_MANIFEST
from ..publish.page import (
    SERVICE_WORKER,
    page_text,
    render_page,
    service_worker,
    web_manifest,
)
from ..store.atomic import replace_all, write_atomic
from .manifest import MANIFEST, MANIFEST_FORMAT, ManifestEntry
from .page import PickerEntry, catalog_picker_html
from .plan import Planned
from .project import Project
from .tasks import Built

__all__ = ["publish", "site_key"]

log = logging.getLogger(__name__)


def site_key(project: Project, planned: Sequence[Planned]) -> str:
    """What the whole site is made of: the project file and every variant's key."""
    h = hashlib.sha256(project.path.read_bytes())
    for p in planned:
        h.update(f"{p.name}={p.key}\n".encode())
    return h.hexdigest()


def publish(
    project: Project,
    planned: Sequence[Planned],
    made: Sequence[Built],
    skipped_now: Sequence[tuple[str, str]],
    removed: Sequence[str],
    *,
    site: str,
) -> None:
    """Swap the new variants in, drop the removed ones, then write feeds, page and manifest."""
    out = project.output
    out.mkdir(parents=True, exist_ok=True)
    built = {b.name: b for b in made}
    skipped = dict(skipped_now)
    entries: list[ManifestEntry] = []
    for p in planned:
        if p.name in built:
            b = built[p.name]
            pairs = [(Path(f), out / Path(f).name) for f in b.files]
            try:
                replace_all(pairs)
            except OSError as e:
                raise ExportError(out, f"cannot publish {p.name}: {e.strerror or e}") from e
            entries.append(_entry(project, p, files=tuple(Path(f).name for f in b.files), built=b))
        elif p.name in skipped:
            entries.append(_entry(project, p, skipped=skipped[p.name]))
        elif p.previous is not None:
            entries.append(p.previous)  # kept, or failed this time: the last good build stays
    keep = {f for e in entries for f in e.files}
    for name in removed:
        for suffix in (".mp3", *SIDECARS):
            stale = out / f"{name}{suffix}"
            if stale.name not in keep:
                stale.unlink(missing_ok=True)
    live = [e for e in entries if e.files]
    _write_feeds(project, live)
    manifest = {
        "format": MANIFEST_FORMAT,
        "site": site,
        "variants": [asdict(e) for e in entries],
    }
    write_atomic(out / MANIFEST, (json.dumps(manifest, indent=2) + "\n").encode())


def _entry(
    project: Project,
    p: Planned,
    *,
    files: tuple[str, ...] = (),
    built: Built | None = None,
    skipped: str = "",
) -> ManifestEntry:
    v = p.variant
    return ManifestEntry(
        name=p.name,
        key=p.key,
        routine=_relative(v.routine, project.path.parent),
        title=p.routine.title,
        language=p.routine.language,
        narration=p.options.narration.value,
        length_ms=v.length_ms,
        rate=p.options.rate,
        bed=v.bed or (p.mix.bed.name if p.mix.bed else "none"),
        voice=v.voice or p.spec.voice or "",
        files=files,
        duration_ms=built.duration_ms if built else 0,
        lufs=built.lufs if built else 0.0,
        chapters=built.chapters if built else 0,
        skipped=skipped,
    )


def _relative(path: Path, base: Path) -> str:
    try:
        return str(path.relative_to(base.resolve()))
    except ValueError:
        return str(path)


def feed_name(language: str, first: str) -> str:
    """`feed.xml` for the language most sessions speak, `feed-es.xml` for each other one."""
    return "feed.xml" if language == first else f"feed-{language}.xml"


def _write_feeds(project: Project, entries: list[ManifestEntry]) -> None:
    """One feed per language, the show's artwork and the page, from the published sessions."""
    out = project.output
    by_file = {e.files[0]: e for e in entries if e.files}
    sessions = [s for s in load_sessions(out, skip_broken=True) if s.mp3 in by_file]
    counts = Counter(e.language for e in entries)
    languages = sorted(counts, key=lambda code: (-counts[code], code))
    first = languages[0] if languages else "en"  # the language of most sessions
    cover = show_cover(project.title)
    if not (out / SHOW_COVER).is_file() or (out / SHOW_COVER).read_bytes() != cover:
        write_atomic(out / SHOW_COVER, cover)
    for language in languages:
        group = [s for s in sessions if by_file[s.mp3].language == language]
        channel = _channel(project, group, language)
        if not project.base_url:
            continue
        try:
            data = build_feed(group, project.base_url, channel)
        except FeedError as e:
            raise FeedError(f"{project.path}: {e}") from e
        write_atomic(out / feed_name(language, first), data)
    picker = catalog_picker_html(
        [_picker_entry(s, by_file[s.mp3]) for s in _in_order(sessions, entries)]
    )
    feed_url = file_url(project.base_url, "feed.xml") if project.base_url else "feed.xml"
    page = render_page(
        [], _channel(project, sessions, first), feed_url=feed_url, directory=out, makers=picker
    )
    write_atomic(out / "index.html", page.encode())
    # The page is a web app whose sessions play offline once played (on an HTTPS host).
    app = json.dumps(web_manifest(page_text(project.title)), ensure_ascii=False).encode()
    for name, data in ((PAGE_MANIFEST, app), (SERVICE_WORKER, service_worker())):
        if not (out / name).is_file() or (out / name).read_bytes() != data:
            write_atomic(out / name, data)


def _channel(project: Project, sessions: list[Session], language: str) -> Any:
    return make_channel(
        project.output,
        sessions,
        title=project.title,
        description=project.description or None,
        author=project.author or None,
        language=language,
        owner_email=project.email,
    )


def _in_order(sessions: list[Session], entries: list[ManifestEntry]) -> list[Session]:
    """Sessions in the manifest's order (the project's routines, then its matrix)."""
    rank = {e.files[0]: k for k, e in enumerate(entries)}
    return sorted(sessions, key=lambda s: rank[s.mp3])


def _picker_entry(s: Session, e: ManifestEntry) -> PickerEntry:
    routine_title = s.title.rsplit(" (", 1)[0]
    return PickerEntry(
        routine=Path(e.routine).stem,
        title=routine_title,
        description=s.description,
        narration=e.narration,
        length=_length_choice(e.length_ms),
        rate=f"{e.rate:g}",
        bed=e.bed,
        duration_ms=s.duration_ms,
        session_file=f"{e.name}.session.json",
    )


def _length_choice(length: int | str | None) -> str:
    """The page's value for a length: whole minutes, `shortest`/`longest`, or '' as written."""
    if isinstance(length, int):
        return str(round(length / 60_000))
    return length or ""
