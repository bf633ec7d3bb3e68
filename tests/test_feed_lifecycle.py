"""The feed across re-renders and losses (issue 11, item 3): versioned URLs with a stable guid,
the show's own artwork, episodes rebuilt from their MP3 when session.json is lost, the channel
elements directories ask for, inline Podlove chapters and an encoded base URL."""

from __future__ import annotations

import http.client
import io
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from urllib.parse import quote, unquote

import feedparser
import podcastparser  # gPodder's own feed parser
import pytest
from click.testing import CliRunner
from lxml import etree
from mutagen.id3 import ID3, TSSE, TXXX
from PIL import Image

from feed_fixtures import FakeSession, make_folder, make_session, running_server, write_mp3
from guidecast.cli import cli
from guidecast.errors import FeedError
from guidecast.mp3.recover import FIRST_RENDERED, GUID, derived_guid
from guidecast.mp3.sessioninfo import read_session_info
from guidecast.publish.feed import content_version, podcast_guid, write_feed
from render_fixtures import SMALL, block_network, run_main, write_routine

BASE = "https://example.com/yoga"
NS = {
    "itunes": "http://www.itunes.com/dtds/podcast-1.0.dtd",
    "podcast": "https://podcastindex.org/namespace/1.0",
    "psc": "http://podlove.org/simple-chapters",
}
NAME = "small-flow"


def channel_of(path: Path) -> etree._Element:
    channel: etree._Element = etree.fromstring(path.read_bytes()).find("channel")
    return channel


def urls(item: etree._Element) -> dict[str, str]:
    """The item's enclosure, chapters and transcript URLs by kind."""
    found = {"mp3": item.find("enclosure").get("url"), "chapters": ""}
    found["chapters"] = item.find("podcast:chapters", NS).get("url")
    for t in item.findall("podcast:transcript", NS):
        found[t.get("type")] = t.get("url")
    return found


