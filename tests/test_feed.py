"""The podcast feed: every required element, exact enclosures, stable guids, clear errors."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import quote

import feedparser
import pytest
from lxml import etree

from feed_fixtures import FakeSession, make_folder, make_session
from guidecast.errors import FeedError, GuidecastError
from guidecast.publish.feed import (
    build_feed,
    content_version,
    load_sessions,
    make_channel,
    show_title,
    write_feed,
)

BASE = "https://example.com/yoga"
NS = {
    "itunes": "http://www.itunes.com/dtds/podcast-1.0.dtd",
    "podcast": "https://podcastindex.org/namespace/1.0",
    "atom": "http://www.w3.org/2005/Atom",
}


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    return tmp_path / "output"


@pytest.fixture
def sessions(folder: Path) -> list[FakeSession]:
    return make_folder(folder)


def parse(path: Path) -> etree._Element:
    return etree.fromstring(path.read_bytes())


def one(parent: etree._Element, path: str) -> etree._Element:
    found = parent.findall(path, NS)
    assert len(found) == 1, f"expected one {path}, found {len(found)}"
    return found[0]


def guids(path: Path) -> dict[str, str]:
    """Map each item's enclosure URL (without its content version) to its guid."""
    return {
        item.find("enclosure").get("url").split("?v=")[0]: item.findtext("guid")
        for item in parse(path).iterfind("channel/item")
    }


def versioned(url: str | None, file: Path) -> str:
    """The URL of a file with the content version the feed gives it."""
    return f"{url}?v={content_version(file)}"


def test_channel_has_every_required_element(folder: Path, sessions: list[FakeSession]) -> None:
    rss = parse(write_feed(folder, base_url=BASE + "/"))
    assert rss.tag == "rss" and rss.get("version") == "2.0"
    channel = one(rss, "channel")
    assert one(channel, "title").text == "Back Care"  # the series all sessions share
    assert one(channel, "description").text
    assert one(channel, "language").text == "en"
    assert one(channel, "link").text == BASE + "/"
    assert one(channel, "itunes:author").text == "guidecast"
    assert one(channel, "itunes:explicit").text == "false"
    assert one(channel, "itunes:type").text == "episodic"
    assert one(channel, "atom:link").get("href") == BASE + "/feed.xml"
    newest = sessions[1]
    assert one(channel, "itunes:image").get("href") == f"{BASE}/show.jpg"  # the show's own
    category = one(channel, "itunes:category")
    assert category.get("text") == "Health & Fitness"
    assert one(category, "itunes:category").get("text") == "Alternative Health"
    built = parsedate_to_datetime(one(channel, "lastBuildDate").text or "")
    assert built == newest.first_rendered


def test_items_have_every_required_element(folder: Path, sessions: list[FakeSession]) -> None:
    channel = one(parse(write_feed(folder, base_url=BASE)), "channel")
    items = channel.findall("item")
    assert [i.findtext("title") for i in items] == [s.title for s in reversed(sessions)]
    for item, session in zip(items, reversed(sessions), strict=True):
        url = f"{BASE}/{quote(session.name)}"
        mp3 = folder / session.file(".mp3")
        assert one(item, "description").text == "A slow sequence for the spine & hips <gently>."
        enclosure = one(item, "enclosure")
        assert enclosure.get("url") == versioned(url + ".mp3", mp3)
        assert enclosure.get("length") == str((folder / session.file(".mp3")).stat().st_size)
        assert enclosure.get("type") == "audio/mpeg"
        guid = one(item, "guid")
        assert guid.text == session.guid and guid.get("isPermaLink") == "false"
        assert parsedate_to_datetime(one(item, "pubDate").text or "") == session.first_rendered
        assert one(item, "itunes:duration").text == str(round(session.seconds))
        assert one(item, "itunes:image").get("href") == url + ".jpg"
        chapters = one(item, "podcast:chapters")
        assert chapters.get("url") == versioned(url + ".chapters.json", mp3)
        assert chapters.get("type") == "application/json+chapters"
        transcripts = {
            t.get("type"): (t.get("url"), t.get("language"))
            for t in item.findall("podcast:transcript", NS)
        }
        assert transcripts == {
            "text/vtt": (versioned(url + ".vtt", mp3), "en"),
            "application/x-subrip": (versioned(url + ".srt", mp3), "en"),
        }


