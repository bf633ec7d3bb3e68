"""The server answers odd requests properly and survives a broken session file (finding 9)."""

from __future__ import annotations

import contextlib
import json
import socket
from pathlib import Path
from urllib.parse import quote

import pytest

from feed_fixtures import make_folder, running_server
from guidecast.page import qr_svg
from guidecast.serve import RangeNotSatisfiable, parse_byte_range


def _raw(port: int, request: bytes) -> tuple[int, dict[str, str], bytes]:
    """Send raw request bytes (anything a client might send) and read one response."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
        conn.sendall(request)
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = conn.recv(65536)
            assert chunk, f"connection closed without a response: {data!r}"
            data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        headers = dict(line.split(": ", 1) for line in lines[1:])
        length = int(headers.get("Content-Length", "0"))
        while len(body) < length:
            chunk = conn.recv(65536)
            assert chunk
            body += chunk
        return int(lines[0].split()[1]), headers, body


@pytest.mark.parametrize(
    ("header", "span"),
    [
        ("bytes=²-", None),
        ("bytes=-²", None),
        ("bytes=٣-9", None),  # an Arabic-Indic digit
        ("bytes=0-" + "9" * 5000, (0, 999)),
        ("bytes=-" + "9" * 5000, (0, 999)),
        ("bytes=" + "1" * 19 + "-" + "2" * 19, "416"),
        ("bytes=" + "9" * 5000 + "-", "416"),
        ("bytes=5-" + "9" * 5000 + "x", None),
    ],
    ids=[
        "superscript",
        "superscript suffix",
        "arabic",
        "huge end",
        "huge suffix",
        "19 digits",
        "huge start",
        "junk",
    ],
)
def test_parse_range_refuses_odd_numbers_cleanly(header: str, span: object) -> None:
    if span == "416":
        with pytest.raises(RangeNotSatisfiable):
            parse_byte_range(header, 1000)
    else:
        assert parse_byte_range(header, 1000) == span


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("serve") / "output"
    make_folder(folder)
    return folder


@pytest.mark.parametrize(
    ("value", "status"),
    [
        (b"bytes=\xb2-", 200),
        (b"bytes=0-" + b"9" * 5000, 206),
        (b"bytes=" + b"9" * 5000 + b"-", 416),
    ],
    ids=["superscript byte", "5,000-digit end", "5,000-digit start"],
)
def test_odd_ranges_get_a_proper_answer(folder: Path, value: bytes, status: int) -> None:
    mp3 = next(folder.glob("*.mp3"))
    size = mp3.stat().st_size
    path = quote(mp3.name).encode()
    request = b"GET /" + path + b" HTTP/1.1\r\nHost: localhost\r\nRange: " + value
    with running_server(folder) as server:
        got, headers, body = _raw(server.server_port, request + b"\r\nConnection: close\r\n\r\n")
    assert got == status
    if status == 200:
        assert len(body) == size
    elif status == 206:
        assert headers["Content-Range"] == f"bytes 0-{size - 1}/{size}"
    else:
        assert headers["Content-Range"] == f"bytes */{size}"


def test_a_very_long_host_still_gets_the_page_with_a_qr_code(folder: Path) -> None:
    host = b"a" * 3000 + b".example"
    with running_server(folder) as server:
        request = b"GET / HTTP/1.1\r\nHost: " + host + b"\r\nConnection: close\r\n\r\n"
        status, _, body = _raw(server.server_port, request)
    assert status == 200
    assert b"<svg" in body and host not in body
    assert qr_svg("http://" + "a" * 3000 + "/feed.xml") == ""  # too long for any QR code


def test_one_broken_session_file_leaves_the_others_on_the_page_and_in_the_feed(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    folder = tmp_path / "output"
    sessions = make_folder(folder)
    broken = folder / sessions[0].file(".session.json")
    data = json.loads(broken.read_text("utf-8"))
    broken.write_text(json.dumps({**data, "guid": 42}), encoding="utf-8")
    with running_server(folder) as server:
        port = server.server_port
        page = _raw(port, b"GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n")
        feed = _raw(port, b"GET /feed.xml HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n")
    assert page[0] == 200 and feed[0] == 200
    assert feed[2].count(b"<item>") == 1
    assert sessions[1].guid.encode() in feed[2] and sessions[0].guid.encode() not in feed[2]
    assert page[2].count(b'<article class="session"') == 1
    assert f"{broken}: 'guid' must be a non-empty string" in caplog.text


def test_hundreds_of_half_sent_requests_do_not_stall_another_client(tmp_path: Path) -> None:
    import time

    make_folder(tmp_path / "out")
    with running_server(tmp_path / "out") as server:
        port = server.server_address[1]
        stuck = []
        for _ in range(300):  # a misbehaving device: requests it never finishes
            conn = socket.create_connection(("127.0.0.1", port), timeout=5)
            conn.sendall(b"GET /feed.xml HTTP/1.1\r\nHost: x\r\n")
            stuck.append(conn)
        try:
            # Another device (another address) is answered at once.
            began = time.monotonic()
            with socket.create_connection(
                ("127.0.0.1", port), timeout=5, source_address=("127.0.0.2", 0)
            ) as phone:
                phone.sendall(b"GET /feed.xml HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                assert phone.recv(12).startswith(b"HTTP/1.1 200")
            assert time.monotonic() - began < 2
            # The stuck device holds at most its share of connections: the rest were closed.
            closed = 0
            for conn in stuck:
                conn.settimeout(0.05)
                with contextlib.suppress(TimeoutError):
                    closed += conn.recv(1) == b""
            assert closed >= 300 - server.connections_per_client
        finally:
            for conn in stuck:
                conn.close()


@pytest.mark.parametrize(
    ("ms", "shown"),
    [(574_600, "9:34"), (40_000, "0:40"), (999, "0:00"), (3_723_900, "1:02:03")],
)
def test_page_times_read_like_the_player(ms: int, shown: str) -> None:
    from guidecast.page import player_clock

    assert player_clock(ms) == shown


def test_page_players_have_names_and_the_feed_link_is_a_tap_target(tmp_path: Path) -> None:
    import urllib.request

    from lxml import html

    make_folder(tmp_path / "out")
    with running_server(tmp_path / "out") as server:
        url = f"http://127.0.0.1:{server.server_address[1]}/"
        page = html.fromstring(urllib.request.urlopen(url, timeout=5).read())
    players = page.xpath("//audio")
    assert players and all(p.get("aria-label", "").startswith("Play ") for p in players)
    [feed_link] = page.xpath("//a[normalize-space()='View the feed']")
    assert "button-link" in feed_link.get("class", "")