def render(folder: Path, *args: str) -> None:
    """Render the small routine into folder/out with the fake voice."""
    routine = write_routine(folder, SMALL, NAME)
    argv = ["render", routine, "-o", folder / "out", "-e", "fake", "--cache-dir", folder / "c"]
    with pytest.MonkeyPatch.context() as patch:
        block_network(patch)
        result = CliRunner().invoke(cli, [*map(str, argv), *args])
    assert result.exit_code == 0, result.output


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with one session rendered by the real pipeline in folder/out."""
    folder = tmp_path_factory.mktemp("lifecycle")
    render(folder, "--narration", "brief")
    return folder


@pytest.fixture
def work(rendered: Path, tmp_path: Path) -> Path:
    """A private copy of the rendered folder."""
    shutil.copytree(rendered, tmp_path / "w")
    return tmp_path / "w"


# -- 1. content-versioned URLs ---------------------------------------------------------------


def test_a_re_render_changes_every_url_and_keeps_the_guid(work: Path) -> None:
    out = work / "out"
    before = channel_of(write_feed(out, base_url=BASE)).find("item")
    render(work, "--narration", "full")  # other content, same file name
    after = channel_of(write_feed(out, base_url=BASE)).find("item")
    assert after.findtext("guid") == before.findtext("guid")
    assert after.findtext("pubDate") == before.findtext("pubDate")
    old, new = urls(before), urls(after)
    assert old.keys() == new.keys() == {"mp3", "chapters", "text/vtt", "application/x-subrip"}
    version = content_version(out / f"{NAME}.mp3")
    for kind in old:
        assert old[kind] != new[kind], kind
        assert old[kind].split("?")[0] == new[kind].split("?")[0]  # the same file
        assert new[kind].endswith(f"?v={version}")


def test_the_same_content_keeps_its_urls(work: Path) -> None:
    out = work / "out"
    first = urls(channel_of(write_feed(out, base_url=BASE)).find("item"))
    (out / f"{NAME}.mp3").touch()  # a new date alone is no new content
    assert urls(channel_of(write_feed(out, base_url=BASE)).find("item")) == first


@pytest.fixture
def site(tmp_path: Path) -> Iterator[tuple[Path, list[FakeSession], int]]:
    folder = tmp_path / "output"
    sessions = make_folder(folder)
    with running_server(folder) as server:
        yield folder, sessions, server.server_port


def get(port: int, path: str, headers: dict[str, str] | None = None) -> tuple[int, bytes, str]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", path, headers=headers or {})
        reply = conn.getresponse()
        return reply.status, reply.read(), reply.headers.get("Content-Type", "")
    finally:
        conn.close()


def test_the_server_serves_the_versioned_urls_its_feed_lists(
    site: tuple[Path, list[FakeSession], int],
) -> None:
    folder, sessions, port = site
    status, body, _ = get(port, "/feed.xml")
    assert status == 200
    items = etree.fromstring(body).findall("channel/item")
    assert len(items) == len(sessions)
    for item in items:
        for url in urls(item).values():
            path = url.split(f"127.0.0.1:{port}", 1)[1]
            assert "?v=" in path
            status, data, _ = get(port, path)
            local = folder / unquote(path.split("?")[0][1:])
            assert status == 200 and data == local.read_bytes(), path
        enclosure = item.find("enclosure").get("url").split(f"127.0.0.1:{port}", 1)[1]
        status, data, _ = get(port, enclosure, {"Range": "bytes=10-19"})
        assert status == 206 and len(data) == 10


# -- 2. the show's own artwork ---------------------------------------------------------------


def check_artwork(data: bytes) -> None:
    with Image.open(io.BytesIO(data)) as img:
        assert img.format == "JPEG" and img.mode == "RGB"  # no alpha
        assert img.width == img.height and 1400 <= img.width <= 3000


def test_the_show_has_artwork_of_its_own_that_stays_across_renders(work: Path) -> None:
    out = work / "out"
    channel = channel_of(write_feed(out, base_url=BASE))
    assert channel.find("itunes:image", NS).get("href") == f"{BASE}/show.jpg"
    assert channel.findtext("image/url") == f"{BASE}/show.jpg"
    show = out / "show.jpg"
    art, stamp = show.read_bytes(), show.stat().st_mtime_ns
    check_artwork(art)
    assert art != (out / f"{NAME}.jpg").read_bytes()  # not an episode's cover
    render(work, "--narration", "standard")
    write_feed(out, base_url=BASE)
    assert show.read_bytes() == art and show.stat().st_mtime_ns == stamp  # untouched
    write_feed(out, base_url=BASE, title="Morning Mat")  # another show: another card
    assert show.read_bytes() != art
    check_artwork(show.read_bytes())


def test_a_given_cover_becomes_the_show_artwork(work: Path, tmp_path: Path) -> None:
    out = work / "out"
    given = tmp_path / "portrait.png"
    Image.new("RGBA", (1600, 2000), (200, 120, 40, 128)).save(given)
    write_feed(out, base_url=BASE, cover=given)
    check_artwork((out / "show.jpg").read_bytes())
    (out / "cover.jpg").write_bytes((out / f"{NAME}.jpg").read_bytes())
    assert channel_of(write_feed(out, base_url=BASE)).find("itunes:image", NS).get("href") == (
        f"{BASE}/cover.jpg"  # the folder's cover.jpg when no --cover is given
    )
    with pytest.raises(FeedError, match="cover image"):
        write_feed(out, base_url=BASE, cover=tmp_path / "missing.jpg")


def test_the_server_serves_the_show_artwork(site: tuple[Path, list[FakeSession], int]) -> None:
    folder, _, port = site
    status, body, kind = get(port, "/show.jpg")
    assert status == 200 and kind == "image/jpeg"
    check_artwork(body)
    assert get(port, "/show.jpg")[1] == body
    assert not (folder / "show.jpg").exists()  # made in memory: serve writes nothing


# -- 3. a lost session.json ------------------------------------------------------------------


def test_the_render_records_the_identity_in_the_mp3(rendered: Path) -> None:
    out = rendered / "out"
    info = read_session_info(out / f"{NAME}.session.json")
    tags = ID3(out / f"{NAME}.mp3")
    assert tags[f"TXXX:{GUID}"].text == [info.guid]
    assert tags[f"TXXX:{FIRST_RENDERED}"].text == [
        info.first_rendered.strftime("%Y-%m-%dT%H:%M:%SZ")
    ]


def set_first_rendered(mp3: Path, stamp: str) -> None:
    tags = ID3(mp3)
    tags.add(TXXX(encoding=3, desc=FIRST_RENDERED, text=[stamp]))
    tags.save(mp3, v2_version=3)


def test_a_lost_session_file_leaves_the_episode_in_the_feed_with_its_first_date(
    work: Path, caplog: pytest.LogCaptureFixture
) -> None:
    out = work / "out"
    meta = out / f"{NAME}.session.json"
    info = read_session_info(meta)
    set_first_rendered(out / f"{NAME}.mp3", "2026-01-02T03:04:05Z")
    full = channel_of(write_feed(out, base_url=BASE)).find("item")
    meta.unlink()
    item = channel_of(write_feed(out, base_url=BASE)).find("item")
    assert "rebuilt the episode from the MP3's tags" in caplog.text
    assert item is not None and item.findtext("guid") == info.guid
    assert parsedate_to_datetime(item.findtext("pubDate") or "") == datetime(
        2026, 1, 2, 3, 4, 5, tzinfo=UTC
    )
    assert item.findtext("title") == info.title == "Small Flow"
    assert item.findtext("description") == full.findtext("description")
    duration = int(item.findtext("itunes:duration", namespaces=NS) or "")
    assert abs(duration - info.duration_ms / 1000) <= 1
    assert urls(item) == urls(full)  # same sidecars, same content version
    assert item.find("itunes:image", NS) is not None
    chapters = item.findall("psc:chapters/psc:chapter", NS)
    assert [c.get("title") for c in chapters] == [c.title for c in info.chapters]
    parsed = feedparser.parse((out / "feed.xml").read_bytes())
    assert not parsed.bozo and parsed.entries[0].id == info.guid


def test_a_re_render_keeps_the_first_date_even_without_the_session_file(work: Path) -> None:
    out = work / "out"
    meta = out / f"{NAME}.session.json"
    guid = read_session_info(meta).guid
    set_first_rendered(out / f"{NAME}.mp3", "2026-01-02T03:04:05Z")
    meta.unlink()
    render(work, "--narration", "full")
    info = read_session_info(meta)
    assert info.guid == guid
    assert info.first_rendered == datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert info.rendered > info.first_rendered
    item = channel_of(write_feed(out, base_url=BASE)).find("item")
    assert parsedate_to_datetime(item.findtext("pubDate") or "").year == 2026
    assert parsedate_to_datetime(item.findtext("pubDate") or "").month == 1


def test_older_and_foreign_mp3s(tmp_path: Path) -> None:
    folder = tmp_path / "output"
    folder.mkdir()
    make_session(folder, "kept", title="Kept")
    # An MP3 some other program wrote is no episode; one guidecast wrote before it recorded
    # its identity gets the guid derived from its name.
    write_mp3(folder / "song.mp3", 3.0, [("Verse", 0, 3000)])
    write_mp3(folder / "old.mp3", 3.0, [("One", 0, 1500), ("Two", 1500, 3000)])
    tags = ID3(folder / "old.mp3")
    tags.add(TXXX(encoding=3, desc="ignored", text=["x"]))
    tags.add(TSSE(encoding=3, text=["guidecast 0.1.0"]))
    tags.save(folder / "old.mp3", v2_version=3)
    items = channel_of(write_feed(folder, base_url=BASE)).findall("item")
    assert sorted(i.findtext("title") or "" for i in items) == ["Kept", "old"]
    old = next(i for i in items if i.findtext("title") == "old")
    assert old.findtext("guid") == derived_guid("old.mp3")
    assert [c.get("title") for c in old.findall("psc:chapters/psc:chapter", NS)] == ["One", "Two"]
    assert old.find("podcast:chapters", NS) is None  # no sidecar beside it


# -- 4. channel elements and the base URL ----------------------------------------------------


def test_the_channel_has_owner_copyright_guid_and_lock(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    folder = tmp_path / "output"
    make_folder(folder)
    channel = channel_of(write_feed(folder, base_url=BASE, owner_email="ana@example.org"))
    owner = channel.find("itunes:owner", NS)
    assert owner.findtext("itunes:name", namespaces=NS) == "guidecast"
    assert owner.findtext("itunes:email", namespaces=NS) == "ana@example.org"
    assert channel.findtext("copyright") == "\u00a9 2026 guidecast"
    assert channel.findtext("podcast:guid", namespaces=NS) == podcast_guid(BASE + "/feed.xml")
    locked = channel.find("podcast:locked", NS)
    assert locked.text == "no" and locked.get("owner") == "ana@example.org"
    parsed = feedparser.parse((folder / "feed.xml").read_bytes())
    assert not parsed.bozo
    assert parsed.feed.publisher_detail.email == "ana@example.org"
    assert parsed.feed.rights == "\u00a9 2026 guidecast"
    bare = channel_of(write_feed(folder, base_url=BASE))
    assert bare.find("itunes:owner/itunes:email", NS) is None
    assert bare.find("podcast:locked", NS).get("owner") is None


def test_podcast_guid_follows_the_podcasting_2_0_spec() -> None:
    # The example in the Podcasting 2.0 namespace documentation.
    assert podcast_guid("https://podnews.net/rss") == "9b024349-ccf0-5f69-a609-6b82873eab3c"
    assert podcast_guid("http://podnews.net/rss/") == podcast_guid("https://podnews.net/rss")


@pytest.mark.parametrize(
    ("base_url", "expected"),
    [
        ("https://example.com/my yoga/", "https://example.com/my%20yoga"),
        ("https://example.com/my%20yoga", "https://example.com/my%20yoga"),
        ("https://example.com/üben & ruhen", "https://example.com/%C3%BCben%20&%20ruhen"),
        ("https://example.com/100%", "https://example.com/100%25"),
        ("HTTPS://Bücher.example/yoga", "https://xn--bcher-kva.example/yoga"),
        ("http://[::1]:8000/yoga", "http://[::1]:8000/yoga"),
        ("http://192.168.1.20:8000", "http://192.168.1.20:8000"),
    ],
)
def test_the_base_url_is_percent_encoded(tmp_path: Path, base_url: str, expected: str) -> None:
    folder = tmp_path / "output"
    make_folder(folder)
    channel = channel_of(write_feed(folder, base_url=base_url))
    assert channel.findtext("link") == expected + "/"
    for item in channel.findall("item"):
        for url in urls(item).values():
            assert url.startswith(expected + "/") and " " not in url and url.isascii()
    parsed = feedparser.parse((folder / "feed.xml").read_bytes())
    assert not parsed.bozo


@pytest.mark.parametrize(
    "base_url",
    [
        "https://exa mple.com/yoga",
        "https://example.com/?a=1",
        "http://example.com:99999/",
        "http://example.com:port/",
        "http://[::1/yoga",
    ],
)
def test_a_base_url_that_cannot_be_one_is_an_error(tmp_path: Path, base_url: str) -> None:
    folder = tmp_path / "output"
    make_folder(folder)
    with pytest.raises(FeedError, match="must be absolute"):
        write_feed(folder, base_url=base_url)


# -- 5. Podlove Simple Chapters --------------------------------------------------------------


def test_each_item_carries_podlove_simple_chapters(tmp_path: Path) -> None:
    folder = tmp_path / "output"
    sessions = make_folder(folder)
    parsed = feedparser.parse(write_feed(folder, base_url=BASE).read_bytes())
    assert not parsed.bozo
    for entry, session in zip(parsed.entries, reversed(sessions), strict=True):
        chapters = entry.psc_chapters.chapters
        assert [c.title for c in chapters] == [title for title, _, _ in session.chapters]
        assert [round(c.start_parsed.total_seconds() * 1000) for c in chapters] == [
            start for _, start, _ in session.chapters
        ]
    item = channel_of(folder / "feed.xml").find("item")
    psc = item.find("psc:chapters", NS)
    assert psc.get("version") == "1.2"
    assert [c.get("start") for c in psc] == ["00:00:00.000", "00:00:07.000", "00:00:14.000"]


def test_gpodders_parser_reads_the_chapters_and_the_show(tmp_path: Path) -> None:
    folder = tmp_path / "output"
    sessions = make_folder(folder)
    feed_url = "https://example.com/my%20yoga/feed.xml"
    path = write_feed(folder, base_url="https://example.com/my yoga/")
    parsed = podcastparser.parse(feed_url, io.BytesIO(path.read_bytes()))
    assert parsed["cover_url"] == "https://example.com/my%20yoga/show.jpg"
    assert parsed["itunes_owner"] == {"name": "guidecast"}
    for episode, session in zip(parsed["episodes"], reversed(sessions), strict=True):
        assert episode["guid"] == session.guid
        assert episode["chapters"] == [
            {"start": start // 1000, "title": title} for title, start, _ in session.chapters
        ]
        (enclosure,) = episode["enclosures"]
        assert "?v=" in enclosure["url"] and enclosure["mime_type"] == "audio/mpeg"


def test_gpodders_parser_finds_the_transcript(tmp_path: Path) -> None:
    folder = tmp_path / "output"
    sessions = make_folder(folder)
    path = write_feed(folder, base_url="https://example.com/yoga/")
    parsed = podcastparser.parse("https://example.com/yoga/feed.xml", io.BytesIO(path.read_bytes()))
    for episode, session in zip(parsed["episodes"], reversed(sessions), strict=True):
        vtt = "https://example.com/yoga/" + quote(session.file(".vtt"))
        version = content_version(folder / session.file(".mp3"))
        assert episode["transcript_url"] == f"{vtt}?v={version}"
    # The Podcasting 2.0 elements stay as they were: VTT and SRT under the current URI.
    item = channel_of(path).find("item")
    assert [t.get("type") for t in item.findall("podcast:transcript", NS)] == [
        "text/vtt",
        "application/x-subrip",
    ]
    feed = feedparser.parse(path.read_bytes())
    assert not feed.bozo and len(feed.entries) == 2


# -- the command line ------------------------------------------------------------------------


def test_feed_and_serve_take_the_new_options(
    work: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    given = tmp_path / "art.jpg"
    Image.new("RGB", (2000, 2000), (10, 90, 120)).save(given)
    out = work / "out"
    args = ["feed", str(out), "--base-url", "https://example.org/my yoga/"]
    args += ["--cover", str(given), "--owner-email", "ana@example.org"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    channel = channel_of(out / "feed.xml")
    assert channel.find("itunes:image", NS).get("href") == "https://example.org/my%20yoga/show.jpg"
    assert channel.findtext("itunes:owner/itunes:email", namespaces=NS) == "ana@example.org"
    with Image.open(out / "show.jpg") as img:
        assert img.size == (2000, 2000)
    for command in ("feed", "serve"):
        help_text = CliRunner().invoke(cli, [command, "--help"]).output
        assert "--cover" in help_text and "--owner-email" in help_text
    code, _, err = run_main(["serve", out, "--cover", tmp_path / "none.jpg"], monkeypatch, capsys)
    assert code == 1 and err.startswith("error: ") and "cover image" in err
    assert err.count("\n") == 1 and "Traceback" not in err
