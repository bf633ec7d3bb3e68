"""What a listener sees from names, titles and tags: encoded, without control characters,
isolated from the text around it; and the same episodes in the written and the served feed."""

from __future__ import annotations

import http.client
import json
import re
import time
import unicodedata
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import feedparser
from lxml import html
from mutagen.id3 import COMM, ID3, TALB, TIT2, TSSE

from feed_fixtures import make_folder, make_session, running_server
from guidecast.mp3.sidecars import Caption, srt
from guidecast.publish.episodes import KEPT, VARIANTS
from guidecast.publish.feed import write_feed
from guidecast.publish.page import html_text, isolated
from render_fixtures import STRETCH, write_routine

ODD = "yoga+flow & more #2"
"""A routine file name with the characters a URL gives meanings to."""
SPOOF = "Evening \u202eemit-dab\u202c rest\x07\x1b[31m\x00 \u2067iso\u2069"


def _send(port: int, method: str, path: str) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request(method, path)
        reply = conn.getresponse()
        return reply.status, reply.read()
    finally:
        conn.close()


def _ready(port: int, query: str) -> dict[str, Any]:
    status, body = _send(port, "POST", f"/api/variant?{query}")
    assert status in (200, 202), body
    deadline = time.monotonic() + 60
    while json.loads(body)["state"] in ("queued", "rendering"):
        assert time.monotonic() < deadline
        time.sleep(0.05)
        status, body = _send(port, "GET", f"/api/variant?{query}")
    answer: dict[str, Any] = json.loads(body)
    assert answer["state"] == "ready", answer
    return answer


def test_a_routine_named_with_url_characters_plays_and_is_kept(tmp_path: Path) -> None:
    routines = tmp_path / "routines"
    write_routine(routines, STRETCH, ODD)
    with running_server(
        tmp_path / "out", routines=routines, engine="fake", cache_dir=tmp_path / "cache"
    ) as server:
        port = server.server_port
        page = html.fromstring(_send(port, "GET", "/")[1])
        [form] = page.xpath("//form[@class='choose']")
        assert form.get("data-routine") == ODD
        # What the page's script sends: URLSearchParams encodes the name.
        answer = _ready(port, f"routine={quote(ODD, safe='')}&length=3&narration=brief")
        assert parse_qs(answer["query"])["routine"] == [ODD]
        url = urlsplit(answer["session"]["mp3"])
        status, mp3 = _send(port, "GET", f"/{url.path}?{url.query}")
        assert status == 200 and len(mp3) > 1000
        status, body = _send(port, "POST", f"/api/keep?{answer['query']}")
        assert status == 200, body
        assert json.loads(body)["kept"] is True
        feed = feedparser.parse(_send(port, "GET", "/feed.xml")[1])
        [entry] = feed.entries
        enclosure = urlsplit(entry.enclosures[0].href)
        assert _send(port, "GET", enclosure.path)[0] == 200


def _visible_controls(text: str) -> list[str]:
    return [c for c in text if unicodedata.category(c) == "Cc" and c not in "\n\t\r"] + [
        c for c in text if "\u202a" <= c <= "\u202e" or "\u2066" <= c <= "\u2069"
    ]


def test_titles_from_the_command_line_and_tags_reach_the_page_clean_and_isolated(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "out"
    folder.mkdir()
    make_session(folder, "spoof", title="Spoof", chapter_titles=("Arrive", "Rest"))
    (folder / "spoof.session.json").unlink()  # the episode is read from its MP3's tags
    tags = ID3(folder / "spoof.mp3")
    tags.setall("TIT2", [TIT2(encoding=3, text=SPOOF)])
    tags.setall("TALB", [TALB(encoding=3, text=SPOOF)])
    tags.setall("TSSE", [TSSE(encoding=3, text="guidecast")])
    tags.setall("COMM", [COMM(encoding=3, lang="eng", desc="", text=SPOOF)])
    chapter = tags.getall("CHAP")[0]
    chapter.sub_frames.setall("TIT2", [TIT2(encoding=3, text=SPOOF)])
    tags.save(v2_version=3)
    with running_server(folder, title=SPOOF) as server:
        status, body = _send(server.server_port, "GET", "/")
    assert status == 200
    text = body.decode()
    assert _visible_controls(text) == []
    page = html.fromstring(body)
    assert page.findtext(".//title") == "Evening emit-dab rest[31m iso"
    assert page.xpath("string(//h1/bdi)") == "Evening emit-dab rest[31m iso"
    [toggle] = page.xpath("//article[@class='session']//h2/button")
    assert toggle.xpath("string(bdi)").startswith("Evening emit-dab rest[31m")
    assert page.xpath("//ol[@class='chapters']//span[@class='name']/bdi")
    assert page.xpath("//p[@class='desc']/bdi")


def test_page_text_helpers() -> None:
    assert html_text("a <b> & \u202ec\x1b") == "a &lt;b&gt; &amp; c"
    assert isolated("\u05e9\u05dc\u05d5\u05dd") == "<bdi>\u05e9\u05dc\u05d5\u05dd</bdi>"
    assert html_text("Caf\u00e9 \u200f") == "Caf\u00e9 \u200f"  # a plain mark is kept


def test_srt_cues_keep_no_markup() -> None:
    text = srt([Caption(0, 1500, "Breathe <script>alert(1)</script> in <i>slowly</i>, 3 < 4")])
    cue = text.strip().split("\n")[2]
    assert cue == "Breathe alert(1) in slowly, 3 ‹ 4"  # a stray bracket shown as ‹
    assert not re.search(r"<[A-Za-z/]", cue)


def test_the_written_feed_lists_the_variants_kept_on_the_phone_like_the_served_one(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "out"
    make_folder(folder)
    made = folder / VARIANTS
    made.mkdir()
    make_session(made, "quick-stretch--3m-brief-1x-none", title="Quick Stretch · 3 min, brief")
    make_session(made, "quick-stretch--4m-brief-1x-none", title="Quick Stretch · 4 min, brief")
    (made / KEPT).write_text(json.dumps(["quick-stretch--3m-brief-1x-none"]), encoding="utf-8")
    write_feed(folder, base_url="https://example.org/yoga/")
    written = feedparser.parse((folder / "feed.xml").read_bytes())
    with running_server(folder) as server:
        served = feedparser.parse(_send(server.server_port, "GET", "/feed.xml")[1])
    titles = sorted(e.title for e in written.entries)
    assert titles == sorted(e.title for e in served.entries)
    assert "Quick Stretch · 3 min, brief" in titles
    assert "Quick Stretch · 4 min, brief" not in titles
    [kept] = [e for e in written.entries if e.title.startswith("Quick Stretch")]
    assert kept.enclosures[0].href.startswith(
        "https://example.org/yoga/variants/quick-stretch--3m-brief-1x-none.mp3"
    )
