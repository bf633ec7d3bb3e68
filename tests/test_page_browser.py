"""The page in a real headless Chromium: the player knows the duration and chapters seek it;
a listener makes a session of a chosen length and level and hears it; every control is a
tap target of 44 px and four sessions fit in about two phone screens."""

from __future__ import annotations

import contextlib
import functools
import http.server
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from feed_fixtures import FakeSession, make_folder, make_session, running_server
from guidecast.build.catalog import build_catalog
from guidecast.build.project import load_project
from render_fixtures import STRETCH, write_routine

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--autoplay-policy=no-user-gesture-required",
]
PHONE = {"width": 390, "height": 844}

pytestmark = pytest.mark.browser


@pytest.fixture
def page_url(tmp_path: Path) -> Iterator[tuple[str, list[FakeSession]]]:
    sessions = make_folder(tmp_path)
    with running_server(tmp_path) as server:
        yield f"http://127.0.0.1:{server.server_port}/", sessions


def _playwright() -> Any:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: install it with `apt-get install -y chromium`")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail("playwright is missing: install the test extras with `pip install -e .[test]`")
    return sync_playwright()


def test_chapter_buttons_seek_the_player(page_url: tuple[str, list[FakeSession]]) -> None:
    url, sessions = page_url
    newest = sessions[1]  # listed first: the page, like the feed, is newest first
    with _playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            page = browser.new_page()
            outside: list[str] = []
            page.on(
                "request",
                lambda r: None if r.url.startswith(url) else outside.append(r.url),
            )
            page.goto(url)
            article = page.locator("article.session").first
            assert article.locator("h2").inner_text() == newest.title
            audio = article.locator("audio")
            audio.evaluate("a => a.load()")
            page.wait_for_function(
                "([a, want]) => Math.abs(a.duration - want) < 0.5",
                arg=[audio.element_handle(), newest.seconds],
                timeout=15_000,
            )
            title, start_ms, _ = newest.chapters[1]
            article.locator(".chapters button").nth(1).click()
            page.wait_for_function(
                "([a, want]) => a.readyState >= 1 && !a.seeking && "
                "Math.abs(a.currentTime - want) < 0.5",
                arg=[audio.element_handle(), start_ms / 1000],
                timeout=10_000,
            )
            current = audio.evaluate("a => a.currentTime")
            assert abs(current - start_ms / 1000) < 0.5, (title, current)
            chosen = article.locator(".chapters button").nth(1)
            page.wait_for_function(
                "b => b.getAttribute('aria-current') === 'true'", arg=chosen.element_handle()
            )
            cover = article.locator("img.cover")
            cover.scroll_into_view_if_needed()
            page.wait_for_function("img => img.complete", arg=cover.element_handle())
            assert cover.evaluate("img => img.naturalWidth") == 1400
            assert not outside, f"the page fetched from elsewhere: {outside}"
        finally:
            browser.close()


SMALL_CONTROLS = """() => [...document.querySelectorAll('button, a, select, input, audio, summary')]
  .filter(e => e.offsetParent !== null)
  .map(e => [e.outerHTML.slice(0, 80), e.getBoundingClientRect()])
  .filter(([_, r]) => r.width < 44 || r.height < 44)
  .map(([html, r]) => `${Math.round(r.width)}x${Math.round(r.height)} ${html}`)"""

NAMELESS_CONTROLS = """() => [...document.querySelectorAll('button, a, select, input, audio')]
  .filter(e => e.offsetParent !== null)
  .filter(e => !(e.getAttribute('aria-label') || e.innerText.trim() ||
                 (e.labels && e.labels.length)))
  .map(e => e.outerHTML.slice(0, 80))"""

CLICK_TO_SOUND = """([form, audio]) => new Promise(resolve => {
  const began = performance.now();
  audio.addEventListener('playing', () => resolve(performance.now() - began), {once: true});
  form.querySelector('button[type=submit]').click();
})"""


def _started_ms(page: Any, form: Any, audio: Any) -> float:
    took: float = page.evaluate(CLICK_TO_SOUND, [form.element_handle(), audio.element_handle()])
    return took


def test_a_listener_makes_a_session_of_a_chosen_length_and_level(tmp_path: Path) -> None:
    routines = tmp_path / "routines"
    write_routine(routines, STRETCH, "quick-stretch")
    out, cache = tmp_path / "out", tmp_path / "cache"
    with (
        running_server(out, routines=routines, engine="fake", cache_dir=cache) as server,
        _playwright() as playwright,
    ):
        url = f"http://127.0.0.1:{server.server_port}/"
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            page = browser.new_page(viewport=PHONE)
            page.goto(url)
            article = page.locator("article.routine").first
            form = article.locator("form.choose")
            audio = article.locator("audio")
            form.locator("select[name=narration]").select_option("brief")
            lengths = form.locator("select[name=length] option").evaluate_all(
                "os => os.map(o => o.value)"
            )
            assert len(lengths) >= 3, lengths
            first, second = lengths[1], lengths[-1]
            form.locator("select[name=length]").select_option(first)
            cold = _started_ms(page, form, audio)
            duration = audio.evaluate("a => a.duration")
            assert abs(duration - int(first) * 60) < 6, (first, duration)
            # Another length with the speech cached, then the same variant again (kept file).
            form.locator("select[name=length]").select_option(second)
            warm = _started_ms(page, form, audio)
            page.wait_for_function(
                "([a, want]) => Math.abs(a.duration - want) < 6",
                arg=[audio.element_handle(), int(second) * 60],
            )
            form.locator("select[name=length]").select_option(first)
            kept = _started_ms(page, form, audio)
            print(
                f"\nclick to sound: {cold:.0f} ms cold, {warm:.0f} ms at another length "
                f"(speech cached), {kept:.0f} ms for a variant already made"
            )
            page.wait_for_function(
                "([a, want]) => Math.abs(a.duration - want) < 6",
                arg=[audio.element_handle(), int(first) * 60],
            )
            chapters = article.locator(".chapters button")
            assert chapters.count() >= 2
            last = chapters.nth(chapters.count() - 1)
            start = float(last.get_attribute("data-start") or "nan")
            assert start > 30
            last.click()
            page.wait_for_function(
                "([a, want]) => a.readyState >= 1 && !a.seeking && "
                "Math.abs(a.currentTime - want) < 0.5",
                arg=[audio.element_handle(), start],
                timeout=10_000,
            )
            assert "Stand tall" in article.locator(".cues").inner_text()
            article.locator("button.keep").click()
            page.wait_for_function(
                "b => b.getAttribute('aria-pressed') === 'true'",
                arg=article.locator("button.keep").element_handle(),
            )
            feed = page.request.get(url + "feed.xml").text()
            assert f"Quick Stretch · {first} min, brief" in feed
            assert page.evaluate(SMALL_CONTROLS) == []
            assert page.evaluate(NAMELESS_CONTROLS) == []
            form.locator("select[name=length]").evaluate(
                "s => { s.add(new Option('99 min', '99'), null); s.value = '99'; }"
            )
            form.locator("button[type=submit]").click()
            status = article.locator(".status.error")
            status.wait_for()
            assert status.inner_text().startswith("length 99 min is outside what Quick Stretch")
        finally:
            browser.close()


