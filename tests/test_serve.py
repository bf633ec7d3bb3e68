"""The local server: byte ranges, validators, containment, Host-based URLs, concurrency."""

from __future__ import annotations

import _thread
import http.client
import ipaddress
import logging
import re
import socket
import struct
import threading
import time
from collections.abc import Iterator
from email.utils import formatdate
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit
from urllib.request import urlopen

import pytest
from lxml import etree

from feed_fixtures import FakeSession, make_folder, running_server
from guidecast.errors import FeedError
from guidecast.publish.serve import (
    GuidecastServer,
    RangeNotSatisfiable,
    ServeConfig,
    ServerInfo,
    lan_address,
    make_server,
    parse_byte_range,
    ready_message,
    serve,
)

SECRET = b"top secret, outside the output folder"


class Site:
    """A running server over a folder of two sessions, plus traps outside the folder."""

    def __init__(self, folder: Path, sessions: list[FakeSession], server: GuidecastServer) -> None:
        self.folder = folder
        self.sessions = sessions
        self.server = server
        self.port = server.server_port
        self.mp3 = "/" + quote(sessions[0].file(".mp3"))
        self.data = (folder / sessions[0].file(".mp3")).read_bytes()

    def request(
        self, path: str, *, method: str = "GET", headers: dict[str, str] | None = None
    ) -> tuple[int, http.client.HTTPMessage, bytes]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            conn.request(method, path, headers=headers or {})
            response = conn.getresponse()
            return response.status, response.headers, response.read()
        finally:
            conn.close()


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    base = tmp_path_factory.mktemp("serve")
    folder = base / "output"
    sessions = make_folder(folder)
    (base / "secret.txt").write_bytes(SECRET)
    (folder / ".hidden.txt").write_bytes(SECRET)
    (folder / "escape.txt").symlink_to(base / "secret.txt")
    (folder / "sub").mkdir()
    with running_server(folder) as server:
        yield Site(folder, sessions, server)


@pytest.mark.parametrize(
    ("header", "size", "span"),
    [
        ("bytes=0-99", 1000, (0, 99)),
        ("bytes=100-", 1000, (100, 999)),
        ("bytes=-500", 1000, (500, 999)),
        ("bytes=-5000", 1000, (0, 999)),
        ("bytes=990-5000", 1000, (990, 999)),
        ("bytes=0-0", 1, (0, 0)),
        ("bytes=0-1,5-9", 1000, None),
        ("bytes=9-1", 1000, None),
        ("bytes=abc", 1000, None),
        ("items=0-1", 1000, None),
    ],
)
def test_parse_range(header: str, size: int, span: tuple[int, int] | None) -> None:
    assert parse_byte_range(header, size) == span


@pytest.mark.parametrize(("header", "size"), [("bytes=1000-", 1000), ("bytes=-0", 10)])
def test_parse_range_unsatisfiable(header: str, size: int) -> None:
    with pytest.raises(RangeNotSatisfiable):
        parse_byte_range(header, size)


@pytest.mark.parametrize(
    ("wanted", "start", "end"),
    [("bytes=0-99", 0, 99), ("bytes=1000-1999", 1000, 1999), ("bytes=-500", -500, None)],
)
def test_range_requests(site: Site, wanted: str, start: int, end: int | None) -> None:
    status, headers, body = site.request(site.mp3, headers={"Range": wanted})
    size = len(site.data)
    expected = site.data[start : None if end is None else end + 1]
    assert status == 206 and body == expected
    first = start % size
    assert headers["Content-Range"] == f"bytes {first}-{first + len(expected) - 1}/{size}"
    assert headers["Content-Length"] == str(len(expected))
    assert headers["Content-Type"] == "audio/mpeg"


def test_open_ended_and_past_the_end_ranges(site: Site) -> None:
    size = len(site.data)
    status, headers, body = site.request(site.mp3, headers={"Range": "bytes=5000-"})
    assert status == 206 and body == site.data[5000:]
    assert headers["Content-Range"] == f"bytes 5000-{size - 1}/{size}"
    status, headers, body = site.request(site.mp3, headers={"Range": f"bytes={size}-"})
    assert status == 416 and headers["Content-Range"] == f"bytes */{size}" and body == b""


