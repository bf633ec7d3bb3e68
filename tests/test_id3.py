"""The ID3 module: tags written in a fixed frame order and read back, mutagen's errors wrapped.

mutagen's own `save` sorts frames by size; the chapters must stand in time order because
ffmpeg lists CHAP frames in file order. These tests use chapters whose titles shrink with
time, so a size-sorted tag would list them backwards.
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from mutagen.id3 import ID3, CTOCFlags
from PIL import Image

from guidecast.errors import GuidecastError
from guidecast.mp3.id3 import Section, TagError, Tags, read_mp3, tag_bytes
from guidecast.mp3.sessioninfo import ChapterMark
from render_fixtures import ffmetadata, tone_mp3

TITLES = ["A long first chapter title, the longest", "A middle chapter", "End"]
CHAPTERS = tuple(ChapterMark(t, 1000 * i, 1000 * (i + 1)) for i, t in enumerate(TITLES))


def _jpeg() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), "teal").save(buffer, "JPEG")
    return buffer.getvalue()


TAGS = Tags(
    title="Small Flow",
    artist="Test Teacher",
    album="Test Series",
    genre="Health & Fitness",
    year="2024",
    track="7",
    comment="A short session.",
    language="eng",
    encoder="guidecast test",
    extra=(("guidecast:guid", "urn:uuid:1"), ("guidecast:language", "en")),
    lyrics="Stand tall.\nBreathe.",
    cover=_jpeg(),
    chapters=CHAPTERS,
    sections=(Section("Standing", (0, 1)),),
)


def frame_ids(tag: bytes) -> list[str]:
    """The frame ids of an ID3v2.3 tag in file order, walked by hand."""
    assert tag[:6] == b"ID3\x03\x00\x00"
    size = tag[6] << 21 | tag[7] << 14 | tag[8] << 7 | tag[9]
    body, at, ids = tag[10 : 10 + size], 0, []
    while at + 10 <= len(body) and body[at] != 0:
        ids.append(body[at : at + 4].decode("ascii"))
        at += 10 + int.from_bytes(body[at + 4 : at + 8], "big")
    assert not any(body[at:]), "only padding after the last frame"
    return ids


@pytest.fixture
def mp3(tmp_path: Path) -> Path:
    path = tmp_path / "tagged.mp3"
    path.write_bytes(tag_bytes(TAGS) + tone_mp3(3.0, rate=44_100, hz=330))
    return path


def test_frames_stand_in_a_fixed_order_with_chapters_in_time_order(mp3: Path) -> None:
    ids = frame_ids(mp3.read_bytes())
    assert ids == [
        "TIT2", "TPE1", "TALB", "TCON", "TYER", "TRCK", "COMM", "TLAN", "TSSE", "TXXX", "TXXX",
        "USLT", "CTOC", "CTOC", "CHAP", "CHAP", "CHAP", "APIC",
    ]  # fmt: skip
    chaps = ID3(mp3).getall("CHAP")  # mutagen lists frames in file order too
    assert [c.sub_frames["TIT2"].text[0] for c in chaps] == TITLES
    assert [c.start_time for c in chaps] == [0, 1000, 2000]


def test_the_padding_follows_the_frames() -> None:
    tag = tag_bytes(TAGS, padding=100)
    assert tag[-100:] == bytes(100) and tag[-101] != 0  # the cover's last byte, then zeros
    assert frame_ids(tag) == frame_ids(tag_bytes(TAGS))
    assert len(tag_bytes(TAGS)) == len(tag) - 100 + 1024


def test_ffmpeg_lists_the_chapters_in_time_order(mp3: Path) -> None:
    meta = ffmetadata(mp3)
    assert [(c.title, c.start_ms, c.end_ms) for c in meta.chapters] == [
        (c.title, c.start_ms, c.end_ms) for c in CHAPTERS
    ]
    assert meta.tags["title"] == "Small Flow" and meta.tags["album"] == "Test Series"


def test_tables_of_contents_list_the_chapters(mp3: Path) -> None:
    tocs = {toc.element_id: toc for toc in ID3(mp3).getall("CTOC")}
    top, section = tocs["toc"], tocs["sec0"]
    assert top.flags == CTOCFlags.TOP_LEVEL | CTOCFlags.ORDERED
    # Every chapter for flat readers, then the section tables, so nested readers reach them.
    assert top.child_element_ids == ["chp0", "chp1", "chp2", "sec0"]
    ids = {f.element_id for f in ID3(mp3).getall("CHAP")} | set(tocs)
    assert set(top.child_element_ids) <= ids
    assert section.flags == CTOCFlags.ORDERED
    assert section.child_element_ids == ["chp0", "chp1"]
    assert section.sub_frames["TIT2"].text == ["Standing"]


def test_tags_round_trip(mp3: Path) -> None:
    tags, length = read_mp3(mp3)
    assert length is not None and abs(length - 3.0) < 0.1
    assert tags == Tags(
        title=TAGS.title,
        artist=TAGS.artist,
        album=TAGS.album,
        genre=TAGS.genre,
        comment=TAGS.comment,
        language=TAGS.language,
        encoder=TAGS.encoder,
        extra=TAGS.extra,
        chapters=CHAPTERS,
    )
    assert tags.user_text("guidecast:guid") == "urn:uuid:1"
    assert tags.user_text("missing") == ""


def test_chapters_are_read_in_the_order_of_the_table_of_contents(tmp_path: Path) -> None:
    backwards = Tags(title="T", chapters=CHAPTERS[::-1])
    path = tmp_path / "backwards.mp3"
    path.write_bytes(tag_bytes(backwards) + tone_mp3(3.0, rate=44_100, hz=330))
    assert read_mp3(path)[0].chapters == CHAPTERS[::-1]


def test_an_unreadable_file_is_a_tag_error_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "noise.mp3"
    path.write_bytes(b"this is no MP3 at all" * 50)
    with pytest.raises(TagError) as info:
        read_mp3(path)
    assert isinstance(info.value, GuidecastError)
    assert str(info.value).startswith(f"{path}: not a readable MP3 (")
    with pytest.raises(TagError, match="not a readable MP3"):
        read_mp3(tmp_path / "missing.mp3")


def test_text_mutagen_cannot_write_is_a_tag_error() -> None:
    with pytest.raises(TagError, match="cannot write the TIT2 frame"):
        tag_bytes(Tags(title="half a surrogate \ud800"))
