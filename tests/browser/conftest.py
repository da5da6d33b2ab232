"""Browser tests: the real pages, served by pytest-django's live server, in headless Chromium.

Debian's ``chromium`` (installed by ``make test``) is driven by Playwright for
Python through ``executable_path``; Playwright's own browser download is never
used. Every request the page makes is recorded, so a test can assert that
nothing left the portal (command centres run on intranets: no CDN, no fonts,
no tiles from the internet unless configured).

Fixtures and helpers:

* ``browser``   one Chromium per test session (per xdist worker);
* ``page``      a fresh context (cookies, storage) per test, Chinese browser
                locale like a command centre's desktop, with ``page.requested_urls``;
* ``log_in(page, live_server, username, password)`` through the real login form;
* ``foreign_requests(page, live_server)`` the URLs that did not go to the live server;
* ``screenshot(page, name)`` or the ``save_screenshot`` fixture: ``test-artifacts/<test name>.png``.

Tests here are marked ``browser``; pytest-django gives them a transactional
database because they use ``live_server`` (the server thread must see the rows
the test creates), so the ``city``/``people`` fixtures work as elsewhere.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest

# The sync Playwright API keeps an event loop in the main thread; Django refuses
# ORM calls from a thread with a running loop unless told that this is fine.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


def pytest_collection_modifyitems(config, items):
    browser_dir = Path(__file__).resolve().parent
    for item in items:
        if browser_dir in Path(str(item.fspath)).resolve().parents:
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def playwright():
    from playwright.sync_api import sync_playwright

    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(f"{CHROMIUM} is missing: `make test` installs Debian's chromium (scripts/install-test-deps.sh)")
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="session")
def browser(playwright):
    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    yield browser
    browser.close()


def open_page(browser, **context_options):
    """A page in a fresh Chinese browser context that records every URL it requests."""
    context = browser.new_context(locale="zh-CN", **context_options)
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.requested_urls = []
    context.on("request", lambda request: page.requested_urls.append(request.url))
    return page


@pytest.fixture
def page(browser):
    page = open_page(browser, viewport={"width": 1280, "height": 800})
    yield page
    page.context.close()


def log_in(page, live_server, username: str, password: str) -> None:
    """Log in through the real login form, as a person would, and wait for the next page."""
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    with page.expect_navigation():
        page.click("form:has(input[name=password]) button[type=submit]")


def foreign_requests(page, live_server) -> list[str]:
    """Every URL the page requested that was not served by the live server itself."""
    home = urlsplit(live_server.url).netloc
    local_schemes = {"data", "blob", "about"}
    return [
        url for url in page.requested_urls
        if urlsplit(url).scheme not in local_schemes and urlsplit(url).netloc != home
    ]


def screenshot(page, name: str) -> Path:
    """Save a full-page PNG to test-artifacts/<name>.png (gitignored) and return its path."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / (re.sub(r"[^\w.-]+", "_", name).strip("_") + ".png")
    page.screenshot(path=str(path), full_page=True)
    return path


@pytest.fixture
def save_screenshot(page, request):
    """``save_screenshot()`` saves test-artifacts/<test name>.png; ``save_screenshot("step")`` adds a suffix."""

    def save(suffix: str = "") -> Path:
        return screenshot(page, request.node.name + (f"-{suffix}" if suffix else ""))

    return save