def test_four_sessions_fit_two_phone_screens_with_big_tap_targets(tmp_path: Path) -> None:
    make_folder(tmp_path)
    for day, name in ((26, "hip-opener"), (27, "evening-calm")):
        make_session(
            tmp_path,
            name,
            title=name.replace("-", " ").title(),
            first_rendered=datetime(2026, 11, day, 8, 0, tzinfo=UTC),
        )
    with running_server(tmp_path) as server, _playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            page = browser.new_page(viewport=PHONE)
            page.goto(f"http://127.0.0.1:{server.server_port}/")
            rows = page.locator("article.session")
            assert rows.count() == 4
            height = page.evaluate("document.documentElement.scrollHeight")
            print(f"\npage height with 4 sessions: {height} px ({height / 844:.2f} screens)")
            assert height <= 2 * PHONE["height"]
            assert page.evaluate(SMALL_CONTROLS) == []
            # One tap opens a session on its player, chapters and transcript.
            row = rows.nth(2)  # newest first: the 21-second session of make_folder
            row.locator("button.toggle").click()
            assert row.locator("button.toggle").get_attribute("aria-expanded") == "true"
            assert row.locator(".cues").is_visible() and row.locator("audio").is_visible()
            assert "Breathe in" in row.locator(".cues").inner_text()
            assert page.evaluate(SMALL_CONTROLS) == []
            assert page.evaluate(NAMELESS_CONTROLS) == []
            times = row.locator(".chapters .time").all_inner_texts()
            assert times == ["0:00", "0:07", "0:14"]  # the player's own format
            # The row's play button plays that session and says so.
            play = row.locator("button.play")
            play.click()
            page.wait_for_function(
                "b => b.getAttribute('data-playing') === 'true'", arg=play.element_handle()
            )
            assert (play.get_attribute("aria-label") or "").startswith("Pause ")
            assert row.locator(".meta").inner_text().startswith("0:21 · ")
        finally:
            browser.close()


@contextlib.contextmanager
def static_host(folder: Path) -> Iterator[str]:
    """The folder on a plain static web server, as a catalog is published."""
    handler = functools.partial(_QuietFiles, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


class _QuietFiles(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        return None


def test_a_built_catalog_page_plays_the_chosen_session_with_no_server(tmp_path: Path) -> None:
    write_routine(tmp_path / "routines", STRETCH, "quick-stretch")
    (tmp_path / "guidecast.yaml").write_text(
        "title: Catalog\nengine: fake\nbase_url: https://example.org/c/\n"
        "routines: [routines/*.yaml]\n"
        "variants:\n  narration: [brief, standard]\n  length: [2m, 4m]\n"
    )
    build_catalog(load_project(tmp_path / "guidecast.yaml"), cache_dir=tmp_path / "cache", jobs=1)
    site = tmp_path / "site"
    with static_host(site) as url, _playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            page = browser.new_page(viewport=PHONE)
            page.goto(url)
            article = page.locator("article.routine").first
            form = article.locator("form.choose")
            audio = article.locator("audio")
            assert form.locator("select[name=length] option").evaluate_all(
                "os => os.map(o => o.value)"
            ) == ["2", "4"]
            for level, minutes in (("standard", 4), ("brief", 2)):
                form.locator("select[name=narration]").select_option(level)
                form.locator("select[name=length]").select_option(str(minutes))
                form.locator("button[type=submit]").click()
                page.wait_for_function(
                    "([a, want]) => a.readyState >= 1 && Math.abs(a.duration - want) < 6",
                    arg=[audio.element_handle(), minutes * 60],
                    timeout=15_000,
                )
                src = audio.get_attribute("src") or ""
                assert src.endswith(f"quick-stretch_{level}_{minutes}m.mp3"), src
            assert "Stand tall" in article.locator(".cues").inner_text()
            assert article.locator("button.keep").is_hidden()  # nothing to keep: no server
            chapters = article.locator(".chapters button")
            assert chapters.count() >= 2
            assert page.evaluate(SMALL_CONTROLS) == []
            assert page.evaluate(NAMELESS_CONTROLS) == []
        finally:
            browser.close()
