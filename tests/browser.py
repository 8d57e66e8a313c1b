"""The browser for the suites that need one (e2e/, sso/): one Chromium for the whole run.

A pytest plugin (tests/conftest.py names it), so every folder shares the one session-scoped
Playwright: a second `sync_playwright()` while the first is alive refuses to start.
Debian's Chromium, never `playwright install`.
"""

from __future__ import annotations

import os

import pytest

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
# The site follows Accept-Language (Chinese by default, English for an English browser), and a
# context's locale is what Chromium sends: the suites read Chinese pages unless a test asks.
LOCALE = "zh-CN"


@pytest.fixture(scope="session")
def browser():
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"Chromium not found at {CHROMIUM}. Install it: sudo apt-get install -y chromium "
                    "fonts-wqy-microhei (never `playwright install`)", pytrace=False)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM, headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", f"--lang={LOCALE}",
                  "--disable-component-update", "--disable-sync", "--no-first-run"],
        )
        yield browser
        browser.close()


@pytest.fixture
def new_page(browser):
    """A fresh browser context (no cookies) per person; desktop size and Chinese unless told."""
    contexts = []

    def make(viewport: dict | None = None, locale: str = LOCALE, **kw):
        context = browser.new_context(viewport=viewport or {"width": 1280, "height": 900},
                                      locale=locale, accept_downloads=True, **kw)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()
