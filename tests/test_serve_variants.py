"""Sessions on demand: a listener picks a variant of a routine, the server renders it once."""

from __future__ import annotations

import http.client
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from lxml import etree, html

import guidecast.publish.serve.jobs
from feed_fixtures import make_folder, running_server
from guidecast.compiler.fit import length_bounds
from guidecast.compiler.options import resolve_options
from guidecast.errors import FeedError
from guidecast.lang.speech import Estimate
from guidecast.model import Narration
from guidecast.publish.serve import (
    VARIANTS,
    ChoiceError,
    GuidecastServer,
    ServeConfig,
    make_server,
    parse_choice,
)
from guidecast.publish.serve.variants import RATES, Choice, allowed_minutes
from guidecast.routine.load import load_routine
from guidecast.sound.render import Voice
from render_fixtures import STRETCH, snapshot, write_routine

FIXED = """\
title: Fixed Minute
steps:
  - pose: Mountain
    cue: Stand tall.
    hold: 20s
"""


@dataclass
class Site:
    server: GuidecastServer
    folder: Path
    routines: Path
    cache: Path

    def request(self, method: str, path: str) -> tuple[int, str]:
        status, body = self.fetch(method, path)
        return status, body.decode()

    def fetch(self, method: str, path: str) -> tuple[int, bytes]:
        conn = http.client.HTTPConnection("127.0.0.1", self.server.server_port, timeout=10)
        try:
            conn.request(method, path)
            reply = conn.getresponse()
            return reply.status, reply.read()
        finally:
            conn.close()

    def json(self, method: str, path: str) -> dict[str, Any]:
        status, body = self.request(method, path)
        assert status in (200, 202), body
        answer: dict[str, Any] = json.loads(body)
        return answer

    def ready(self, query: str) -> dict[str, Any]:
        """Ask for a variant and follow it until it is rendered."""
        answer = self.json("POST", f"/api/variant?{query}")
        deadline = time.monotonic() + 60
        while answer["state"] in ("queued", "rendering") and time.monotonic() < deadline:
            time.sleep(0.05)
            answer = self.json("GET", f"/api/variant?{query}")
        assert answer["state"] == "ready", answer
        return answer


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    routines = tmp_path / "routines"
    write_routine(routines, STRETCH, "quick-stretch")
    write_routine(routines, FIXED, "fixed-minute")
    (routines / "broken.yaml").write_text("title: [\n", encoding="utf-8")
    folder, cache = tmp_path / "output", tmp_path / "cache"
    with running_server(folder, routines=routines, engine="fake", cache_dir=cache) as server:
        yield Site(server, folder, routines, cache)


def test_a_variant_is_rendered_once_and_its_length_is_the_one_chosen(site: Site) -> None:
    query = "routine=quick-stretch&length=4&narration=brief&rate=1&bed=none"
    answer = site.ready(query)
    session = answer["session"]
    assert answer["name"] == "quick-stretch--4m-brief-1x-none"
    assert abs(session["duration_ms"] - 4 * 60_000) <= 5000
    assert session["title"] == "Quick Stretch · 4 min, brief"
    assert session["mp3"].startswith(f"{VARIANTS}/quick-stretch--4m-brief-1x-none.mp3?v=")
    mp3 = site.folder / VARIANTS / "quick-stretch--4m-brief-1x-none.mp3"
    status, data = site.fetch("GET", "/" + session["mp3"])
    assert status == 200 and data == mp3.read_bytes() and len(data) > 10_000
    assert site.server.studio.renderer is not None
    assert site.server.studio.renderer.renders == 1
    again = site.json("POST", f"/api/variant?{query}")  # served as it is: no second render
    assert again["state"] == "ready" and again["session"] == session
    assert site.server.studio.renderer.renders == 1


def test_the_same_variant_asked_for_at_once_is_rendered_once(site: Site) -> None:
    query = "routine=quick-stretch&length=3&narration=standard"
    answers: list[dict[str, Any]] = []
    go = threading.Barrier(6)

    def ask() -> None:
        go.wait(timeout=10)
        answers.append(site.json("POST", f"/api/variant?{query}"))

    threads = [threading.Thread(target=ask) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)
    assert len(answers) == 6 and {a["name"] for a in answers} == {answers[0]["name"]}
    site.ready(query)
    assert site.server.studio.renderer is not None
    assert site.server.studio.renderer.renders == 1