def test_feedparser_reads_the_feed(folder: Path, sessions: list[FakeSession]) -> None:
    parsed = feedparser.parse(write_feed(folder, base_url=BASE).read_bytes())
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert parsed.feed.title == "Back Care"
    assert parsed.feed.language == "en"
    assert parsed.feed.author == "guidecast"
    assert parsed.feed.image.href.startswith(BASE + "/")
    assert parsed.feed.tags[0].term == "Health & Fitness"
    assert len(parsed.entries) == 2
    for entry, session in zip(parsed.entries, reversed(sessions), strict=True):
        assert entry.title == session.title
        assert entry.id == session.guid and not entry.guidislink
        assert entry.itunes_duration == str(round(session.seconds))
        assert datetime(*entry.published_parsed[:6], tzinfo=UTC) == session.first_rendered
        (enclosure,) = entry.enclosures
        mp3 = folder / session.file(".mp3")
        assert enclosure.href == versioned(f"{BASE}/{quote(session.file('.mp3'))}", mp3)
        assert int(enclosure.length) == (folder / session.file(".mp3")).stat().st_size
        assert enclosure.type == "audio/mpeg"


def test_guids_stay_the_same_across_runs_and_new_sessions(
    folder: Path, sessions: list[FakeSession]
) -> None:
    first = guids(write_feed(folder, base_url=BASE))
    assert sorted(first.values()) == sorted(s.guid for s in sessions)
    assert guids(write_feed(folder, base_url=BASE)) == first
    later = make_session(
        folder, "legs", title="Legs", first_rendered=datetime(2026, 12, 1, tzinfo=UTC)
    )
    third = guids(write_feed(folder, base_url=BASE))
    assert len(third) == 3
    assert {url: guid for url, guid in third.items() if guid != later.guid} == first
    assert next(iter(third.values())) == later.guid  # newest first


def test_re_render_keeps_the_guid_and_updates_the_length(
    folder: Path, sessions: list[FakeSession]
) -> None:
    before = guids(write_feed(folder, base_url=BASE))
    old = sessions[0]
    make_session(
        folder,
        old.name,
        title=old.title,
        seconds=27.0,
        first_rendered=old.first_rendered,
        guid=old.guid,
    )
    feed = parse(write_feed(folder, base_url=BASE))
    assert guids(folder / "feed.xml") == before
    item = next(i for i in feed.iterfind("channel/item") if i.findtext("guid") == old.guid)
    assert item.find("enclosure").get("length") == str((folder / old.file(".mp3")).stat().st_size)
    assert item.findtext("itunes:duration", namespaces=NS) == "27"


def test_feed_is_written_atomically(folder: Path, sessions: list[FakeSession]) -> None:
    (folder / "feed.xml").write_text("old", encoding="utf-8")
    path = write_feed(folder, base_url=BASE)
    assert path == folder / "feed.xml" and path.read_bytes().startswith(b"<?xml")
    assert not [p for p in folder.iterdir() if p.name.startswith(".")]  # no temporary left


def test_options_and_a_channel_cover(folder: Path, sessions: list[FakeSession]) -> None:
    (folder / "cover.jpg").write_bytes((folder / sessions[0].file(".jpg")).read_bytes())
    path = write_feed(folder, base_url=BASE, title="Morning Mat", author="Ana", language="de")
    channel = one(parse(path), "channel")
    assert one(channel, "title").text == "Morning Mat"
    assert one(channel, "itunes:author").text == "Ana"
    assert one(channel, "language").text == "de"
    assert one(channel, "itunes:image").get("href") == BASE + "/cover.jpg"


