"""Publish rendered sessions as a podcast feed: RSS 2.0 with iTunes and Podcasting 2.0 tags."""

from __future__ import annotations

import logging
import re
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

from .atomic import sweep_stale, write_atomic
from .errors import FeedError
from .sessioninfo import (
    SESSION_FORMAT,
    ChapterMark,
    SessionFileError,
    SessionInfo,
    read_session_info,
)

__all__ = [
    "SESSION_FORMAT",
    "Channel",
    "ChapterMark",
    "Session",
    "SessionInfo",
    "build_feed",
    "file_url",
    "load_sessions",
    "make_channel",
    "write_feed",
]

log = logging.getLogger(__name__)

ITUNES = "http://www.itunes.com/dtds/podcast-1.0.dtd"
PODCAST = "https://podcastindex.org/namespace/1.0"
ATOM = "http://www.w3.org/2005/Atom"
CHANNEL_COVER = "cover.jpg"
"""A channel cover the user may put in the folder; else the newest session's cover is used."""

for _prefix, _uri in (("itunes", ITUNES), ("podcast", PODCAST), ("atom", ATOM)):
    ET.register_namespace(_prefix, _uri)


@dataclass(frozen=True, kw_only=True)
class Session(SessionInfo):
    """A rendered session found in a folder: its session file plus what the folder holds.

    Optional files (cover, chapters, transcripts) that are missing are None here.
    """

    path: Path
    """The session.json file itself."""
    mp3_bytes: int


@dataclass(frozen=True)
class Channel:
    """Feed-wide metadata."""

    title: str
    description: str
    language: str
    author: str
    cover: str | None
    """File name of the channel's square cover, relative to the folder."""
    category: str = "Health & Fitness"
    subcategory: str = "Alternative Health"


# -- loading ---------------------------------------------------------------------------------


def load_sessions(directory: Path, *, skip_broken: bool = False) -> list[Session]:
    """Read every `*.session.json` in a folder whose MP3 exists, newest first.

    A damaged session file is a FeedError, or with `skip_broken` a warning and left out
    (the server: one bad file must not take down the page and the feed).
    """
    if not directory.is_dir():
        raise FeedError(f"{directory}: no such folder; render a session into it first")
    sessions = []
    for path in sorted(directory.glob("*.session.json")):
        if path.name.startswith("."):
            continue
        try:
            session = _load_session(path)
        except FeedError as e:
            if not skip_broken:
                raise
            log.warning("%s; left out", e)
            continue
        if session is not None:
            sessions.append(session)
    sessions.sort(key=lambda s: (s.first_rendered, s.title), reverse=True)
    return sessions


def _load_session(path: Path) -> Session | None:
    """Read one session.json; None when its MP3 is missing."""
    try:
        info = read_session_info(path)
    except OSError as e:
        raise FeedError(f"{path}: cannot read the file: {e.strerror}") from e
    except SessionFileError as e:
        raise FeedError(f"{path}: {e}; render the session again") from e
    try:
        mp3_bytes = (path.parent / info.mp3).stat().st_size
    except OSError:
        log.warning("%s: skipped, its MP3 %s is missing", path, info.mp3)
        return None
    present = {key: _present(path, key, getattr(info, key)) for key in _OPTIONAL_FILES}
    values = {f.name: getattr(info, f.name) for f in fields(SessionInfo)}
    return Session(**{**values, **present}, path=path, mp3_bytes=mp3_bytes)


_OPTIONAL_FILES = ("cover", "chapters_json", "vtt", "srt")


def _present(path: Path, key: str, name: str | None) -> str | None:
    """The file's name when it is beside the session file, else None (with a warning)."""
    if name is not None and not (path.parent / name).is_file():
        log.warning("%s: %s %s is missing; leaving it out of the feed", path, key, name)
        return None
    return name


# -- channel and feed ------------------------------------------------------------------------


def make_channel(
    directory: Path,
    sessions: Sequence[Session],
    *,
    title: str | None = None,
    description: str | None = None,
    author: str | None = None,
    language: str | None = None,
) -> Channel:
    """Choose the channel's metadata: what the caller gives, else what the sessions share."""
    series = _common(s.series for s in sessions)
    title = title or series or "guidecast sessions"
    if description is None:
        description = f"{title}: guided sessions rendered by guidecast."
    cover: str | None = CHANNEL_COVER if (directory / CHANNEL_COVER).is_file() else None
    if cover is None:
        cover = next((s.cover for s in sessions if s.cover), None)
    return Channel(
        title=title,
        description=description,
        language=language or _common(s.language for s in sessions) or "en",
        author=author or _common(s.author for s in sessions) or "guidecast",
        cover=cover,
    )


def _common(values: Any) -> str:
    """Return the value all sessions share, or the empty string when they differ."""
    distinct = set(values)
    return distinct.pop() if len(distinct) == 1 else ""


def file_url(base_url: str, name: str) -> str:
    """Join a base URL and a file name, quoting the name."""
    return f"{base_url.rstrip('/')}/{quote(name)}"