def test_full_get_head_and_validators(site: Site) -> None:
    status, headers, body = site.request(site.mp3)
    assert status == 200 and body == site.data
    assert headers["Accept-Ranges"] == "bytes" and headers["ETag"] and headers["Last-Modified"]
    status, head, body = site.request(site.mp3, method="HEAD")
    assert status == 200 and body == b"" and head["Content-Length"] == str(len(site.data))
    assert head["ETag"] == headers["ETag"] and head["Accept-Ranges"] == "bytes"
    status, _, body = site.request(site.mp3, method="HEAD", headers={"Range": "bytes=0-9"})
    assert status == 206 and body == b""
    status, _, body = site.request(site.mp3, headers={"If-None-Match": headers["ETag"]})
    assert status == 304 and body == b""
    since = headers["Last-Modified"]
    assert site.request(site.mp3, headers={"If-Modified-Since": since})[0] == 304
    status, _, body = site.request(site.mp3, headers={"Range": "bytes=0-1,4-5"})
    assert status == 200 and body == site.data  # several ranges: the whole file


def test_if_range(site: Site) -> None:
    etag = site.request(site.mp3, method="HEAD")[1]["ETag"]
    stale = {"Range": "bytes=0-9", "If-Range": '"1-1"'}
    status, _, body = site.request(site.mp3, headers=stale)
    assert status == 200 and body == site.data
    status, _, body = site.request(site.mp3, headers={"Range": "bytes=0-9", "If-Range": etag})
    assert status == 206 and body == site.data[:10]
    mtime = (site.folder / site.sessions[0].file(".mp3")).stat().st_mtime
    by_date = {"Range": "bytes=0-9", "If-Range": formatdate(mtime, usegmt=True)}
    assert site.request(site.mp3, headers=by_date)[0] == 206
    old_date = {"Range": "bytes=0-9", "If-Range": formatdate(mtime - 3600, usegmt=True)}
    assert site.request(site.mp3, headers=old_date)[0] == 200


@pytest.mark.parametrize(
    ("suffix", "content_type"),
    [
        (".mp3", "audio/mpeg"),
        (".chapters.json", "application/json"),
        (".session.json", "application/json"),
        (".vtt", "text/vtt; charset=utf-8"),
        (".srt", "application/x-subrip; charset=utf-8"),
        (".jpg", "image/jpeg"),
    ],
)
def test_content_types(site: Site, suffix: str, content_type: str) -> None:
    name = site.sessions[1].file(suffix)
    status, headers, body = site.request("/" + quote(name))
    assert status == 200 and headers["Content-Type"] == content_type
    assert body == (site.folder / name).read_bytes()


@pytest.mark.parametrize(
    "path",
    [
        "/../secret.txt",
        "/%2e%2e/secret.txt",
        "/%2E%2E/secret.txt",
        "/..%2fsecret.txt",
        "/%2e%2e%2fsecret.txt",
        "/sub/../../secret.txt",
        "/sub/%2e%2e/%2e%2e/secret.txt",
        "/..\\secret.txt",
        "/%5c..%5csecret.txt",
        "//etc/passwd",
        "/etc/passwd",
        "/%2fetc%2fpasswd",
        "/escape.txt",
        "/.hidden.txt",
        "/%2ehidden.txt",
        "/sub",
        "/sub/",
        "/feed.xml%00.mp3",
        "/nothing-here.mp3",
    ],
)
def test_only_files_under_the_folder_are_served(site: Site, path: str) -> None:
    status, _, body = site.request(path)
    assert status == 404 and SECRET not in body


def test_absolute_paths_are_refused(site: Site) -> None:
    outside = site.folder.parent / "secret.txt"
    for path in ("/" + str(outside), "/" + quote(str(outside), safe=""), str(outside)):
        status, _, body = site.request(path)
        assert status in (400, 404) and SECRET not in body


def test_feed_urls_follow_the_host_the_client_used(site: Site) -> None:
    status, headers, body = site.request("/feed.xml", headers={"Host": "192.168.1.50:8000"})
    assert status == 200 and headers["Content-Type"] == "application/rss+xml; charset=utf-8"
    urls = [e.get("url") for e in etree.fromstring(body).iterfind("channel/item/enclosure")]
    assert len(urls) == 2 and all(u.startswith("http://192.168.1.50:8000/") for u in urls)
    status, _, body = site.request("/feed.xml", headers={"Host": 'evil"><x y="'})
    assert status == 400 and b"<x" not in body  # a Host that names no host gets no feed


