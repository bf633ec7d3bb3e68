"""A session rebuilt from its MP3's own ID3 tags, for when `NAME.session.json` is lost.

The render records the episode's identity (guid, first-render time, language) in `TXXX` frames
beside the usual tags, so the feed keeps an episode's guid and publication date from the MP3
alone. Every mutagen call lives here and fails as `SessionFileError`, never a library error.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path

from mutagen import MutagenError
from mutagen.id3 import ID3, TXXX, CTOCFlags, Frame
from mutagen.mp3 import MP3

from ..lang.i18n import known_language
from .sessioninfo import MAX_DURATION_MS, ChapterMark, SessionFileError, SessionInfo

__all__ = ["FIRST_RENDERED", "GUID", "LANGUAGE", "derived_guid", "identity_frames", "recover"]

GUID = "guidecast:guid"
FIRST_RENDERED = "guidecast:first_rendered"
LANGUAGE = "guidecast:language"
_STAMP = "%Y-%m-%dT%H:%M:%SZ"
_SIDECARS = {"cover": ".jpg", "chapters_json": ".chapters.json", "vtt": ".vtt", "srt": ".srt"}


def derived_guid(mp3_name: str) -> str:
    """The guid a session gets from its MP3's file name when nothing recorded another."""
    return uuid.uuid5(uuid.NAMESPACE_URL, f"guidecast:{mp3_name}").urn


def identity_frames(guid: str, first_rendered: datetime, language: str) -> list[TXXX]:
    """The `TXXX` frames that keep an episode's identity inside its MP3."""
    stamp = first_rendered.astimezone(UTC).strftime(_STAMP)
    return [
        TXXX(encoding=3, desc=GUID, text=[guid]),
        TXXX(encoding=3, desc=FIRST_RENDERED, text=[stamp]),
        TXXX(encoding=3, desc=LANGUAGE, text=[language]),
    ]


def recover(mp3: Path) -> SessionInfo:
    """Rebuild a session's record from its MP3: title, duration, chapters, guid and date.

    Sidecars beside the MP3 (`NAME.jpg`, `NAME.chapters.json`, ...) are named when present.
    An MP3 written before the render recorded its identity gets the guid derived from its
    name and its modification time as the first-render date.
    """
    try:
        audio = MP3(mp3)
    except (MutagenError, OSError) as e:
        raise SessionFileError(f"not a readable MP3 ({e})") from None
    tags = audio.tags if isinstance(audio.tags, ID3) else ID3()
    if not (_text(tags, "TSSE").startswith("guidecast") or _text(tags, f"TXXX:{GUID}")):
        raise SessionFileError("not an MP3 guidecast rendered")
    length = getattr(audio.info, "length", None)
    if not isinstance(length, float):
        raise SessionFileError("not a readable MP3 (no audio frames)")
    duration_ms = round(length * 1000)
    if not 0 <= duration_ms <= MAX_DURATION_MS:
        raise SessionFileError("not a readable MP3 (impossible duration)")
    modified = datetime.fromtimestamp(mp3.stat().st_mtime, UTC).replace(microsecond=0)
    first = _time(_text(tags, f"TXXX:{FIRST_RENDERED}")) or modified
    present = {
        key: name if (name := mp3.stem + suffix) and mp3.with_name(name).is_file() else None
        for key, suffix in _SIDECARS.items()
    }
    return SessionInfo(
        title=_text(tags, "TIT2") or mp3.stem,
        description=_text(tags, "COMM::eng") or _comment(tags),
        author=_text(tags, "TPE1") or "guidecast",
        series=_text(tags, "TALB"),
        language=_language(tags),
        genre=_text(tags, "TCON"),
        duration_ms=duration_ms,
        guid=_text(tags, f"TXXX:{GUID}") or derived_guid(mp3.name),
        first_rendered=first,
        rendered=max(first, modified),
        mp3=mp3.name,
        chapters=_chapters(tags, duration_ms),
        cover=present["cover"],
        chapters_json=present["chapters_json"],
        vtt=present["vtt"],
        srt=present["srt"],
    )


def _text(tags: ID3, key: str) -> str:
    """The first text of a frame, stripped; empty when absent."""
    frame: Frame | None = tags.get(key)
    texts = getattr(frame, "text", None)
    return str(texts[0]).strip() if texts else ""


def _comment(tags: ID3) -> str:
    """The first description-less comment in any language."""
    for frame in tags.getall("COMM"):
        if not frame.desc and frame.text:
            return str(frame.text[0]).strip()
    return ""


def _time(text: str) -> datetime | None:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    moment = moment.replace(tzinfo=moment.tzinfo or UTC).astimezone(UTC)
    return moment if 1970 <= moment.year <= 9998 else None


def _language(tags: ID3) -> str:
    """The routine's language tag, else the ISO 639-2 code of TLAN as a short tag."""
    recorded = _text(tags, f"TXXX:{LANGUAGE}")
    if recorded and known_language(recorded):
        return recorded
    import langcodes

    code = _text(tags, "TLAN")
    if code and known_language(code):
        return str(langcodes.Language.get(code).language)
    return "en"


def _chapters(tags: ID3, duration_ms: int) -> tuple[ChapterMark, ...]:
    """The CHAP frames in the order of the top-level CTOC (else in time order)."""
    chaps = {frame.element_id: frame for frame in tags.getall("CHAP")}
    order = next(
        (
            list(toc.child_element_ids)
            for toc in tags.getall("CTOC")
            if toc.flags & CTOCFlags.TOP_LEVEL
        ),
        [],
    )
    frames = [chaps[i] for i in order if i in chaps] or sorted(
        chaps.values(), key=lambda f: f.start_time
    )
    marks = []
    for frame in frames:
        title = frame.sub_frames.get("TIT2")
        start = min(frame.start_time, duration_ms)
        end = min(max(frame.end_time, start), duration_ms)
        marks.append(ChapterMark(str(title.text[0]) if title else frame.element_id, start, end))
    return tuple(marks)