def build_feed(sessions: Sequence[Session], base_url: str, channel: Channel) -> bytes:
    """Build the RSS document for sessions whose files live under base_url."""
    base_url = _check_base_url(base_url)
    rss = ET.Element("rss", {"version": "2.0"})
    ch = ET.SubElement(rss, "channel")
    _text(ch, "title", channel.title)
    _text(ch, "link", base_url + "/")
    _text(ch, "description", channel.description)
    _text(ch, "language", channel.language)
    _text(ch, "generator", "guidecast")
    newest = max((s.rendered for s in sessions), default=datetime.now(UTC))
    _text(ch, "lastBuildDate", format_datetime(newest.astimezone(UTC), usegmt=True))
    ET.SubElement(
        ch,
        f"{{{ATOM}}}link",
        {"href": file_url(base_url, "feed.xml"), "rel": "self", "type": "application/rss+xml"},
    )
    _text(ch, f"{{{ITUNES}}}author", channel.author)
    _text(ch, f"{{{ITUNES}}}summary", channel.description)
    _text(ch, f"{{{ITUNES}}}type", "episodic")
    _text(ch, f"{{{ITUNES}}}explicit", "false")
    if channel.cover:
        cover_url = file_url(base_url, channel.cover)
        ET.SubElement(ch, f"{{{ITUNES}}}image", {"href": cover_url})
        image = ET.SubElement(ch, "image")
        for tag, text in (("url", cover_url), ("title", channel.title), ("link", base_url + "/")):
            _text(image, tag, text)
    category = ET.SubElement(ch, f"{{{ITUNES}}}category", {"text": channel.category})
    ET.SubElement(category, f"{{{ITUNES}}}category", {"text": channel.subcategory})
    for session in sessions:
        _item(ch, session, base_url)
    _xml_safe(rss)
    ET.indent(rss)
    document: bytes = ET.tostring(rss, encoding="utf-8", xml_declaration=True)
    return document + b"\n"


def _item(channel: ET.Element, s: Session, base_url: str) -> None:
    """Append one episode to the channel."""
    item = ET.SubElement(channel, "item")
    _text(item, "title", s.title)
    _text(item, "description", s.description or s.title)
    if s.description:
        _text(item, f"{{{ITUNES}}}summary", s.description)
    ET.SubElement(
        item,
        "enclosure",
        {"url": file_url(base_url, s.mp3), "length": str(s.mp3_bytes), "type": "audio/mpeg"},
    )
    _text(item, "guid", s.guid).set("isPermaLink", "false")
    _text(item, "pubDate", format_datetime(s.first_rendered.astimezone(UTC), usegmt=True))
    _text(item, f"{{{ITUNES}}}title", s.title)
    _text(item, f"{{{ITUNES}}}duration", str(round(s.duration_ms / 1000)))
    _text(item, f"{{{ITUNES}}}episodeType", "full")
    _text(item, f"{{{ITUNES}}}explicit", "true" if s.explicit else "false")
    if s.cover:
        ET.SubElement(item, f"{{{ITUNES}}}image", {"href": file_url(base_url, s.cover)})
    if s.chapters_json:
        ET.SubElement(
            item,
            f"{{{PODCAST}}}chapters",
            {"url": file_url(base_url, s.chapters_json), "type": "application/json+chapters"},
        )
    for name, mime, rel in ((s.vtt, "text/vtt", "captions"), (s.srt, "application/x-subrip", "")):
        if name:
            attrs = {"url": file_url(base_url, name), "type": mime, "language": s.language}
            if rel:
                attrs["rel"] = rel
            ET.SubElement(item, f"{{{PODCAST}}}transcript", attrs)


_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
"""Characters XML 1.0 cannot hold at all (control characters, lone surrogates, U+FFFE/FFFF)."""


def _xml_safe(root: ET.Element) -> None:
    """Replace characters XML cannot hold with U+FFFD, so one odd title cannot break the feed."""
    for element in root.iter():
        if element.text:
            element.text = _NOT_XML.sub("\ufffd", element.text)
        for key, value in element.attrib.items():
            element.attrib[key] = _NOT_XML.sub("\ufffd", value)


def _text(parent: ET.Element, tag: str, text: str) -> ET.Element:
    element = ET.SubElement(parent, tag)
    element.text = text
    return element


def _check_base_url(base_url: str) -> str:
    """Return the base URL without its trailing slash, or raise FeedError if not absolute."""
    parts = urlsplit(base_url)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        raise FeedError(
            f"base URL {base_url!r} must be absolute, like https://example.com/yoga "
            "or http://192.168.1.20:8000"
        )
    return base_url.rstrip("/")


# -- writing ---------------------------------------------------------------------------------


def write_feed(
    directory: Path,
    *,
    base_url: str,
    title: str | None = None,
    description: str | None = None,
    author: str | None = None,
    language: str | None = None,
) -> Path:
    """Write `DIR/feed.xml` for the sessions rendered in DIR and return its path."""
    base_url = _check_base_url(base_url)
    sessions = load_sessions(directory)
    if not sessions:
        raise FeedError(
            f"{directory}: no rendered sessions (no *.session.json beside its MP3); "
            "run 'guidecast render' first"
        )
    channel = make_channel(
        directory, sessions, title=title, description=description, author=author, language=language
    )
    if channel.cover is None:
        log.warning("no cover image: podcast apps will show a blank square")
    target = directory / "feed.xml"
    _write_atomically(target, build_feed(sessions, base_url, channel))
    log.info("wrote %s with %d sessions", target, len(sessions))
    return target


def _write_atomically(target: Path, data: bytes) -> None:
    """Replace the feed whole, or leave the old one; a failure is a FeedError."""
    sweep_stale(target)
    try:
        write_atomic(target, data)
    except OSError as e:
        raise FeedError(f"{target}: cannot write the feed: {e.strerror}") from e
