"""The page in a real headless Chromium: the player knows the duration and chapters seek it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from feed_fixtures import FakeSession, make_folder, running_server

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
]

pytestmark = pytest.mark.browser


@pytest.fixture
def page_url(tmp_path: Path) -> Iterator[tuple[str, list[FakeSession]]]:
    sessions = make_folder(tmp_path)
    with running_server(tmp_path) as server:
        yield f"http://127.0.0.1:{server.server_port}/", sessions


def test_chapter_buttons_seek_the_player(page_url: tuple[str, list[FakeSession]]) -> None:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: install it with `apt-get install -y chromium`")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail("playwright is missing: install the test extras with `pip install -e .[test]`")

    url, sessions = page_url
    newest = sessions[1]  # listed first: the page, like the feed, is newest first
    with sync_playwright() as playwright:
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