def test_enclosures_download_in_full_from_the_feed(site: Site) -> None:
    with urlopen(f"http://127.0.0.1:{site.port}/feed.xml", timeout=10) as response:
        feed = etree.fromstring(response.read())
    enclosures = list(feed.iterfind("channel/item/enclosure"))
    assert len(enclosures) == 2
    for enclosure in enclosures:
        url, length = enclosure.get("url", ""), enclosure.get("length", "")
        assert url.startswith(f"http://127.0.0.1:{site.port}/")
        with urlopen(url, timeout=10) as response:
            data = response.read()
        assert len(data) == int(length)
        assert data == (site.folder / unquote(urlsplit(url).path[1:])).read_bytes()
        status, _, part = site.request(urlsplit(url).path, headers={"Range": "bytes=-100"})
        assert status == 206 and part == data[-100:]


def test_page_lists_sessions_and_is_self_contained(site: Site) -> None:
    status, headers, body = site.request("/", headers={"Host": "192.168.1.50:8000"})
    page = body.decode()
    assert status == 200 and headers["Content-Type"] == "text/html; charset=utf-8"
    assert "Back Stiffness &lt;Relief&gt; &amp; Ease" in page and "<Relief>" not in page
    assert page.count('<audio controls preload="metadata"') == 2
    assert (
        "0:24" in page
        and "0:00:24" not in page
        and "Twist &amp; Release" in page
        and "<svg" in page
    )
    assert 'value="http://192.168.1.50:8000/feed.xml"' in page
    assert 'href="podcast://192.168.1.50:8000/feed.xml"' in page
    assert "Now Cat-Cow. Breathe in" in page  # the transcript, from the VTT
    links = re.findall(r'(?:src|href)="([^"]*)"', page)
    external = [u for u in links if "//" in u and "192.168.1.50:8000" not in u]
    assert links and not external


def test_clients_are_served_at_the_same_time(site: Site) -> None:
    # One client sends half a request and waits; another reads a few bytes and stalls.
    idle = socket.create_connection(("127.0.0.1", site.port), timeout=10)
    idle.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n")
    stalled = http.client.HTTPConnection("127.0.0.1", site.port, timeout=10)
    stalled.request("GET", site.mp3)
    stalled.getresponse().read(10)
    results: list[bytes] = []
    start = threading.Barrier(8)

    def download() -> None:
        start.wait(timeout=10)
        results.append(site.request(site.mp3)[2])

    threads = [threading.Thread(target=download) for _ in range(8)]
    began = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)
    assert time.monotonic() - began < 15
    assert len(results) == 8 and all(r == site.data for r in results)
    idle.close()
    stalled.close()


def test_a_client_hanging_up_does_not_disturb_the_server(
    site: Site, caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]
) -> None:
    caplog.set_level(logging.DEBUG, logger="guidecast")
    for _ in range(3):
        sock = socket.create_connection(("127.0.0.1", site.port), timeout=10)
        sock.sendall(f"GET {site.mp3} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        sock.recv(100)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.close()  # with linger 0: a reset, as when a phone drops off the Wi-Fi
    time.sleep(0.3)
    assert site.request(site.mp3)[2] == site.data
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert any("went away" in r.getMessage() for r in caplog.records)
    assert "Traceback" not in capfd.readouterr().err


def test_lan_address_and_ready_message(site: Site) -> None:
    ipaddress.ip_address(lan_address())
    assert lan_address("127.0.0.1") == "127.0.0.1"
    info = site.server.info
    assert info.port == site.port and info.sessions == 2
    assert info.feed_url == f"http://127.0.0.1:{site.port}/feed.xml"
    message = ready_message(info)
    assert info.feed_url in message and info.page_url in message and "Ctrl-C" in message
    assert "█" in info.qr or "▀" in info.qr


def test_serve_stops_cleanly_on_ctrl_c(tmp_path: Path) -> None:
    make_folder(tmp_path)
    seen: list[ServerInfo] = []

    def ready(info: ServerInfo) -> None:
        seen.append(info)
        threading.Timer(0.3, _thread.interrupt_main).start()

    serve(ServeConfig(tmp_path, host="127.0.0.1", port=0), on_ready=ready)  # returns, no raise
    (info,) = seen
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", info.port), timeout=2).close()


def test_busy_port_and_missing_folder_are_clear_errors(site: Site, tmp_path: Path) -> None:
    with pytest.raises(FeedError, match="already in use") as busy:
        make_server(ServeConfig(site.folder, host="127.0.0.1", port=site.port))
    assert busy.value.hint == "port"
    with pytest.raises(FeedError, match="no such folder"):
        make_server(ServeConfig(tmp_path / "missing", host="127.0.0.1", port=0))
