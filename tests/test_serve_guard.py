"""The on-demand API as an attacker meets it: other sites, odd Hosts, floods, trickles, disks."""

from __future__ import annotations

import http.client
import json
import logging
import os
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

import guidecast.publish.serve.budget
import guidecast.publish.serve.jobs
from feed_fixtures import make_folder, running_server
from guidecast.publish.serve import VARIANTS, GuidecastServer
from guidecast.publish.serve.budget import prune_cache
from guidecast.publish.serve.guard import BadHost, parse_host
from guidecast.publish.serve.variants import Choice
from render_fixtures import STRETCH, write_routine

QUERY = "routine=quick-stretch&length=3&narration=brief"


@dataclass
class Api:
    server: GuidecastServer
    folder: Path
    cache: Path

    @property
    def port(self) -> int:
        return self.server.server_port

    def send(
        self, method: str, path: str, *, source: str = "127.0.0.1", **headers: str
    ) -> tuple[int, dict[str, str], str]:
        conn = http.client.HTTPConnection(
            "127.0.0.1", self.port, timeout=10, source_address=(source, 0)
        )
        try:
            conn.request(method, path, headers={k.replace("_", "-"): v for k, v in headers.items()})
            reply = conn.getresponse()
            return reply.status, dict(reply.getheaders()), reply.read().decode()
        finally:
            conn.close()

    def ready(self, query: str) -> dict[str, Any]:
        status, _, body = self.send("POST", f"/api/variant?{query}")
        assert status in (200, 202), body
        deadline = time.monotonic() + 60
        while json.loads(body)["state"] in ("queued", "rendering"):
            assert time.monotonic() < deadline
            time.sleep(0.05)
            status, _, body = self.send("GET", f"/api/variant?{query}")
        answer: dict[str, Any] = json.loads(body)
        assert answer["state"] == "ready", answer
        return answer


@pytest.fixture
def api(tmp_path: Path) -> Iterator[Api]:
    routines = tmp_path / "routines"
    write_routine(routines, STRETCH, "quick-stretch")
    folder, cache = tmp_path / "output", tmp_path / "cache"
    with running_server(folder, routines=routines, engine="fake", cache_dir=cache) as server:
        yield Api(server, folder, cache)


def _raw(port: int, request: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
        conn.sendall(request)
        data = b""
        while chunk := conn.recv(65536):
            data += chunk
        return data


# Medium 2: changes only from the server's own page, at its own address.


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "http://evil.example"},
        {"Origin": "null"},
        {"Origin": "https://127.0.0.1"},
        {"Sec-Fetch-Site": "cross-site"},
    ],
    ids=["other site", "null origin", "other scheme", "cross-site fetch"],
)
def test_a_change_from_another_site_is_refused_with_403(api: Api, headers: dict[str, str]) -> None:
    status, _, body = api.send("POST", f"/api/variant?{QUERY}", **headers)
    assert status == 403 and "own page" in body
    status, _, _ = api.send("DELETE", f"/api/keep?{QUERY}", **headers)
    assert status == 403
    assert not (api.folder / VARIANTS).exists()  # nothing rendered, nothing kept


def test_a_change_sent_to_a_rebound_name_is_refused_with_421(api: Api) -> None:
    host = f"attacker.example:{api.port}"
    status, _, body = api.send("POST", f"/api/variant?{QUERY}", Host=host, Origin=f"http://{host}")
    assert status == 421 and "own address" in body
    assert not (api.folder / VARIANTS).exists()
    assert api.send("GET", "/feed.xml", Host=host)[0] == 200  # reading stays open to all


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", socket.gethostname()])
def test_a_change_from_the_servers_own_page_is_accepted(api: Api, host: str) -> None:
    authority = f"{host}:{api.port}"
    status, _, body = api.send(
        "POST",
        f"/api/variant?{QUERY}",
        Host=authority,
        Origin=f"http://{authority}",
        Sec_Fetch_Site="same-origin",
    )
    assert status in (200, 202), body


