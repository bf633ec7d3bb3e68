"""Publishing through the real command line: render two routines, write a feed, serve them.

The server runs as a second process, as a user runs it; this process plays the phone: it reads
the feed URL the server printed and downloads every enclosure in full and by range.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import feedparser
import pytest

from render_fixtures import SMALL, write_routine

ROOT = Path(__file__).resolve().parent.parent


def _guidecast(*args: str | Path, **kwargs: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "guidecast", *map(str, args)],
        capture_output=True, text=True, check=False, **kwargs,  # type: ignore[call-overload]
    )  # fmt: skip


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An output folder with two sessions rendered by the CLI (fake voice: fast, offline)."""
    work = tmp_path_factory.mktemp("publish")
    first = write_routine(work, SMALL, "small-flow")
    second = ROOT / "routines" / "back-stiffness.yaml"
    out = work / "output"
    done = _guidecast("-q", "render", first, second, "-o", out, "--engine", "fake",
                      "--narration", "brief", "--cache-dir", work / "cache")  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in out.glob("*.mp3")) == ["back-stiffness.mp3", "small-flow.mp3"]
    return out


def test_feed_command_writes_a_feed_podcast_apps_can_read(rendered: Path) -> None:
    done = _guidecast("feed", rendered, "--base-url", "https://example.org/yoga/")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"wrote {rendered / 'feed.xml'} (2 episodes)"
    feed = feedparser.parse((rendered / "feed.xml").read_bytes())
    assert not feed.bozo, feed.bozo_exception
    assert len(feed.entries) == 2
    for entry in feed.entries:
        (enclosure,) = entry.enclosures
        name, _, version = enclosure.href.removeprefix("https://example.org/yoga/").partition("?")
        assert version.startswith("v=")  # the content version; the guid stays
        assert int(enclosure.length) == (rendered / name).stat().st_size
        assert enclosure.type == "audio/mpeg"


def test_feed_command_without_sessions_is_a_clear_error(tmp_path: Path) -> None:
    done = _guidecast("feed", tmp_path, "--base-url", "https://example.org/")
    assert done.returncode == 1
    assert done.stderr.startswith("error: ") and "Traceback" not in done.stderr


@pytest.fixture
def server(rendered: Path) -> Iterator[tuple[subprocess.Popen[str], str]]:
    """`guidecast serve` in a second process; yields it and the feed URL it printed."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "guidecast", "serve", str(rendered), "--port", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )  # fmt: skip
    assert proc.stdout is not None
    feed_url = ""
    for line in proc.stdout:
        found = re.search(r"Podcast feed.*?(http://\S+/feed\.xml)", line)
        if found:
            feed_url = found.group(1)
        if line.startswith("Press Ctrl-C"):
            break
    try:
        assert feed_url, "the server printed no feed URL"
        yield proc, feed_url
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=10)


def test_a_phone_subscribes_to_the_printed_feed_url(
    server: tuple[subprocess.Popen[str], str], rendered: Path
) -> None:
    proc, feed_url = server
    with urllib.request.urlopen(feed_url, timeout=10) as reply:
        feed = feedparser.parse(reply.read())
    assert len(feed.entries) == 2
    host = feed_url.split("/")[2]
    for entry in feed.entries:
        (enclosure,) = entry.enclosures
        assert enclosure.href.startswith(f"http://{host}/")  # built from the address used
        assert "?v=" in enclosure.href  # served all the same: the query names no file
        local = (rendered / enclosure.href.rsplit("/", 1)[1].split("?")[0]).read_bytes()
        with urllib.request.urlopen(enclosure.href, timeout=10) as reply:
            assert reply.read() == local
        ranged = urllib.request.Request(enclosure.href, headers={"Range": "bytes=1000-1999"})
        with urllib.request.urlopen(ranged, timeout=10) as reply:
            assert reply.status == 206
            assert reply.headers["Content-Range"] == f"bytes 1000-1999/{len(local)}"
            assert reply.read() == local[1000:2000]

    proc.send_signal(signal.SIGINT)  # what Ctrl-C does
    assert proc.wait(timeout=10) == 0
    assert proc.stderr is not None
    stderr = proc.stderr.read()
    assert "Stopped." in stderr and "Traceback" not in stderr


def test_serve_with_routines_says_so_and_a_missing_folder_is_one_line(tmp_path: Path) -> None:
    done = _guidecast("serve", tmp_path / "out", "--routines", tmp_path / "nowhere", "--port", "0")
    assert done.returncode == 2 and "Traceback" not in done.stderr  # a command-line mistake
    assert done.stderr.strip().splitlines()[-1] == (
        f"Error: Invalid value for --routines: {tmp_path / 'nowhere'}: no such folder of routines"
    )
    assert not (tmp_path / "out").exists()  # nothing made for a server that cannot start
    done = _guidecast("serve", "--help")
    assert (
        done.returncode == 0
        and "--routines" in done.stdout
        and "GUIDECAST_CACHE_DIR" in done.stdout
    )


def test_serve_renders_a_routine_on_request_into_the_cache_from_the_environment(
    tmp_path: Path,
) -> None:
    routines = tmp_path / "routines"
    write_routine(routines, SMALL, "small-flow")
    cache = tmp_path / "cache"
    proc = subprocess.Popen(
        [sys.executable, "-m", "guidecast", "serve", str(tmp_path / "out"), "--port", "0",
         "--host", "127.0.0.1", "--routines", str(routines), "--engine", "fake"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1", "GUIDECAST_CACHE_DIR": str(cache)},
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()
        assert first.startswith("Serving 0 sessions and 1 routine on demand from ")
        page = re.search(r"(http://\S+/)", proc.stdout.readline())
        assert page is not None
        url = page.group(1) + "api/variant?routine=small-flow&narration=brief"
        answer: dict[str, object] = {"state": "new"}
        for _ in range(200):
            method = "POST" if answer["state"] == "new" else "GET"
            with urllib.request.urlopen(urllib.request.Request(url, method=method)) as reply:
                answer = json.loads(reply.read())
            if answer["state"] in ("ready", "failed"):
                break
            time.sleep(0.1)
        assert answer["state"] == "ready", answer
        assert any(cache.rglob("*")) and (tmp_path / "out" / "variants").is_dir()
    finally:
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=10) == 0