def test_chapters_and_transcript_follow_the_variant(site: Site) -> None:
    short = site.ready("routine=quick-stretch&length=2&narration=brief")["session"]
    long = site.ready("routine=quick-stretch&length=5&narration=full")["session"]
    assert [c["title"] for c in short["chapters"]] == [c["title"] for c in long["chapters"]]
    assert short["chapters"][-1]["start_ms"] < long["chapters"][-1]["start_ms"]
    assert short["captions"] != long["captions"]
    for session in (short, long):
        name = session["mp3"].split("?")[0]
        info = json.loads((site.folder / name.replace(".mp3", ".session.json")).read_text())
        assert [c["start_ms"] for c in session["chapters"]] == [
            c["start_ms"] for c in info["chapters"]
        ]
        assert session["captions"][0]["text"] == info["captions"][0]["text"]


def test_only_kept_variants_are_in_the_feed(site: Site) -> None:
    make_folder(site.folder)
    query = "routine=quick-stretch&length=3&narration=brief"

    def items() -> list[str]:
        _, body = site.request("GET", "/feed.xml")
        return [
            e.text or "" for e in etree.fromstring(body.encode()).iterfind("channel/item/title")
        ]

    assert site.request("POST", f"/api/keep?{query}")[0] == 409  # nothing to keep yet
    assert site.ready(query)["kept"] is False
    assert len(items()) == 2
    assert site.json("POST", f"/api/keep?{query}")["kept"] is True
    assert "Quick Stretch · 3 min, brief, air" in items() and len(items()) == 3
    _, page = site.request("GET", "/")
    assert "Quick Stretch · 3 min, brief, air" in page  # kept: listed with the sessions
    assert site.json("DELETE", f"/api/keep?{query}")["kept"] is False
    assert len(items()) == 2


@pytest.mark.parametrize(
    ("query", "reason"),
    [
        ("routine=nope", "unknown routine 'nope'; the routines here: fixed-minute, quick-stretch"),
        ("routine=broken", "unknown routine 'broken'"),
        ("routine=quick-stretch&length=90", "length 90 min is outside what Quick Stretch"),
        ("routine=quick-stretch&length=0", "length 0 min is outside"),
        ("routine=quick-stretch&length=" + "9" * 5000, "length 99999999 min is outside"),
        ("routine=quick-stretch&length=ten", "length 'ten' is not a whole number of minutes"),
        ("routine=quick-stretch&length=-3", "length '-3' is not a whole number of minutes"),
        ("routine=quick-stretch&length=%C2%B2", "length '²' is not a whole number of minutes"),
        ("routine=quick-stretch&narration=loud", "narration 'loud' is not one of brief,"),
        ("routine=quick-stretch&rate=fast", "pace 'fast' is not a number"),
        ("routine=quick-stretch&rate=3", "pace '3' is not one of 0.8, 0.9, 1, 1.1, 1.25"),
        ("routine=quick-stretch&rate=nan", "pace 'nan' is not one of"),
        ("routine=quick-stretch&bed=sea", "bed 'sea' is not one of none, drone, ocean"),
        ("routine=fixed-minute&length=5", "Fixed Minute has a fixed length"),
    ],
)
def test_bad_choices_get_a_one_line_reason_and_nothing_is_written(
    site: Site, query: str, reason: str
) -> None:
    before = snapshot(site.folder)
    for method, path in (("POST", "/api/variant"), ("GET", "/api/variant"), ("POST", "/api/keep")):
        status, body = site.request(method, f"{path}?{query}")
        assert status == 400 and body.startswith(reason), body
        assert body.count("\n") == 1 and "Traceback" not in body
    assert snapshot(site.folder) == before
    assert not (site.folder / VARIANTS).exists()


