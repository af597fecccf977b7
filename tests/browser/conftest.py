"""Real-browser fixtures: one headless Debian chromium per session, a fresh context per test."""

import os

import pytest
from playwright.sync_api import sync_playwright

from tests.support.browser import launch_chromium

# Playwright's sync API keeps an event loop running in the test thread; our ORM calls are still
# synchronous.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

PHONE_VIEWPORT = {"width": 390, "height": 844}


@pytest.fixture(scope="session")
def playwright():
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="session")
def browser(playwright):
    """Debian's chromium with JavaScript on; tests get their own contexts from it."""
    browser = launch_chromium(playwright)
    yield browser
    browser.close()


def _page(browser, **options):
    context = browser.new_context(viewport=PHONE_VIEWPORT, **options)
    context.set_default_timeout(10_000)
    try:
        yield context.new_page()
    finally:
        context.close()


@pytest.fixture
def page(browser):
    """A new page in a new context (phone-sized, 390x844), closed when the test ends."""
    yield from _page(browser)


@pytest.fixture
def page_nojs(browser):
    """Like `page`, with JavaScript switched off, as some visitors have it."""
    yield from _page(browser, java_script_enabled=False)