@pytest.mark.parametrize(
    "host",
    [b"[1.2.3.4]", b"127.0.0.1:65536", b"127.0.0.1:0", b"[::1", b"[zz::1]", b"a b", b"1.2.3.999"],
)
@pytest.mark.parametrize("path", [b"/", b"/feed.xml", b"/api/variant?" + QUERY.encode()])
def test_a_malformed_host_gets_a_clean_400(
    api: Api, host: bytes, path: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    answer = _raw(
        api.port, b"GET " + path + b" HTTP/1.1\r\nHost: " + host + b"\r\nConnection: close\r\n\r\n"
    )
    assert answer.startswith(b"HTTP/1.1 400 "), answer[:200]
    assert b"bad Host header" in answer
    assert "Traceback" not in caplog.text
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


@pytest.mark.parametrize(
    ("value", "parsed"),
    [
        ("LocalHost:8000", ("localhost", 8000)),
        ("[::1]:80", ("::1", 80)),
        ("192.168.1.20", ("192.168.1.20", None)),
        ("phone.local.", ("phone.local", None)),
    ],
)
def test_parse_host(value: str, parsed: tuple[str, int | None]) -> None:
    assert parse_host(value) == parsed


@pytest.mark.parametrize("value", ["[1.2.3.4]", "h:65536", "h:", "h:x", "[::1]x", "1.2.3.4.5"])
def test_parse_host_refuses(value: str) -> None:
    with pytest.raises(BadHost):
        parse_host(value)


# Low 6: taking a variant out of the feed before any was made.


def test_delete_keep_before_any_variant_exists_answers_cleanly(api: Api) -> None:
    status, _, body = api.send("DELETE", f"/api/keep?{QUERY}")
    assert status == 200, body
    assert json.loads(body)["state"] == "new"
    assert api.server.studio.kept() == set()


# Medium 2: bounded renders.


@pytest.fixture
def stalled(api: Api, monkeypatch: pytest.MonkeyPatch) -> Iterator[threading.Event]:
    """Renders that wait until released, so that the queue fills."""
    renderer = api.server.studio.renderer
    assert renderer is not None
    release = threading.Event()

    def slow(choice: Choice, routine: Any) -> None:
        release.wait(timeout=30)

    monkeypatch.setattr(renderer, "_render", slow)
    try:
        yield release
    finally:
        release.set()


def _variants(count: int) -> list[str]:
    rates = ("0.8", "0.9", "1", "1.1", "1.25")
    beds = ("none", "rain", "brown")
    return [
        f"routine=quick-stretch&length=3&narration=brief&rate={rates[i % 5]}&bed={beds[i // 5]}"
        for i in range(count)
    ]


def test_one_device_may_queue_only_a_few_renders(
    api: Api, stalled: threading.Event, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(guidecast.publish.serve.jobs, "PER_CLIENT", 3)
    queries = _variants(5)
    for query in queries[:3]:
        assert api.send("POST", f"/api/variant?{query}")[0] == 202
    status, headers, body = api.send("POST", f"/api/variant?{queries[3]}")
    assert status == 429 and int(headers["retry-after"]) > 0
    assert "this device is already making 3 sessions" in body
    assert api.send("POST", f"/api/variant?{queries[0]}")[0] == 202  # following one is fine
    # Another device is still served.
    assert api.send("POST", f"/api/variant?{queries[4]}", source="127.0.0.2")[0] == 202


def test_all_devices_together_may_queue_only_so_many_renders(
    api: Api, stalled: threading.Event, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(guidecast.publish.serve.jobs, "WORKERS", 1)
    monkeypatch.setattr(guidecast.publish.serve.jobs, "QUEUE_LIMIT", 4)
    queries = _variants(7)
    for i, query in enumerate(queries[:5]):  # one rendering, four waiting
        assert api.send("POST", f"/api/variant?{query}", source=f"127.0.2.{i + 1}")[0] == 202
    status, headers, body = api.send("POST", f"/api/variant?{queries[5]}", source="127.0.3.1")
    assert status == 429 and "Retry-After".lower() in {k.lower() for k in headers}
    assert "try again" in body


# Medium 2: the quota of kept variants, and the disk budget.


def test_keeping_past_the_count_quota_is_refused_with_the_reason(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(guidecast.publish.serve.budget, "KEPT_LIMIT", 2)
    queries = [f"routine=quick-stretch&length=3&narration={n}" for n in ("brief", "standard")]
    queries.append("routine=quick-stretch&length=4&narration=brief")
    for query in queries:
        api.ready(query)
    for query in queries[:2]:
        assert api.send("POST", f"/api/keep?{query}")[0] == 200
    status, _, body = api.send("POST", f"/api/keep?{queries[2]}")
    assert status == 507
    assert "already keeps 2 sessions" in body and "take one out" in body
    assert len(api.server.studio.kept()) == 2
    assert api.send("POST", f"/api/keep?{queries[0]}")[0] == 200  # keeping again: no change
    assert api.send("DELETE", f"/api/keep?{queries[0]}")[0] == 200
    assert api.send("POST", f"/api/keep?{queries[2]}")[0] == 200  # room again


def test_keeping_past_the_byte_quota_is_refused_with_the_reason(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    api.ready(QUERY)
    size = sum(p.stat().st_size for p in (api.folder / VARIANTS).glob("quick-stretch--*"))
    monkeypatch.setattr(guidecast.publish.serve.budget, "KEPT_BYTES", size - 1)
    status, _, body = api.send("POST", f"/api/keep?{QUERY}")
    assert status == 507 and "the most is" in body
    assert api.server.studio.kept() == set()


def test_unkept_variants_past_the_byte_budget_are_removed(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    api.ready(QUERY)
    first = {p.name for p in (api.folder / VARIANTS).iterdir()}
    size = sum(p.stat().st_size for p in (api.folder / VARIANTS).glob("*--*"))
    monkeypatch.setattr(guidecast.publish.serve.jobs, "UNKEPT_BYTES", size + size // 2)
    api.ready("routine=quick-stretch&length=4&narration=brief")
    left = {p.name for p in (api.folder / VARIANTS).iterdir()}
    assert not {n for n in first if "3m-brief" in n} & left  # the older one went
    assert any("4m-brief" in n for n in left)


def _entry(folder: Path, key: str, suffix: str, size: int, age: float) -> Path:
    path = folder / key[:2] / f"{key}{suffix}"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"x" * size)
    when = time.time() - age
    os.utime(path, (when, when))
    return path


def test_the_cache_is_pruned_oldest_first_past_its_budget(tmp_path: Path) -> None:
    cache = tmp_path / "clips"
    old_wav = _entry(cache, "a" * 64, ".wav", 4000, age=7200)
    old_json = _entry(cache, "a" * 64, ".json", 100, age=7000)
    old_run = _entry(cache / "runs", "b" * 64, ".run", 3000, age=5000)
    middle = _entry(cache, "c" * 64, ".wav", 3000, age=3000)
    fresh = _entry(cache, "d" * 64, ".wav", 3000, age=10)  # in use: never removed
    mine = cache / "notes.txt"
    mine.write_bytes(b"y" * 10_000)  # not a cache entry: never looked at
    (cache / "ee").mkdir()
    (cache / "ee" / f"{'e' * 64}.wav").symlink_to(mine)  # never followed nor removed
    freed = prune_cache(cache, 7000)
    assert freed == 4100 + 3000
    assert not old_wav.exists() and not old_json.exists() and not old_run.exists()
    assert middle.exists() and fresh.exists() and mine.exists()
    assert prune_cache(cache, 7000) == 0  # within the budget now
    assert prune_cache(cache, 0) == 3000  # only the one in use is left
    assert fresh.exists()


# Medium 3: a request trickled in is closed at its deadline, not kept alive by each byte.


@pytest.mark.parametrize(
    "head",
    [
        b"GET /feed.xml HTTP/1.1\r\nHost: x\r\nX-Slow: ",
        b"POST /feed.xml HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 999\r\n\r\n",
    ],
    ids=["head", "body"],
)
def test_a_trickled_request_is_closed_at_its_deadline(tmp_path: Path, head: bytes) -> None:
    make_folder(tmp_path / "out")
    with (
        running_server(tmp_path / "out", silent_timeout=1.0) as server,
        socket.create_connection(("127.0.0.1", server.server_port), timeout=5) as conn,
    ):
        conn.sendall(head)
        began = time.monotonic()
        conn.settimeout(0.2)
        closed = False
        while not closed and time.monotonic() - began < 5:
            try:
                conn.sendall(b"a")  # a byte every 0.2 s: each well within any idle timeout
                closed = conn.recv(4096) == b""  # an early answer (405) is read and ignored
            except TimeoutError:
                continue
            except (BrokenPipeError, ConnectionResetError):
                closed = True
        took = time.monotonic() - began
    assert closed, "the trickling connection was kept open"
    assert 0.8 < took < 2.5


def test_a_name_given_with_name_is_one_of_the_servers_own(tmp_path: Path) -> None:
    routines = tmp_path / "routines"
    write_routine(routines, STRETCH, "quick-stretch")
    with running_server(
        tmp_path / "out",
        routines=routines,
        engine="fake",
        cache_dir=tmp_path / "cache",
        names=("Desk.Fritz.Box",),
    ) as server:
        api = Api(server, tmp_path / "out", tmp_path / "cache")
        host = f"desk.fritz.box:{api.port}"
        status, _, body = api.send(
            "POST", f"/api/variant?{QUERY}", Host=host, Origin=f"http://{host}"
        )
        assert status in (200, 202), body
        assert api.send("POST", f"/api/variant?{QUERY}", Host="other.fritz.box")[0] == 421