def test_the_page_offers_only_the_lengths_each_routine_allows(site: Site) -> None:
    _, body = site.request("GET", "/")
    page = html.fromstring(body)
    [form] = page.xpath("//form[@data-routine='quick-stretch']")
    offered = [int(v) for v in form.xpath(".//select[@name='length']/option/@value")]
    routine = load_routine(site.routines / "quick-stretch.yaml")
    options = resolve_options(routine, narration=Narration.STANDARD)
    bounds = length_bounds(routine, options, Estimate(1.0))
    assert offered == list(allowed_minutes(routine, Narration.STANDARD, 1.0))
    assert offered and all(
        bounds.shortest_ms - 5000 <= m * 60_000 <= bounds.longest_ms + 5000 for m in offered
    )
    table = json.loads(page.xpath("//article[@data-routine='quick-stretch']/@data-lengths")[0])
    assert table["brief"]["1"][:2] != table["full"]["0.8"][:2]  # each choice its own range
    [fixed] = page.xpath("//form[@data-routine='fixed-minute']//select[@name='length']/option")
    assert fixed.get("value") == "" and fixed.text.startswith("As written (0:")
    assert [o for o in form.xpath(".//select[@name='bed']/option/@value")] == [
        "none", "drone", "ocean", "rain", "air"
    ]  # fmt: skip
    assert not page.xpath("//*[@data-routine='broken']")  # a broken routine is left off


def test_a_fixed_length_routine_renders_as_written(site: Site) -> None:
    answer = site.ready("routine=fixed-minute&narration=brief")
    assert answer["name"] == "fixed-minute--as-written-brief-1x-air"  # the default bed


def test_choices_left_out_are_the_routine_defaults(tmp_path: Path) -> None:
    path = write_routine(
        tmp_path, STRETCH + "defaults:\n  narration: full\n  length: 4m\n  rate: 0.9\n", "s"
    )
    routine = load_routine(path)
    choice = parse_choice({"s": routine}, {"routine": "s"})
    assert choice == Choice("s", 4, Narration.FULL, 0.9, "air")  # the default bed
    with pytest.raises(ChoiceError, match=r"^unknown routine ''"):
        parse_choice({"s": routine}, {})


def test_the_speech_cache_folder_comes_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = tmp_path / "env-cache"
    monkeypatch.setenv("GUIDECAST_CACHE_DIR", str(cache))
    write_routine(tmp_path / "routines", FIXED, "fixed-minute")
    with running_server(tmp_path / "out", routines=tmp_path / "routines", engine="fake") as server:
        site = Site(server, tmp_path / "out", tmp_path / "routines", cache)
        site.ready("routine=fixed-minute")
    assert any(cache.rglob("*")), "nothing was cached in GUIDECAST_CACHE_DIR"


def test_a_missing_routines_folder_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(FeedError, match="no such folder of routines"):
        make_server(ServeConfig(tmp_path, host="127.0.0.1", port=0, routines=tmp_path / "missing"))


def test_without_routines_the_variant_endpoints_say_so(tmp_path: Path) -> None:
    make_folder(tmp_path)
    with running_server(tmp_path) as server:
        site = Site(server, tmp_path, tmp_path, tmp_path)
        status, body = site.request("POST", "/api/variant?routine=x")
    assert status == 400 and "no routines to render" in body


@pytest.mark.slow
def test_the_server_renders_with_the_offline_piper_voice_and_the_shared_cache(
    tmp_path: Path, piper_voice: Voice
) -> None:
    write_routine(tmp_path / "routines", STRETCH, "quick-stretch")
    cache = piper_voice.cache.root  # the slow tests' own Piper cache: sentences said once
    with running_server(
        tmp_path / "out", routines=tmp_path / "routines", cache_dir=cache
    ) as server:
        site = Site(server, tmp_path / "out", tmp_path / "routines", cache)
        began = time.monotonic()
        cold = site.ready("routine=quick-stretch&length=3&narration=brief")
        first = time.monotonic() - began
        began = time.monotonic()
        warm = site.ready("routine=quick-stretch&length=4&narration=brief")
        second = time.monotonic() - began
    print(
        f"\nPiper on the server: {first:.2f} s for the first variant, "
        f"{second:.2f} s for another length"
    )
    assert abs(cold["session"]["duration_ms"] - 180_000) <= 5000
    assert abs(warm["session"]["duration_ms"] - 240_000) <= 5000
    info = json.loads((tmp_path / "out" / VARIANTS / f"{warm['name']}.session.json").read_text())
    assert info["captions"][0]["text"] == warm["session"]["captions"][0]["text"]


