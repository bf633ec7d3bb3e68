"""The page as a phone uses it, in headless Chromium: sessions played open and play offline and
resume where they stopped; making a session says only what is true and its bar never goes
back; the player comes into view; controls can be seen; Android gets a link it can follow."""

from __future__ import annotations

import json
import threading
import urllib.request
from pathlib import Path
from typing import Any

import pytest

import guidecast.publish.serve.jobs
from feed_fixtures import make_folder, running_server
from guidecast.model import Narration
from guidecast.publish.serve.jobs import Job, Renderer
from guidecast.publish.serve.variants import Choice
from render_fixtures import STRETCH, write_routine
from test_page_browser import ARGS, CHROMIUM, PHONE, _playwright

pytestmark = pytest.mark.browser

ANDROID = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0.0.0 Mobile Safari/537.36"
)
SAVED = """async () => {
  const cache = await caches.open('guidecast-sessions-v1');
  return (await cache.keys()).map(r => new URL(r.url).pathname);
}"""


def test_a_session_played_opens_and_plays_offline_where_it_stopped(tmp_path: Path) -> None:
    sessions = make_folder(tmp_path)
    newest = sessions[1]
    server_cm = running_server(tmp_path)
    server = server_cm.__enter__()
    stopped = False
    try:
        url = f"http://127.0.0.1:{server.server_port}/"
        with _playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
            try:
                context = browser.new_context(viewport=PHONE)
                page = context.new_page()
                page.goto(url)
                page.wait_for_function("navigator.serviceWorker.controller !== null")
                article = page.locator("article.session").first
                article.locator("button.toggle").click()
                audio = article.locator("audio")
                article.locator("button.play").click()
                page.wait_for_function(
                    "a => !a.paused && a.readyState >= 2", arg=audio.element_handle()
                )
                page.wait_for_function(
                    f"async () => ({SAVED})().then(k => k.some(p => p.endsWith('.mp3')))",
                    timeout=15_000,
                )
                audio.evaluate("a => { a.currentTime = 12; }")
                page.wait_for_function(
                    "a => !a.seeking && a.currentTime >= 12", arg=audio.element_handle()
                )
                audio.evaluate("a => a.pause()")
                # The server goes away and the phone has no network.
                server_cm.__exit__(None, None, None)
                stopped = True
                context.set_offline(True)
                page.reload()
                article = page.locator("article.session").first
                assert article.locator("h2").inner_text() == newest.title
                article.locator("button.toggle").click()
                audio = article.locator("audio")
                article.locator("button.play").click()
                page.wait_for_function(
                    "a => !a.paused && a.currentTime > 12.5",
                    arg=audio.element_handle(),
                    timeout=15_000,
                )
                resumed = audio.evaluate("a => a.currentTime")
                assert 12 <= resumed < 16, resumed
                assert abs(audio.evaluate("a => a.duration") - newest.seconds) < 0.5
            finally:
                browser.close()
    finally:
        if not stopped:
            server_cm.__exit__(None, None, None)


STATUS_LOG = """() => {
  window.said = []; window.bars = [];
  const watch = new MutationObserver(() => {
    document.querySelectorAll('.status').forEach(s => {
      if (s.textContent) { said.push(s.textContent); }
    });
    document.querySelectorAll('progress').forEach(p => bars.push(p.value));
  });
  watch.observe(document.body, {subtree: true, childList: true, characterData: true,
                                attributes: true, attributeFilter: ['value', 'hidden']});
  const set = Object.getOwnPropertyDescriptor(HTMLProgressElement.prototype, 'value').set;
  Object.defineProperty(HTMLProgressElement.prototype, 'value', {
    set(v) { bars.push(v); set.call(this, v); },
    get() { return parseFloat(this.getAttribute('value') || '0'); },
  });
}"""


def test_making_a_session_says_what_is_true_and_brings_the_player_into_view(
    tmp_path: Path,
) -> None:
    routines = tmp_path / "routines"
    write_routine(routines, STRETCH.replace("description:", "description: " + "Long. " * 60), "s")
    out, cache = tmp_path / "out", tmp_path / "cache"
    with (
        running_server(out, routines=routines, engine="fake", cache_dir=cache) as server,
        _playwright() as playwright,
    ):
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 390, "height": 600})
            page.goto(f"http://127.0.0.1:{server.server_port}/")
            page.evaluate(STATUS_LOG)
            article = page.locator("article.routine").first
            audio = article.locator("audio")
            article.locator("form.choose button[type=submit]").click()
            page.wait_for_function("a => !a.paused", arg=audio.element_handle(), timeout=30_000)
            said: list[str] = page.evaluate("window.said")
            bars: list[float] = page.evaluate("window.bars")
            assert said and not [s for s in said if "another session" in s], said
            assert bars == sorted(bars), bars
            page.wait_for_function(
                """a => { const r = a.getBoundingClientRect();
                          return r.top >= 0 && r.bottom <= window.innerHeight; }""",
                arg=audio.element_handle(),
                timeout=5_000,
            )
        finally:
            browser.close()


CONTRAST = """() => {
  const rgb = c => c.match(/[\\d.]+/g).slice(0, 3).map(Number);
  const lum = c => { const [r, g, b] = rgb(c).map(v => { v /= 255;
      return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b; };
  const ratio = (a, b) => { const [x, y] = [lum(a), lum(b)].sort((p, q) => q - p);
    return (x + 0.05) / (y + 0.05); };
  return [...document.querySelectorAll('select')].map(s => {
    const card = getComputedStyle(s.closest('article')).backgroundColor;
    return ratio(getComputedStyle(s).borderTopColor, card);
  });
}"""


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_select_borders_stand_out_from_the_card(tmp_path: Path, scheme: str) -> None:
    routines = tmp_path / "routines"
    write_routine(routines, STRETCH, "quick-stretch")
    with (
        running_server(tmp_path / "out", routines=routines, engine="fake") as server,
        _playwright() as playwright,
    ):
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            page = browser.new_page(viewport=PHONE, color_scheme=scheme)
            page.goto(f"http://127.0.0.1:{server.server_port}/")
            ratios: list[float] = page.evaluate(CONTRAST)
            assert len(ratios) == 4
            assert min(ratios) >= 3, ratios  # WCAG 1.4.11: 3:1 for a control's edge
        finally:
            browser.close()


