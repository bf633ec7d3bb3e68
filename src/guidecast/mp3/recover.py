"""A session rebuilt from its MP3's own ID3 tags, for when `NAME.session.json` is lost.

The render records the episode's identity (guid, first-render time, language) in `TXXX` frames
beside the usual tags, so the feed keeps an episode's guid and publication date from the MP3
alone. The tags are read by `id3` (where every mutagen call lives); a file that is not one
guidecast wrote fails as `SessionFileError`.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path

from ..lang.i18n import known_language
from .id3 import TagError, Tags, read_mp3
from .sessioninfo import (
    MAX_DURATION_MS,
    STAMP,
    ChapterMark,
    SessionFileError,
    SessionInfo,
)

__all__ = ["FIRST_RENDERED", "GUID", "LANGUAGE", "derived_guid", "identity", "recover"]

GUID = "guidecast:guid"
FIRST_RENDERED = "guidecast:first_rendered"
LANGUAGE = "guidecast:language"
_SIDECARS = {"cover": ".jpg", "chapters_json": ".chapters.json", "vtt": ".vtt", "srt": ".srt"}


def derived_guid(mp3_name: str) -> str:
    """The guid a session gets from its MP3's file name when nothing recorded another."""
    return uuid.uuid5(uuid.NAMESPACE_URL, f"guidecast:{mp3_name}").urn


def identity(guid: str, first_rendered: datetime, language: str) -> tuple[tuple[str, str], ...]:
    """The user text frames (description, text) that keep an episode's identity in its MP3."""
    stamp = first_rendered.astimezone(UTC).strftime(STAMP)
    return ((GUID, guid), (FIRST_RENDERED, stamp), (LANGUAGE, language))


def recover(mp3: Path) -> SessionInfo:
    """Rebuild a session's record from its MP3: title, duration, chapters, guid and date.

    Sidecars beside the MP3 (`NAME.jpg`, `NAME.chapters.json`, ...) are named when present.
    An MP3 written before the render recorded its identity gets the guid derived from its
    name and its modification time as the first-render date.
    """
    try:
        tags, length = read_mp3(mp3)
    except TagError as e:
        raise SessionFileError(e.reason) from None
    if not (tags.encoder.startswith("guidecast") or tags.user_text(GUID)):
        raise SessionFileError("not an MP3 guidecast rendered")
    if length is None:
        raise SessionFileError("not a readable MP3 (no audio frames)")
    duration_ms = round(length * 1000)
    if not 0 <= duration_ms <= MAX_DURATION_MS:
        raise SessionFileError("not a readable MP3 (impossible duration)")
    modified = datetime.fromtimestamp(mp3.stat().st_mtime, UTC).replace(microsecond=0)
    first = _time(tags.user_text(FIRST_RENDERED)) or modified
    present = {
        key: name if (name := mp3.stem + suffix) and mp3.with_name(name).is_file() else None
        for key, suffix in _SIDECARS.items()
    }
    return SessionInfo(
        title=tags.title or mp3.stem,
        description=tags.comment,
        author=tags.artist or "guidecast",
        series=tags.album,
        language=_language(tags),
        genre=tags.genre,
        duration_ms=duration_ms,
        guid=tags.user_text(GUID) or derived_guid(mp3.name),
        first_rendered=first,
        rendered=max(first, modified),
        mp3=mp3.name,
        chapters=_chapters(tags, duration_ms),
        cover=present["cover"],
        chapters_json=present["chapters_json"],
        vtt=present["vtt"],
        srt=present["srt"],
    )


def _time(text: str) -> datetime | None:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    moment = moment.replace(tzinfo=moment.tzinfo or UTC).astimezone(UTC)
    return moment if 1970 <= moment.year <= 9998 else None


def _language(tags: Tags) -> str:
    """The routine's language tag, else the ISO 639-2 code of TLAN as a short tag."""
    recorded = tags.user_text(LANGUAGE)
    if recorded and known_language(recorded):
        return recorded
    import langcodes

    code = tags.language
    if code and known_language(code):
        return str(langcodes.Language.get(code).language)
    return "en"


def _chapters(tags: Tags, duration_ms: int) -> tuple[ChapterMark, ...]:
    """The chapters as the tag lists them, kept inside the audio."""
    marks = []
    for chapter in tags.chapters:
        start = min(chapter.start_ms, duration_ms)
        end = min(max(chapter.end_ms, start), duration_ms)
        marks.append(ChapterMark(chapter.title, start, end))
    return tuple(marks)