def test_unkept_variants_beyond_the_limit_are_removed_and_kept_ones_stay(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(guidecast.publish.serve.jobs, "UNKEPT_LIMIT", 2)
    first = "routine=quick-stretch&length=3&narration=brief"
    site.ready(first)
    assert site.json("POST", f"/api/keep?{first}")["kept"] is True
    for level in ("brief", "standard", "full"):
        site.ready(f"routine=quick-stretch&length=4&narration={level}")
    names = sorted(p.name for p in (site.folder / VARIANTS).glob("*.mp3"))
    assert len(names) == 3  # the kept one and the two newest
    assert any("3m-brief" in n for n in names)
    assert not any("4m-brief" in n for n in names)  # the oldest unkept went, sidecars too
    assert not [p for p in (site.folder / VARIANTS).iterdir() if "4m-brief" in p.name]
    again = site.ready("routine=quick-stretch&length=4&narration=brief")  # made again on request
    assert again["session"]["duration_ms"] > 0


def test_after_the_first_length_every_other_length_needs_no_voice(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    searched: list[str] = []
    real_every_text = guidecast.publish.serve.jobs.every_text

    def every_text(routine: Any, options: Any) -> list[str]:
        searched.append(routine.title)
        return real_every_text(routine, options)

    monkeypatch.setattr(guidecast.publish.serve.jobs, "every_text", every_text)
    measured: list[int] = []  # and, once the first is ready, measured through the limiter
    real_keep = guidecast.publish.serve.jobs.keep_limited

    def keep_limited(texts: list[str], *args: Any) -> int:
        measured.append(real_keep(texts, *args))
        return measured[-1]

    monkeypatch.setattr(guidecast.publish.serve.jobs, "keep_limited", keep_limited)
    site.ready("routine=quick-stretch&length=2&narration=standard")
    renderer = site.server.studio.renderer
    assert renderer is not None
    (engine,) = renderer._engines.values()
    spoken = len(engine.calls)  # type: ignore[attr-defined]
    assert spoken > 0
    routine = load_routine(site.routines / "quick-stretch.yaml")
    minutes = allowed_minutes(routine, Narration.STANDARD, 1.0)
    for m in minutes:
        site.ready(f"routine=quick-stretch&length={m}&narration=standard")
    assert len(engine.calls) == spoken  # type: ignore[attr-defined]
    assert renderer.renders == len(set(minutes) | {2})
    assert len(searched) == 1  # a warm routine's lengths are not searched again
    for _ in range(200):  # measured by the first render's worker once that was ready
        if measured:
            break
        time.sleep(0.05)
    assert len(measured) == 1 and measured[0] > 0  # and not measured again


def test_renders_run_side_by_side_and_a_full_queue_refuses_more(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(guidecast.publish.serve.jobs, "WORKERS", 2)
    monkeypatch.setattr(guidecast.publish.serve.jobs, "QUEUE_LIMIT", 3)
    monkeypatch.setattr(guidecast.publish.serve.jobs, "PER_CLIENT", 10)
    renderer = site.server.studio.renderer
    assert renderer is not None
    started = threading.Event()
    running: list[str] = []
    release = threading.Event()

    def slow(choice: Choice, routine: Any) -> None:
        running.append(choice.name)
        if len(running) == 2:
            started.set()
        release.wait(timeout=30)

    monkeypatch.setattr(renderer, "_render", slow)
    queries = [f"routine=quick-stretch&length=3&narration=brief&rate={r}" for r in RATES]
    for query in queries[:2]:
        site.json("POST", f"/api/variant?{query}")
    assert started.wait(timeout=10)  # two renders at once
    for query in queries[2:]:
        site.json("POST", f"/api/variant?{query}")  # three wait
    status, body = site.request(
        "POST", "/api/variant?routine=quick-stretch&length=3&narration=standard&bed=rain"
    )
    assert status == 429 and "try again" in body
    release.set()
