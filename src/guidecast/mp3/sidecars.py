"""Files beside the MP3: Podcasting 2.0 chapters JSON, WebVTT and SRT transcripts, session info."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from ..compiler.timeline import Layout, PlacedChapter, Speak

__all__ = [
    "Caption",
    "captions",
    "chapters_json",
    "clean_text",
    "srt",
    "srt_text",
    "timestamp",
    "transcript_text",
    "vtt",
    "vtt_text",
]


@dataclass(frozen=True)
class Caption:
    """One spoken sentence at its real start and end."""

    start_ms: int
    end_ms: int
    text: str


def captions(lay: Layout) -> list[Caption]:
    """Every sentence said, in time order, including cues spoken inside holds."""
    out: list[Caption] = []
    for item in lay.items:
        if isinstance(item.event, Speak):
            out.append(Caption(item.start_ms, item.start_ms + item.ms, item.event.text))
        out.extend(Caption(start, start + ms, cue.text) for start, ms, cue in item.cues)
    return sorted(out, key=lambda c: c.start_ms)


def chapters_json(chapters: tuple[PlacedChapter, ...]) -> str:
    """Podcasting 2.0 JSON chapters (version 1.2.0), times in seconds."""
    data: dict[str, Any] = {
        "version": "1.2.0",
        "chapters": [
            {
                "startTime": c.start_ms / 1000,
                "endTime": c.end_ms / 1000,
                "title": clean_text(c.title),
            }
            for c in chapters
        ],
    }
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def timestamp(ms: int, sep: str = ".") -> str:
    """A time as `HH:MM:SS.mmm` (WebVTT, Normal Play Time), or with `sep=","` as SRT writes it."""
    h, rem = divmod(ms, 3_600_000)
    m, rem = divmod(rem, 60_000)
    s, ms = divmod(rem, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}{sep}{ms:03d}"


_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\ud800-\udfff]")
"""Characters no sidecar keeps: control characters (escape sequences, bells), the bidi
embeddings and overrides that turn the text after them around, and lone surrogates."""
_TAG = re.compile(r"</?[A-Za-z!?][^<>]*>")
"""Something a player could read as an HTML-like tag."""


def clean_text(text: str) -> str:
    """Text as the sidecars write it: without control characters, on one line."""
    return " ".join(_CONTROL.sub("", text).split())


def _one_line(text: str) -> str:
    """Cue text on one line: a line break, let alone a blank line, would end the cue."""
    return clean_text(text)


def vtt_text(text: str) -> str:
    """Escape cue text for WebVTT: `&` and `<` start markup, and `-->` must not appear."""
    text = _one_line(text).replace("&", "&amp;").replace("<", "&lt;")
    return text.replace(">", "&gt;")


def srt_text(text: str) -> str:
    """Cue text for SRT, which has no escapes: players read `<i>`, `<font>` (and `<script>`
    in web players) as markup and `{\\an8}` as positioning, and `-->` as a timing line; so
    tags are taken out and stray angle brackets shown as ‹ ›."""
    text = _TAG.sub("", _one_line(text)).replace("<", "‹").replace(">", "›")
    return " ".join(text.replace("{\\", "{").replace("-->", "->").split())


def vtt(caps: list[Caption]) -> str:
    """A WebVTT transcript."""
    body = [
        f"{timestamp(c.start_ms)} --> {timestamp(c.end_ms)}\n{vtt_text(c.text)}\n" for c in caps
    ]
    return "WEBVTT\n\n" + "\n".join(body)


def srt(caps: list[Caption]) -> str:
    """An SRT transcript."""
    return "\n".join(
        f"{i}\n{timestamp(c.start_ms, ',')} --> {timestamp(c.end_ms, ',')}\n{srt_text(c.text)}\n"
        for i, c in enumerate(caps, start=1)
    )


def transcript_text(lay: Layout) -> str:
    """Plain transcript, a paragraph per chapter (the MP3's unsynchronised lyrics)."""
    caps = captions(lay)
    parts: list[str] = []
    for chapter in lay.chapters:
        said = [clean_text(c.text) for c in caps if chapter.start_ms <= c.start_ms < chapter.end_ms]
        parts.append(f"{clean_text(chapter.title)}\n" + " ".join(said))
    return "\n\n".join(parts) + "\n"