def test_android_gets_a_subscribe_link_it_can_follow_or_the_url_to_copy(tmp_path: Path) -> None:
    make_folder(tmp_path)
    with running_server(tmp_path) as server, _playwright() as playwright:
        url = f"http://127.0.0.1:{server.server_port}/"
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            page = browser.new_page(viewport=PHONE, user_agent=ANDROID)
            page.goto(url)
            link = page.locator("#open-app").get_attribute("href") or ""
            assert link.startswith(f"intent://127.0.0.1:{server.server_port}/feed.xml#Intent;")
            assert "scheme=pcast;" in link and link.endswith(";end")
            assert (
                "S.browser_fallback_url=" + urllib.request.quote(url + "#feed-url", safe="") in link
            )
            page.goto(url + "#feed-url")  # where Chrome comes back when no app takes the link
            assert "copy this URL" in page.locator("#copy-status").inner_text()
            assert page.evaluate("document.activeElement.id") == "feed-url"
            desktop = browser.new_page(viewport=PHONE)
            desktop.goto(url)
            assert desktop.locator("#open-app").get_attribute("href", timeout=5_000) == (
                f"podcast://127.0.0.1:{server.server_port}/feed.xml"
            )
        finally:
            browser.close()


def test_the_manifest_and_the_service_worker_are_served(tmp_path: Path) -> None:
    make_folder(tmp_path)
    with running_server(tmp_path, title="Back Care") as server:
        base = f"http://127.0.0.1:{server.server_port}/"
        with urllib.request.urlopen(base + "manifest.webmanifest", timeout=10) as reply:
            manifest: dict[str, Any] = json.loads(reply.read())
            assert reply.headers["Content-Type"].startswith("application/manifest+json")
        with urllib.request.urlopen(base + "sw.js", timeout=10) as reply:
            assert reply.headers["Content-Type"].startswith("text/javascript")
            assert b'addEventListener("fetch"' in reply.read()
        with urllib.request.urlopen(base + manifest["icons"][0]["src"], timeout=10) as reply:
            assert reply.headers["Content-Type"] == "image/jpeg"
    assert manifest["name"] == "Back Care" and manifest["display"] == "standalone"


# The server's side of the progress shown.


def _renderer(tmp_path: Path) -> Renderer:
    return Renderer(tmp_path, engine="fake", voice=None, cache_dir=tmp_path / "cache")


def _choice(rate: float) -> Choice:
    return Choice("quick-stretch", 3, Narration.BRIEF, rate, "none")


def test_a_renders_progress_never_goes_back(tmp_path: Path) -> None:
    renderer = _renderer(tmp_path)
    choice = _choice(1.0)
    renderer._jobs[choice.name] = Job(choice, "rendering")
    for value in (0.2, 0.5, 0.47, 0.6):
        renderer._set(choice, progress=value)
        if value == 0.47:
            assert renderer._jobs[choice.name].progress == 0.5
    assert renderer._jobs[choice.name].progress == 0.6


def test_a_queued_render_says_how_many_are_ahead(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(guidecast.publish.serve.jobs, "WORKERS", 1)
    renderer = _renderer(tmp_path)
    release = threading.Event()
    monkeypatch.setattr(renderer, "_render", lambda choice, routine: release.wait(10))
    first, second, third = _choice(1.0), _choice(0.9), _choice(1.1)
    try:
        renderer.request(first, None, 0)  # type: ignore[arg-type]
        assert renderer.ahead(first) == 0  # nothing before it: a worker takes it at once
        renderer.request(second, None, 0)  # type: ignore[arg-type]
        renderer.request(third, None, 0)  # type: ignore[arg-type]
        for _ in range(500):  # until the worker has taken the first
            job = renderer.status(first, 0)
            if job is not None and job.state == "rendering":
                break
            release.wait(0.01)
        assert renderer.ahead(second) == 1
        assert renderer.ahead(third) == 2
    finally:
        release.set()
        renderer.close()


def test_a_built_catalog_is_a_web_app_too(tmp_path: Path) -> None:
    from guidecast.build.catalog import build_catalog
    from guidecast.build.project import load_project

    write_routine(tmp_path / "routines", STRETCH, "quick-stretch")
    (tmp_path / "guidecast.yaml").write_text(
        "title: Catalog\nengine: fake\nbase_url: https://example.org/c/\n"
        "routines: [routines/*.yaml]\nvariants:\n  narration: [brief]\n  length: [2m]\n"
    )
    project = load_project(tmp_path / "guidecast.yaml")
    build_catalog(project, cache_dir=tmp_path / "cache", jobs=1)
    site = tmp_path / "site"
    manifest = json.loads((site / "manifest.webmanifest").read_text("utf-8"))
    assert manifest["name"] == "Catalog" and (site / manifest["icons"][0]["src"]).is_file()
    assert b'addEventListener("fetch"' in (site / "sw.js").read_bytes()
    before = (site / "sw.js").stat().st_mtime_ns
    build_catalog(project, cache_dir=tmp_path / "cache", jobs=1)
    assert (site / "sw.js").stat().st_mtime_ns == before  # a rebuild leaves it be
