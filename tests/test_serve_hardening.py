"""The server answers odd requests properly and survives a broken session file (finding 9)."""

from __future__ import annotations

import contextlib
import json
import resource
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest

from feed_fixtures import make_folder, running_server
from guidecast.publish.page import qr_svg
from guidecast.publish.serve import RangeNotSatisfiable, parse_byte_range


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
        # Header names are case-insensitive: uvicorn sends them in lower case.
        headers = {k.lower(): v for k, v in (line.split(": ", 1) for line in lines[1:])}
        length = int(headers.get("content-length", "0"))
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
        assert headers["content-range"] == f"bytes 0-{size - 1}/{size}"
    else:
        assert headers["content-range"] == f"bytes */{size}"


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
                try:
                    closed += conn.recv(1) == b""
                except ConnectionResetError:  # closed with the request unread: a reset
                    closed += 1
                except TimeoutError:
                    pass
            assert closed >= 300 - server.connections_per_client
        finally:
            for conn in stuck:
                conn.close()


@pytest.mark.parametrize(
    ("ms", "shown"),
    [(574_600, "9:34"), (40_000, "0:40"), (999, "0:00"), (3_723_900, "1:02:03")],
)
def test_page_times_read_like_the_player(ms: int, shown: str) -> None:
    from guidecast.publish.page import player_clock

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


@contextlib.contextmanager
def _open_files(wanted: int) -> Iterator[None]:
    """Raise this process's open-file limit to `wanted` (within the hard limit) for a while."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft != resource.RLIM_INFINITY and soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def test_two_thousand_half_sent_requests_stay_open_and_a_phone_is_still_answered(
    tmp_path: Path,
) -> None:
    make_folder(tmp_path / "out")
    with _open_files(8192), running_server(tmp_path / "out") as server:
        port = server.server_port
        assert resource.getrlimit(resource.RLIMIT_NOFILE)[0] >= 4500, "cannot open enough files"
        stuck: list[socket.socket] = []
        try:
            for i in range(2000):  # 100 devices with 20 unfinished requests each: all held
                conn = socket.create_connection(
                    ("127.0.0.1", port), timeout=5, source_address=(f"127.0.1.{i % 100 + 1}", 0)
                )
                conn.sendall(b"GET /feed.xml HTTP/1.1\r\nHost: x\r\n")
                stuck.append(conn)
            deadline = time.monotonic() + 10
            while server.open_connections < 2000 and time.monotonic() < deadline:
                time.sleep(0.05)
            assert server.open_connections >= 2000  # none refused: each costs no thread
            began = time.monotonic()
            status, _, body = _raw(
                port, b"GET /feed.xml HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
            )
            took = time.monotonic() - began
            print(f"\nfeed answered in {took * 1000:.0f} ms with 2,000 half-sent requests open")
            assert status == 200 and body.count(b"<item>") == 2
            assert took < 10
        finally:
            for conn in stuck:
                conn.close()


def test_connections_past_the_cap_get_503(tmp_path: Path) -> None:
    make_folder(tmp_path / "out")
    with running_server(tmp_path / "out", max_connections=8) as server:
        idle = [socket.create_connection(("127.0.0.1", server.server_port)) for _ in range(8)]
        try:
            deadline = time.monotonic() + 5
            while server.open_connections < 8 and time.monotonic() < deadline:
                time.sleep(0.02)
            request = b"GET /feed.xml HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
            assert _raw(server.server_port, request)[0] == 503
        finally:
            for conn in idle:
                conn.close()
        deadline = time.monotonic() + 5
        while server.open_connections and time.monotonic() < deadline:
            time.sleep(0.02)
        assert _raw(server.server_port, request)[0] == 200  # room again


@pytest.mark.parametrize("sent", [b"", b"GET /feed.xml HTTP/1.1\r\nHost: x\r\n"])
def test_a_silent_or_unfinished_request_is_closed_after_the_timeout(
    tmp_path: Path, sent: bytes
) -> None:
    make_folder(tmp_path / "out")
    with (
        running_server(tmp_path / "out", silent_timeout=0.3) as server,
        socket.create_connection(("127.0.0.1", server.server_port), timeout=5) as conn,
    ):
        conn.sendall(sent)
        began = time.monotonic()
        assert conn.recv(100) == b""  # closed by the server, with no answer
        assert 0.2 < time.monotonic() - began < 3
