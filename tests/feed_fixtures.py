"""Build output folders like `guidecast render` leaves them, and run the server in a thread."""

from __future__ import annotations

import json
import struct
import threading
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from mutagen.id3 import CHAP, CTOC, ID3, TALB, TIT2, TPE1, CTOCFlags

from guidecast.publish.serve import GuidecastServer, ServeConfig, make_server
from render_fixtures import tone_mp3

RATE = 44_100


@dataclass(frozen=True)
class FakeSession:
    """What the fixture wrote for one session."""

    name: str
    title: str
    guid: str
    seconds: float
    chapters: tuple[tuple[str, int, int], ...]
    """(title, start_ms, end_ms) for each chapter."""
    first_rendered: datetime

    def file(self, suffix: str) -> str:
        return f"{self.name}{suffix}"


def write_mp3(path: Path, seconds: float, chapters: Sequence[tuple[str, int, int]]) -> None:
    """Write a real CBR MP3 of a sine tone (44.1 kHz mono, 64 kbps) with ID3v2.3 chapters."""
    path.write_bytes(tone_mp3(seconds, rate=RATE, hz=330))
    tags = ID3()
    tags.add(TIT2(encoding=3, text=path.stem))
    tags.add(TPE1(encoding=3, text="guidecast"))
    tags.add(TALB(encoding=3, text="Back Care"))
    ids = [f"chp{i}" for i in range(len(chapters))]
    tags.add(
        CTOC(
            element_id="toc",
            flags=CTOCFlags.TOP_LEVEL | CTOCFlags.ORDERED,
            child_element_ids=ids,
            sub_frames=[],
        )
    )
    for element_id, (title, start, end) in zip(ids, chapters, strict=True):
        tags.add(
            CHAP(
                element_id=element_id,
                start_time=start,
                end_time=end,
                sub_frames=[TIT2(encoding=3, text=title)],
            )
        )
    tags.save(path, v2_version=3)


def write_jpeg(path: Path, size: int = 1400) -> None:
    """Write a valid mid-grey baseline JPEG of size x size pixels without an image library."""
    blocks = ((size + 7) // 8) ** 2
    # With one-symbol Huffman tables every 8x8 block is DC "0" plus end-of-block "0": 2 bits.
    bits = blocks * 2
    scan = bytes(bits // 8) + (bytes([0xFF >> (bits % 8)]) if bits % 8 else b"")

    def segment(marker: int, payload: bytes) -> bytes:
        return struct.pack(">BBH", 0xFF, marker, len(payload) + 2) + payload

    one_symbol = bytes([1] + [0] * 15) + b"\x00"
    path.write_bytes(
        b"\xff\xd8"
        + segment(0xDB, b"\x00" + bytes([1] * 64))
        + segment(0xC0, struct.pack(">BHHB", 8, size, size, 1) + b"\x01\x11\x00")
        + segment(0xC4, b"\x00" + one_symbol)
        + segment(0xC4, b"\x10" + one_symbol)
        + segment(0xDA, b"\x01\x01\x00\x00\x3f\x00")
        + scan
        + b"\xff\xd9"
    )


def _clock(ms: int, separator: str) -> str:
    hours, minutes, seconds = ms // 3_600_000, ms // 60_000 % 60, ms // 1000 % 60
    return f"{hours:02d}:{minutes:02d}:{seconds:02d}{separator}{ms % 1000:03d}"


def make_session(
    folder: Path,
    name: str,
    *,
    title: str,
    seconds: float = 24.0,
    chapter_titles: Sequence[str] = ("Easy Pose", "Cat-Cow", "Child's Pose"),
    first_rendered: datetime = datetime(2026, 11, 25, 15, 40, tzinfo=UTC),
    guid: str | None = None,
    description: str = "A slow sequence for the spine & hips <gently>.",
) -> FakeSession:
    """Write one session's MP3 and sidecars exactly as the render contract describes."""
    total_ms = round(seconds * 1000)
    step = total_ms // len(chapter_titles)
    chapters = tuple(
        (t, i * step, total_ms if i == len(chapter_titles) - 1 else (i + 1) * step)
        for i, t in enumerate(chapter_titles)
    )
    write_mp3(folder / f"{name}.mp3", seconds, chapters)
    write_jpeg(folder / f"{name}.jpg")
    (folder / f"{name}.chapters.json").write_text(
        json.dumps(
            {
                "version": "1.2.0",
                "chapters": [{"startTime": s / 1000, "title": t} for t, s, _ in chapters],
            }
        ),
        encoding="utf-8",
    )
    cues = [(s, e, f"Now {t}. Breathe in, and breathe out.") for t, s, e in chapters]
    (folder / f"{name}.vtt").write_text(
        "WEBVTT\n\n"
        + "".join(f"{_clock(s, '.')} --> {_clock(e, '.')}\n{text}\n\n" for s, e, text in cues),
        encoding="utf-8",
    )
    (folder / f"{name}.srt").write_text(
        "".join(
            f"{n}\n{_clock(s, ',')} --> {_clock(e, ',')}\n{text}\n\n"
            for n, (s, e, text) in enumerate(cues, 1)
        ),
        encoding="utf-8",
    )
    guid = guid or f"urn:uuid:{uuid.uuid4()}"
    stamp = first_rendered.strftime("%Y-%m-%dT%H:%M:%SZ")
    metadata = {
        "format": "guidecast-session/1",
        "title": title,
        "description": description,
        "author": "guidecast",
        "series": "Back Care",
        "language": "en",
        "genre": "Health & Fitness",
        "explicit": False,
        "duration_ms": total_ms,
        "guid": guid,
        "first_rendered": stamp,
        "rendered": stamp,
        "mp3": f"{name}.mp3",
        "cover": f"{name}.jpg",
        "chapters_json": f"{name}.chapters.json",
        "vtt": f"{name}.vtt",
        "srt": f"{name}.srt",
        "chapters": [{"title": t, "start_ms": s, "end_ms": e} for t, s, e in chapters],
        "narration": "standard",
    }
    (folder / f"{name}.session.json").write_text(
        json.dumps(metadata, indent=2, ensure_ascii=False), encoding="utf-8"
    )
    return FakeSession(name, title, guid, seconds, chapters, first_rendered)


def make_folder(folder: Path) -> list[FakeSession]:
    """Fill a folder with two rendered sessions, the newer one second."""
    folder.mkdir(parents=True, exist_ok=True)
    return [
        make_session(
            folder,
            "love-your-spine",
            title="Love Your Spine",
            seconds=24.0,
            first_rendered=datetime(2026, 11, 24, 9, 30, tzinfo=UTC),
        ),
        make_session(
            folder,
            "back stiffness & ease",
            title="Back Stiffness <Relief> & Ease",
            seconds=21.0,
            chapter_titles=("Arrive", "Twist & Release", "Rest"),
            first_rendered=datetime(2026, 11, 25, 15, 40, tzinfo=UTC),
        ),
    ]


@contextmanager
def running_server(folder: Path, **options: Any) -> Iterator[GuidecastServer]:
    """Run the server for folder on a free local port in a background thread.

    `options` go to ServeConfig (routines, engine, cache_dir, connection limits).
    """
    server = make_server(ServeConfig(folder, host="127.0.0.1", port=0, **options))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