def test_mixed_series_are_named_in_the_title(folder: Path, sessions: list[FakeSession]) -> None:
    meta = folder / sessions[0].file(".session.json")
    data = json.loads(meta.read_text(encoding="utf-8"))
    meta.write_text(json.dumps({**data, "series": "Hips"}), encoding="utf-8")
    assert one(parse(write_feed(folder, base_url=BASE)), "channel/title").text == (
        "Back Care & Hips"
    )


@pytest.mark.parametrize(
    ("named", "title"),
    [
        ([("", "Spine")], "Spine"),
        ([("Back", "a"), ("Back", "b")], "Back"),
        ([("", "Spine"), ("Back", "a")], "Back & Spine"),
        ([("C", ""), ("A", ""), ("B", "")], "A, B & C"),
        ([("D", ""), ("C", ""), ("A", ""), ("B", "")], "A, B & 2 more"),
        ([], "guidecast sessions"),
    ],
)
def test_the_show_title_names_what_the_sessions_are(
    named: list[tuple[str, str]], title: str
) -> None:
    sessions = [SimpleNamespace(series=series, title=t) for series, t in named]
    assert show_title(sessions) == title  # type: ignore[arg-type]


def test_build_feed_is_pure_and_uses_the_given_base(
    folder: Path, sessions: list[FakeSession]
) -> None:
    loaded = load_sessions(folder)
    channel = make_channel(folder, loaded)
    data = build_feed(loaded, "http://192.168.1.50:8000", channel)
    assert data == build_feed(loaded, "http://192.168.1.50:8000/", channel)
    urls = [e.get("url") for e in etree.fromstring(data).iterfind("channel/item/enclosure")]
    assert all(u.startswith("http://192.168.1.50:8000/") for u in urls)
    assert not (folder / "feed.xml").exists()


def test_a_session_without_its_mp3_is_left_out(folder: Path, sessions: list[FakeSession]) -> None:
    (folder / sessions[0].file(".mp3")).unlink()
    assert list(guids(write_feed(folder, base_url=BASE)).values()) == [sessions[1].guid]


@pytest.mark.parametrize(
    ("content", "complaint"),
    [
        ("{not json", "not a valid session file"),
        ("[1, 2]", "expected a JSON object"),
        ('{"format": "something-else/9"}', "unsupported format"),
        ({"duration_ms": "30m"}, "'duration_ms' must be a whole number"),
        ({"guid": ""}, "'guid' must be a non-empty string"),
        ({"title": None}, "'title' is missing"),
        ({"first_rendered": "yesterday"}, "'first_rendered' must be an ISO 8601 time"),
        ({"mp3": "../elsewhere.mp3"}, "'mp3' must be a file name in the same folder"),
        ({"chapters": [{"title": "x"}]}, "'chapters' must hold"),
    ],
)
def test_a_broken_session_file_is_a_clear_error(
    folder: Path, sessions: list[FakeSession], content: str | dict[str, object], complaint: str
) -> None:
    meta = folder / sessions[0].file(".session.json")
    if isinstance(content, dict):
        data = json.loads(meta.read_text(encoding="utf-8"))
        content = json.dumps({**data, **content})
    meta.write_text(content, encoding="utf-8")
    with pytest.raises(FeedError) as error:
        write_feed(folder, base_url=BASE)
    message = str(error.value)
    assert str(meta) in message and complaint in message
    assert "\n" not in message and isinstance(error.value, GuidecastError)


def test_no_sessions_or_no_folder_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(FeedError, match="no rendered sessions"):
        write_feed(tmp_path, base_url=BASE)
    with pytest.raises(FeedError, match="no such folder"):
        write_feed(tmp_path / "missing", base_url=BASE)


@pytest.mark.parametrize("base_url", ["example.com/yoga", "/yoga", "ftp://example.com", ""])
def test_base_url_must_be_absolute(
    folder: Path, sessions: list[FakeSession], base_url: str
) -> None:
    with pytest.raises(FeedError, match="must be absolute"):
        write_feed(folder, base_url=base_url)
